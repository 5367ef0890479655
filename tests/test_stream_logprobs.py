"""Streamed logprobs: every chunk's ``choices[i].logprobs`` and the reassembled response's,
natively (``openai/``), through ``edgequake/openai/`` and in transparent mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .routes import three_ways
from .test_differential import MSGS

MODEL = "openai/gpt-4o-mini"


def _logprobs_view(chunks: list) -> list[tuple[int, Any, Any]]:
    """(choice index, content, logprobs) of every choice that carries content or logprobs."""
    out = []
    for c in chunks:
        for ch in c.choices:
            lp = ch.logprobs.model_dump() if hasattr(ch.logprobs, "model_dump") else ch.logprobs
            if ch.delta.content or lp:
                out.append((ch.index, ch.delta.content, lp))
    return out


def _built_logprobs(litellm, chunks: list) -> list[Any]:
    built = litellm.stream_chunk_builder(chunks, messages=MSGS)
    return [c.get("logprobs") for c in built.model_dump()["choices"]]


CASES = [
    ("logprobs", {"logprobs": True}),
    ("top_logprobs", {"logprobs": True, "top_logprobs": 3}),
    ("n2", {"logprobs": True, "top_logprobs": 1, "n": 2}),
    ("usage", {"logprobs": True, "top_logprobs": 2, "stream_options": {"include_usage": True}}),
]


@pytest.mark.parametrize(("name", "extra"), CASES, ids=[c[0] for c in CASES])
def test_stream_logprobs_equal(litellm, mock, name, extra):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), **extra}
    bodies = []

    def call(model: str) -> list:
        chunks = list(litellm.completion(model=model, stream=True, **kw))
        bodies.append(mock.requests()[-1]["body"])
        return chunks

    native, ours, transparent = three_ways(call, MODEL)
    assert bodies[0]["logprobs"] is True and bodies[1] == bodies[0] == bodies[2]
    view = _logprobs_view(native)
    assert view and all(lp is not None for _, _, lp in view)
    assert _logprobs_view(ours) == view
    assert _logprobs_view(transparent) == view
    built = _built_logprobs(litellm, native)  # LiteLLM 1.110.2's builder keeps none; equal all the same
    assert _built_logprobs(litellm, ours) == built
    assert _built_logprobs(litellm, transparent) == built


def test_async_stream_logprobs_equal(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "logprobs": True, "top_logprobs": 2}

    async def collect(model: str) -> list:
        return [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]

    native, ours, transparent = three_ways(lambda m: asyncio.run(collect(m)), MODEL)
    view = _logprobs_view(native)
    assert view and _logprobs_view(ours) == view == _logprobs_view(transparent)
