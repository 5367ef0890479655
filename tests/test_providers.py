"""Each served provider resolves its base URL, key and auth header as LiteLLM does.

The native call (``<provider>/<model>``) and ours (``edgequake/<provider>/<model>``) run with only
the provider's environment variables set, both pointed at the mock upstream; the upstream must
see the same path, the same auth header and the same body."""

from __future__ import annotations

import pytest

from edgequake_litellm import _core

from .conftest import KEY

PROVIDERS = _core.providers()
MSGS = [{"role": "user", "content": "hello"}]
# Providers LiteLLM serves natively with a body or route these generic checks do not model.
# ollama/: LiteLLM's native route is Ollama's own /api/generate; ours is its OpenAI-compatible
# /v1 endpoint (docs/providers.md), so there is no native twin to compare with.
# anthropic, gemini: translated wire formats with their own differential suites
# (tests/test_anthropic.py, tests/test_gemini.py, incl. their key and base environment variables).
SPECIAL = {"azure", "custom_openai", "openai_like", "ollama", "anthropic", "gemini"}


def _env_names(sources: list[str]) -> list[str]:
    return [s.removeprefix("env:") for s in sources if s.startswith("env:")]


def _clear_env(monkeypatch, spec: dict) -> None:
    for name in _env_names(spec["api_base"]) + _env_names(spec["api_key"]):
        monkeypatch.delenv(name, raising=False)


CASES = sorted(p for p in PROVIDERS if p not in SPECIAL and _env_names(PROVIDERS[p]["api_base"]))


def test_table_covers_the_issue_list():
    wanted = {
        "openai",
        "azure",
        "xai",
        "mistral",
        "groq",
        "deepseek",
        "together_ai",
        "fireworks_ai",
        "openrouter",
        "perplexity",
        "deepinfra",
        "nvidia_nim",
        "lm_studio",
        "hosted_vllm",
        "ollama",
    }
    assert wanted <= set(PROVIDERS)


@pytest.mark.parametrize("provider", CASES)
def test_env_resolution_matches_native(litellm, mock, monkeypatch, provider):
    spec = PROVIDERS[provider]
    _clear_env(monkeypatch, spec)
    monkeypatch.setenv(_env_names(spec["api_base"])[0], mock.base_url())
    key_envs = _env_names(spec["api_key"])
    if key_envs:
        monkeypatch.setenv(key_envs[0], KEY)
    native = litellm.completion(model=f"{provider}/some-model", messages=MSGS, max_retries=0)
    native_req = mock.requests()[-1]
    ours = litellm.completion(model=f"edgequake/{provider}/some-model", messages=MSGS, max_retries=0)
    ours_req = mock.requests()[-1]
    assert ours_req["path"] == native_req["path"]
    for header in ("authorization", "api-key"):
        assert ours_req["headers"].get(header) == native_req["headers"].get(header), header
    assert ours_req["body"] == native_req["body"]
    assert ours.choices[0].message.content == native.choices[0].message.content == "Echo: hello"
    assert ours.choices[0].finish_reason == native.choices[0].finish_reason
    assert ours.usage.model_dump() == native.usage.model_dump()


def test_per_call_key_beats_env(litellm, mock, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    litellm.completion(model="edgequake/openai/m", messages=MSGS, api_key=KEY, api_base=mock.base_url())
    assert mock.requests()[-1]["headers"]["authorization"] == f"Bearer {KEY}"
    litellm.completion(model="edgequake/openai/m", messages=MSGS, api_base=mock.base_url())
    assert mock.requests()[-1]["headers"]["authorization"] == "Bearer sk-from-env"


def test_litellm_module_key_beats_env(litellm, mock, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setattr(litellm, "api_key", "sk-from-module")
    litellm.completion(model="edgequake/openai/m", messages=MSGS, api_base=mock.base_url())
    ours = mock.requests()[-1]["headers"]["authorization"]
    litellm.completion(model="openai/m", messages=MSGS, api_base=mock.base_url())
    assert ours == mock.requests()[-1]["headers"]["authorization"] == "Bearer sk-from-module"


def test_azure_matches_native(litellm, mock, monkeypatch):
    for name in (
        "AZURE_API_BASE",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_API_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.url, "api_version": "2024-10-21", "max_retries": 0}
    native = litellm.completion(model="azure/my-deployment", **kw)
    native_req = mock.requests()[-1]
    ours = litellm.completion(model="edgequake/azure/my-deployment", **kw)
    ours_req = mock.requests()[-1]
    assert ours_req["path"] == native_req["path"] == "/openai/deployments/my-deployment/chat/completions"
    assert ours_req["query"] == native_req["query"]
    assert ours_req["headers"]["api-key"] == native_req["headers"]["api-key"] == KEY
    assert ours_req["body"] == native_req["body"]
    assert ours.choices[0].message.content == native.choices[0].message.content


def test_missing_key_raises_like_native(litellm, mock, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(litellm, "api_key", None)
    monkeypatch.setattr(litellm, "openai_key", None)
    errors = []
    for model in ("openai/m", "edgequake/openai/m"):
        try:
            litellm.completion(model=model, messages=MSGS, api_base=mock.base_url(), max_retries=0)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    assert len(errors) == 2
    assert type(errors[1]) is type(errors[0])
    assert str(errors[1]) == str(errors[0])
    assert not mock.requests()  # neither sent anything


# Providers whose LiteLLM config rewrites requests: LiteLLM's own transform builds our body.
TRANSFORM_CASES = [
    (
        "mistral",
        {
            "seed": 3,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "tool_choice": "required",
        },
    ),
    (
        "mistral",
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "world"}]}
            ]
        },
    ),
    (
        "fireworks_ai",
        {
            "max_completion_tokens": 5,
            "tools": [{"type": "function", "function": {"name": "f", "strict": True, "parameters": {}}}],
        },
    ),
    ("openrouter", {"temperature": 0.1}),
    ("groq", {"max_completion_tokens": 7}),
    ("xai", {"max_completion_tokens": 7}),
    ("sambanova", {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}),
    ("deepseek", {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}),
    (
        "hosted_vllm",
        {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "strict": True,
                        "parameters": {"type": "object", "additionalProperties": False, "properties": {}},
                    },
                }
            ]
        },
    ),
    ("perplexity", {"stream_options": {"include_usage": True}}),
    ("mistral", {"extra_body": {"safe_prompt": True}}),
]


@pytest.mark.parametrize(
    ("provider", "kwargs"), TRANSFORM_CASES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(TRANSFORM_CASES)]
)
def test_litellm_transformed_body_matches_native(litellm, mock, provider, kwargs):
    assert PROVIDERS[provider]["body"] == "litellm"
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "max_retries": 0, **kwargs}
    native = litellm.completion(model=f"{provider}/some-model", **kw)
    native_req = mock.requests()[-1]
    ours = litellm.completion(model=f"edgequake/{provider}/some-model", **kw)
    ours_req = mock.requests()[-1]
    assert ours_req["body"] == native_req["body"]
    assert ours_req["path"] == native_req["path"]
    assert ours.choices[0].message.model_dump() == native.choices[0].message.model_dump()
    assert ours.choices[0].finish_reason == native.choices[0].finish_reason
    assert getattr(ours, "service_tier", None) == getattr(native, "service_tier", None)


@pytest.mark.parametrize("tier", ["on_demand", "flex", "default", ""])
def test_groq_service_tier_as_native(litellm, mock, tier):
    """Groq names its own tiers; LiteLLM's groq transform maps a reply's to OpenAI's."""
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(f"service_tier={tier}"), "max_retries": 0}
    native = litellm.completion(model="groq/some-model", **kw)
    ours = litellm.completion(model="edgequake/groq/some-model", **kw)
    assert native.service_tier == (tier if tier in ("flex", "default") else "auto")
    assert ours.service_tier == native.service_tier


@pytest.mark.parametrize("tier", ["on_demand", "flex"])
def test_groq_stream_service_tier_as_native(litellm, mock, tier):
    """LiteLLM's groq stream iterator leaves the chunks' tier as sent."""
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(f"service_tier={tier}"), "max_retries": 0}
    native = list(litellm.completion(model="groq/some-model", stream=True, **kw))
    ours = list(litellm.completion(model="edgequake/groq/some-model", stream=True, **kw))
    # The finish chunk is the wrapper's own (docs/providers.md, known differences).
    tiers = [[getattr(c, "service_tier", None) for c in got[:-1]] for got in (native, ours)]
    assert tiers[0] == [tier] * (len(native) - 1)
    assert tiers[1] == tiers[0]


def test_litellm_transformed_stream_body_matches_native(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "max_retries": 0, "stream": True}
    native = list(litellm.completion(model="fireworks_ai/some-model", **kw))
    native_req = mock.requests()[-1]
    chunks = list(litellm.completion(model="edgequake/fireworks_ai/some-model", **kw))
    assert mock.requests()[-1]["body"] == native_req["body"]
    text = ["".join(c.choices[0].delta.content or "" for c in got if c.choices) for got in (native, chunks)]
    assert text[1] == text[0] == "Echo: hello"


def test_unsupported_param_raises_like_native(litellm, mock):
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "max_retries": 0, "logit_bias": {"1": 1}}
    errors = []
    for model in ("mistral/some-model", "edgequake/mistral/some-model"):
        try:
            litellm.completion(model=model, **kw)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    assert len(errors) == 2
    assert type(errors[1]) is type(errors[0])


@pytest.mark.parametrize("model", ["o3-mini", "gpt-5-mini"])
def test_openai_reasoning_models_get_litellm_param_mapping(litellm, mock, model):
    """LiteLLM renames max_tokens and drops unsupported sampling params for these models."""
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "max_tokens": 9, "drop_params": True}
    litellm.completion(model=f"openai/{model}", **kw)
    native_req = mock.requests()[-1]
    litellm.completion(model=f"edgequake/openai/{model}", **kw)
    ours_req = mock.requests()[-1]
    assert "max_completion_tokens" in native_req["body"]
    assert ours_req["body"] == native_req["body"]
