"""The direct API (``edgequake_litellm.completion`` & co.) against LiteLLM's native path on the
same upstream: same contents, same exceptions, without LiteLLM's wrapper."""

from __future__ import annotations

import asyncio
import sys

import pytest

import edgequake_litellm as eq

from .conftest import KEY
from .test_differential import CHAT_CASES, ERROR_CASES, MSGS, NATIVE, TOOLS, _built_view, _delta_view, _raise

MODEL = "openai/gpt-4o-mini"


def _kw(mock, scenario=None, **extra):
    return {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario), **extra}


@pytest.mark.parametrize(("name", "scenario", "kwargs"), CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_direct_chat_equal(litellm, mock, name, scenario, kwargs):
    kw = {**_kw(mock, scenario), **kwargs}
    native = litellm.completion(model=NATIVE, **kw)
    native_body = mock.requests()[-1]["body"]
    ours = eq.completion(model=MODEL, **kw)
    assert mock.requests()[-1]["body"] == native_body
    assert ours.model_dump() == native.model_dump()
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])


def test_direct_stream_equal(litellm, mock):
    kw = _kw(mock, None, tools=TOOLS, stream_options={"include_usage": True})
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    ours = list(eq.completion(model=MODEL, stream=True, **kw))
    assert _delta_view(ours) == _delta_view(native)
    assert _built_view(litellm, ours, MSGS) == _built_view(litellm, native, MSGS)
    assert eq.stream_chunk_builder is litellm.stream_chunk_builder


def test_direct_async_equal(litellm, mock):
    kw = _kw(mock)

    async def run():
        native = await litellm.acompletion(model=NATIVE, **kw)
        ours = await eq.acompletion(model=MODEL, **kw)
        n_chunks = [c async for c in await litellm.acompletion(model=NATIVE, stream=True, **kw)]
        o_chunks = [c async for c in await eq.acompletion(model=MODEL, stream=True, **kw)]
        return native, ours, n_chunks, o_chunks

    native, ours, n_chunks, o_chunks = asyncio.run(run())
    assert ours.model_dump() == native.model_dump()
    assert _delta_view(o_chunks) == _delta_view(n_chunks)


def test_direct_embedding_equal(litellm, mock):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url(), "dimensions": 4}
    native = litellm.embedding(model="openai/text-embedding-3-small", **kw)
    ours = eq.embedding(model="openai/text-embedding-3-small", **kw)
    assert ours.model_dump() == native.model_dump()
    assert ours._hidden_params["response_cost"] == pytest.approx(native._hidden_params["response_cost"])
    aours = asyncio.run(eq.aembedding(model="openai/text-embedding-3-small", **kw))
    assert aours.model_dump() == native.model_dump()


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_direct_error_equal(litellm, mock, name, scenario):
    kw = _kw(mock, scenario, max_retries=0)
    native = _raise(lambda: litellm.completion(model=NATIVE, **kw))
    ours = _raise(lambda: eq.completion(model=MODEL, **kw))
    assert type(ours) is type(native)
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)


def test_direct_api_skips_litellm_callbacks(litellm, mock):
    seen = []

    def cb(kwargs, response, start, end):
        seen.append(kwargs.get("model"))

    litellm.success_callback = [cb]
    try:
        eq.completion(model=MODEL, **_kw(mock))
    finally:
        litellm.success_callback = []
    assert seen == []


def test_direct_api_is_lazy():
    import subprocess

    code = (
        "import sys, edgequake_litellm as e; assert 'litellm' not in sys.modules; "
        "e.completion; print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def test_litellm_exception_classes_are_reexported(litellm):
    assert eq.RateLimitError is litellm.RateLimitError
    assert eq.AuthenticationError is litellm.exceptions.AuthenticationError
    with pytest.raises(AttributeError):
        eq.NotAnException  # noqa: B018


def test_unserved_litellm_provider_is_refused_not_sent_to_openai(litellm, mock):
    with pytest.raises(litellm.exceptions.BadRequestError, match="not served by the Rust core"):
        eq.completion(model="cohere/command-r", **_kw(mock))
    with pytest.raises(litellm.exceptions.BadRequestError, match="not served by the Rust core"):
        litellm.completion(model="edgequake/bedrock/some-model", **_kw(mock))
    assert mock.requests() == []
    # An unknown prefix is an OpenAI-compatible model name (e.g. a Hugging Face id).
    eq.completion(model="meta-llama/Llama-3-8B", **_kw(mock))
    assert mock.requests()[-1]["body"]["model"] == "meta-llama/Llama-3-8B"


def test_litellm_only_arguments_do_not_reach_the_upstream(litellm, mock):
    kw = _kw(mock, None, metadata={"team": "a"}, num_retries=0, drop_params=True, temperature=0.3)
    litellm.completion(model=NATIVE, **kw)
    native_body = mock.requests()[-1]["body"]
    eq.completion(model=MODEL, **kw)
    assert mock.requests()[-1]["body"] == native_body
    assert "metadata" not in native_body and native_body["temperature"] == 0.3


def test_drop_params_applies_to_litellm_built_bodies(litellm, mock):
    kw = _kw(mock, None, logit_bias={"1": 1})
    with pytest.raises(litellm.UnsupportedParamsError):
        eq.completion(model="mistral/some-model", **kw)
    eq.completion(model="mistral/some-model", drop_params=True, **kw)
    assert "logit_bias" not in mock.requests()[-1]["body"]
