"""What goes over the wire in transparent mode, differentially: native LiteLLM, transparent mode
and (where it applies) the ``edgequake/`` route against the same mock upstream.

- A ``stream=True`` request answered 200 with a body that is not SSE (a server that ignores
  ``stream`` and sends its ``chat.completion`` JSON, or text) without a trailing newline: the
  OpenAI SDK's decoder drops the unterminated line, and LiteLLM yields its one empty chunk with
  ``finish_reason="stop"``. The core must end such a stream the same way, sync and async.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .test_patch import both

MODEL = "openai/gpt-4o-mini"
ROUTE = "edgequake/openai/gpt-4o-mini"
MSGS = [{"role": "user", "content": "hello there"}]

NOT_SSE = ["not_sse=json", "not_sse=garbage"]


def _chunks(chunks: list[Any]) -> list[dict]:
    out = []
    for c in chunks:
        d = c.model_dump()
        # Per-call values, and the model name LiteLLM's wrapper gives a custom provider (the
        # edgequake/ route: see docs/providers.md).
        for key in ("created", "id", "model"):
            d.pop(key, None)
        out.append(d)
    return out


def _outcome(fn) -> Any:
    try:
        return _chunks(fn())
    except Exception as e:  # noqa: BLE001
        return (type(e).__name__, str(e))


def _stream(litellm, model: str, base: str, aio: bool) -> Any:
    kw = {"model": model, "messages": MSGS, "api_key": KEY, "api_base": base, "stream": True, "max_retries": 0}
    if not aio:
        return _outcome(lambda: list(litellm.completion(**kw)))

    async def collect() -> list[Any]:
        return [c async for c in await litellm.acompletion(**kw)]

    return _outcome(lambda: asyncio.run(collect()))


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("scenario", NOT_SSE)
def test_stream_answered_without_sse_ends_as_natively(litellm, mock, scenario, aio):
    base = mock.base_url(scenario)
    native, ours = both(lambda: _stream(litellm, MODEL, base, aio))
    assert ours == native
    # What LiteLLM makes of a stream with no event at all: one empty chunk that stops.
    assert isinstance(native, list) and len(native) == 1, native
    assert native[0]["choices"][0]["finish_reason"] == "stop"
    assert native[0]["choices"][0]["delta"]["content"] is None


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("scenario", NOT_SSE)
def test_route_stream_answered_without_sse_ends_as_openai_does(litellm, mock, scenario, aio):
    base = mock.base_url(scenario)
    assert _stream(litellm, ROUTE, base, aio) == _stream(litellm, MODEL, base, aio)
