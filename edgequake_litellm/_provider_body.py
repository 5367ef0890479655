"""Request bodies built by LiteLLM's own provider transforms.

For providers whose LiteLLM config rewrites the request (parameter renames, message
flattening, tool-schema cleaning; the core's provider table marks them ``body: litellm``),
the body is built here with LiteLLM's ``map_openai_params`` + ``transform_request`` +
``transform_extra_body``, exactly as ``BaseLLMHTTPHandler`` builds it, and the core sends it
as is. LiteLLM validated the call's parameters against the generic ``edgequake`` provider;
the real provider's parameter check is applied here, with LiteLLM's own error.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import litellm
from litellm.constants import OPENAI_CHAT_COMPLETION_PARAMS
from litellm.llms.openai.chat.gpt_transformation import OpenAIGPTConfig
from litellm.types.utils import LlmProviders
from litellm.utils import ProviderConfigManager

from . import _core
from ._call import Call

_OPENAI_PARAMS = frozenset(OPENAI_CHAT_COMPLETION_PARAMS)
# Client settings and call shape, never mapped as model parameters.
_NOT_MAPPED = frozenset({"extra_body", "max_retries", "extra_headers"})


@cache
def builds_body(provider: str) -> bool:
    spec = _core.providers().get(provider)
    return spec is not None and spec["body"] == "litellm"


@lru_cache(maxsize=256)
def _openai_model_config(model: str) -> Any:
    """LiteLLM's config for OpenAI models it treats specially (o-series, gpt-5: renamed and
    restricted parameters), or None for the plain chat models the core forwards as they are."""
    config = ProviderConfigManager.get_provider_chat_config(model=model, provider=LlmProviders.OPENAI)
    return None if type(config) is OpenAIGPTConfig else config


def litellm_body(call: Call, messages: list, optional_params: dict, *, stream: bool) -> dict[str, Any] | None:
    """The body LiteLLM's native path sends for this call, or None when the core writes it."""
    if builds_body(call.provider):
        config = ProviderConfigManager.get_provider_chat_config(model=call.model, provider=LlmProviders(call.provider))
    elif call.provider == "openai":
        config = _openai_model_config(call.model)
    else:
        return None
    if config is None:
        return None
    openai_params: dict[str, Any] = {}
    passthrough: dict[str, Any] = {}
    for k, v in optional_params.items():
        if k in _NOT_MAPPED or v is None or (k == "stream_options" and not stream):
            continue
        (openai_params if k in _OPENAI_PARAMS else passthrough)[k] = v
    if stream:
        openai_params["stream"] = True
    drop = bool(litellm.drop_params or call.litellm_params.get("drop_params"))
    supported = set(config.get_supported_openai_params(model=call.model) or ())
    unsupported = {k: v for k, v in openai_params.items() if k not in supported and k != "stream"}
    if unsupported:
        if not drop:
            raise litellm.UnsupportedParamsError(
                status_code=500,
                message=f"{call.provider} does not support parameters: {unsupported}, for model={call.model}. "
                "To drop these, set `litellm.drop_params=True` or for proxy:\n\n"
                "`litellm_settings:\n drop_params: true`\n",
            )
        for k in unsupported:
            openai_params.pop(k)
    mapped = config.map_openai_params(
        non_default_params=openai_params, optional_params={}, model=call.model, drop_params=drop
    )
    mapped.update(passthrough)
    # Some configs map a parameter into extra_body (mistral's seed -> random_seed); LiteLLM
    # merges it with the caller's extra_body after the transform.
    extra_body = {**(mapped.pop("extra_body", None) or {}), **(optional_params.get("extra_body") or {})} or None
    body = config.transform_request(
        model=call.model,
        messages=messages,
        optional_params=mapped,
        litellm_params=dict(call.litellm_params),
        headers={},
    )
    if extra_body is not None:
        body = {
            **body,
            **config.transform_extra_body(
                extra_body=extra_body, request=body, model=call.model, litellm_params=dict(call.litellm_params)
            ),
        }
    if stream:
        body.setdefault("stream", True)
    return body


def chat_request(call: Call, messages: list, params: dict, *, stream: bool) -> tuple[tuple, dict[str, Any]]:
    """Positional and keyword arguments of the core call for a chat request."""
    op = "chat_stream" if stream else "chat"
    body = litellm_body(call, messages, params, stream=stream)
    return (op, call.provider, call.model, messages, params), {"body": body, **call.kw}
