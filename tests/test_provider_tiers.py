"""Every LiteLLM chat provider that transparent mode serves, differentially.

For each provider LiteLLM routes through one of the two patched handlers, the same call
(``<provider>/test-model`` against the mock upstream, ``api_base`` given, so nothing leaves
127.0.0.1) runs unpatched and patched: the outcome must be the same (equal responses, or the
same exception class and message where LiteLLM's transform cannot read the mock's OpenAI-shaped
answer), the patched run must be served by the expected tier, and docs/providers.md must list
the provider under that tier.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import edgequake_litellm

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
MSGS = [{"role": "user", "content": "hi"}]


def _outcome(litellm, mock, provider: str):
    try:
        r = litellm.completion(
            model=f"{provider}/test-model",
            messages=MSGS,
            api_base=mock.base_url(),
            api_key=KEY,
            max_retries=0,
            timeout=10,
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
    [(p, "openai.chat") for p in OPENAI_SDK_TIER] + [(p, "http.chat") for p in HTTP_TIER],
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
    # transform fails before sending (missing cloud credentials, ...) is not served by anyone.
    assert [(r, reason, n) for (r, _, reason), n in served.items()] == ([(route, None, 1)] if sent else []), served
    assert ours == native


def test_docs_list_each_tier():
    text = (Path(__file__).resolve().parent.parent / "docs" / "providers.md").read_text()
    section = text.split("## Transparent mode tiers", 1)[1]
    sdk, http = section.split("### The generic HTTP tier", 1)
    for p in OPENAI_SDK_TIER:
        assert f"`{p}`" in sdk, p
    for p in HTTP_TIER + HTTP_TIER_UNTESTABLE:
        assert f"`{p}`" in http.split("###", 1)[0], p
