"""What goes over the wire in transparent mode, differentially: native LiteLLM, transparent mode
and (where it applies) the ``edgequake/`` route against the same mock upstream.

- A ``stream=True`` request answered 200 with a body that is not SSE (a server that ignores
  ``stream`` and sends its ``chat.completion`` JSON, or text) without a trailing newline: the
  OpenAI SDK's decoder drops the unterminated line, and LiteLLM yields its one empty chunk with
  ``finish_reason="stop"``. The core must end such a stream the same way, sync and async.
- The request headers the upstream receives from the SDK tier are the SDK's (``User-Agent``,
  ``X-Stainless-*``, ``Accept``, ``Accept-Encoding``, ``Connection``, ...), in the same
  order, retries numbered as the SDK numbers them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .test_patch import both, patched, served

MODEL = "openai/gpt-4o-mini"
EMB = "openai/text-embedding-3-small"
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


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("scenario", ["garbage_lines", "garbage_lines,crlf,comments"])
def test_dataless_sse_blocks_end_as_natively(litellm, mock, scenario, aio):
    """Blocks with ``event:``/``id:``/``retry:`` and no data: the SDK dispatches them and fails
    to parse their empty data; the SDK tier and the ``edgequake/`` route end the same way."""
    base = mock.base_url(scenario)
    native, ours = both(lambda: _stream(litellm, MODEL, base, aio))
    assert isinstance(native, tuple) and native[0] == "MidStreamFallbackError", native
    assert ours == native
    route = _stream(litellm, ROUTE, base, aio)
    assert route == native


# ---- request headers ----------------------------------------------------------------------


def _headers(mock) -> list[tuple[str, str]]:
    """The last request's headers as received, in order; ``Host`` is placed by each HTTP
    client differently (httpx first, hyper last)."""
    return [(k, v) for k, v in mock.requests()[-1]["headers"].items() if k != "host"]


def _call(litellm, op: str, aio: bool, kw: dict[str, Any]) -> None:
    if op == "embedding":
        emb = {k: v for k, v in kw.items() if k != "messages"}
        fn = litellm.aembedding if aio else litellm.embedding
        call = fn(model=EMB, input=["a b"], **emb)
    else:
        fn = litellm.acompletion if aio else litellm.completion
        call = fn(model=MODEL, stream=op == "stream", **kw)

    async def consume() -> None:
        r = await call
        if op == "stream":
            async for _ in r:
                pass

    if aio:
        asyncio.run(consume())
    elif op == "stream":
        list(call)


CALLER = {"organization": "org-wire", "extra_headers": {"X-Caller": "1", "Accept": "text/plain"}}


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("op", ["chat", "stream", "embedding"])
@pytest.mark.parametrize("extra", [{}, CALLER], ids=["plain", "caller_headers"])
def test_request_headers_equal(litellm, mock, op, aio, extra):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "timeout": 30, **extra}
    if op == "embedding":
        kw.pop("organization", None)  # LiteLLM's embedding takes no organization
    seen = []

    def call() -> None:
        _call(litellm, op, aio, kw)
        seen.append(_headers(mock))

    both(call)
    native, ours = seen
    assert ours == native
    names = {k for k, _ in native}
    assert {"user-agent", "x-stainless-lang", "x-stainless-retry-count", "connection"} <= names


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("caller_count", [None, "7"], ids=["sdk_numbers", "caller_sets"])
def test_retries_numbered_as_the_sdk_numbers_them(litellm, mock, aio, caller_count):
    scenario = "status=500,retry_after=0.01,fail_times=2"
    extra = {} if caller_count is None else {"extra_headers": {"X-Stainless-Retry-Count": caller_count}}
    kw = {"messages": MSGS, "api_key": KEY, "timeout": 30, "max_retries": 2, **extra}
    counts = []

    def call() -> None:
        mock.reset()  # fail_times counts per scenario: each run starts afresh
        _call(litellm, "chat", aio, {**kw, "api_base": mock.base_url(scenario)})
        counts.append([r["headers"]["x-stainless-retry-count"] for r in mock.requests()])

    both(call)
    native, ours = counts
    assert ours == native
    assert native == (["0", "1", "2"] if caller_count is None else [caller_count] * 3)


def test_sdk_tier_request_is_served_by_the_core(litellm, mock):
    """Same headers as the SDK's, yet the request left through the core."""
    before = served()
    with patched():
        litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())
    assert served() == before + 1
    assert mock.requests()[-1]["headers"]["user-agent"].startswith("OpenAI/Python ")


# ---- the SDK reply's repr in LiteLLM's parse-failure message ------------------------------


@pytest.mark.parametrize("reason", [None, "Fine", "Non-Authoritative Information", ""], ids=repr)
def test_unparsable_reply_quotes_the_upstreams_status_line(litellm, mock, reason):
    """LiteLLM's sync chat wraps a reply it cannot parse with the SDK response's repr,
    ``<APIResponse [200 <reason phrase>] ...>``: the reason phrase is the upstream's."""
    scenario = "malformed_json" if reason is None else f"malformed_json,reason={reason}"
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario), "max_retries": 0}
    native, ours = both(lambda: _outcome(lambda: litellm.completion(model=MODEL, **kw)))
    assert ours == native
    assert f"<APIResponse [200 {'OK' if reason is None else reason}]" in native[1]
