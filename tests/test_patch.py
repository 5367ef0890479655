"""Transparent mode, differentially: every scenario runs through unpatched LiteLLM and through
LiteLLM with ``install(patch=True)`` against the same mock upstream. Responses, streamed
chunks, embeddings, exceptions, callback payloads and the Router's choices must be equal, and
``status()`` must show that the patched run was served by the core."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import edgequake_litellm
from edgequake_litellm import _patch, accel

from .conftest import KEY
from .test_differential import CHAT_CASES, ERROR_CASES, MSGS, STREAM_CASES, TOOLS, _raise

MODEL = "openai/gpt-4o-mini"
EMB = "openai/text-embedding-3-small"


def forget_recorded_tracebacks() -> None:
    """LiteLLM records the traceback of an unpriced call once per error message (an ``lru_cache``):
    without this, the side run second would be given the first side's and never be compared."""
    from litellm.litellm_core_utils import litellm_logging

    recorder = getattr(litellm_logging, "_get_traceback_str_for_error", None)
    if hasattr(recorder, "cache_clear"):  # an lru_cache in LiteLLM 1.110.2; another version may not cache
        recorder.cache_clear()


@contextmanager
def patched() -> Iterator[None]:
    """Transparent mode as users get it (with the accelerators), against LiteLLM's own code."""
    forget_recorded_tracebacks()
    edgequake_litellm.install(patch=True, accelerate=True)
    assert _patch.is_patched()
    try:
        yield
    finally:
        _patch.uninstall()
        accel.install(None)
        forget_recorded_tracebacks()


def route_counts() -> dict[tuple[str, str | None], int]:
    """status() counts by (route, reason), summed over providers (one route serves several)."""
    counts: dict[tuple[str, str | None], int] = {}
    for c in edgequake_litellm.status()["calls"]:
        counts[(c["route"], c["reason"])] = counts.get((c["route"], c["reason"]), 0) + c["count"]
    return counts


def count_delta(before: dict, after: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def served() -> int:
    return int(edgequake_litellm.status()["served_by_rust"])


def both(fn: Callable[[], Any], *, expect_rust: int | None = 1) -> tuple[Any, Any]:
    """``fn()`` unpatched, then patched; the patched run must have gone through the core
    (``expect_rust`` times, or at least once when None)."""
    native = fn()
    before = served()
    with patched():
        ours = fn()
    n = served() - before
    assert n == expect_rust if expect_rust is not None else n >= 1, edgequake_litellm.status()
    return native, ours


def kwargs(mock, scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario), **extra}


def last_body(mock) -> dict:
    return mock.requests()[-1]["body"]


def assert_same_call(mock, fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``fn`` unpatched and patched: the same request body upstream, the same response and
    hidden params."""
    bodies = []

    def call():
        r = fn()
        bodies.append(last_body(mock))
        return r

    native, ours = both(call)
    assert bodies[0] == bodies[1]
    assert ours.model_dump() == native.model_dump()
    assert hidden(ours) == hidden(native)
    return native, ours


def hidden(resp) -> dict:
    # Timings, call ids and the mock's per-request id differ between any two calls.
    h = {k: v for k, v in resp._hidden_params.items() if not (k.endswith("_ms") or k == "litellm_call_id")}
    for key in ("additional_headers", "headers"):
        if h.get(key) is not None:
            h[key] = {k: v for k, v in dict(h[key]).items() if "request-id" not in k}
    return h


# ---- chat -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "scenario", "extra"), CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_chat_equal(litellm, mock, name, scenario, extra):
    kw = kwargs(mock, scenario, **extra)
    native, ours = assert_same_call(mock, lambda: litellm.completion(model=MODEL, **kw))
    assert ours._hidden_params["response_cost"] is not None
    assert type(ours) is type(native)


def test_async_chat_equal(litellm, mock):
    kw = kwargs(mock, None, tools=TOOLS, logprobs=True)
    native, ours = both(lambda: asyncio.run(litellm.acompletion(model=MODEL, **kw)))
    assert ours.model_dump() == native.model_dump()
    assert hidden(ours) == hidden(native)


def test_early_bound_completion_is_served(litellm, mock):
    from litellm import acompletion, completion

    kw = kwargs(mock)
    native, ours = both(lambda: completion(model=MODEL, **kw))
    assert ours.model_dump() == native.model_dump()
    native, ours = both(lambda: asyncio.run(acompletion(model=MODEL, **kw)))
    assert ours.model_dump() == native.model_dump()


def test_upstream_sees_the_core(litellm, mock):
    """The patched request leaves through the core's client with the SDK's headers
    (tests/test_patch_wire.py compares them all)."""
    before = served()
    with patched():
        litellm.completion(model=MODEL, **kwargs(mock, None, extra_headers={"x-custom": "1"}))
    assert served() == before + 1
    req = mock.requests()[-1]
    assert req["headers"]["user-agent"].startswith("OpenAI/Python ")
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    assert req["headers"]["x-custom"] == "1"


# ---- streaming --------------------------------------------------------------------------


def chunk_view(chunks) -> list[dict]:
    out = []
    for c in chunks:
        d = c.model_dump()
        d.pop("created", None)
        out.append(d)
    return out


@pytest.mark.parametrize(("name", "scenario", "extra"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_stream_equal(litellm, mock, name, scenario, extra):
    kw = kwargs(mock, scenario, **extra)
    native, ours = both(lambda: list(litellm.completion(model=MODEL, stream=True, **kw)))
    a, b = chunk_view(ours), chunk_view(native)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (i, {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)})
    assert len(a) == len(b)
    built = [litellm.stream_chunk_builder(c, messages=kw["messages"]).model_dump() for c in (native, ours)]
    for b in built:
        b.pop("created")  # LiteLLM stamps its own clock on streamed chunks
    assert built[1] == built[0]


@pytest.mark.parametrize(("name", "scenario", "extra"), STREAM_CASES[:5], ids=[c[0] for c in STREAM_CASES[:5]])
def test_async_stream_equal(litellm, mock, name, scenario, extra):
    kw = kwargs(mock, scenario, **extra)

    async def collect():
        return [c async for c in await litellm.acompletion(model=MODEL, stream=True, **kw)]

    native, ours = both(lambda: asyncio.run(collect()))
    assert chunk_view(ours) == chunk_view(native)


# ---- embeddings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="float"),
        pytest.param({"input": "one string"}, id="single_string"),
        pytest.param({"dimensions": 4}, id="dimensions"),
        # LiteLLM's native call warns for base64, ours does not (tests/test_embedding_base64.py).
        pytest.param(
            {"encoding_format": "base64"},
            id="base64",
            marks=pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
        ),
        pytest.param({"encoding_format": "float"}, id="explicit_float"),
    ],
)
def test_embedding_equal(litellm, mock, extra):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url(), **extra}
    assert_same_call(mock, lambda: litellm.embedding(model=EMB, **kw))


def test_async_embedding_equal(litellm, mock):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}
    native, ours = both(lambda: asyncio.run(litellm.aembedding(model=EMB, **kw)))
    assert ours.model_dump() == native.model_dump()
    assert hidden(ours) == hidden(native)


# ---- errors -----------------------------------------------------------------------------


def same_error(native: Exception, ours: Exception) -> None:
    assert type(ours) is type(native), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)
    assert getattr(ours, "llm_provider", None) == getattr(native, "llm_provider", None)
    assert str(ours) == str(native)
    native_headers = getattr(getattr(native, "response", None), "headers", None)
    if native_headers is not None and "retry-after" in native_headers:
        assert ours.response.headers["retry-after"] == native_headers["retry-after"]
    assert KEY not in str(ours) and KEY not in repr(ours)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_equal(litellm, mock, name, scenario):
    kw = kwargs(mock, scenario, max_retries=0)
    native, ours = both(lambda: _raise(lambda: litellm.completion(model=MODEL, **kw)))
    same_error(native, ours)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES[:8], ids=[c[0] for c in ERROR_CASES[:8]])
def test_stream_error_equal(litellm, mock, name, scenario):
    kw = kwargs(mock, scenario, max_retries=0)
    native, ours = both(lambda: _raise(lambda: list(litellm.completion(model=MODEL, stream=True, **kw))))
    same_error(native, ours)


@pytest.mark.parametrize("scenario", ["status=429,retry_after=3", "status=500", "error=context_length"])
def test_async_error_equal(litellm, mock, scenario):
    kw = kwargs(mock, scenario, max_retries=0)

    async def call():
        try:
            await litellm.acompletion(model=MODEL, **kw)
        except Exception as e:  # noqa: BLE001
            return e
        raise AssertionError("no exception")

    native, ours = both(lambda: asyncio.run(call()))
    same_error(native, ours)


def test_timeout_equal(litellm, mock):
    kw = kwargs(mock, "delay=2", max_retries=0, timeout=0.3)
    native, ours = both(lambda: _raise(lambda: litellm.completion(model=MODEL, **kw)))
    assert type(ours) is type(native) is litellm.Timeout


def test_embedding_error_equal(litellm, mock):
    kw = {"input": ["a"], "api_key": KEY, "api_base": mock.base_url("status=429"), "max_retries": 0}
    native, ours = both(lambda: _raise(lambda: litellm.embedding(model=EMB, **kw)))
    same_error(native, ours)


def test_sdk_retries_equal(litellm, mock):
    scenario = "status=429,retry_after=0.01,fail_times=2"
    counts = []

    def call():
        mock.reset()
        r = litellm.completion(model=MODEL, **kwargs(mock, scenario))
        counts.append(len(mock.requests()))
        return r

    native, ours = both(call)
    assert counts == [3, 3]
    assert ours.model_dump() == native.model_dump()


def test_connection_refused_equal(litellm):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kw = {"messages": MSGS, "api_key": KEY, "api_base": f"http://127.0.0.1:{port}/v1", "max_retries": 0}
    native, ours = both(lambda: _raise(lambda: litellm.completion(model=MODEL, **kw)))
    assert type(ours) is type(native)
    assert str(ours) == str(native)


# ---- the generic HTTP handler tier (LiteLLM's provider transforms) ----------------------

HTTP_PROVIDERS = [
    "mistral/mistral-small-latest",
    "openrouter/openai/gpt-4o-mini",
    "deepseek/deepseek-chat",
    "xai/grok-3-mini",
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
    "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
    "hosted_vllm/my-model",
]


@pytest.mark.parametrize("model", HTTP_PROVIDERS)
def test_http_tier_chat_equal(litellm, mock, model):
    kw = kwargs(mock, None, temperature=0.3, max_tokens=20)
    assert_same_call(mock, lambda: litellm.completion(model=model, **kw))


@pytest.mark.parametrize("scenario", [None, "service_tier=on_demand"], ids=["openai_tier", "groq_tier"])
def test_http_tier_groq_equal(litellm, mock, scenario):
    """LiteLLM's groq transform reads ``service_tier`` (Groq answers ``on_demand``, which it maps)."""
    kw = kwargs(mock, scenario)
    native, ours = assert_same_call(mock, lambda: litellm.completion(model="groq/llama-3.1-8b-instant", **kw))
    assert native.service_tier == ("auto" if scenario else "default")


def test_http_tier_tools_equal(litellm, mock):
    kw = kwargs(mock, None, tools=TOOLS, tool_choice="auto")
    native, ours = both(lambda: litellm.completion(model="mistral/mistral-small-latest", **kw))
    assert ours.model_dump() == native.model_dump()


@pytest.mark.parametrize("model", HTTP_PROVIDERS[:3])
def test_http_tier_stream_equal(litellm, mock, model):
    kw = kwargs(mock, "chunks=20", stream_options={"include_usage": True})
    native, ours = both(lambda: list(litellm.completion(model=model, stream=True, **kw)))
    assert chunk_view(ours) == chunk_view(native)

    async def collect():
        return [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]

    native, ours = both(lambda: asyncio.run(collect()))
    assert chunk_view(ours) == chunk_view(native)


@pytest.mark.parametrize("model", HTTP_PROVIDERS[:2])
def test_http_tier_async_chat_equal(litellm, mock, model):
    kw = kwargs(mock)
    native, ours = both(lambda: asyncio.run(litellm.acompletion(model=model, **kw)))
    assert ours.model_dump() == native.model_dump()
    assert hidden(ours) == hidden(native)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_http_tier_error_equal(litellm, mock, name, scenario):
    kw = kwargs(mock, scenario)
    native, ours = both(lambda: _raise(lambda: litellm.completion(model="mistral/mistral-small-latest", **kw)))
    same_error(native, ours)


def test_http_tier_embedding_equal(litellm, mock):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}
    native, ours = both(lambda: litellm.embedding(model="mistral/mistral-embed", **kw))
    assert ours.model_dump() == native.model_dump()
    native, ours = both(lambda: asyncio.run(litellm.aembedding(model="mistral/mistral-embed", **kw)))
    assert ours.model_dump() == native.model_dump()


def test_http_tier_timeout_equal(litellm, mock):
    kw = kwargs(mock, "delay=2", timeout=0.3)
    native, ours = both(lambda: _raise(lambda: litellm.completion(model="mistral/mistral-small-latest", **kw)))
    assert type(ours) is type(native) is litellm.Timeout


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "edgequake-no-such-host.invalid"], ids=["refused", "dns"])
def test_http_tier_connection_errors_equal(litellm, host):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kw = {"messages": MSGS, "api_key": KEY, "api_base": "http://" + host.format(port=port) + "/v1"}
    native, ours = both(lambda: _raise(lambda: litellm.completion(model="mistral/mistral-small-latest", **kw)))
    same_error(native, ours)


def test_extra_headers_validated_as_litellm_validates_them(litellm, mock):
    """LiteLLM refuses a non-text header value before sending: patched, the same error (and
    nothing counted as served: nothing was sent)."""
    kw = kwargs(mock, None, extra_headers={"x-custom": "1", "x-bad": None}, max_retries=0)
    native, ours = both(lambda: _raise(lambda: litellm.completion(model=MODEL, **kw)), expect_rust=0)
    same_error(native, ours)
