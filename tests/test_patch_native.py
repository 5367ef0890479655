"""Transparent mode for LiteLLM's own Anthropic and Gemini handlers: the scenarios of
``test_anthropic.py``/``test_gemini.py`` run through ``anthropic/...``/``gemini/...``
unpatched and patched against the mock upstream. LiteLLM's handlers still translate; the core
is their HTTP transport. Same request on the wire, same responses, streams and exceptions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from . import test_anthropic as anthropic
from . import test_gemini as gemini
from .test_differential import _raise
from .test_patch import both, same_error

SUITES = {"anthropic": anthropic, "gemini": gemini}


def _view(resp) -> dict:
    d = resp.model_dump()
    d.pop("created", None)
    d.pop("id", None)  # LiteLLM makes a random id per Anthropic call
    for choice in d.get("choices") or []:
        for call in (choice.get("message") or {}).get("tool_calls") or []:
            call.pop("id", None)  # LiteLLM makes random tool-call ids for Gemini
    return d


def _chunks_view(chunks) -> list[dict]:
    out = []
    for c in chunks:
        d = c.model_dump()
        for k in ("created", "id"):
            d.pop(k, None)
        for choice in d.get("choices") or []:
            for call in (choice.get("delta") or {}).get("tool_calls") or []:
                call.pop("id", None)
        out.append(d)
    return out


def _cases(kind: str) -> list:
    out = []
    for name, suite in SUITES.items():
        for case in getattr(suite, kind):
            out.append(pytest.param(suite, case, id=f"{name}-{case[0]}"))
    return out


def _wire(mock) -> tuple:
    req = mock.requests()[-1]
    return req["path"], req["body"]


@pytest.mark.parametrize(("suite", "case"), _cases("CHAT_CASES"))
def test_chat_equal(litellm, mock, suite, case):
    name, scenario, kwargs, _ours_only = case
    kw = suite._kwargs(mock, scenario, kwargs)
    wires = []

    def call():
        try:
            r = litellm.completion(model=suite.NATIVE, **kw)
        except Exception as e:  # noqa: BLE001 - the same failure both ways is the outcome
            wires.append(None)
            return ("error", type(e).__name__, str(e))
        wires.append(_wire(mock))
        return _view(r), r._hidden_params.get("response_cost")

    native, ours = both(call)
    assert wires[0] == wires[1]
    assert ours == native


@pytest.mark.parametrize(("suite", "case"), _cases("STREAM_CASES"))
def test_stream_equal(litellm, mock, suite, case):
    name, scenario, kwargs = case[:3]
    kw = suite._kwargs(mock, scenario, kwargs)
    native, ours = both(lambda: _chunks_view(litellm.completion(model=suite.NATIVE, stream=True, **kw)))
    assert ours == native


@pytest.mark.parametrize("suite", SUITES.values(), ids=SUITES.keys())
def test_async_chat_and_stream_equal(litellm, mock, suite):
    kw = suite._kwargs(mock, None, {})

    async def run() -> Any:
        r = await litellm.acompletion(model=suite.NATIVE, **kw)
        chunks = [c async for c in await litellm.acompletion(model=suite.NATIVE, stream=True, **kw)]
        return _view(r), _chunks_view(chunks)

    native, ours = both(lambda: asyncio.run(run()), expect_rust=2)
    assert ours == native


@pytest.mark.parametrize(("suite", "case"), _cases("ERROR_CASES"))
def test_error_equal(litellm, mock, suite, case):
    name, scenario = case
    kw = suite._kwargs(mock, scenario, {})
    native, ours = both(lambda: _raise(lambda: litellm.completion(model=suite.NATIVE, **kw)))
    same_error(native, ours)
