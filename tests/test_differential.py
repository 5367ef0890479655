"""Differential tests: every scenario runs through LiteLLM's native ``openai/`` path and
through ``edgequake/openai/`` against the same mock upstream; the results must be equal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY

NATIVE = "openai/gpt-4o-mini"
OURS = "edgequake/openai/gpt-4o-mini"
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
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "echo",
        "strict": True,
        "schema": {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]},
    },
}

# (name, scenario, kwargs)
CHAT_CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("plain", None, {}),
    (
        "multi_turn",
        None,
        {"messages": MSGS + [{"role": "assistant", "content": "Hi."}, {"role": "user", "content": "again"}]},
    ),
    (
        "sampling",
        None,
        {
            "temperature": 0.2,
            "top_p": 0.9,
            "seed": 7,
            "stop": ["\n"],
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
        },
    ),
    ("n2", None, {"n": 2}),
    ("logprobs", None, {"logprobs": True, "top_logprobs": 2}),
    ("logit_bias", None, {"logit_bias": {"50256": -100}}),
    ("json_object", None, {"response_format": {"type": "json_object"}}),
    ("json_schema", None, {"response_format": SCHEMA}),
    ("tools_auto", None, {"tools": TOOLS, "tool_choice": "auto"}),
    ("tool_named", None, {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}),
    ("tools_parallel", "parallel=1", {"tools": TOOLS, "parallel_tool_calls": True}),
    ("max_tokens_length", None, {"max_tokens": 2}),
    ("extra_body", None, {"extra_body": {"custom_field": {"a": 1}, "temperature": 0.5}}),
    ("unknown_kwarg", None, {"foo_param": "bar"}),
    ("headers", None, {"extra_headers": {"x-custom-header": "yes"}}),
    ("reasoning", "reasoning=1", {}),
    ("cached_usage", "cached=5", {}),
    # The mock gzips JSON for a client that accepts it, as the real API does; here it does not.
    ("identity_encoding", "gzip=0", {}),
    # The reply names a snapshot priced differently from the requested alias.
    ("priced_snapshot", "model=gpt-4o-2024-05-13", {}),
    ("unicode", None, {"messages": [{"role": "user", "content": "héllo wörld — 日本語 🎉"}]}),
    (
        "image_content",
        None,
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    ],
                }
            ]
        },
    ),
]


def _call_kwargs(mock, scenario: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario)}
    out.update(kwargs)
    return out


def _last_body(mock) -> dict:
    reqs = mock.requests()
    assert reqs, "upstream saw no request"
    return reqs[-1]["body"]


def _headers_subset(resp) -> dict:
    h = resp._hidden_params.get("additional_headers") or {}
    return {k: v for k, v in h.items() if "request-id" not in k}


def _chat_both(litellm, mock, scenario, kwargs):
    kw = _call_kwargs(mock, scenario, kwargs)
    native = litellm.completion(model=NATIVE, **kw)
    native_body = _last_body(mock)
    ours = litellm.completion(model=OURS, **kw)
    ours_body = _last_body(mock)
    return native, ours, native_body, ours_body


@pytest.mark.parametrize(("name", "scenario", "kwargs"), CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_chat_equal(litellm, mock, name, scenario, kwargs):
    native, ours, native_body, ours_body = _chat_both(litellm, mock, scenario, kwargs)
    assert ours_body == native_body
    assert ours.model_dump() == native.model_dump()
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])
    assert ours._hidden_params["response_cost"] is not None
    assert _headers_subset(ours) == _headers_subset(native)
    assert type(ours) is type(native)


def test_chat_headers_reach_upstream(litellm, mock):
    litellm.completion(model=OURS, **_call_kwargs(mock, None, {"extra_headers": {"x-custom-header": "yes"}}))
    req = mock.requests()[-1]
    assert req["headers"]["x-custom-header"] == "yes"
    assert req["headers"]["authorization"] == f"Bearer {KEY}"


def test_async_chat_equal(litellm, mock):
    kw = _call_kwargs(mock, None, {"tools": TOOLS, "logprobs": True})

    async def both():
        return await litellm.acompletion(model=NATIVE, **kw), await litellm.acompletion(model=OURS, **kw)

    native, ours = asyncio.run(both())
    assert ours.model_dump() == native.model_dump()
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])


# ---- streaming -------------------------------------------------------------------------


def _wrapper_made(chunk: dict) -> bool:
    """The chunks LiteLLM's ``CustomStreamWrapper`` builds itself for a custom provider: the
    terminal finish chunk and the usage chunk."""
    return not chunk["choices"] or any(c.get("finish_reason") for c in chunk["choices"])


# What LiteLLM's wrapper copies from the upstream's chunk onto the chunks it builds itself
# (native) and cannot know for a custom provider (docs/providers.md, known differences).
_WRAPPER_MADE_FIELDS = ("model", "system_fingerprint", "service_tier", "obfuscation", "moderation")


def chunk_view(chunks) -> list[dict]:
    """Every chunk in full, minus ``created`` (LiteLLM's clock) and, on the chunks the
    wrapper builds itself, the ``_WRAPPER_MADE_FIELDS`` (checked apart in
    ``assert_same_chunks``)."""
    out = []
    for c in chunks:
        d = c.model_dump()
        del d["created"]
        if _wrapper_made(d):
            for key in _WRAPPER_MADE_FIELDS:
                d.pop(key, None)
        out.append(d)
    return out


def assert_same_chunks(ours, native, given_model: str | None = OURS.removeprefix("edgequake/")) -> None:
    """``given_model``: the model string LiteLLM's wrapper names its own chunks by (None: unchecked)."""
    a, b = chunk_view(ours), chunk_view(native)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (
            i,
            {k: (x.get(k, "<absent>"), y.get(k, "<absent>")) for k in set(x) | set(y) if x.get(k, x) != y.get(k, y)},
        )
    assert len(a) == len(b)
    for c, n in zip((c.model_dump() for c in ours), (n.model_dump() for n in native)):
        if _wrapper_made(c):  # the model string LiteLLM was given; upstream fields as native's or unset
            assert given_model is None or c["model"] == given_model, c
            assert all(c.get(k) is None or c.get(k) == n.get(k) for k in _WRAPPER_MADE_FIELDS[1:]), (c, n)


def _built_view(litellm, chunks, messages) -> dict:
    """``stream_chunk_builder``'s result in full, minus ``created`` (LiteLLM's clock) and
    ``model`` (taken from the wrapper-built terminal chunk, see ``chunk_view``)."""
    built = litellm.stream_chunk_builder(chunks, messages=messages).model_dump()
    del built["created"], built["model"]
    return built


# Without ``include_usage`` LiteLLM's wrapper estimates the usage itself and prices it under the
# custom provider's name (``edgequake``, no price): the built response's ``usage.cost`` is None
# where native's has one (docs/providers.md, known differences).
_ESTIMATED_USAGE_COST = pytest.mark.xfail(
    strict=True, raises=AssertionError, reason="edgequake/ stream without include_usage: estimated usage unpriced"
)


def _stream_params(cases: list[tuple[str, str | None, dict[str, Any]]], built: bool) -> list[Any]:
    def estimated(kwargs: dict[str, Any]) -> bool:
        return built and not (kwargs.get("stream_options") or {}).get("include_usage")

    return [pytest.param(*c, id=c[0], marks=[_ESTIMATED_USAGE_COST] if estimated(c[2]) else []) for c in cases]


STREAM_CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("plain", None, {}),
    ("usage", None, {"stream_options": {"include_usage": True}}),
    ("tools", None, {"tools": TOOLS, "stream_options": {"include_usage": True}}),
    ("reasoning", "reasoning=1", {"stream_options": {"include_usage": True}}),
    ("n2", None, {"n": 2}),
    ("many_chunks", "chunks=100", {"stream_options": {"include_usage": True}}),
    ("crlf_comments", "crlf=1,comments=1", {}),
    (
        "unicode",
        None,
        {
            "messages": [{"role": "user", "content": "héllo wörld — 日本語 🎉"}],
            "stream_options": {"include_usage": True},
        },
    ),
    ("no_obfuscation", None, {"stream_options": {"include_usage": True, "include_obfuscation": False}}),
]

# How the mock maps SSE events onto writes (each write is one chunk of the body, read apart):
# every event cut into 5-byte pieces (events, lines, CRLF pairs and UTF-8 characters straddle
# reads), or the whole stream in one write.
WRITE_PATTERNS = ["split=5", "coalesce=all"]


def _with_writes(cases: list[tuple[str, str | None, dict[str, Any]]]) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [
        (f"{name}-{pattern.split('=')[0]}", ",".join(x for x in (scenario, pattern) if x), kw)
        for name, scenario, kw in cases
        for pattern in WRITE_PATTERNS
    ]


WRITE_CASES = _with_writes(
    [c for c in STREAM_CASES if c[0] in ("usage", "tools", "reasoning", "crlf_comments", "unicode")]
)
STREAM_CASES += WRITE_CASES


def _streams(litellm, mock, scenario, kwargs, aio: bool = False) -> tuple[list, list, dict]:
    """Both routes' chunks, after checking that the upstream saw the same request body."""
    kw = _call_kwargs(mock, scenario, kwargs)

    async def acollect(model):
        return [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]

    def collect(model):
        return asyncio.run(acollect(model)) if aio else list(litellm.completion(model=model, stream=True, **kw))

    native = collect(NATIVE)
    native_body = _last_body(mock)
    ours = collect(OURS)
    assert _last_body(mock) == native_body
    return native, ours, kw


@pytest.mark.parametrize(("name", "scenario", "kwargs"), _stream_params(STREAM_CASES, built=False))
def test_stream_equal(litellm, mock, name, scenario, kwargs):
    native, ours, _ = _streams(litellm, mock, scenario, kwargs)
    assert_same_chunks(ours, native)


@pytest.mark.parametrize(("name", "scenario", "kwargs"), _stream_params(STREAM_CASES, built=True))
def test_stream_built_equal(litellm, mock, name, scenario, kwargs):
    native, ours, kw = _streams(litellm, mock, scenario, kwargs)
    assert _built_view(litellm, ours, kw["messages"]) == _built_view(litellm, native, kw["messages"])


@pytest.mark.parametrize(("name", "scenario", "kwargs"), _stream_params(STREAM_CASES[:4], built=False))
def test_async_stream_equal(litellm, mock, name, scenario, kwargs):
    native, ours, _ = _streams(litellm, mock, scenario, kwargs, aio=True)
    assert_same_chunks(ours, native)


@pytest.mark.parametrize(("name", "scenario", "kwargs"), _stream_params(STREAM_CASES[:4], built=True))
def test_async_stream_built_equal(litellm, mock, name, scenario, kwargs):
    native, ours, kw = _streams(litellm, mock, scenario, kwargs, aio=True)
    assert _built_view(litellm, ours, kw["messages"]) == _built_view(litellm, native, kw["messages"])


@pytest.mark.parametrize(("name", "scenario", "kwargs"), WRITE_CASES, ids=[c[0] for c in WRITE_CASES])
def test_async_stream_write_patterns_equal(litellm, mock, name, scenario, kwargs):
    kw = _call_kwargs(mock, scenario, kwargs)

    async def collect(model):
        return [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]

    native = asyncio.run(collect(NATIVE))
    ours = asyncio.run(collect(OURS))
    assert_same_chunks(ours, native)
    built, native_built = (_built_view(litellm, c, kw["messages"]) for c in (ours, native))
    if not (kwargs.get("stream_options") or {}).get("include_usage"):
        # The documented difference (see _ESTIMATED_USAGE_COST): everything else is equal.
        assert built["usage"].pop("cost", None) is None
        native_built["usage"].pop("cost", None)
    assert built == native_built


def _final_usage_cost(chunks) -> Any:
    usage = getattr(chunks[-1], "usage", None)
    return getattr(usage, "cost", None)


@pytest.mark.parametrize("scenario", [None, "split=5", "coalesce=all"])
def test_stream_usage_cost_and_chunk_count_equal(litellm, mock, scenario):
    """The stream's last chunk carries the usage priced as the upstream model, and as many
    chunks arrive as natively for the same upstream events."""
    kw = _call_kwargs(mock, scenario, {"stream_options": {"include_usage": True}})
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    ours = list(litellm.completion(model=OURS, stream=True, **kw))
    assert len(ours) == len(native)
    assert _final_usage_cost(native) is not None
    assert _final_usage_cost(ours) == pytest.approx(_final_usage_cost(native))


def _stream_failure(consume):
    got: list = []
    try:
        consume(got)
    except Exception as e:  # noqa: BLE001
        return e, got
    raise AssertionError("no exception")


def _same_stream_failure(native, ours) -> None:
    (n_err, n_chunks), (o_err, o_chunks) = native, ours
    assert type(o_err) is type(n_err), (n_err, o_err)
    assert str(o_err) == str(n_err)
    assert getattr(o_err, "status_code", None) == getattr(n_err, "status_code", None)
    assert type(getattr(o_err, "original_exception", None)) is type(getattr(n_err, "original_exception", None))
    assert getattr(o_err, "generated_content", None) == getattr(n_err, "generated_content", None)
    assert getattr(o_err, "is_pre_first_chunk", None) == getattr(n_err, "is_pre_first_chunk", None)
    assert_same_chunks(o_chunks, n_chunks)


@pytest.mark.parametrize("writes", [None, "split=5", "coalesce=all"])
def test_stream_error_event_equal(litellm, mock, writes):
    """An ``{"error": ...}`` event in a 200 stream ends it with the error the SDK raises: a
    caller can tell a cut answer from a complete one (sync and async)."""
    scenario = ",".join(x for x in ("stream_error", writes) if x)
    kw = _call_kwargs(mock, scenario, {"max_retries": 0})

    def run(model):
        def consume(got):
            got.extend(litellm.completion(model=model, stream=True, **kw))

        return _stream_failure(consume)

    native = run(NATIVE)
    assert isinstance(native[0], litellm.exceptions.MidStreamFallbackError)
    _same_stream_failure(native, run(OURS))

    def arun(model):
        async def consume(got):
            async for c in await litellm.acompletion(model=model, stream=True, **kw):
                got.append(c)

        return _stream_failure(lambda got: asyncio.run(consume(got)))

    _same_stream_failure(arun(NATIVE), arun(OURS))


def _stream_outcome(consume):
    got: list = []
    try:
        consume(got)
    except Exception as e:  # noqa: BLE001
        return e, got
    return None, got


# openai/ reads the stream with the OpenAI SDK ([DONE] is no finish); xai/ with LiteLLM's own
# SSE iterator, which reports [DONE] as finish_reason "stop".
@pytest.mark.parametrize("writes", [None, "coalesce=all"])
@pytest.mark.parametrize("done", [True, False], ids=["done", "no_done"])
@pytest.mark.parametrize("provider", ["openai/gpt-4o-mini", "xai/grok-3-mini"])
def test_stream_without_finish_reason_equal(litellm, mock, provider, done, writes):
    """A stream whose chunks never carry a finish_reason: LiteLLM fails it ("Stream ended
    before a finish_reason was received") unless its reader counts a ``[DONE]`` as the
    finish; ``edgequake/`` must end it the same way, sync and async."""
    scenario = ",".join(x for x in ("no_finish", None if done else "no_done", writes) if x)
    kw = _call_kwargs(mock, scenario, {"max_retries": 0})

    def run(model):
        return _stream_outcome(lambda got: got.extend(litellm.completion(model=model, stream=True, **kw)))

    def arun(model):
        async def consume(got):
            async for c in await litellm.acompletion(model=model, stream=True, **kw):
                got.append(c)

        return _stream_outcome(lambda got: asyncio.run(consume(got)))

    def view(chunks):
        return [[(c.delta.content, c.finish_reason) for c in x.choices] for x in chunks]

    # Chunks in full on the OpenAI SDK path only: the edgequake/ route gives every OpenAI-wire
    # provider's chunks the SDK's shape, where LiteLLM's own iterator (xai/) leaves SDK-only
    # fields out (reported on issue 15); their contents and finish reasons are compared.
    sdk = provider.startswith("openai/")
    for go in (run, arun):
        native, ours = go(provider), go(f"edgequake/{provider}")
        assert view(ours[1]) == view(native[1])
        if sdk or not done:
            assert isinstance(native[0], litellm.exceptions.MidStreamFallbackError), native[0]
            assert "Stream ended before a finish_reason was received" in str(native[0])
            _same_stream_failure(native if sdk else (native[0], []), ours if sdk else (ours[0], []))
        else:
            assert native[0] is None and ours[0] is None, (native[0], ours[0])


# ---- embeddings ------------------------------------------------------------------------

EMB_NATIVE = "openai/text-embedding-3-small"
EMB_OURS = "edgequake/openai/text-embedding-3-small"
# LiteLLM's native call warns for base64 embeddings, ours do not (tests/test_embedding_base64.py).
NATIVE_BASE64_WARNS = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


@pytest.mark.parametrize(
    ("name", "native_kw", "ours_kw"),
    [
        ("float", {}, {}),
        ("single_string", {"input": "one string"}, {"input": "one string"}),
        # LiteLLM's parameter check rejects these for any custom provider; extra_body carries them.
        ("dimensions", {"dimensions": 4}, {"extra_body": {"dimensions": 4}}),
        pytest.param(
            "base64",
            {"encoding_format": "base64"},
            {"extra_body": {"encoding_format": "base64"}},
            marks=NATIVE_BASE64_WARNS,
        ),
    ],
)
def test_embedding_equal(litellm, mock, name, native_kw, ours_kw):
    base = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}
    native = litellm.embedding(model=EMB_NATIVE, **{**base, **native_kw})
    native_body = _last_body(mock)
    ours = litellm.embedding(model=EMB_OURS, **{**base, **ours_kw})
    ours_body = _last_body(mock)
    assert ours_body == native_body
    assert ours.model_dump() == native.model_dump()
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])


def test_async_embedding_equal(litellm, mock):
    base = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}

    async def both():
        return await litellm.aembedding(model=EMB_NATIVE, **base), await litellm.aembedding(model=EMB_OURS, **base)

    native, ours = asyncio.run(both())
    assert ours.model_dump() == native.model_dump()


# ---- errors ----------------------------------------------------------------------------

ERROR_CASES = [
    ("400", "status=400"),
    ("401", "status=401"),
    ("403", "status=403"),
    ("404", "status=404"),
    ("408", "status=408"),
    ("422", "status=422"),
    ("429_retry_after", "status=429,retry_after=7"),
    ("500", "status=500"),
    ("502_html", "status=502,error=html"),
    ("503", "status=503"),
    ("504", "status=504"),
    ("529", "status=529"),
    ("context_length", "error=context_length"),
    ("content_filter", "error=content_filter"),
    ("empty_body", "status=500,error=empty"),
    ("malformed_json", "malformed_json"),
]


def _raise(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError("no exception")


def assert_same_error(native: BaseException, ours: BaseException, *, message: bool = True) -> None:
    """What a caller can read off LiteLLM's exception: class, status, provider and text."""
    assert type(ours) is type(native), (native, ours)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)
    assert getattr(ours, "llm_provider", None) == getattr(native, "llm_provider", None)
    if message:
        assert str(ours) == str(native)
    assert KEY not in str(ours) and KEY not in repr(ours)


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_equal(litellm, mock, name, scenario):
    kw = _call_kwargs(mock, scenario, {"max_retries": 0})
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: litellm.completion(model=OURS, **kw))
    # LiteLLM's text for malformed JSON quotes the OpenAI SDK's parser (docs/providers.md).
    assert_same_error(native, ours, message=name != "malformed_json")
    if "retry_after" in scenario:
        assert ours.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES[:8], ids=[c[0] for c in ERROR_CASES[:8]])
def test_stream_error_equal(litellm, mock, name, scenario):
    kw = _call_kwargs(mock, scenario, {"max_retries": 0})
    native = _raise(lambda: list(litellm.completion(model=NATIVE, stream=True, **kw)))
    ours = _raise(lambda: list(litellm.completion(model=OURS, stream=True, **kw)))
    assert_same_error(native, ours)


def test_retries_like_the_sdk(litellm, mock):
    """The OpenAI SDK retries a 429 twice by default: the second retry succeeds both ways."""
    scenario = "status=429,retry_after=0.01,fail_times=2"
    native = litellm.completion(model=NATIVE, **_call_kwargs(mock, scenario, {}))
    native_requests = len(mock.requests())
    mock.reset()
    ours = litellm.completion(model=OURS, **_call_kwargs(mock, scenario, {}))
    assert len(mock.requests()) == native_requests == 3
    assert ours.choices[0].message.content == native.choices[0].message.content


@pytest.mark.parametrize(
    ("scenario", "requests"),
    [("status=400,should_retry=true,fail_times=2", 3), ("status=500,should_retry=false,fail_times=2", 1)],
    ids=["retry_a_400", "not_a_500"],
)
def test_retries_follow_x_should_retry(litellm, mock, scenario, requests):
    """The SDK retries as the server's ``x-should-retry`` says, whatever the status."""
    outcomes = []
    for model in (NATIVE, OURS):
        mock.reset()
        try:
            outcomes.append(
                litellm.completion(model=model, **_call_kwargs(mock, scenario, {})).choices[0].message.content
            )
        except Exception as e:  # noqa: BLE001
            outcomes.append(type(e))
        assert len(mock.requests()) == requests, model
    assert outcomes[1] == outcomes[0]


def test_embedding_error_equal(litellm, mock):
    kw = {"input": ["a"], "api_key": KEY, "api_base": mock.base_url("status=429"), "max_retries": 0}
    native = _raise(lambda: litellm.embedding(model=EMB_NATIVE, **kw))
    ours = _raise(lambda: litellm.embedding(model=EMB_OURS, **kw))
    assert_same_error(native, ours)
