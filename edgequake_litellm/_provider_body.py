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
from ._call import Call, family, translated

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


def _config(call: Call) -> Any:
    if builds_body(call.provider) or translated(call.provider):
        return ProviderConfigManager.get_provider_chat_config(model=call.model, provider=LlmProviders(call.provider))
    if call.provider == "openai":
        return _openai_model_config(call.model)
    return None


def checked_params(call: Call, optional_params: dict, *, stream: bool) -> dict[str, Any]:
    """The call's parameters after the real provider's parameter check (LiteLLM validated
    them against the generic ``edgequake`` provider): unsupported OpenAI parameters raise
    LiteLLM's ``UnsupportedParamsError``, or are dropped with ``drop_params``."""
    openai_params, _, _ = _split_params(call, _config(call), optional_params, stream=stream)
    return {
        k: v
        for k, v in optional_params.items()
        if k not in _OPENAI_PARAMS or k in openai_params or k in ("stream_options", *_NOT_MAPPED)
    }


def _split_params(
    call: Call, config: Any, optional_params: dict, *, stream: bool
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    openai_params: dict[str, Any] = {}
    passthrough: dict[str, Any] = {}
    for k, v in optional_params.items():
        if k in _NOT_MAPPED or v is None or (k == "stream_options" and (not stream or translated(call.provider))):
            # LiteLLM's own stream wrapper applies stream_options for the translated providers.
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
    return openai_params, passthrough, drop


def litellm_body(call: Call, messages: list, optional_params: dict, *, stream: bool) -> dict[str, Any] | None:
    """The body LiteLLM's native path sends for this call, or None when the core writes it."""
    if translated(call.provider):
        return None  # the core translates it (see `fallback_body`)
    return _transformed_body(call, messages, optional_params, stream=stream)


def fallback_body(
    call: Call, messages: list, optional_params: dict, *, stream: bool
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """For a provider the core translates: the body LiteLLM's own transform builds, and the
    ``anthropic-beta`` header LiteLLM adds for it, used for the requests the core refuses as
    ``unsupported`` (see docs/providers.md)."""
    headers: dict[str, str] = {}
    body = _transformed_body(call, messages, optional_params, stream=stream, headers=headers)
    return body, {k: v for k, v in headers.items() if k.lower() == "anthropic-beta"}


def _transformed_body(
    call: Call, messages: list, optional_params: dict, *, stream: bool, headers: dict[str, str] | None = None
) -> dict[str, Any] | None:
    config = _config(call)
    if config is None:
        return None
    openai_params, passthrough, drop = _split_params(call, config, optional_params, stream=stream)
    mapped = config.map_openai_params(
        non_default_params=openai_params, optional_params={}, model=call.model, drop_params=drop
    )
    mapped.update(passthrough)
    # LiteLLM's handlers take these out of the parameters before the transform.
    mapped.pop("json_mode", None)
    headers = {} if headers is None else headers
    if family(call.provider) == "gemini":
        return _gemini_body(call, messages, mapped)
    if family(call.provider) == "anthropic":
        # The beta flags LiteLLM's Anthropic handler derives from the mapped parameters.
        env = config.validate_environment(
            headers={},
            model=call.model,
            messages=messages,
            optional_params=mapped,
            litellm_params=dict(call.litellm_params),
            api_key="edgequake-placeholder",
        )
        headers.update({k: v for k, v in env.items() if k.lower() == "anthropic-beta"})
    # Some configs map a parameter into extra_body (mistral's seed -> random_seed); LiteLLM
    # merges it with the caller's extra_body after the transform.
    extra_body = {**(mapped.pop("extra_body", None) or {}), **(optional_params.get("extra_body") or {})} or None
    body = config.transform_request(
        model=call.model,
        messages=messages,
        optional_params=mapped,
        litellm_params=dict(call.litellm_params),
        headers=headers,
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


def _gemini_body(call: Call, messages: list, mapped: dict[str, Any]) -> dict[str, Any]:
    """The body LiteLLM's Gemini handler sends (``sync_transform_request_body`` without its
    context-cache creation): the transform plus the default output budget."""
    from litellm.llms.vertex_ai.gemini.transformation import _with_default_output_budget, transform_request_body

    mapped.pop("stream", None)
    params = dict(call.litellm_params)
    body = transform_request_body(
        messages=messages,
        model=call.model,
        optional_params=mapped,
        custom_llm_provider="gemini",
        litellm_params=params,
        cached_content=mapped.pop("cached_content", None),
    )
    return dict(_with_default_output_budget(body, call.model, "gemini", params.get("model_info")))


def translation_settings(call: Call) -> dict[str, Any]:
    """What the core's translation needs from LiteLLM's model map (see the family's helper)."""
    return _gemini_settings(call) if family(call.provider) == "gemini" else _anthropic_settings(call)


def _gemini_settings(call: Call) -> dict[str, Any]:
    """Capabilities ``VertexGeminiConfig.map_openai_params`` reads from the model map, and
    whether LiteLLM's public endpoint for the model is ``v1alpha`` (Gemini 3 and newer)."""
    from litellm.litellm_core_utils.env_utils import get_env_int_or_none
    from litellm.llms.vertex_ai.gemini.long_decode import DEFAULT_OUTPUT_BUDGET_ENV
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig

    config = VertexGeminiConfig()
    return {
        "penalties": config._supports_penalty_parameters(call.model),
        "sampling": VertexGeminiConfig.supports_sampling_params(call.model),
        "v1alpha": VertexGeminiConfig._is_gemini_3_or_newer(call.model),
        # LiteLLM then adds a default max_output_tokens: left to its transform.
        "default_output_budget": bool(get_env_int_or_none(DEFAULT_OUTPUT_BUDGET_ENV)),
        "safety_settings": litellm.vertex_ai_safety_settings is not None,
    }


def _anthropic_settings(call: Call) -> dict[str, Any]:
    """What the core's Anthropic translation needs from LiteLLM's model map and the call's
    ``litellm_params``: the default ``max_tokens`` (``AnthropicConfig.get_config``) and the
    ``metadata.user_id`` LiteLLM forwards."""
    from litellm.llms.anthropic.chat.transformation import AnthropicConfig

    model_info = call.litellm_params.get("model_info")
    configured = model_info.get("max_output_tokens") if isinstance(model_info, dict) else None
    if not isinstance(configured, int) or isinstance(configured, bool):
        configured = AnthropicConfig.get_max_tokens_for_model(call.model)
    metadata = call.litellm_params.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    return {
        "default_max_tokens": configured,
        "metadata_user_id": user_id if isinstance(user_id, str) else None,
        # Capabilities that change LiteLLM's mapping; the core leaves affected requests to it.
        "adaptive_thinking": AnthropicConfig._is_adaptive_thinking_model(call.model, "anthropic"),
        "no_sampling_params": not AnthropicConfig._supports_sampling_params(call.model),
        "no_forced_tool_use": AnthropicConfig.forced_tool_use_unsupported(call.model),
    }


def chat_request(call: Call, messages: list, params: dict, *, stream: bool) -> tuple[tuple, dict[str, Any]]:
    """Positional and keyword arguments of the core call for a chat request."""
    op = "chat_stream" if stream else "chat"
    if translated(call.provider):
        params = checked_params(call, params, stream=stream)
        return (op, call.provider, call.model, messages, params), {
            "body": None,
            "native": translation_settings(call),  # the core's keyword
            **call.kw,
        }
    body = litellm_body(call, messages, params, stream=stream)
    return (op, call.provider, call.model, messages, params), {"body": body, **call.kw}


def _with_fallback_body(
    call: Call, messages: list, params: dict, kwargs: dict[str, Any], *, stream: bool
) -> dict[str, Any]:
    body, beta = fallback_body(call, messages, params, stream=stream)
    return {**kwargs, "body": body, "headers": {**beta, **(kwargs.get("headers") or {})} or None}


def send(call: Call, messages: list, params: dict, args: tuple, kwargs: dict[str, Any], *, stream: bool) -> Any:
    """``_core.request`` for a chat call. When the core refuses to translate the request (a
    feature it leaves to LiteLLM), the same call again with the body LiteLLM's own transform
    builds; the reply is still translated by the core."""
    try:
        return _core.request(*args, **kwargs)
    except _core.CoreError as e:
        if e.kind != "unsupported" or not translated(call.provider):
            raise
    return _core.request(*args, **_with_fallback_body(call, messages, params, kwargs, stream=stream))


async def asend(
    call: Call, messages: list, params: dict, args: tuple, kwargs: dict[str, Any], *, stream: bool = False
) -> Any:
    """``send`` as a coroutine over ``_core.arequest``."""
    try:
        return await _core.arequest(*args, **kwargs)
    except _core.CoreError as e:
        if e.kind != "unsupported" or not translated(call.provider):
            raise
    return await _core.arequest(*args, **_with_fallback_body(call, messages, params, kwargs, stream=stream))
