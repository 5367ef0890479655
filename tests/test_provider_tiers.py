"""The tier table of docs/providers.md, checked provider by provider.

For each provider LiteLLM routes through one of the two patched handlers, the same call
(``<provider>/test-model`` against the mock upstream, ``api_base`` given, so nothing leaves
127.0.0.1) runs unpatched and patched: the outcome must be the same (equal responses, or the
same exception class and message where LiteLLM's transform cannot read the mock's OpenAI-shaped
answer) and the patched run must be served by the expected tier. Bedrock's Invoke API is served
by the generic tier too, Converse and embeddings by their own LiteLLM handlers with the core as
transport, against a local Bedrock runtime that checks the SigV4 signature. Every
provider listed as not served runs LiteLLM's own code: no call counted as served, and the very
same request reaches the upstream from LiteLLM's own client. docs/providers.md must list exactly
these providers under each heading.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import edgequake_litellm

from .bedrock_upstream import BedrockUpstream, Seen, credentials
from .conftest import KEY
from .test_patch import patched

# LiteLLM 1.110.2 dispatch, checked by running each provider (see docs/providers.md).
OPENAI_SDK_TIER = (
    "abliteration ai21 ai21_chat aiand aiml apertis assemblyai baseten bigmodel cerebras charity_engine chutes "
    "clarifai clf_ai_gateway codestral cognition coralbricks cortecs custom_openai darkbloom dashscope deepinfra "
    "docker_model_runner empiriolabs empower featherless_ai friendliai galadriel github helicone hostinger_router "
    "hyperbolic inception inferenceapis kyma lambda_ai libertai litellm_proxy llamafile lm_studio meta meta_llama "
    "modelscope moonshot morph nano-gpt nebius neosantara novita nscale nvidia_nim openai openinfer parasail "
    "perplexity pinstripes poe prism publicai qwen_ai_platform qwencloud refuseless reka sail sambanova scaleway "
    "scx-ai streamlake synthetic tencent tensormesh v0 vercel_ai_gateway volcengine wally wandb xiaomi_mimo "
    "xinference zai zerogpu"
).split()
HTTP_TIER = (
    "a2a anthropic_text azure_ai bedrock_mantle cloudflare cohere cohere_chat cometapi compactifai databricks "
    "databricks_agent datarobot deepseek edenai fal_ai fireworks_ai gigachat groq heroku hosted_vllm huggingface "
    "langflow langgraph lemonade minimax mistral nadir oci ollama ollama_chat opencode_go openrouter ovhcloud "
    "sagemaker_chat snowflake together_ai watsonx_text xai"
).split()
# Served by the generic tier too, but their LiteLLM transforms ignore api_base and address the
# provider's real host: not callable from a test (no internet), listed in the docs all the same.
HTTP_TIER_UNTESTABLE = "bytez gdc sagemaker_nova triton".split()
# LiteLLM's Azure handler, with its AzureOpenAI SDK client's requests sent by the core.
AZURE_TIER = ["azure"]
# LiteLLM's text completion handlers, with the SDK clients they build sent by the core.
TEXT_TIER = {
    "text-completion-openai": "openai.text",
    "text-completion-inception": "openai.text",
    "azure_text": "azure.text",
}
MSGS = [{"role": "user", "content": "hi"}]
# Credentials that keep these providers' LiteLLM code from fetching a token from a real host.
EXTRA: dict[str, dict] = {
    "gigachat": {"gigachat_access_token": "fake-token"},
    "watsonx_text": {"token": "fake-iam-token", "project_id": "p"},
}
# LiteLLM's own transform fails these before anything is sent (cloud credentials or a body shape
# the test does not give): served by nobody, the same error both ways.
FAILS_BEFORE_SENDING = set("clarifai fal_ai oci sagemaker_chat".split())


@pytest.fixture(autouse=True)
def _no_real_token_hosts(monkeypatch, mock):
    """Any token endpoint a provider would reach is the local mock, never the internet."""
    for var in ("GIGACHAT_AUTH_URL", "WATSONX_IAM_URL"):
        monkeypatch.setenv(var, mock.base_url() + "/token")


def _outcome(litellm, mock, provider: str):
    try:
        r = litellm.completion(
            model=f"{provider}/test-model",
            messages=MSGS,
            api_base=mock.base_url(),
            api_key=KEY,
            max_retries=0,
            timeout=10,
            **EXTRA.get(provider, {}),
        )
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", type(e).__name__, re.sub(r"req-mock-\d+", "req", str(e)))
    dump = r.model_dump()
    dump.pop("created", None)
    return ("ok", dump, r._hidden_params.get("response_cost"))


def _routes() -> dict[tuple[str, str | None, str | None], int]:
    return {(c["route"], c["provider"], c["reason"]): c["count"] for c in edgequake_litellm.status()["calls"]}


@pytest.mark.parametrize(
    ("provider", "route"),
    [(p, "openai.chat") for p in OPENAI_SDK_TIER]
    + [(p, "http.chat") for p in HTTP_TIER]
    + [(p, "azure.chat") for p in AZURE_TIER]
    + list(TEXT_TIER.items()),
)
def test_provider_outcome_equal_and_served(litellm, mock, provider, route):
    native = _outcome(litellm, mock, provider)
    with patched():
        before = _routes()
        sent_before = len(mock.requests())
        ours = _outcome(litellm, mock, provider)
        after = _routes()
        sent = len(mock.requests()) > sent_before
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    # LiteLLM may name a provider by its canonical alias (cohere -> cohere_chat). A call its
    # transform fails before sending is not served by anyone.
    assert sent == (provider not in FAILS_BEFORE_SENDING), ours
    assert [(r, reason, n) for (r, _, reason), n in served.items()] == ([(route, None, 1)] if sent else []), served
    assert ours == native


def _listed(section: str, start: str) -> set[str]:
    """The backticked names on the list line of ``section`` that begins with ``start``."""
    line = next(ln for ln in section.replace("\n  ", " ").splitlines() if ln.startswith(start))
    return set(re.findall(r"`([^`]+)`", line))


def test_docs_list_each_tier():
    text = (Path(__file__).resolve().parent.parent / "docs" / "providers.md").read_text()
    section = text.split("## Transparent mode tiers", 1)[1]
    sdk, rest = section.split("### The generic HTTP tier", 1)
    http, rest = rest.split("### Anthropic and Gemini", 1)
    azure = rest.split("### Azure OpenAI", 1)[1].split("###", 1)[0]
    not_served = rest.split("### Not served in transparent mode", 1)[1].split("###", 1)[0]
    assert _listed(sdk, "`abliteration`") == set(OPENAI_SDK_TIER)
    assert _listed(http, "`a2a`") == set(HTTP_TIER + HTTP_TIER_UNTESTABLE)
    assert "`bedrock/invoke/<model>`" in http
    assert _listed(not_served, "- chat:") == set(NOT_SERVED_CHAT) | set(NOT_SERVED_UNTESTABLE)
    assert _listed(not_served, "- embeddings:") == set(NOT_SERVED_EMBEDDINGS)
    served = rest.split("### Not served in transparent mode", 1)[0]
    for route in ("`http.responses`", "`bedrock.chat`", "`bedrock.embedding`", "`vertex_ai/gemini-*`"):
        assert route in served, route
    assert _listed(azure, "Served:") == set(AZURE_TIER)
    text_section = rest.split("### Text completions", 1)[1].split("###", 1)[0]
    assert _listed(text_section, "Served:") == set(TEXT_TIER)
    assert _listed(not_served, "- `vertex_ai`") >= {"vertex_ai"}


# --- Bedrock: the Invoke API goes through the generic handler; Converse and embeddings through
# their own LiteLLM handlers, given a client whose transport is the core.

INVOKE_MODEL = "bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0"
CONVERSE_MODEL = "bedrock/anthropic.claude-3-haiku-20240307-v1:0"  # LiteLLM's default route: Converse
# Headers that differ between two signed sends by design: the signing time (and so the
# signature), and the transport's Accept-Encoding (docs/providers.md, known differences).
# `connection` is the connection's, not the request's (the core pools without announcing it).
_VOLATILE = {"x-amz-date", "authorization", "accept-encoding", "connection"}


@pytest.fixture(scope="module")
def bedrock():  # noqa: ANN201
    with BedrockUpstream() as b:
        yield b


def _bedrock_call(litellm, endpoint: str, mode: str, model: str, **extra: Any) -> Any:
    kw = {"model": model, **credentials(endpoint), **extra}
    if mode == "embedding":
        r = litellm.embedding(input=["a", "bc"], **kw)
        return (r.model_dump(), r._hidden_params.get("response_cost"))
    if mode == "aembedding":
        r = asyncio.run(litellm.aembedding(input=["a", "bc"], **kw))
        return (r.model_dump(), r._hidden_params.get("response_cost"))
    kw["messages"] = MSGS
    if mode == "sync":
        r = litellm.completion(**kw)
        return (r.choices[0].message.model_dump(), r.usage.model_dump(), r._hidden_params.get("response_cost"))
    if mode == "stream":
        return [c.choices[0].delta.model_dump() for c in litellm.completion(stream=True, **kw)]

    async def run() -> Any:
        if mode == "async":
            r = await litellm.acompletion(**kw)
            return (r.choices[0].message.model_dump(), r.usage.model_dump())
        return [c.choices[0].delta.model_dump() async for c in await litellm.acompletion(stream=True, **kw)]

    return asyncio.run(run())


def _bedrock_run(litellm, bedrock: BedrockUpstream, mode: str, model: str, **extra: Any) -> tuple[Any, list[Seen]]:
    bedrock.take()
    out = _bedrock_call(litellm, bedrock.url, mode, model, **extra)
    return out, bedrock.take()


def _wire(seen: list[Seen], ignore: set[str]) -> list[tuple[str, list[tuple[str, str]], bytes]]:
    return [(s.path, sorted((k.lower(), v) for k, v in s.headers if k.lower() not in ignore), s.body) for s in seen]


@pytest.mark.parametrize("mode", ["sync", "stream", "async", "async-stream"])
def test_bedrock_invoke_served_exactly(litellm, bedrock, mode):
    """SigV4 is computed by LiteLLM in Python: the core must send exactly the signed bytes (the
    local runtime recomputes the signature), and LiteLLM decodes the event stream it hands back."""
    native, native_seen = _bedrock_run(litellm, bedrock, mode, INVOKE_MODEL)
    with patched():
        before = _routes()
        ours, our_seen = _bedrock_run(litellm, bedrock, mode, INVOKE_MODEL)
        after = _routes()
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert served == {("http.chat", "bedrock", None): 1}
    assert [s.signature_ok for s in native_seen + our_seen] == [True, True]
    assert _wire(our_seen, _VOLATILE) == _wire(native_seen, _VOLATILE)
    assert ours == native
    text = ours[0]["content"] if mode in ("sync", "async") else "".join(d["content"] or "" for d in ours)
    assert text == "Hello from the local Bedrock."


EMBED_MODELS = ["bedrock/amazon.titan-embed-text-v1", "bedrock/cohere.embed-english-v3"]


@pytest.mark.parametrize("mode", ["sync", "stream", "async", "async-stream"])
def test_bedrock_converse_served_exactly(litellm, bedrock, mode):
    """Converse (LiteLLM's default Bedrock route): LiteLLM signs, the core sends the signed bytes,
    LiteLLM decodes the event stream (``/converse-stream``) from what the core hands back."""
    native, native_seen = _bedrock_run(litellm, bedrock, mode, CONVERSE_MODEL)
    with patched():
        before = _routes()
        ours, our_seen = _bedrock_run(litellm, bedrock, mode, CONVERSE_MODEL)
        after = _routes()
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert served == {("bedrock.chat", "bedrock", None): 1}
    assert [s.path.rsplit("/", 1)[1] for s in our_seen] == ["converse-stream" if "stream" in mode else "converse"]
    assert [s.signature_ok for s in native_seen + our_seen] == [True, True]
    assert _wire(our_seen, _VOLATILE) == _wire(native_seen, _VOLATILE)
    assert ours == native
    text = ours[0]["content"] if mode in ("sync", "async") else "".join(d["content"] or "" for d in ours)
    assert text == "Hello from the local Bedrock."


@pytest.mark.parametrize("mode", ["embedding", "aembedding"])
@pytest.mark.parametrize("model", EMBED_MODELS)
def test_bedrock_embeddings_served_exactly(litellm, bedrock, mode, model):
    """Titan (one signed invoke per input) and Cohere (one batch, through LiteLLM's Cohere
    handler) embeddings: the same signed requests, the same response, usage and cost."""
    native, native_seen = _bedrock_run(litellm, bedrock, mode, model)
    with patched():
        before = _routes()
        ours, our_seen = _bedrock_run(litellm, bedrock, mode, model)
        after = _routes()
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert served == {("bedrock.embedding", "bedrock", None): 1}
    assert native_seen and all(s.signature_ok for s in native_seen + our_seen)
    assert _wire(our_seen, _VOLATILE) == _wire(native_seen, _VOLATILE)
    assert ours == native


@pytest.mark.parametrize("mode", ["sync", "stream", "async", "async-stream", "embedding", "aembedding"])
@pytest.mark.parametrize("status", [400, 403, 429, 500, 503])
def test_bedrock_errors_equal(litellm, bedrock, mode, status):
    """An error status from Bedrock: the same exception class, status and message."""
    model = EMBED_MODELS[0] if "embedding" in mode else CONVERSE_MODEL
    bedrock.fail_with = status
    try:
        native = _bedrock_outcome(litellm, bedrock, mode, model)
        with patched():
            before = _routes()
            ours = _bedrock_outcome(litellm, bedrock, mode, model)
            after = _routes()
    finally:
        bedrock.fail_with = None
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    route = "bedrock.embedding" if "embedding" in mode else "bedrock.chat"
    assert served == {(route, "bedrock", None): 1}
    assert ours == native and ours[0] == "error"


def _deltas_then_error(litellm, bedrock: BedrockUpstream, is_async: bool) -> tuple[list, Any]:
    kw = {"model": CONVERSE_MODEL, "messages": MSGS, "stream": True, **credentials(bedrock.url)}
    deltas: list = []

    async def arun() -> None:
        async for c in await litellm.acompletion(**kw):
            deltas.append(c.choices[0].delta.content)

    try:
        if is_async:
            asyncio.run(arun())
        else:
            deltas.extend(c.choices[0].delta.content for c in litellm.completion(**kw))
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return deltas, (type(e).__name__, getattr(e, "status_code", None), str(e))
    return deltas, None


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_bedrock_stream_cut_short_equal(litellm, bedrock, is_async):
    """A Converse stream the peer ends early: the same events, then the same error, raised while
    iterating (the core hands the stream over as it arrives)."""
    bedrock.cut = True
    try:
        native = _deltas_then_error(litellm, bedrock, is_async)
        with patched():
            ours = _deltas_then_error(litellm, bedrock, is_async)
    finally:
        bedrock.cut = False
    assert ours == native
    assert ours[0] and ours[1] is not None, ours


def test_bedrock_timeout_is_the_calls(litellm, bedrock):
    """Bedrock's handlers post with no per-request timeout: the client carries the call's, as
    LiteLLM's own client would (a stalled reply times out after it, not after 600 s)."""
    bedrock.stall = True
    try:
        native = _bedrock_outcome(litellm, bedrock, "sync", CONVERSE_MODEL, timeout=0.5)
        with patched():
            ours = _bedrock_outcome(litellm, bedrock, "sync", CONVERSE_MODEL, timeout=0.5)
    finally:
        bedrock.stall = False
    assert ours[:2] == native[:2] == ("error", "Timeout")


def _bedrock_outcome(litellm, bedrock: BedrockUpstream, mode: str, model: str, **extra: Any) -> Any:
    try:
        return ("ok", _bedrock_run(litellm, bedrock, mode, model, **extra)[0])
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", type(e).__name__, getattr(e, "status_code", None), str(e))


def test_bedrock_caller_client_falls_back(litellm, bedrock):
    from litellm.llms.custom_httpx.http_handler import HTTPHandler

    with patched():
        before = _routes()
        ours, seen = _bedrock_run(litellm, bedrock, "sync", CONVERSE_MODEL, client=HTTPHandler())
        after = _routes()
    served = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert served == {("bedrock.chat", "bedrock", "caller-client"): 1}
    assert seen[0].header("connection") == "keep-alive"  # httpx's own client sent it


# --- Providers whose LiteLLM handlers are not patched: LiteLLM's own code runs.

Call = Callable[[Any, str], Any]


def _chat(model: str, **extra: Any) -> Call:
    def call(litellm, base: str) -> Any:
        return litellm.completion(
            model=model, messages=MSGS, api_base=base, api_key=KEY, max_retries=0, timeout=10, **extra
        )

    return call


def _embed(model: str, **extra: Any) -> Call:
    def call(litellm, base: str) -> Any:
        return litellm.embedding(model=model, input=["a"], api_base=base, api_key=KEY, timeout=10, **extra)

    return call


def _sagemaker(litellm, base: str) -> Any:  # SigV4-signed by LiteLLM's own SagemakerLLM
    return litellm.completion(
        model="sagemaker/test-endpoint",
        messages=MSGS,
        sagemaker_base_url=f"{base}/invocations",
        aws_access_key_id="AKIATEST",
        aws_secret_access_key="secret",
        aws_region_name="us-east-1",
        timeout=10,
    )


# name in docs/providers.md -> the call. Each reaches the mock upstream, or fails inside LiteLLM's
# own handler before sending (vllm and petals import their libraries). Vertex AI Gemini is served
# (tests/test_patch_vertex.py).
NOT_SERVED_CHAT: dict[str, Call] = {
    "petals": _chat("petals/test-model"),
    "predibase": _chat("predibase/test-model"),  # tenant: PREDIBASE_TENANT_ID
    "sagemaker": _sagemaker,
    "text-completion-codestral": _chat("text-completion-codestral/test-model"),
    "vllm": _chat("vllm/test-model"),
    "watsonx": _chat("watsonx/test-model", token="fake-iam-token", project_id="p"),
}
NOT_SERVED_EMBEDDINGS: dict[str, Call] = {
    "gemini": _embed("gemini/text-embedding-004"),
}
# Ignores api_base (LiteLLM always addresses api.replicate.com): not callable without the internet.
NOT_SERVED_UNTESTABLE = ["replicate"]


def _unsigned(name: str, value: str) -> str:
    """A SigV4 ``Authorization`` without what depends on the signing time (``x-amz-date``, left out
    here, is signed: two calls a second apart sign differently); the request it signs is compared."""
    if name.lower() != "authorization" or not value.startswith("AWS4-HMAC-SHA256"):
        return value
    return re.sub(r"Signature=[0-9a-f]+", "Signature=<sig>", re.sub(r"/\d{8}/", "/<date>/", value))


def _request_seen(mock) -> list[tuple[str, str, dict[str, str], str]]:
    return [
        (
            q["method"],
            q["path"],
            {k: _unsigned(k, v) for k, v in q["headers"].items() if k.lower() != "x-amz-date"},
            q["raw_body"],
        )
        for q in mock.requests()
    ]


def _own_code_outcome(litellm, mock, call: Call) -> tuple[Any, list[Any]]:
    mock.reset()
    try:
        r = call(litellm, mock.base_url())
        out: Any = ("ok", r.model_dump() if hasattr(r, "model_dump") else r)
        if isinstance(out[1], dict):
            out[1].pop("created", None)
            out[1].pop("created_at", None)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        # LiteLLM quotes some tracebacks in the message (vertex_ai): their frames are not the outcome.
        out = ("error", type(e).__name__, re.sub(r"req-mock-\d+", "req", str(e)).split("\nTraceback", 1)[0])
    return out, _request_seen(mock)


@pytest.mark.parametrize(
    "call",
    [pytest.param(c, id=f"chat-{n}") for n, c in NOT_SERVED_CHAT.items()]
    + [pytest.param(c, id=f"embedding-{n}") for n, c in NOT_SERVED_EMBEDDINGS.items()],
)
def test_not_served_runs_litellm_own_code(litellm, mock, monkeypatch, call):
    monkeypatch.setenv("PREDIBASE_TENANT_ID", "tenant")
    native, native_sent = _own_code_outcome(litellm, mock, call)
    with patched():
        before = edgequake_litellm.status()["served_by_rust"]
        ours, our_sent = _own_code_outcome(litellm, mock, call)
        assert edgequake_litellm.status()["served_by_rust"] == before
    # The same request from LiteLLM's own client (the core's transport would send `gzip` only).
    assert our_sent == native_sent
    assert ours == native
