"""The direct API (``edgequake_litellm.completion`` & co.) against LiteLLM's native path on the
same upstream: same contents, same exceptions, without LiteLLM's wrapper."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest

import edgequake_litellm as eq

from .conftest import KEY, drain_litellm_logging
from .test_differential import CHAT_CASES, ERROR_CASES, MSGS, NATIVE, TOOLS, _raise, _wrapper_made, assert_same_error

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


def _direct_view(chunks) -> list[dict]:
    """Every chunk in full, minus ``created`` (a clock). Natively, LiteLLM's wrapper builds the
    finish and usage chunks itself; the direct API has no wrapper and yields the upstream's
    own, so those are compared on what they carry: ids, model, fingerprint, finish reasons and
    the token counts."""
    out = []
    for c in chunks:
        d = c.model_dump()
        del d["created"]
        if _wrapper_made(d):
            usage = d.get("usage") or {}
            d = {
                "id": d["id"],
                "model": d["model"],
                "system_fingerprint": d.get("system_fingerprint"),
                "finish": [(ch["index"], ch["finish_reason"]) for ch in d["choices"]],
                "tokens": {k: usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
                "reasoning_tokens": (usage.get("completion_tokens_details") or {}).get("reasoning_tokens"),
                "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
            }
        out.append(d)
    return out


def assert_same_direct_chunks(ours, native) -> None:
    a, b = _direct_view(ours), _direct_view(native)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (
            i,
            {k: (x.get(k, "<absent>"), y.get(k, "<absent>")) for k in set(x) | set(y) if x.get(k, x) != y.get(k, y)},
        )
    assert len(a) == len(b)


@pytest.mark.parametrize(
    "extra",
    # Not n > 1: LiteLLM's wrapper drops the later choices' role and finish chunks, which the
    # direct API passes on as the upstream sent them (docs/direct-api.md).
    [{"tools": TOOLS, "stream_options": {"include_usage": True}}, {"logprobs": True, "top_logprobs": 2}, {}],
    ids=["tools_usage", "logprobs", "plain"],
)
def test_direct_stream_equal(litellm, mock, extra):
    kw = _kw(mock, None, **extra)
    native = list(litellm.completion(model=NATIVE, stream=True, **kw))
    native_body = mock.requests()[-1]["body"]
    ours = list(eq.completion(model=MODEL, stream=True, **kw))
    assert mock.requests()[-1]["body"] == native_body
    assert_same_direct_chunks(ours, native)
    built = [litellm.stream_chunk_builder(c, messages=MSGS).model_dump() for c in (native, ours)]
    for b in built:
        del b["created"]
        b["usage"].pop("cost", None)  # LiteLLM's wrapper prices the stream; the direct API has none
    assert built[1] == built[0]
    assert eq.stream_chunk_builder is litellm.stream_chunk_builder


def test_direct_async_equal(litellm, mock):
    kw = _kw(mock, None, stream_options={"include_usage": True})

    async def run():
        native = await litellm.acompletion(model=NATIVE, **kw)
        ours = await eq.acompletion(model=MODEL, **kw)
        n_chunks = [c async for c in await litellm.acompletion(model=NATIVE, stream=True, **kw)]
        o_chunks = [c async for c in await eq.acompletion(model=MODEL, stream=True, **kw)]
        return native, ours, n_chunks, o_chunks

    native, ours, n_chunks, o_chunks = asyncio.run(run())
    assert ours.model_dump() == native.model_dump()
    assert_same_direct_chunks(o_chunks, n_chunks)


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
    # LiteLLM's text for malformed JSON quotes the OpenAI SDK's parser (docs/providers.md).
    assert_same_error(native, ours, message=name != "malformed_json")


def test_direct_api_skips_litellm_callbacks(litellm, mock):
    called = threading.Event()

    def cb(kwargs, response, start, end):
        called.set()

    litellm.success_callback = [cb]
    try:
        # The callback does run for a LiteLLM call once the executor is drained ...
        litellm.completion(model=NATIVE, **_kw(mock))
        drain_litellm_logging()
        assert called.is_set()
        called.clear()
        # ... and never for the direct API's.
        eq.completion(model=MODEL, **_kw(mock))
        list(eq.completion(model=MODEL, stream=True, **_kw(mock)))
        drain_litellm_logging()
    finally:
        litellm.success_callback = []
    assert not called.is_set()


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
