"""Code written for edgequake-litellm 0.10 (``import edgequake_litellm as litellm``) keeps working.

Every call pattern here is one 0.10.4's own source accepted (``completion.py``,
``embedding.py``, ``_compat.py``): positional ``model, messages``, ``api_key``/``api_base``/
``base_url``/``timeout`` keywords, ``max_tokens``, ``response_format`` as a dict, ``tools``,
``await acompletion(..., stream=True)``, ``stream_chunk_builder``, ``embedding(model, input)``,
``aembedding``, and the attributes its shims exposed (``choices[0].message.content``,
``choices[0].delta.content``, dict-style access, ``usage``, ``data``). Where 0.10 only accepted
an argument and dropped it (``api_key``, ``api_base``, ``timeout``, ``user``), the tests check
that it now takes effect. Calls that 0.10 rejected (sync ``stream=True``) or attributes it
alone had (``resp.content``, ``list(embedding_result)``) are covered in docs/migration.md, not
here. See docs/migration.md.
"""

from __future__ import annotations

import asyncio
import json

import litellm as real_litellm
import openai
import pytest

import edgequake_litellm as litellm

from .conftest import KEY

MODEL = "openai/gpt-4o-mini"
EMBED_MODEL = "openai/text-embedding-3-small"
MSGS = [{"role": "user", "content": "hello there friend"}]
ECHO = "Echo: hello there friend"  # the mock upstream echoes the last user message
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def _last(mock) -> dict:
    reqs = mock.requests()
    assert reqs, "the upstream saw no request"
    return reqs[-1]


def _raise(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError("no exception raised")


# ---- completion ------------------------------------------------------------------------------


def test_completion_keywords_choices_message_content(mock):
    r = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())
    assert r.choices[0].message.content == ECHO
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.model == "gpt-4o-mini-2024-07-18"  # the snapshot the upstream names, as natively
    assert isinstance(r.id, str) and r.id
    assert r.object == "chat.completion"


def test_completion_positional_model_and_messages(mock):
    r = litellm.completion(MODEL, MSGS, api_key=KEY, api_base=mock.base_url())
    assert r.choices[0].message.content == ECHO


def test_completion_dict_style_access(mock):
    # 0.10's ModelResponseCompat supported resp["choices"][0]["message"]["content"].
    r = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())
    assert r["choices"][0]["message"]["content"] == ECHO
    assert r.get("model") == "gpt-4o-mini-2024-07-18"


def test_per_call_api_key_and_api_base_are_used(mock):
    # 0.10 accepted these and dropped them; now they pick the upstream and its credentials.
    litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())
    req = _last(mock)
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    assert req["body"]["model"] == "gpt-4o-mini"
    assert req["body"]["messages"] == MSGS


def test_base_url_alias(mock):
    r = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, base_url=mock.base_url())
    assert r.choices[0].message.content == ECHO
    assert _last(mock)["headers"]["authorization"] == f"Bearer {KEY}"


def test_sampling_parameters_reach_upstream(mock):
    kw = {"temperature": 0.2, "top_p": 0.9, "stop": ["\n"], "presence_penalty": 0.1, "frequency_penalty": 0.2}
    litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), **kw)
    body = _last(mock)["body"]
    for k, v in kw.items():
        assert body[k] == v, k


def test_max_tokens_truncates_with_finish_reason_length(mock):
    r = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), max_tokens=2)
    assert _last(mock)["body"]["max_tokens"] == 2
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == "Echo: hello"


def test_response_format_dict(mock):
    r = litellm.completion(
        model=MODEL,
        messages=MSGS,
        api_key=KEY,
        api_base=mock.base_url(),
        response_format={"type": "json_object"},
    )
    assert _last(mock)["body"]["response_format"] == {"type": "json_object"}
    assert json.loads(r.choices[0].message.content) == {"echo": "hello there friend"}


def test_user_is_sent(mock):
    # 0.10 turned `user` into an attribution field; the OpenAI body carries it now.
    litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), user="u-42")
    assert _last(mock)["body"]["user"] == "u-42"


def test_timeout_is_applied(mock):
    # 0.10 accepted `timeout=` and dropped it ("not yet wired to Rust core").
    exc = _raise(
        lambda: litellm.completion(
            model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url("delay=3"), timeout=0.3, max_retries=0
        )
    )
    assert isinstance(exc, real_litellm.Timeout), repr(exc)


def test_usage_and_cost(mock):
    r = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())
    cost = r._hidden_params["response_cost"]
    assert cost is not None and cost > 0


# ---- tool calls ------------------------------------------------------------------------------


def test_tool_calls_are_openai_shaped(mock):
    r = litellm.completion(
        model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), tools=TOOLS, tool_choice="auto"
    )
    body = _last(mock)["body"]
    assert body["tools"] == TOOLS
    assert body["tool_choice"] == "auto"
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    call = msg.tool_calls[0]
    assert call.id == "call_mock_0"
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"arg": 0}


def test_tool_result_round_trip(mock):
    first = litellm.completion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    follow_up = [
        *MSGS,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    r = litellm.completion(
        model=MODEL, messages=follow_up, api_key=KEY, api_base=mock.base_url(), tools=TOOLS, tool_choice="none"
    )
    sent = _last(mock)["body"]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "sunny"}
    assert r.choices[0].message.content == ECHO


# ---- async and streaming ---------------------------------------------------------------------


def test_acompletion(mock):
    async def run():
        return await litellm.acompletion(model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url())

    r = asyncio.run(run())
    assert r.choices[0].message.content == ECHO
    assert _last(mock)["headers"]["authorization"] == f"Bearer {KEY}"


def test_acompletion_stream_delta_content(mock):
    # 0.10's only chat streaming form: `async for chunk in await acompletion(..., stream=True)`.
    async def run():
        stream = await litellm.acompletion(
            model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), stream=True
        )
        return [c async for c in stream]

    chunks = asyncio.run(run())
    assert _last(mock)["body"]["stream"] is True
    assert len(chunks) > 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == ECHO
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert all(c.object == "chat.completion.chunk" for c in chunks)


def test_stream_chunk_builder(mock):
    async def run():
        stream = await litellm.acompletion(
            model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(), stream=True
        )
        return [c async for c in stream]

    chunks = asyncio.run(run())
    full = litellm.stream_chunk_builder(chunks, messages=MSGS)
    assert full.choices[0].message.content == ECHO
    assert full.choices[0].finish_reason == "stop"


# ---- embeddings ------------------------------------------------------------------------------


def test_embedding_positional_input(mock):
    r = litellm.embedding(EMBED_MODEL, ["alpha", "beta"], api_key=KEY, api_base=mock.base_url())
    req = _last(mock)
    assert req["path"] == "/v1/embeddings"
    assert req["body"]["input"] == ["alpha", "beta"]
    assert len(r.data) == 2
    vectors = [item["embedding"] for item in r.data]
    assert all(len(v) == 8 and all(isinstance(x, float) for x in v) for v in vectors)
    assert vectors[0] != vectors[1]
    assert r.usage.prompt_tokens == 2


def test_embedding_keywords_and_dimensions(mock):
    # 0.10 accepted `dimensions` and dropped it; it is sent now.
    r = litellm.embedding(model=EMBED_MODEL, input=["alpha"], api_key=KEY, api_base=mock.base_url(), dimensions=4)
    assert _last(mock)["body"]["dimensions"] == 4
    assert len(r.data[0]["embedding"]) == 4


def test_aembedding(mock):
    async def run():
        kw = {"api_key": KEY, "api_base": mock.base_url()}
        return await litellm.aembedding(model=EMBED_MODEL, input=["alpha", "beta"], **kw)

    r = asyncio.run(run())
    assert [d["index"] for d in r.data] == [0, 1]
    assert len(r.data[0]["embedding"]) == 8


# ---- exceptions ------------------------------------------------------------------------------

# 0.10 had classes of these names in edgequake_litellm.exceptions; they are LiteLLM's own now.
ERRORS = [
    ("status=401", real_litellm.AuthenticationError, 401),
    ("status=429", real_litellm.RateLimitError, 429),
    ("status=404", real_litellm.NotFoundError, 404),
    ("error=context_length", real_litellm.ContextWindowExceededError, 400),
    ("status=500", real_litellm.InternalServerError, 500),
]


@pytest.mark.parametrize(("scenario", "cls", "status"), ERRORS, ids=[e[0] for e in ERRORS])
def test_exceptions_are_litellm_classes(mock, scenario, cls, status):
    exc = _raise(
        lambda: litellm.completion(
            model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url(scenario), max_retries=0
        )
    )
    assert type(exc) is cls, repr(exc)
    # LiteLLM's classes derive from the OpenAI SDK's, so `except openai.APIError` also catches them.
    assert isinstance(exc, openai.APIError)
    # The attributes 0.10's LiteLLMEdgeError carried.
    assert exc.status_code == status
    assert exc.llm_provider == "openai"
    assert "gpt-4o-mini" in exc.model
    assert isinstance(exc.message, str) and exc.message
    assert KEY not in str(exc)


def test_async_exception_is_litellm_class(mock):
    async def run():
        await litellm.acompletion(
            model=MODEL, messages=MSGS, api_key=KEY, api_base=mock.base_url("status=401"), max_retries=0
        )

    exc = _raise(lambda: asyncio.run(run()))
    assert type(exc) is real_litellm.AuthenticationError
    assert exc.status_code == 401


def test_embedding_exception_is_litellm_class(mock):
    exc = _raise(
        lambda: litellm.embedding(
            model=EMBED_MODEL, input=["a"], api_key=KEY, api_base=mock.base_url("status=401"), max_retries=0
        )
    )
    assert type(exc) is real_litellm.AuthenticationError


def test_exception_names_as_the_migration_guide_says():
    """docs/migration.md: 0.10's exception names that LiteLLM has are LiteLLM's own classes; the
    0.10-only ones are gone; ``openai.APIError`` is the base to catch instead of 0.10's base."""
    from litellm.exceptions import LITELLM_EXCEPTION_TYPES

    eq = litellm  # this module imports edgequake_litellm as litellm, as 0.10 code does
    for name in ("AuthenticationError", "RateLimitError", "ContextWindowExceededError", "NotFoundError"):
        assert getattr(eq, name) is getattr(real_litellm, name)
    for name in ("Timeout", "APIConnectionError", "APIError"):
        assert getattr(eq, name) is getattr(real_litellm, name)
    for name in ("LiteLLMEdgeError", "EdgeQuakeError", "ModelNotFoundError", "exceptions"):
        assert not hasattr(eq, name), name
    assert all(issubclass(t, openai.APIError) for t in LITELLM_EXCEPTION_TYPES if t.__name__ != "OpenAIError")
