"""The LiteLLM API served straight from the core, without LiteLLM's wrapper.

``completion``/``acompletion``/``embedding``/``aembedding`` take LiteLLM's model strings
(``openai/gpt-4o``, ``groq/...``, ``anthropic/...``) and return LiteLLM's own types with the contents LiteLLM's
native path returns for the same upstream, by the same path as the ``edgequake/`` provider
(``_serve.py``) without LiteLLM's logging. There are no callbacks, caching, retries across
deployments, fallbacks or Router here: for those, use LiteLLM with ``install()`` and the
``edgequake/`` provider.
"""

from __future__ import annotations

from typing import Any

from litellm.types.utils import EmbeddingResponse, ModelResponse, all_litellm_params

from . import _serve
from ._call import AZURE_AD_PARAMS, Call, check_served
from ._streams import async_chunks, sync_chunks

# Call settings, not model parameters.
_SETTINGS = ("api_key", "api_base", "base_url", "api_version", "timeout", "headers", "extra_headers")
# LiteLLM's own arguments (metadata, num_retries, fallbacks, caching, ...) never reach the
# upstream natively; max_retries does, as the OpenAI SDK's retry count, and the core reads it.
_LITELLM_ONLY = (frozenset(all_litellm_params) | {"drop_params"}) - {"max_retries"}


def _split(model: str, kwargs: dict[str, Any], *, chat: bool = True) -> tuple[Call, dict[str, Any]]:
    settings = {k: kwargs.pop(k, None) for k in _SETTINGS}
    headers = {**(settings["headers"] or {}), **(settings["extra_headers"] or {})} or None
    litellm_params = {"api_version": settings["api_version"], "drop_params": kwargs.get("drop_params")}
    litellm_params.update({k: kwargs[k] for k in AZURE_AD_PARAMS if k in kwargs})
    call = Call.build(
        model,
        settings["api_key"],
        settings["api_base"] or settings["base_url"],
        headers,
        settings["timeout"],
        litellm_params,
    )
    # LiteLLM drops parameters left at None before they reach a provider.
    params = {k: v for k, v in kwargs.items() if v is not None and k not in _LITELLM_ONLY}
    check_served(call, params, chat=chat)
    return call, params


def completion(model: str, messages: list, *, stream: bool = False, **kwargs: Any) -> Any:
    """``litellm.completion`` served by the core: a ``ModelResponse``, or with ``stream=True`` an
    iterator of ``ModelResponseStream``. No LiteLLM callbacks, cache or Router (see module doc)."""
    call, params = _split(model, kwargs)
    if stream:
        return sync_chunks(_serve.open_stream(call, messages, params), call, wrapped=False)
    return _serve.chat(call, messages, params, ModelResponse())


async def acompletion(model: str, messages: list, *, stream: bool = False, **kwargs: Any) -> Any:
    """``litellm.acompletion`` served by the core (``stream=True``: an async iterator)."""
    call, params = _split(model, kwargs)
    if stream:
        return async_chunks(await _serve.aopen_stream(call, messages, params), call, wrapped=False)
    return await _serve.achat(call, messages, params, ModelResponse())


def embedding(model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
    """``litellm.embedding`` served by the core."""
    call, params = _split(model, kwargs, chat=False)
    return _serve.embed(call, input, params, EmbeddingResponse())


async def aembedding(model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
    """``litellm.aembedding`` served by the core."""
    call, params = _split(model, kwargs, chat=False)
    return await _serve.aembed(call, input, params, EmbeddingResponse())
