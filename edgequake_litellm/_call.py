"""What one call needs besides its payload: which upstream, and the per-call settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import _core
from ._tls import ssl_verify

_DEFAULT_FAMILY = "openai"


@lru_cache(maxsize=1)
def served_providers() -> frozenset[str]:
    return frozenset(_core.providers())


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
            raise litellm.exceptions.BadRequestError(
                message=f"edgequake: provider {prefix!r} is not served by the Rust core; "
                f"call LiteLLM with {model!r} directly (see docs/providers.md)",
                model=model,
                llm_provider=prefix,
            )
    return _DEFAULT_FAMILY, model


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
        return cls(provider, upstream_model, api_base, kw, params)
