"""What one call needs besides its payload: which upstream, and the per-call settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import _core
from ._tls import ssl_verify

_DEFAULT_PROVIDER = "openai"
OPENAI = "openai"


@lru_cache(maxsize=1)
def served_providers() -> frozenset[str]:
    return frozenset(_core.providers())


@lru_cache(maxsize=64)
def family(provider: str) -> str:
    """The wire family of a provider, from the core's table: ``"openai"`` (an OpenAI-compatible
    upstream, whose requests and replies the core forwards), ``"anthropic"`` or ``"gemini"``
    (translated by the core to and from the OpenAI shape). ``"openai"`` for one it does not know."""
    spec = _core.providers().get(provider)
    return str(spec["family"]) if spec is not None else OPENAI


def translated(provider: str) -> bool:
    """Whether the core translates this provider's wire format (see ``family``)."""
    return family(provider) != OPENAI


def split_model(model: str) -> tuple[str, str]:
    """``"openai/gpt-4o"`` -> ``("openai", "gpt-4o")``; a bare prefix, or one LiteLLM does not
    know either, is an OpenAI-compatible model name, sent as is. A LiteLLM provider the core
    does not serve is refused rather than sent to OpenAI."""
    prefix, sep, rest = model.partition("/")
    if sep and prefix in served_providers():
        return prefix, rest
    if sep:
        import litellm

        if prefix in litellm.provider_list and prefix not in litellm._custom_providers:
            raise not_served(prefix, rest, f"provider {prefix!r}")
    return _DEFAULT_PROVIDER, model


def not_served(provider: str, model: str, what: str) -> Exception:
    """LiteLLM's ``BadRequestError`` for a call the core cannot send as LiteLLM's native path
    sends it: refused before anything is sent, naming the model string that runs LiteLLM's own code."""
    import litellm

    native = f"{provider}/{model}"
    return litellm.exceptions.BadRequestError(
        message=f"edgequake: {what} is not served by the Rust core; "
        f"call LiteLLM with {native!r} directly (see docs/providers.md)",
        model=native,
        llm_provider=provider,
    )


# LiteLLM's Azure AD credential parameters: it sends a token the core does not obtain.
AZURE_AD_PARAMS = (
    "azure_ad_token",
    "azure_ad_token_provider",
    "tenant_id",
    "client_id",
    "client_secret",
    "azure_username",
    "azure_password",
)


def check_served(call: Call, optional_params: dict[str, Any], *, chat: bool = True) -> None:
    """Raise LiteLLM's own error where LiteLLM's native request for this call is one the core
    does not build (the URL and version checks are the core's, see ``rust/providers/openai.rs``),
    or where LiteLLM has no such endpoint for the provider."""
    if not chat and not has_embeddings(call.provider):
        import litellm

        raise litellm.exceptions.LiteLLMUnknownProvider(model=call.model, custom_llm_provider=call.provider)
    if call.provider not in ("openai", "azure"):
        return
    extra_body = optional_params.get("extra_body")
    if call.provider == "azure" and (
        any(call.litellm_params.get(k) for k in AZURE_AD_PARAMS)
        or (isinstance(extra_body, dict) and extra_body.get("azure_ad_token"))
    ):
        raise not_served(call.provider, call.model, "azure AD authentication")
    if not chat:
        return
    shaped = any(optional_params.get(k) is not None for k in ("web_search_options", "tools", "reasoning_effort"))
    if shaped:
        bridged = _bridged(call, optional_params)
    else:
        import litellm

        # The plain-call answer depends only on these (and on the model map, which can grow).
        flag = litellm.route_all_chat_openai_to_responses
        bridged = _bridged_plain(call.provider, call.model, call.api_base, flag, len(litellm.model_cost))
    if bridged:
        raise not_served(call.provider, call.model, f"{call.model!r}, which LiteLLM sends to the Responses API,")


def _bridged(call: Call, optional_params: dict[str, Any]) -> bool:
    """Whether LiteLLM's native path sends this chat call to the Responses API."""
    from litellm.main import responses_api_bridge_check

    info, _ = responses_api_bridge_check(
        model=call.model,
        custom_llm_provider=call.provider,
        web_search_options=optional_params.get("web_search_options"),
        tools=optional_params.get("tools"),
        reasoning_effort=optional_params.get("reasoning_effort"),
        api_base=call.api_base,
    )
    return info.get("mode") == "responses"


@lru_cache(maxsize=256)
def _bridged_plain(provider: str, model: str, api_base: str | None, _flag: Any, _models: int) -> bool:
    return _bridged(Call(provider, model, api_base, {}, {}), {})


@lru_cache(maxsize=64)
def has_embeddings(provider: str) -> bool:
    spec = _core.providers().get(provider)
    return spec is None or spec["embeddings_path"] is not None


def timeout_seconds(timeout: Any) -> float | None:
    """LiteLLM's timeout (float, int, str or ``httpx.Timeout``) as the seconds the core
    applies to connect, to the response head and to each body read, as httpx does."""
    if timeout is None:
        return None
    if isinstance(timeout, (int, float, str)):
        return float(timeout)
    phases = [getattr(timeout, p, None) for p in ("read", "connect", "write", "pool")]
    known = [float(p) for p in phases if p is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class Call:
    provider: str
    model: str
    api_base: str | None
    kw: dict[str, Any] = field(repr=False)
    litellm_params: dict[str, Any] = field(repr=False)
    # The caller's timeout as given (LiteLLM quotes it in a timeout's message).
    timeout: Any = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        model: str,
        api_key: str | None,
        api_base: str | None,
        headers: dict | None,
        timeout: Any,
        litellm_params: dict | None,
    ) -> Call:
        provider, upstream_model = split_model(model)
        params = litellm_params or {}
        kw: dict[str, Any] = {
            "api_key": api_key,
            "api_base": api_base,
            "api_version": params.get("api_version"),
            "headers": headers or None,
            "timeout": timeout_seconds(timeout),
            "ssl_verify": ssl_verify(),
        }
        return cls(provider, upstream_model, api_base, kw, params, timeout)
