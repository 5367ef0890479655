"""Differential tests for Anthropic: every scenario runs through LiteLLM's native
``anthropic/...`` path and through ``edgequake/anthropic/...`` (translated by the Rust core)
against the same mock Messages API; responses, streams, usage, cost, errors and the request
bodies the upstream received must be equal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .test_differential import _raise

MODEL = "claude-sonnet-4-5-20250929"
NATIVE = f"anthropic/{MODEL}"
OURS = f"edgequake/anthropic/{MODEL}"
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
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "echo",
        "schema": {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]},
    },
}
HISTORY = [
    {"role": "system", "content": [{"type": "text", "text": "Sys.", "cache_control": {"type": "ephemeral"}}]},
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": "Checking.  ",
        "tool_calls": [
            {
                "id": "toolu_01",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call:2", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        ],
    },
    {"role": "tool", "tool_call_id": "toolu_01", "content": "sunny"},
    {"role": "tool", "tool_call_id": "call:2", "content": [{"type": "text", "text": "noon"}]},
    {"role": "user", "content": [{"type": "text", "text": "thanks", "cache_control": {"type": "ephemeral"}}]},
]
IMAGE_MSGS = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": "https://example.com/cat.jpg"},
        ],
    }
]
THINKING = {"type": "enabled", "budget_tokens": 1024}

# (name, scenario, kwargs shared by both, extra kwargs for the edgequake route only)
CHAT_CASES: list[tuple[str, str | None, dict[str, Any], dict[str, Any]]] = [
    ("plain", None, {}, {}),
    (
        "multi_turn",
        None,
        {"messages": MSGS + [{"role": "assistant", "content": "Hi. "}, {"role": "user", "content": "again"}]},
        {},
    ),
    ("sampling", None, {"temperature": 0.2, "top_p": 0.9, "stop": ["\n", "END"], "top_k": 5}, {}),
    ("stop_string", "stop_reason=stop_sequence", {"stop": "END"}, {}),
    ("max_tokens_length", None, {"max_tokens": 2}, {}),
    ("max_completion_tokens", None, {"max_completion_tokens": 50}, {}),
    ("tools_auto", "preamble=1", {"tools": TOOLS, "tool_choice": "auto"}, {}),
    ("tool_named", None, {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}, {}),
    ("tool_required_serial", None, {"tools": TOOLS, "tool_choice": "required", "parallel_tool_calls": False}, {}),
    ("tools_parallel", "parallel=1", {"tools": TOOLS, "parallel_tool_calls": True}, {}),
    ("tool_none", None, {"tools": TOOLS, "tool_choice": "none"}, {}),
    ("tool_empty_args", "empty_args=1", {"tools": TOOLS}, {}),
    ("tool_history", None, {"messages": HISTORY, "tools": TOOLS}, {}),
    ("tool_history_no_tools", None, {"messages": HISTORY}, {}),
    ("thinking_reply", "thinking=1", {}, {}),
    ("redacted_thinking", "thinking=1,redacted=1", {}, {}),
    ("cache_usage", "cached=7,cache_write=3", {}, {}),
    ("citations", "citations=1", {}, {}),
    ("refusal", "stop_reason=refusal", {}, {}),
    ("images", None, {"messages": IMAGE_MSGS}, {}),
    ("json_schema", None, {"response_format": SCHEMA}, {}),
    ("json_object", None, {"response_format": {"type": "json_object"}}, {}),
    ("headers", None, {"extra_headers": {"x-custom-header": "yes"}}, {}),
    ("top_level_cache_control", None, {"cache_control": {"type": "ephemeral"}}, {}),
    (
        "tool_cache_control",
        None,
        {"tools": [TOOLS[0], {**TOOLS[1], "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
        {},
    ),
    (
        "pdf_data_url",
        None,
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "summarise"},
                        {"type": "image_url", "image_url": {"url": "data:application/pdf;base64,JVBERi0xLjQ="}},
                    ],
                }
            ]
        },
        {},
    ),
    ("unknown_kwarg", None, {"foo_param": "bar"}, {}),
    (
        "thinking_replay",
        "thinking=1",
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "thinking_blocks": [{"type": "thinking", "thinking": "I should call it.", "signature": "sig=="}],
                    "tool_calls": [
                        {"id": "toolu_9", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "toolu_9", "content": "rain"},
            ],
            "tools": TOOLS,
            "thinking": THINKING,
            "max_tokens": 3000,
        },
        {"allowed_openai_params": ["thinking"]},
    ),
    ("metadata_user", None, {"metadata": {"user_id": "user-123"}}, {}),
    # LiteLLM refuses these for any custom provider unless allowed (docs/providers.md).
    (
        "thinking_param",
        "thinking=1",
        {"thinking": THINKING, "max_tokens": 4000},
        {"allowed_openai_params": ["thinking"]},
    ),
    (
        "reasoning_effort",
        "thinking=1",
        {"reasoning_effort": "low", "max_tokens": 4000},
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


_SAME_HEADERS = ("x-api-key", "anthropic-version", "anthropic-beta", "content-type", "accept", "x-custom-header")


def _wire(req: dict) -> tuple:
    return req["path"], req["body"], {k: v for k, v in req["headers"].items() if k in _SAME_HEADERS}


def _dump(resp) -> dict:
    d = resp.model_dump()
    # Native generates a random chatcmpl id (ours is the upstream message id) and stamps
    # the clock: see docs/providers.md.
    d.pop("id")
    d.pop("created")
    return d


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
    assert ours.id.startswith("msg_")


def test_async_chat_equal(litellm, mock):
    kw = _kwargs(mock, "thinking=1,cached=2", {"tools": TOOLS})

    async def both():
        return await litellm.acompletion(model=NATIVE, **kw), await litellm.acompletion(model=OURS, **kw)

    native, ours = asyncio.run(both())
    assert _dump(ours) == _dump(native)
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])


def test_unsupported_param_raises_like_native(litellm, mock):
    kw = _kwargs(mock, None, {"seed": 3})
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=NATIVE, **kw)
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=OURS, **kw)
    mock.reset()
    litellm.completion(model=OURS, drop_params=True, **kw)
    assert "seed" not in _last(mock)["body"]


def test_env_key_and_base(litellm, mock, monkeypatch):
    """ANTHROPIC_API_KEY and ANTHROPIC_API_BASE as LiteLLM reads them."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_BASE", f"{mock.url}/s/model=x")
    litellm.completion(model=NATIVE, messages=MSGS)
    native = _last(mock)
    litellm.completion(model=OURS, messages=MSGS)
    ours = _last(mock)
    assert _wire(ours) == _wire(native)
    assert ours["path"] == "/s/model=x/v1/messages"
    assert ours["headers"]["x-api-key"] == KEY


def test_base_already_ending_in_messages(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": f"{mock.url}/v1/messages/"}
    litellm.completion(model=NATIVE, **kw)
    native = _last(mock)
    litellm.completion(model=OURS, **kw)
    assert _last(mock)["path"] == native["path"] == "/v1/messages"


# ---- streaming -------------------------------------------------------------------------


def _delta_view(chunks) -> list[tuple]:
    out = []
    for c in chunks:
        for ch in c.choices:
            d = ch.delta
            tcs = tuple(
                (t.index, t.id, t.function.name if t.function else None, t.function.arguments if t.function else None)
                for t in (d.tool_calls or [])
            )
            tb = getattr(d, "thinking_blocks", None)
            item = (d.content or None, getattr(d, "reasoning_content", None), tcs, tb, ch.finish_reason)
            if item != (None, None, (), None, None):
                out.append(item)
    return out


def _usage_view(chunks) -> list:
    # usage.cost: LiteLLM prices only streams of providers it knows by name (docs/providers.md).
    views = [c.usage.model_dump() for c in chunks if getattr(c, "usage", None) is not None]
    return [{k: v for k, v in u.items() if k != "cost"} for u in views]


def _built_view(litellm, chunks, messages) -> dict:
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    dump = built.model_dump()
    for k in ("id", "created", "model"):  # see docs/providers.md (stream terminal chunk)
        dump.pop(k)
    # LiteLLM's wrapper prices a known provider's stream into usage.cost; a custom
    # provider's stream is priced by the handler's stamp instead (docs/providers.md).
    dump["usage"].pop("cost", None)
    return dump


STREAM_CASES: list[tuple[str, str | None, dict[str, Any], dict[str, Any]]] = [
    ("plain", None, {}, {}),
    ("tools", "preamble=1", {"tools": TOOLS}, {}),
    ("tools_parallel", "parallel=1", {"tools": TOOLS, "parallel_tool_calls": True}, {}),
    ("tool_empty_args", "empty_args=1", {"tools": TOOLS}, {}),
    ("thinking", "thinking=1,redacted=1", {}, {}),
    ("cache_usage", "cached=7,cache_write=3", {"stream_options": {"include_usage": True}}, {}),
    ("max_tokens_length", None, {"max_tokens": 2}, {}),
    ("json_schema", None, {"response_format": SCHEMA}, {}),
    ("citations", "citations=1", {}, {}),
]


@pytest.mark.parametrize(("name", "scenario", "kwargs", "ours_only"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_stream_equal(litellm, mock, name, scenario, kwargs, ours_only):
    kw = _kwargs(mock, scenario, kwargs)
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    native_req = _last(mock)
    ours = list(litellm.completion(model=OURS, stream=True, **kw, **ours_only))
    ours_req = _last(mock)
    assert _wire(ours_req) == _wire(native_req)
    assert _delta_view(ours) == _delta_view(native)
    assert _built_view(litellm, ours, kw["messages"]) == _built_view(litellm, native, kw["messages"])
    assert len({c.id for c in ours}) == 1


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
    ("413", "status=413"),
    ("429_retry_after", "status=429,retry_after=7"),
    ("500", "status=500"),
    ("502_html", "status=502,error=html"),
    ("503", "status=503"),
    ("529_overloaded", "status=529"),
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
    if "retry_after" in scenario:
        # LiteLLM's Anthropic errors carry the upstream headers here (response.headers is empty).
        assert ours.litellm_response_headers["retry-after"] == native.litellm_response_headers["retry-after"] == "7"
    assert KEY not in str(ours) and KEY not in repr(ours)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES[:10], ids=[c[0] for c in ERROR_CASES[:10]])
def test_stream_error_equal(litellm, mock, name, scenario):
    kw = _kwargs(mock, scenario, {})
    native = _raise(lambda: list(litellm.completion(model=NATIVE, stream=True, **kw)))
    ours = _raise(lambda: list(litellm.completion(model=OURS, stream=True, **kw)))
    assert type(ours) is type(native), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)


def test_mid_stream_error_event(litellm, mock):
    """An ``error`` event mid-stream (Anthropic sends ``overloaded_error`` this way)."""
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
    assert _delta_view(ours_chunks) == _delta_view(native_chunks)


def test_malformed_reply(litellm, mock):
    kw = _kwargs(mock, "malformed_json=1", {})
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)


def test_missing_key(litellm, mock, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    kw = {"messages": MSGS, "api_base": mock.url}
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    assert type(ours) is type(native), (native, ours)
    assert not mock.requests()


# ---- other entry points ----------------------------------------------------------------


def test_direct_api_equal(litellm, mock):
    import edgequake_litellm as eq

    kw = _kwargs(mock, "thinking=1,cached=2", {"tools": TOOLS, "temperature": 0.1})
    native = litellm.completion(model=NATIVE, **kw)
    native_req = _last(mock)
    ours = eq.completion(model=NATIVE, **kw)
    assert _wire(_last(mock)) == _wire(native_req)
    assert _dump(ours) == _dump(native)
    streamed = list(eq.completion(model=NATIVE, stream=True, **kw))
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == (
        native.choices[0].message.content or ""
    )


def test_direct_api_fallback_body(litellm, mock):
    """A request the core leaves to LiteLLM's transform (response_format) through the direct API."""
    import edgequake_litellm as eq

    kw = _kwargs(mock, None, {"response_format": SCHEMA})
    litellm.completion(model=NATIVE, **kw)
    native_req = _last(mock)
    eq.completion(model=NATIVE, **kw)
    assert _wire(_last(mock)) == _wire(native_req)


class _Log:
    """The part of LiteLLM's logging object a provider handler uses."""

    def __init__(self) -> None:
        self.model_call_details: dict[str, Any] = {}
        self.calls: list[str] = []

    def pre_call(self, **kw: Any) -> None:
        self.calls.append("pre")

    def post_call(self, **kw: Any) -> None:
        self.calls.append("post")


def test_handler_entry_point(litellm, mock):
    """The ``edgequake/`` handler as LiteLLM calls it: its handler arguments in, LiteLLM types out."""
    from litellm.types.utils import ModelResponse

    from edgequake_litellm import handler

    kw = _kwargs(mock, None, {})
    native = litellm.completion(model=NATIVE, **kw)
    log = _Log()
    common = {"optional_params": {}, "api_key": KEY, "headers": None, "timeout": 30.0, "litellm_params": {}}
    ours = handler.completion(
        f"anthropic/{MODEL}", MSGS, api_base=kw["api_base"], logging_obj=log, model_response=ModelResponse(), **common
    )
    assert log.calls == ["pre", "post"]
    assert ours.choices[0].message.content == native.choices[0].message.content
    assert ours.usage.total_tokens == native.usage.total_tokens
    with pytest.raises(litellm.RateLimitError):
        handler.streaming(
            f"anthropic/{MODEL}",
            MSGS,
            api_base=f"{mock.url}/s/status=429",
            logging_obj=_Log(),
            model_response=ModelResponse(),
            **common,
        )


# Requests whose mapping depends on the model map: the core hands them to LiteLLM's
# transform (docs/providers.md), and the upstream must still see LiteLLM's body.
MODEL_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("thinking_without_max_tokens", MODEL, {"thinking": THINKING}, {"allowed_openai_params": ["thinking"]}),
    (
        "adaptive_reasoning_effort",
        "claude-opus-4-6",
        {"reasoning_effort": "high", "max_tokens": 5000},
        {"allowed_openai_params": ["reasoning_effort"]},
    ),
    ("temperature_one_on_no_sampling_model", "claude-opus-4-7", {"temperature": 1}, {}),
    ("unknown_model_default_max_tokens", "claude-some-future-model", {}, {}),
]


@pytest.mark.parametrize(("name", "model", "kwargs", "ours_only"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_model_dependent_requests_equal(litellm, mock, name, model, kwargs, ours_only):
    kw = _kwargs(mock, "thinking=1", kwargs)
    native = litellm.completion(model=f"anthropic/{model}", **kw)
    native_req = _last(mock)
    ours = litellm.completion(model=f"edgequake/anthropic/{model}", **kw, **ours_only)
    assert _wire(_last(mock)) == _wire(native_req)
    assert _dump(ours) == _dump(native)


def test_sampling_param_refused_like_native(litellm, mock):
    kw = _kwargs(mock, None, {"temperature": 0.3})
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model="anthropic/claude-opus-4-7", **kw)
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model="edgequake/anthropic/claude-opus-4-7", **kw)
    assert mock.requests() == []


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
    kw = _kwargs(mock, "cached=3,cache_write=2", {"stream_options": {"include_usage": True}})
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    ours = list(litellm.completion(model=OURS, stream=True, **kw))
    assert len(ours) == len(native)
    assert _usage_view(ours) == _usage_view(native)
    assert _usage_view(ours)


def test_truncated_stream(litellm, mock):
    """The connection closes mid-stream: the same exception class after the same chunks."""
    kw = _kwargs(mock, "truncate=1", {})

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
    assert _delta_view(ours_chunks) == _delta_view(native_chunks)
