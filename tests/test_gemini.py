"""Differential tests for Gemini (Google AI Studio): every scenario runs through LiteLLM's
native ``gemini/...`` path and through ``edgequake/gemini/...`` (translated by the Rust core)
against the same mock ``generateContent`` API; responses, streams, usage, cost, errors and the
request bodies the upstream received must be equal."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from .test_differential import _raise

KEY = "AIza-edgequake-test-0123456789"
MODEL = "gemini-2.5-flash"
NATIVE = f"gemini/{MODEL}"
OURS = f"edgequake/gemini/{MODEL}"
MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there friend"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}},
    },
]
STRICT_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "echo",
        "schema": {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]},
    },
}
HISTORY = [
    {"role": "system", "content": "Sys."},
    {"role": "user", "content": "weather in Paris?"},
    {"role": "user", "content": [{"type": "text", "text": "and the time"}]},
    {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "tool", "tool_call_id": "call_2", "content": '{"time": "noon"}'},
    {"role": "assistant", "content": "It is sunny. "},
    {"role": "user", "content": "thanks"},
]
IMAGE_MSGS = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    }
]

# (name, scenario, kwargs shared by both, extra kwargs for the edgequake route only)
CHAT_CASES: list[tuple[str, str | None, dict[str, Any], dict[str, Any]]] = [
    ("plain", None, {}, {}),
    (
        "multi_turn",
        None,
        {"messages": [*MSGS, {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "again"}]},
        {},
    ),
    (
        "sampling",
        None,
        {
            "temperature": 0.2,
            "top_p": 0.9,
            "stop": ["\n", "END"],
            "seed": 7,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
        },
        {},
    ),
    ("stop_string_top_k", None, {"stop": "END", "top_k": 4}, {}),
    ("max_tokens_length", None, {"max_tokens": 2}, {}),
    ("n2", None, {"n": 2}, {}),
    ("tools_auto", None, {"tools": TOOLS, "tool_choice": "auto"}, {}),
    ("tool_named", None, {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}, {}),
    ("tool_required", None, {"tools": TOOLS, "tool_choice": "required"}, {}),
    ("tool_none", None, {"tools": TOOLS, "tool_choice": "none"}, {}),
    ("tools_parallel", "parallel=1", {"tools": TOOLS}, {}),
    ("tool_history", None, {"messages": HISTORY, "tools": TOOLS}, {}),
    ("thinking_reply", "thinking=1", {}, {}),
    ("thinking_tool_signature", "thinking=1", {"tools": TOOLS}, {}),
    ("cached_usage", "cached=3", {}, {}),
    ("prompt_blocked", "blocked=1", {}, {}),
    ("safety_stop", "safety=1", {}, {}),
    ("recitation", "finish=RECITATION", {}, {}),
    ("images", None, {"messages": IMAGE_MSGS}, {}),
    ("headers", None, {"extra_headers": {"x-custom-header": "yes"}}, {}),
    # Requests the core leaves to LiteLLM's transform (docs/providers.md).
    ("json_schema", None, {"response_format": SCHEMA}, {}),
    ("json_object", None, {"response_format": {"type": "json_object"}}, {}),
    ("schema_cleaning", None, {"tools": STRICT_TOOLS}, {}),
    (
        "reasoning_effort",
        "thinking=1",
        {"reasoning_effort": "low"},
        {"allowed_openai_params": ["reasoning_effort"]},
    ),
]


def _kwargs(mock, scenario: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    base = mock.url if scenario is None else f"{mock.url}/s/{scenario}"
    out: dict[str, Any] = {"messages": MSGS, "api_key": KEY, "api_base": base}
    out.update(kwargs)
    return out


def _last(mock) -> dict:
    reqs = mock.requests()
    assert reqs, "upstream saw no request"
    return reqs[-1]


_SAME_HEADERS = ("x-goog-api-key", "content-type", "accept", "x-custom-header")


def _wire(req: dict) -> tuple:
    headers = {k: v for k, v in req["headers"].items() if k in _SAME_HEADERS}
    return req["path"], req["query"], req["body"], headers


_CALL_ID = re.compile(r"^call_[0-9a-f]{28}")


def _ids_normalised(value: Any) -> Any:
    """Tool-call ids are random on both sides (``call_<28 hex>``, plus ``__thought__<sig>``)."""
    if isinstance(value, dict):
        return {
            k: (_CALL_ID.sub("call_X", v) if k == "id" and isinstance(v, str) else _ids_normalised(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_ids_normalised(v) for v in value]
    return value


def _dump(resp) -> dict:
    d = resp.model_dump()
    d.pop("created")
    if d["id"].startswith("chatcmpl-"):
        d["id"] = "chatcmpl-X"  # no responseId (blocked prompt): LiteLLM's random id on both sides
    return _ids_normalised(d)


@pytest.mark.parametrize(("name", "scenario", "kwargs", "ours_only"), CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_chat_equal(litellm, mock, name, scenario, kwargs, ours_only):
    kw = _kwargs(mock, scenario, kwargs)
    native = litellm.completion(model=NATIVE, **kw)
    native_req = _last(mock)
    ours = litellm.completion(model=OURS, **kw, **ours_only)
    ours_req = _last(mock)
    assert _wire(ours_req) == _wire(native_req)
    assert _dump(ours) == _dump(native)
    assert ours._hidden_params["response_cost"] is not None
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])


def test_async_chat_equal(litellm, mock):
    kw = _kwargs(mock, "thinking=1,cached=2", {"tools": TOOLS})

    async def both():
        return await litellm.acompletion(model=NATIVE, **kw), await litellm.acompletion(model=OURS, **kw)

    native, ours = asyncio.run(both())
    assert _dump(ours) == _dump(native)


def test_env_key_and_base(litellm, mock, monkeypatch):
    """GEMINI_API_KEY and GEMINI_API_BASE as LiteLLM reads them (GOOGLE_API_KEY first)."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_API_BASE", f"{mock.url}/v1beta")
    litellm.completion(model=NATIVE, messages=MSGS)
    native = _last(mock)
    litellm.completion(model=OURS, messages=MSGS)
    ours = _last(mock)
    assert _wire(ours) == _wire(native)
    assert ours["path"] == f"/v1beta/models/{MODEL}:generateContent"
    assert ours["headers"]["x-goog-api-key"] == KEY
    assert "key" not in ours["query"]  # never in the URL


def test_unsupported_param_raises_like_native(litellm, mock):
    kw = _kwargs(mock, None, {"logit_bias": {"1": 2}})
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=NATIVE, **kw)
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=OURS, **kw)


# ---- streaming -------------------------------------------------------------------------


def _delta_view(chunks) -> list[tuple]:
    out = []
    for c in chunks:
        for ch in c.choices:
            d = ch.delta
            tcs = tuple(
                (t.index, _CALL_ID.sub("call_X", t.id or ""), t.function.name, t.function.arguments)
                for t in (d.tool_calls or [])
            )
            item = (d.content or None, getattr(d, "reasoning_content", None), tcs, ch.finish_reason)
            if item != (None, None, (), None):
                out.append(item)
    return out


def _built_view(litellm, chunks, messages) -> dict:
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    dump = _ids_normalised(built.model_dump())
    for k in ("created", "model"):  # see docs/providers.md (stream terminal chunk)
        dump.pop(k)
    dump["usage"].pop("cost", None)  # LiteLLM prices only streams of providers it knows by name
    return dump


STREAM_CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("plain", None, {}),
    ("usage", "cached=3", {"stream_options": {"include_usage": True}}),
    ("tools", None, {"tools": TOOLS}),
    ("tools_parallel", "parallel=1", {"tools": TOOLS}),
    ("thinking", "thinking=1", {}),
    ("thinking_tools", "thinking=1", {"tools": TOOLS}),
    ("max_tokens_length", None, {"max_tokens": 2}),
    ("prompt_blocked", "blocked=1", {}),
    ("safety_stop", "safety=1", {}),
    ("json_schema", None, {"response_format": SCHEMA}),
]


@pytest.mark.parametrize(("name", "scenario", "kwargs"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_stream_equal(litellm, mock, name, scenario, kwargs):
    kw = _kwargs(mock, scenario, kwargs)
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    native_req = _last(mock)
    ours = list(litellm.completion(model=OURS, stream=True, **kw))
    ours_req = _last(mock)
    assert _wire(ours_req) == _wire(native_req)
    assert _delta_view(ours) == _delta_view(native)
    assert _built_view(litellm, ours, kw["messages"]) == _built_view(litellm, native, kw["messages"])


def test_async_stream_equal(litellm, mock):
    kw = _kwargs(mock, "thinking=1", {"tools": TOOLS})

    async def collect(model):
        return [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]

    native = asyncio.run(collect(NATIVE))
    ours = asyncio.run(collect(OURS))
    assert _delta_view(ours) == _delta_view(native)
    assert _built_view(litellm, ours, kw["messages"]) == _built_view(litellm, native, kw["messages"])


# ---- errors ----------------------------------------------------------------------------

ERROR_CASES = [
    ("400", "status=400"),
    ("401", "status=401"),
    ("403", "status=403"),
    ("404", "status=404"),
    ("429_retry_after", "status=429,retry_after=7"),
    ("500", "status=500"),
    ("503", "status=503"),
    ("504", "status=504"),
    ("context_length", "error=context_length"),
    ("bad_key", "auth=other-key"),
]


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_equal(litellm, mock, name, scenario):
    kw = _kwargs(mock, scenario, {})
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)
    assert getattr(ours, "llm_provider", None) == getattr(native, "llm_provider", None)
    assert str(ours) == str(native)
    assert KEY not in str(ours) and KEY not in repr(ours)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES[:8], ids=[c[0] for c in ERROR_CASES[:8]])
def test_stream_error_equal(litellm, mock, name, scenario):
    kw = _kwargs(mock, scenario, {})
    native = _raise(lambda: list(litellm.completion(model=NATIVE, stream=True, **kw)))
    ours = _raise(lambda: list(litellm.completion(model=OURS, stream=True, **kw)))
    # LiteLLM's Gemini stream reads the status lazily and wraps retryable ones (429, 5xx)
    # in MidStreamFallbackError; ours raises the wrapped class from the call, as LiteLLM's
    # OpenAI and Anthropic streams do (docs/providers.md).
    expected = (
        getattr(native, "original_exception", None) if type(native).__name__ == "MidStreamFallbackError" else native
    )
    assert type(ours) is type(expected), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(expected, "status_code", None)


def test_malformed_reply(litellm, mock):
    kw = _kwargs(mock, "malformed_json=1", {})
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)


def test_missing_key(litellm, mock, monkeypatch):
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "PALM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    kw = {"messages": MSGS, "api_base": mock.url}
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)
    assert not mock.requests()


# ---- embeddings ------------------------------------------------------------------------

EMB = "text-embedding-004"


@pytest.mark.parametrize("inp", [["alpha", "beta"], "one string"], ids=["list", "string"])
def test_embedding_equal(litellm, mock, inp):
    kw = {"input": inp, "api_key": KEY, "api_base": mock.url}
    native = litellm.embedding(model=f"gemini/{EMB}", **kw)
    native_req = _last(mock)
    ours = litellm.embedding(model=f"edgequake/gemini/{EMB}", **kw)
    assert _wire(_last(mock)) == _wire(native_req)
    assert ours.model_dump() == native.model_dump()


@pytest.mark.parametrize(
    ("name", "params"), [("dimensions", {"dimensions": 4}), ("task_type", {"task_type": "RETRIEVAL_QUERY"})]
)
def test_embedding_params_equal(litellm, mock, name, params):
    """LiteLLM refuses these for a custom provider: ``extra_body`` carries them (docs/providers.md)."""
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.url}
    native = litellm.embedding(model=f"gemini/{EMB}", **kw, **params)
    native_req = _last(mock)
    ours = litellm.embedding(model=f"edgequake/gemini/{EMB}", **kw, extra_body=params)
    assert _wire(_last(mock)) == _wire(native_req)
    assert ours.model_dump() == native.model_dump()


def test_embedding_unknown_param_is_bad_request(litellm, mock):
    kw = {"input": ["alpha"], "api_key": KEY, "api_base": mock.url, "extra_body": {"bogus": 1}}
    with pytest.raises(litellm.BadRequestError):
        litellm.embedding(model=f"edgequake/gemini/{EMB}", **kw)
    assert not mock.requests()


def test_async_embedding_equal(litellm, mock):
    kw = {"input": ["alpha"], "api_key": KEY, "api_base": mock.url}

    async def both():
        return (
            await litellm.aembedding(model=f"gemini/{EMB}", **kw),
            await litellm.aembedding(model=f"edgequake/gemini/{EMB}", **kw),
        )

    native, ours = asyncio.run(both())
    assert ours.model_dump() == native.model_dump()


def test_direct_api_equal(litellm, mock):
    import edgequake_litellm as eq

    kw = _kwargs(mock, "thinking=1,cached=2", {"tools": TOOLS, "temperature": 0.1})
    native = litellm.completion(model=NATIVE, **kw)
    native_req = _last(mock)
    ours = eq.completion(model=NATIVE, **kw)
    assert _wire(_last(mock)) == _wire(native_req)
    assert _dump(ours) == _dump(native)
    emb = eq.embedding(model=f"gemini/{EMB}", input=["alpha"], api_key=KEY, api_base=mock.url)
    assert (
        emb.usage.prompt_tokens
        == litellm.embedding(model=f"gemini/{EMB}", input=["alpha"], api_key=KEY, api_base=mock.url).usage.prompt_tokens
    )


@pytest.mark.parametrize(
    ("name", "scenario", "extra"), [("timeout", "stall=1", {"timeout": 0.5}), ("reset", "reset=1", {})]
)
def test_transport_failures_equal(litellm, mock, name, scenario, extra):
    kw = _kwargs(mock, scenario, extra)
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)


def test_include_usage_chunks_equal(litellm, mock):
    """With ``stream_options.include_usage`` the caller sees the same usage chunk."""
    kw = _kwargs(mock, "cached=3,thinking=1", {"stream_options": {"include_usage": True}})
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    ours = list(litellm.completion(model=OURS, stream=True, **kw))
    assert len(ours) == len(native)
    # usage.cost: LiteLLM prices only streams of providers it knows by name (docs/providers.md).
    views = [
        [{k: v for k, v in c.usage.model_dump().items() if k != "cost"} for c in chunks if getattr(c, "usage", None)]
        for chunks in (ours, native)
    ]
    assert views[0] == views[1]
    assert views[0]


def test_mid_stream_error_object(litellm, mock):
    """An ``error`` object inside a 200 stream (quota exhaustion) raises as natively."""
    kw = _kwargs(mock, "stream_error=1", {})

    def consume(model):
        got: list = []
        try:
            for c in litellm.completion(model=model, stream=True, **kw):
                got.append(c)
        except Exception as e:  # noqa: BLE001
            return got, e
        raise AssertionError("no exception")

    native_chunks, native = consume(NATIVE)
    ours_chunks, ours = consume(OURS)
    assert type(ours) is type(native), (native, ours)
    inner = [getattr(e, "original_exception", None) for e in (ours, native)]
    assert type(inner[0]) is type(inner[1]), inner
    assert _delta_view(ours_chunks) == _delta_view(native_chunks)
