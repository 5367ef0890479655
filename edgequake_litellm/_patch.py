"""Transparent mode: LiteLLM's own provider calls, with their HTTP exchange served by the core.

Ten LiteLLM handler instances are patched, each by one instance attribute per method, so no
class, module function or ``isinstance`` result changes and ``uninstall`` restores the exact
original state:

- ``litellm.main.openai_chat_completions`` (``OpenAIChatCompletion``: openai and the
  OpenAI-SDK providers): ``completion`` and ``embedding`` route each call either to
  ``RustOpenAIChatCompletion`` (LiteLLM's handler with the SDK exchange sent by the core) or
  to the saved original.
- ``litellm.main.base_llm_http_handler`` (``BaseLLMHTTPHandler``: the providers LiteLLM drives
  through per-provider transform classes): ``completion`` and ``embedding`` run the original
  with ``client=`` a LiteLLM ``HTTPHandler`` whose httpx transport is the core (``_patch_http.py``).
- ``litellm.main.anthropic_chat_completions`` and ``litellm.main.vertex_chat_completion``
  (``gemini/`` and Vertex AI's ``vertex_ai/gemini-*``; google-auth still gets the token):
  ``completion`` the same way (LiteLLM translates; the core is only the transport).
- ``litellm.responses.main.base_llm_http_handler`` (the Responses API's own instance):
  ``response_api_handler``; ``litellm.main.bedrock_converse_chat_completion`` (Converse) and
  ``litellm.main.bedrock_embedding``: the same way (LiteLLM signs with SigV4; the core sends
  the signed bytes).
- ``litellm.main.azure_chat_completions`` (``AzureChatCompletion``): ``completion`` and
  ``embedding`` run ``RustAzureChatCompletion`` (``_patch_azure.py``: LiteLLM's handler whose
  SDK clients' requests are sent by the core).
- ``litellm.main.openai_text_completions`` and ``litellm.main.azure_text_completions`` (text
  completions): ``completion`` runs ``RustOpenAITextCompletion`` / ``RustAzureTextCompletion``
  (``_patch_text.py``: the SDK clients LiteLLM builds, their requests sent by the core).

Anything the core cannot reproduce exactly (a caller-supplied client or session, custom TLS
settings, phased timeouts, ...) runs LiteLLM's original method; ``status()`` counts both.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import httpx

from . import _doubles, _status

logger = logging.getLogger("edgequake_litellm")

_lock = threading.RLock()
# The LiteLLM handler instances (attributes of litellm.main) transparent mode patches.
_OWNERS = (
    "openai_chat_completions",
    "base_llm_http_handler",
    "anthropic_chat_completions",
    "vertex_chat_completion",
    "azure_chat_completions",
    "bedrock_converse_chat_completion",
    "bedrock_embedding",
    "openai_text_completions",
    "azure_text_completions",
)
# Patched handler instances of LiteLLM's other modules: (module, attribute).
_MODULE_OWNERS = (("litellm.responses.main", "base_llm_http_handler"),)
# (id(owner), method) -> (owner, method, whether the owner had its own attribute, its value)
_saved: dict[tuple[int, str], tuple[Any, str, bool, Any]] = {}


def _environment_fallback(litellm_params: Any = None) -> str | None:
    """Settings that shape LiteLLM's own HTTP clients in ways the core does not reproduce.
    The global certificate settings (``litellm.ssl_verify``, ``SSL_VERIFY``, ``SSL_CERT_FILE``)
    are reproduced (``_tls.py``); a per-call ``ssl_verify``, client certificates and cipher
    settings are not."""
    import litellm

    if litellm.client_session is not None or litellm.aclient_session is not None:
        return "litellm.client_session"
    if getattr(litellm, "network_mock", False):
        return "litellm.network_mock"
    # A dict, or the Responses API's GenericLiteLLMParams (which has ``get`` too).
    if callable(getattr(litellm_params, "get", None)) and litellm_params.get("ssl_verify") is not None:
        return "per-call ssl_verify"
    if os.getenv("SSL_CERTIFICATE") or litellm.ssl_certificate:
        return "tls-client-certificate"
    if os.getenv("SSL_SECURITY_LEVEL") or os.getenv("SSL_ECDH_CURVE") or litellm.ssl_security_level:
        return "tls-settings"
    return "tls-settings" if litellm.ssl_ecdh_curve else None


def _timeout_fallback(timeout: Any) -> str | None:
    if isinstance(timeout, httpx.Timeout) and len({timeout.connect, timeout.read, timeout.write, timeout.pool}) > 1:
        return "phased-timeout"
    return None


def _call_fallback(kw: dict[str, Any]) -> str | None:
    if kw.get("client") is not None:
        return "caller-client"
    # A `shared_session` is LiteLLM's own aiohttp pool (the proxy makes one at start-up): only
    # a connection pool, which the core's replaces; it shapes no request or answer.
    return (
        _timeout_fallback(kw.get("timeout"))
        or ("extra_query" if (kw.get("optional_params") or {}).get("extra_query") else None)
        or _environment_fallback(kw.get("litellm_params"))
    )


def _current(owner: Any, method: str) -> Any:
    """``owner.method`` as attribute lookup would find it without the router: a double may have
    replaced the class's method since ``install()``."""
    value = getattr(type(owner), method)
    get = getattr(type(value), "__get__", None)
    return get(value, owner, type(owner)) if get is not None else value


def _router(route: str, owner: Any, original: Any, serve: Callable[[dict[str, Any]], Any]) -> Any:
    """The patched method: LiteLLM calls these handlers with keyword arguments only."""
    # Handlers LiteLLM calls without `custom_llm_provider` serve one provider each.
    default_provider = {"azure.text": "azure_text"}.get(route) or {
        "openai": "openai",
        "azure": "azure",
        "bedrock": "bedrock",
    }.get(route.partition(".")[0])
    method = getattr(original, "__name__", route)

    def routed(*args: Any, **kw: Any) -> Any:
        provider = kw.get("custom_llm_provider") or default_provider
        reason = "positional-call" if args else _call_fallback(kw)
        fallback = original
        if reason is None:
            reason = _doubles.active(owner)
            if reason is not None:
                fallback = _current(owner, method)
        if reason is not None:
            _status.record(route, provider, reason)
            logger.debug("edgequake: %s for %s runs LiteLLM's own code (%s)", route, provider, reason)
            return fallback(*args, **kw)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("edgequake: %s for %s routed to the Rust core", route, provider)
        # Counted as served where the core sends (``_status.sent``), not here: LiteLLM's own
        # code may still fail the call before any request is made.
        return _status.serving(route, provider, serve, kw)

    routed.__name__ = getattr(original, "__name__", route)
    routed.__doc__ = getattr(original, "__doc__", None)
    routed.__wrapped__ = original  # type: ignore[attr-defined]
    return routed


def _plan() -> list[tuple[Any, str, str, Callable[[Any], Callable[[dict[str, Any]], Any]]]]:
    """(owner instance, method, route name, how a served call runs given the original)."""
    import importlib

    import litellm.main as main

    from ._patch_azure import twins as azure_twins
    from ._patch_http import CoreHandlers
    from ._patch_openai import RustOpenAIChatCompletion
    from ._patch_text import RustAzureTextCompletion, RustOpenAITextCompletion

    # `litellm.responses` is the function, which hides the package of the same name.
    responses_main = importlib.import_module("litellm.responses.main")
    twin = RustOpenAIChatCompletion()
    azure = azure_twins()
    text, azure_text = RustOpenAITextCompletion(), RustAzureTextCompletion()
    handlers = CoreHandlers()

    def http_chat(original: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda kw: original(
            **{**kw, "client": handlers.pick(is_async=bool(kw.get("acompletion")), stream=bool(kw.get("stream")))}
        )

    def http_embedding(original: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda kw: original(**{**kw, "client": handlers.pick(is_async=bool(kw.get("aembedding")), stream=False)})

    def http_responses(original: Any) -> Callable[[dict[str, Any]], Any]:
        # LiteLLM posts with `stream=` what the caller asked for (the request params or
        # extra_body): a stream gets the client that hands the body over as it arrives.
        def stream(kw: dict[str, Any]) -> bool:
            return bool((kw.get("response_api_optional_request_params") or {}).get("stream")) or bool(
                (kw.get("extra_body") or {}).get("stream")
            )

        return lambda kw: original(
            **{**kw, "client": handlers.pick(is_async=bool(kw.get("_is_async")), stream=stream(kw))}
        )

    def timed(original: Any, flag: str) -> Callable[[dict[str, Any]], Any]:
        # Bedrock's, Gemini's and Vertex AI's handlers take `stream` in optional_params and post
        # with no per-request timeout (LiteLLM's own client carries the call's): so does ours.
        return lambda kw: original(
            **{
                **kw,
                "client": handlers.timed(
                    is_async=bool(kw.get(flag)),
                    stream=bool((kw.get("optional_params") or {}).get("stream")),
                    timeout=kw.get("timeout"),
                ),
            }
        )

    def provider_chat(original: Any) -> Callable[[dict[str, Any]], Any]:
        # Anthropic's LiteLLM handler takes `stream` in optional_params.
        return lambda kw: original(
            **{
                **kw,
                "client": handlers.pick(
                    is_async=bool(kw.get("acompletion")), stream=bool((kw.get("optional_params") or {}).get("stream"))
                ),
            }
        )

    return [
        (main.openai_chat_completions, "completion", "openai.chat", lambda _: lambda kw: twin.completion(**kw)),
        (main.openai_chat_completions, "embedding", "openai.embedding", lambda _: lambda kw: twin.embedding(**kw)),
        (main.base_llm_http_handler, "completion", "http.chat", http_chat),
        (main.base_llm_http_handler, "embedding", "http.embedding", http_embedding),
        (main.anthropic_chat_completions, "completion", "anthropic.chat", provider_chat),
        (main.vertex_chat_completion, "completion", "gemini.chat", lambda o: timed(o, "acompletion")),
        (responses_main.base_llm_http_handler, "response_api_handler", "http.responses", http_responses),
        (main.bedrock_converse_chat_completion, "completion", "bedrock.chat", lambda o: timed(o, "acompletion")),
        (main.bedrock_embedding, "embeddings", "bedrock.embedding", lambda o: timed(o, "aembedding")),
        (
            main.azure_chat_completions,
            "completion",
            "azure.chat",
            lambda _: lambda kw: azure["azure.chat"].completion(**kw),
        ),
        (
            main.azure_chat_completions,
            "embedding",
            "azure.embedding",
            lambda _: lambda kw: azure["azure.embedding"].embedding(**kw),
        ),
        (main.openai_text_completions, "completion", "openai.text", lambda _: lambda kw: text.completion(**kw)),
        (main.azure_text_completions, "completion", "azure.text", lambda _: lambda kw: azure_text.completion(**kw)),
    ]


def install() -> bool:
    """Patch LiteLLM's handlers; idempotent and thread-safe. Returns False (with a warning,
    leaving LiteLLM untouched) when the installed LiteLLM does not match the contract."""
    from ._contract import problems

    with _lock:
        if _saved:
            return True
        found = problems()
        _status.set_refused(found)
        if found:
            import litellm

            version = getattr(litellm, "version", None) or _litellm_version()
            warnings.warn(
                "edgequake_litellm: transparent mode not installed: LiteLLM "
                f"{version} does not match what it relies on ({'; '.join(found)}). "
                "LiteLLM runs unchanged; the edgequake/ provider still works.",
                RuntimeWarning,
                stacklevel=3,
            )
            return False
        for owner, method, route, serve in _plan():
            original = getattr(owner, method)
            _saved[(id(owner), method)] = (owner, method, method in vars(owner), vars(owner).get(method))
            setattr(owner, method, _router(route, owner, original, serve(original)))
        _doubles.snapshot([owner for owner, _, _, _ in _saved.values()])
        return True


def uninstall() -> None:
    """Restore every patched attribute exactly as it was."""
    with _lock:
        for owner, method, had_own, value in _saved.values():
            if had_own:
                setattr(owner, method, value)
            else:
                vars(owner).pop(method, None)
        _saved.clear()
        _doubles.clear()


def is_patched() -> bool:
    return bool(_saved)


# What a patch point serves when its handler's name says more than that.
_SERVES = {"vertex_chat_completion": " (gemini/ and vertex_ai/ Gemini models)"}


def patch_points() -> list[str]:
    with _lock:
        names = [(_owner_path(owner), method) for owner, method, _, _ in _saved.values()]
    return [f"{owner}.{method}{_SERVES.get(owner.rpartition('.')[2], '')}" for owner, method in names]


def _owner_path(owner: Any) -> str:
    import sys

    import litellm.main as main

    for name in _OWNERS:
        if getattr(main, name, None) is owner:
            return f"litellm.main.{name}"
    for module, name in _MODULE_OWNERS:
        if getattr(sys.modules.get(module), name, None) is owner:
            return f"{module}.{name}"
    return type(owner).__name__


def _litellm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litellm")
    except PackageNotFoundError:
        return "unknown"
