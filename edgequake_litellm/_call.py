"""What one call needs besides its payload: which upstream, and the per-call settings."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import _core

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


def ssl_verify() -> bool | str:
    """The certificate check LiteLLM's own client would make, for the core: ``False`` (off)
    or the CA bundle to trust exclusively. LiteLLM's ``get_ssl_verify`` resolves
    ``litellm.ssl_verify`` and ``SSL_VERIFY`` (a bundle path, or a bool as text) and
    ``SSL_CERT_FILE``; the fallback for anything else is certifi's bundle, as in LiteLLM's
    ``get_ssl_configuration`` (which builds an ``SSLContext`` the core cannot use, so its
    last step is repeated here). Read on every call, as the setting may change."""
    import certifi
    from litellm.llms.custom_httpx.http_handler import get_ssl_verify

    verify = get_ssl_verify()
    if isinstance(verify, ssl.SSLContext):
        # A context cannot be handed to rustls; keep its one portable decision.
        verify = verify.verify_mode != ssl.CERT_NONE
    if verify is False:
        return False
    if isinstance(verify, str) and os.path.exists(verify):
        return verify
    cert_file = os.getenv("SSL_CERT_FILE")
    if cert_file and os.path.exists(cert_file):
        return cert_file
    return certifi.where()


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
