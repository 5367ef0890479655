"""``edgequake/custom_openai``, ``edgequake/openai_like`` and ``edgequake/ollama``, differentially.

- ``custom_openai/``: LiteLLM's own route (the OpenAI SDK path, ``_complete_custom_openai``), so
  chat runs natively, through ``edgequake/`` and in transparent mode; LiteLLM has no embeddings
  for it (``LiteLLMUnknownProvider``), and neither has ``edgequake/``.
- ``openai_like/``: LiteLLM serves it for embeddings only (``OpenAILikeEmbeddingHandler``):
  compared with that, including its missing key/base errors. Its chat on ``edgequake/`` is an
  extension (LiteLLM raises ``LiteLLMUnknownProvider``), compared with ``openai/`` at the same base.
- ``ollama``: the core serves Ollama's OpenAI-compatible ``/v1`` endpoint, which LiteLLM never
  calls (``ollama/`` and ``ollama_chat/`` speak Ollama's own API); its twin is ``openai/`` with
  the server's ``/v1`` base. (Its base and key resolution, ``ollama_chat/``'s, is compared in
  tests/test_env_precedence.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .routes import error_view, three_ways
from .test_differential import MSGS, TOOLS, _built_view, _raise, assert_same_chunks


def _sent(mock) -> dict:
    req = mock.requests()[-1]
    return {"path": req["path"], "auth": req["headers"].get("authorization"), "body": req["body"]}


def _with_request(mock, fn) -> Any:
    out = fn()
    return out, _sent(mock)


# ---- custom_openai ----------------------------------------------------------------------

CUSTOM = "custom_openai/gpt-4o-mini"


@pytest.mark.parametrize(
    "extra",
    [{}, {"tools": TOOLS, "temperature": 0.2}, {"logprobs": True, "n": 2}],
    ids=["plain", "tools", "logprobs_n2"],
)
def test_custom_openai_chat_equal(litellm, mock, extra):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), **extra}
    native, ours, transparent = three_ways(
        lambda m: _with_request(mock, lambda: litellm.completion(model=m, **kw)), CUSTOM
    )
    assert native[1]["path"] == "/v1/chat/completions"
    assert ours[1] == native[1] == transparent[1]
    ours_dump, native_dump = ours[0].model_dump(), native[0].model_dump()
    # LiteLLM names the model "custom_openai/<model>" on its own route: a custom provider's
    # handler gets the model without the prefix (as for openai/; docs/providers.md).
    ours_model = ours_dump.pop("model")
    assert native_dump.pop("model") == f"custom_openai/{ours_model}" and ours_model.startswith("gpt-4o-mini")
    assert ours_dump == native_dump
    assert transparent[0].model_dump() == native[0].model_dump()


def test_custom_openai_stream_equal(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "stream_options": {"include_usage": True}}
    native, ours, transparent = three_ways(lambda m: list(litellm.completion(model=m, stream=True, **kw)), CUSTOM)
    assert_same_chunks(ours, native, given_model=None)
    assert_same_chunks(transparent, native, given_model=None)
    assert _built_view(litellm, ours, MSGS) == _built_view(litellm, native, MSGS)


def test_custom_openai_async_equal(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url()}
    native, ours, transparent = three_ways(lambda m: asyncio.run(litellm.acompletion(model=m, **kw)), CUSTOM)
    assert ours.choices[0].message.content == native.choices[0].message.content
    assert transparent.model_dump() == native.model_dump()


@pytest.mark.parametrize("scenario", ["status=401", "status=429,retry_after=3", "error=context_length", "status=500"])
def test_custom_openai_error_equal(litellm, mock, scenario):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario), "max_retries": 0}
    native, ours, transparent = three_ways(lambda m: _raise(lambda: litellm.completion(model=m, **kw)), CUSTOM)
    assert error_view(transparent) == error_view(native)
    assert type(ours) is type(native) and ours.status_code == native.status_code
    assert ours.llm_provider == native.llm_provider == "custom_openai"


def test_custom_openai_has_no_embeddings(litellm, mock):
    kw = {"input": ["a"], "api_key": KEY, "api_base": mock.base_url()}
    native = _raise(lambda: litellm.embedding(model=CUSTOM, **kw))
    ours = _raise(lambda: litellm.embedding(model=f"edgequake/{CUSTOM}", **kw))
    assert type(ours) is type(native) is litellm.exceptions.LiteLLMUnknownProvider
    assert str(ours) == str(native).replace(CUSTOM, "gpt-4o-mini").replace("model=custom_openai/", "model=")
    assert not mock.requests()


@pytest.mark.parametrize("provider", ["xai", "groq", "deepseek", "deepinfra", "cerebras", "anthropic"])
def test_no_embeddings_equal(litellm, mock, provider):
    """Providers LiteLLM has no embeddings for: the same error class, nothing sent."""
    kw = {"input": ["a"], "api_key": KEY, "api_base": mock.base_url()}
    native = _raise(lambda: litellm.embedding(model=f"{provider}/m", **kw))
    ours = _raise(lambda: litellm.embedding(model=f"edgequake/{provider}/m", **kw))
    assert type(ours) is type(native) is litellm.exceptions.LiteLLMUnknownProvider
    assert str(ours) == str(native)
    assert not mock.requests()


# ---- openai_like ------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_openai_like_embedding_equal(litellm, mock, is_async):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}

    def call(m: str) -> Any:
        fn = (
            (lambda: asyncio.run(litellm.aembedding(model=m, **kw)))
            if is_async
            else (lambda: litellm.embedding(model=m, **kw))
        )
        return _with_request(mock, fn)

    native = call("openai_like/my-embedder")
    ours = call("edgequake/openai_like/my-embedder")
    assert native[1]["path"] == "/v1/embeddings"
    assert ours[1] == native[1]
    assert ours[0].model_dump() == native[0].model_dump()


@pytest.mark.parametrize(
    ("name", "kw"),
    [("no_key", {"api_base": "{base}"}), ("no_base", {"api_key": KEY}), ("neither", {})],
)
def test_openai_like_missing_settings_equal(litellm, mock, monkeypatch, name, kw):
    for env in ("OPENAI_LIKE_API_BASE", "OPENAI_LIKE_API_KEY"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setattr(litellm, "api_base", None)
    monkeypatch.setattr(litellm, "api_key", None)
    kw = {k: v.format(base=mock.base_url()) for k, v in kw.items()}
    native = _raise(lambda: litellm.embedding(model="openai_like/m", input=["a"], **kw))
    ours = _raise(lambda: litellm.embedding(model="edgequake/openai_like/m", input=["a"], **kw))
    assert error_view(ours) == error_view(native)
    assert not mock.requests()


def test_openai_like_chat_is_the_openai_request(litellm, mock):
    """LiteLLM has no chat for openai_like; ``edgequake/`` sends what ``openai/`` sends there."""
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "tools": TOOLS}
    assert (
        type(_raise(lambda: litellm.completion(model="openai_like/m", **kw)))
        is litellm.exceptions.LiteLLMUnknownProvider
    )
    twin = _with_request(mock, lambda: litellm.completion(model="openai/m", **kw))
    ours = _with_request(mock, lambda: litellm.completion(model="edgequake/openai_like/m", **kw))
    assert ours[1] == twin[1]
    assert ours[0].model_dump() == twin[0].model_dump()


# ---- ollama (OpenAI-compatible /v1) -----------------------------------------------------


def _ollama_pair(litellm, mock, fn) -> tuple[Any, Any]:
    twin = _with_request(mock, lambda: fn("openai/llama3", f"{mock.url}/v1"))
    ours = _with_request(mock, lambda: fn("edgequake/ollama/llama3", mock.url))
    return twin, ours


@pytest.mark.parametrize("extra", [{}, {"tools": TOOLS, "temperature": 0.1, "seed": 3}], ids=["plain", "tools"])
def test_ollama_chat_equal(litellm, mock, extra):
    twin, ours = _ollama_pair(
        litellm, mock, lambda m, base: litellm.completion(model=m, messages=MSGS, api_key=KEY, api_base=base, **extra)
    )
    assert twin[1]["path"] == "/v1/chat/completions"
    assert ours[1] == twin[1]
    assert ours[0].model_dump() == twin[0].model_dump()


def test_ollama_stream_equal(litellm, mock):
    def call(m: str, base: str) -> list:
        return list(litellm.completion(model=m, messages=MSGS, api_key=KEY, api_base=base, stream=True))

    twin, ours = _ollama_pair(litellm, mock, call)
    assert ours[1] == twin[1]
    assert_same_chunks(ours[0], twin[0], given_model=None)


def test_ollama_embedding_equal(litellm, mock):
    twin, ours = _ollama_pair(
        litellm, mock, lambda m, base: litellm.embedding(model=m, input=["a", "b"], api_key=KEY, api_base=base)
    )
    assert ours[1]["path"] == "/v1/embeddings"
    assert ours[1] == twin[1]
    assert ours[0].model_dump() == twin[0].model_dump()
