"""Text completions in transparent mode, differentially: ``litellm.text_completion`` /
``atext_completion`` (and ``litellm.completion`` on a text completion model) unpatched and with
``install(patch=True)``, against the mock's ``/v1/completions`` and Azure's
``/openai/deployments/<deployment>/completions``.

Every request must reach the upstream as the same bytes (method, path, query, headers in order,
body; ``test_azure._wire``); the caller must get the same response (or chunks), hidden params,
cost, callback events and exception; ``status()`` must count the patched call under
``openai.text`` / ``azure.text``, or say why it ran LiteLLM's own code."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from typing import Any

import pytest

import edgequake_litellm
from edgequake_litellm.mock_upstream import CREATED

from .conftest import KEY, drain_litellm_logging
from .routes import CallbackEvents as _Seen
from .test_azure import _wire
from .test_patch import count_delta, hidden, patched, route_counts

MODEL = "openai/gpt-3.5-turbo-instruct"
VERSION = "2024-10-21"
DEPLOYMENT = "gpt-35-turbo-instruct"
MODES = ["sync", "async", "stream", "async-stream"]
# LiteLLM's own TextCompletionResponse dumps warn about their fields, patched or not.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


# One instance: LiteLLM keeps the callbacks it has seen registered, and adds no second of a type.
_SEEN = _Seen()


def _error(e: BaseException) -> tuple[str, Any, str]:
    # The upstream's request id and the async timeout's measured time differ run to run.
    # LiteLLM quotes the traceback of an unexpected failure: its frames are not the outcome.
    text = re.sub(r"req-mock-\d+", "req", str(e).split("\nTraceback", 1)[0])
    return (type(e).__name__, getattr(e, "status_code", None), re.sub(r"time taken=[\d.]+", "time taken=", text))


def _chunk(c: Any) -> dict:
    d = c.model_dump()
    d.pop("created", None)  # LiteLLM stamps its own clock on streamed chunks
    return d


def _hidden(r: Any) -> dict:
    """``_hidden_params`` as compared elsewhere (a TextCompletionResponse keeps a HiddenParams)."""
    params = r._hidden_params
    if hasattr(params, "model_dump"):
        params = params.model_dump()
    return hidden(type("R", (), {"_hidden_params": dict(params)})())


def _result(r: Any) -> tuple[Any, ...]:
    d = r.model_dump()
    if d.get("created") != CREATED:
        d.pop("created", None)  # not the upstream's: LiteLLM's clock (chat-shaped and Azure replies)
    h = _hidden(r)
    return ("response", type(r).__name__, d, h, h.get("response_cost"))


def _invoke(litellm, kw: dict, mode: str, api: str) -> Any:
    """One call as a caller makes it; the outcome compared (response, chunks and error, or error)."""
    stream = "stream" in mode
    kw = {**kw, "stream": True} if stream else kw
    if api == "chat":
        kw = {**{k: v for k, v in kw.items() if k != "prompt"}, "messages": [{"role": "user", "content": kw["prompt"]}]}
    sync_fn = litellm.text_completion if api == "text" else litellm.completion
    async_fn = litellm.atext_completion if api == "text" else litellm.acompletion

    async def acall() -> Any:
        if not stream:
            return _result(await async_fn(**kw))
        chunks: list[dict] = []
        try:
            async for c in await async_fn(**kw):
                chunks.append(_chunk(c))
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            return ("chunks", chunks, _error(e))
        await asyncio.sleep(0)  # let LiteLLM's logging tasks for the finished stream start
        return ("chunks", chunks, None)

    try:
        if mode.startswith("async"):
            return asyncio.run(acall())
        if not stream:
            return _result(sync_fn(**kw))
        chunks = []
        try:
            for c in sync_fn(**kw):
                chunks.append(_chunk(c))
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            return ("chunks", chunks, _error(e))
        return ("chunks", chunks, None)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", _error(e))


def _run(litellm, mock, kw: dict, mode: str, api: str) -> tuple[Any, list, list]:
    _SEEN.events = []
    litellm.callbacks = [_SEEN]
    try:
        mock.reset()
        out = _invoke(litellm, kw, mode, api)
        drain_litellm_logging()
    finally:
        litellm.callbacks = []
    # As a set: a sync text_completion runs two @client wrappers whose success handlers race on
    # LiteLLM's check-then-set ``has_logged_sync_success`` in its logging threads; now and then
    # both log (natively too, measured: 2 of 40 calls).
    return out, [_wire(r) for r in mock.requests()], sorted(set(_SEEN.events), key=repr)


def _both(litellm, mock, kw: dict, mode: str, api: str = "text") -> tuple[Any, Any, dict, list]:
    """The call unpatched and patched: the same wire, outcome and callback events; returns
    both outcomes, what ``status()`` counted for the patched call, and the wire."""
    native, native_wire, native_cb = _run(litellm, mock, kw, mode, api)
    with patched():
        before = route_counts()
        ours, our_wire, our_cb = _run(litellm, mock, kw, mode, api)
        counted = count_delta(before, route_counts())
    assert our_wire == native_wire
    assert ours == native
    assert our_cb == native_cb
    return native, ours, counted, native_wire


def _kw(mock, scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "prompt": "hello there world", "api_key": KEY, "api_base": mock.base_url(scenario), **extra}


SERVED = {("openai.text", None): 1}

# ---- served exactly ----------------------------------------------------------------------

CASES = [
    pytest.param(None, {}, id="plain"),
    pytest.param(None, {"logprobs": 2, "echo": True}, id="logprobs_echo"),
    pytest.param(None, {"stop": ["world"], "max_tokens": 3, "temperature": 0.2}, id="stop_max_tokens"),
    pytest.param(None, {"suffix": " end", "presence_penalty": 0.1, "user": "u1", "seed": 7}, id="suffix_params"),
    pytest.param(None, {"prompt": ["one two", "three four five"]}, id="prompts"),
    pytest.param(None, {"prompt": [1, 2, 3]}, id="token_ids"),
    pytest.param(None, {"extra_headers": {"x-custom-header": "yes"}, "logit_bias": {"50256": -100}}, id="headers"),
    pytest.param("gzip=0", {}, id="identity"),
    pytest.param("split=7", {"max_tokens": 30}, id="split_writes"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("scenario", "extra"), CASES)
def test_text_completion_served_exactly(litellm, mock, mode, scenario, extra):
    native, ours, counted, wire = _both(litellm, mock, _kw(mock, scenario, **extra), mode)
    assert counted == SERVED
    assert wire[0][1] == "/v1/completions" if scenario is None else wire[0][1].endswith("/v1/completions")
    assert ours[0] in ("response", "chunks") and (ours[0] == "response" or ours[2] is None), ours
    if ours[0] == "response":
        assert ours[2]["object"] == "text_completion" and ours[4] is not None  # priced as natively
    else:
        assert len(ours[1]) > 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_n_and_best_of_served_exactly(litellm, mock, mode):
    native, ours, counted, _ = _both(litellm, mock, _kw(mock, n=2, best_of=3, logprobs=1), mode)
    assert counted == SERVED
    assert [c["index"] for c in ours[2]["choices"]] == [0, 1]


@pytest.mark.parametrize("mode", ["stream", "async-stream"])
def test_stream_usage_served_exactly(litellm, mock, mode):
    native, ours, counted, wire = _both(litellm, mock, _kw(mock, stream_options={"include_usage": True}), mode)
    assert counted == SERVED
    assert '"stream_options":{"include_usage":true}' in wire[0][4]
    assert any(c.get("usage") for c in ours[1])


MODELS = [
    pytest.param("text-completion-openai/gpt-3.5-turbo-instruct", id="text-completion-openai"),
    pytest.param("hosted_vllm/my-model", id="hosted_vllm"),
    pytest.param("together_ai/meta-llama/Llama-3-8b-hf", id="together_ai"),
    pytest.param("openai/ft:babbage-002:org:suffix:id", id="fine-tuned"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", MODELS)
def test_openai_compatible_providers_served_exactly(litellm, mock, mode, model):
    """The providers LiteLLM sends to ``/completions`` through the same handler (each with its
    own request transform)."""
    native, ours, counted, wire = _both(litellm, mock, _kw(mock, model=model), mode)
    assert counted == SERVED
    assert wire[0][1] == "/v1/completions"


@pytest.mark.parametrize("mode", MODES)
def test_chat_call_on_text_model_served_exactly(litellm, mock, mode):
    """``litellm.completion`` on a text completion model: the chat-shaped answer LiteLLM builds."""
    kw = _kw(mock, model="text-completion-openai/gpt-3.5-turbo-instruct", max_tokens=5)
    native, ours, counted, _ = _both(litellm, mock, kw, mode, api="chat")
    assert counted == SERVED
    if ours[0] == "response":
        assert ours[1] == "ModelResponse"


# ---- errors, retries, timeouts -------------------------------------------------------------

ERRORS = [
    "status=400",
    "status=401",
    "status=404",
    "status=429,retry_after=7",
    "status=500",
    "status=503",
    "error=context_length",
    "error=html",
    "malformed_json",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", ERRORS)
def test_errors_equal(litellm, mock, mode, scenario):
    native, ours, counted, _ = _both(litellm, mock, _kw(mock, scenario, max_retries=0), mode)
    assert counted == SERVED
    if scenario != "malformed_json" or "stream" not in mode:
        assert ours[0] == "error" or (ours[0] == "chunks" and ours[2] is not None), ours
    assert KEY not in repr(ours)


@pytest.mark.parametrize("mode", MODES)
def test_stream_with_best_of_refused_equal(litellm, mock, mode):
    """The API refuses ``best_of`` > 1 on a stream (400), and ``best_of`` < ``n`` always."""
    native, ours, counted, _ = _both(litellm, mock, _kw(mock, n=2, best_of=1, max_retries=0), mode)
    assert counted == SERVED
    assert ours[0] == "error" or ours[2] is not None


@pytest.mark.parametrize("mode", MODES)
def test_retries_equal(litellm, mock, mode):
    """The SDK's retries (default 2, ``x-stainless-retry-count`` renumbered), then the answer."""
    native, ours, counted, wire = _both(litellm, mock, _kw(mock, "status=503,retry_after=0.01,fail_times=2"), mode)
    assert counted == SERVED
    assert len(wire) == 3 and [dict(w[3])["x-stainless-retry-count"] for w in wire] == ["0", "1", "2"]
    assert ours[0] != "error"


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_retries_equal(litellm, mock, mode):
    native, ours, counted, wire = _both(litellm, mock, _kw(mock, "status=429,retry_after=0.01", max_retries=1), mode)
    assert counted == SERVED
    assert len(wire) == 2
    assert ours[0] == "error" or ours[2] is not None


@pytest.mark.parametrize("mode", MODES)
def test_timeout_equal(litellm, mock, mode):
    native, ours, counted, _ = _both(litellm, mock, _kw(mock, "delay=5", max_retries=0, timeout=0.3), mode)
    assert counted == SERVED
    error = ours[1] if ours[0] == "error" else ours[2]
    assert error[0] == "Timeout", ours


@pytest.mark.parametrize("mode", ["stream", "async-stream"])
@pytest.mark.parametrize("scenario", ["stream_error", "truncate", "malformed_sse", "no_done", "coalesce=all"])
def test_stream_faults_equal(litellm, mock, mode, scenario):
    """A mid-stream ``error`` event, a stream cut short, an undecodable event: what LiteLLM raises
    natively, after the same chunks."""
    native, ours, counted, _ = _both(litellm, mock, _kw(mock, scenario, max_retries=0, max_tokens=30), mode)
    assert counted == SERVED
    if scenario in ("stream_error", "truncate", "malformed_sse"):
        assert ours[2] is not None and ours[1], ours


@pytest.mark.parametrize("mode", ["sync", "stream"])
def test_refused_connection_equal(litellm, mode):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kw = {"model": MODEL, "prompt": "hi", "api_key": KEY, "api_base": f"http://127.0.0.1:{port}/v1", "max_retries": 0}
    native = _invoke(litellm, kw, mode, "text")
    with patched():
        ours = _invoke(litellm, kw, mode, "text")
    assert ours == native and "error" in repr(ours).lower()


def test_missing_key_equal(litellm, mock, monkeypatch):
    """No key anywhere: the SDK client refuses to be built; LiteLLM builds and fails its own way."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    kw = {k: v for k, v in _kw(mock).items() if k != "api_key"}
    native, ours, counted, wire = _both(litellm, mock, kw, "sync")
    assert ours[0] == "error" and wire == []
    assert counted == {("openai.text", "sdk-client-error"): 1}


# ---- Azure OpenAI text completions ---------------------------------------------------------


@pytest.fixture()
def _no_azure_env(monkeypatch, litellm):
    for name in ("AZURE_API_BASE", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_API_VERSION", "AZURE_AD_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _azure_kw(mock, scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    base = mock.url if scenario is None else f"{mock.url}/s/{scenario}"
    return {
        "model": f"azure_text/{DEPLOYMENT}",
        "prompt": "hello there world",
        "api_key": KEY,
        "api_base": base,
        "api_version": VERSION,
        **extra,
    }


AZURE_SERVED = {("azure.text", None): 1}


@pytest.mark.usefixtures("_no_azure_env")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "extra",
    [{}, {"logprobs": 1, "max_tokens": 4}, {"extra_headers": {"x-custom-header": "yes"}}],
    ids=["plain", "logprobs", "headers"],
)
def test_azure_text_served_exactly(litellm, mock, mode, extra):
    native, ours, counted, wire = _both(litellm, mock, _azure_kw(mock, **extra), mode)
    assert counted == AZURE_SERVED
    assert wire[0][1] == f"/openai/deployments/{DEPLOYMENT}/completions" and wire[0][2] == {"api-version": VERSION}
    assert ours[0] in ("response", "chunks") and (ours[0] == "response" or ours[2] is None), ours


@pytest.mark.usefixtures("_no_azure_env")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", ["status=401", "status=429,retry_after=7", "error=content_filter", "stream_error"])
def test_azure_text_errors_equal(litellm, mock, mode, scenario):
    native, ours, counted, _ = _both(litellm, mock, _azure_kw(mock, scenario, max_retries=0), mode)
    assert counted == AZURE_SERVED


class _Tokens:
    """An ``azure_ad_token_provider``: a fresh token per call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"ad-token-{self.calls}"


@pytest.mark.usefixtures("_no_azure_env")
@pytest.mark.parametrize("mode", MODES)
def test_azure_text_token_provider_equal(litellm, mock, mode):
    """The caller's ``azure_ad_token_provider`` is asked for the token per request and the core
    sends it. (LiteLLM's sync ``azure_text`` stream does not pass it on: no credentials, the
    same error both ways, nothing sent.)"""
    kw = {k: v for k, v in _azure_kw(mock).items() if k != "api_key"}
    outcomes = []
    for patch in (False, True):
        # LiteLLM's client cache could hand the stream a client an earlier test made with a key.
        litellm.in_memory_llm_clients_cache.flush_cache()
        tokens = _Tokens()
        with patched() if patch else contextlib.nullcontext():
            before = route_counts()
            out = _run(litellm, mock, {**kw, "azure_ad_token_provider": tokens}, mode, "text")
            counted = count_delta(before, route_counts())
        outcomes.append((out, tokens.calls))
    assert outcomes[1] == outcomes[0]
    (out, wire, _), calls = outcomes[1]
    if mode == "stream":
        assert out[0] == "chunks" and out[1] == [] and out[2] is not None, out
        assert wire == [] and counted == {}
    else:
        assert counted == AZURE_SERVED and calls == 1
        assert dict(wire[0][3])["authorization"] == "Bearer ad-token-1"


# ---- what runs LiteLLM's own code, and says why ----------------------------------------------


def test_caller_client_falls_back(litellm, mock):
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=mock.base_url(), max_retries=0)
    native, ours, counted, _ = _both(litellm, mock, {**_kw(mock), "client": client}, "sync")
    assert counted == {("openai.text", "caller-client"): 1}


@pytest.mark.parametrize(("mode", "expected"), [("sync", "tls-settings"), ("stream", "tls-settings"), ("async", None)])
def test_litellm_ssl_setting_not_applied_natively_falls_back(litellm, mock, monkeypatch, mode, expected):
    """LiteLLM's sync text clients are httpx defaults: ``litellm.ssl_verify`` does not apply to
    them (the SDK sends); its async client takes it (the core sends, with it)."""
    monkeypatch.setattr(litellm, "ssl_verify", False)
    native, ours, counted, _ = _both(litellm, mock, _kw(mock), mode)
    assert counted == ({("openai.text", expected): 1} if expected else SERVED)


def test_phased_timeout_coerced_by_litellm_is_served(litellm, mock):
    """LiteLLM turns an ``httpx.Timeout`` into one value for this provider before its handler
    runs: served, with the same ``x-stainless-read-timeout``."""
    import httpx

    native, ours, counted, wire = _both(litellm, mock, _kw(mock, timeout=httpx.Timeout(5.0, connect=2.0)), "sync")
    assert counted == SERVED
    assert dict(wire[0][3])["x-stainless-read-timeout"] == "5.0"


@pytest.mark.parametrize("mode", ["sync", "async-stream"])
def test_client_builder_double_is_honoured(litellm, mock, monkeypatch, mode):
    """A test double on ``build_openai_client`` (installed after ``install()``) builds every
    client: the core never steps around it."""
    from litellm.llms.openai.completion import handler

    seen = []
    name = "build_async_openai_client" if mode.startswith("async") else "build_openai_client"
    original = getattr(handler, name)

    def double(**kw: Any) -> Any:
        seen.append(1)
        return original(**kw)

    with patched():
        monkeypatch.setattr(handler, name, double)
        before = route_counts()
        out = _invoke(litellm, _kw(mock), mode, "text")
        counted = count_delta(before, route_counts())
    assert seen == [1] and out[0] in ("response", "chunks")
    assert list(counted.values()) == [1] and next(iter(counted))[1].startswith("test-double: ")


def test_status_names_the_provider(litellm, mock):
    with patched():
        before = {(c["route"], c["provider"]): c["count"] for c in edgequake_litellm.status()["calls"]}
        litellm.text_completion(**_kw(mock, model="hosted_vllm/my-model"))
        litellm.text_completion(**_azure_kw(mock))
        after = {(c["route"], c["provider"]): c["count"] for c in edgequake_litellm.status()["calls"]}
    assert count_delta(before, after) == {("openai.text", "hosted_vllm"): 1, ("azure.text", "azure_text"): 1}
