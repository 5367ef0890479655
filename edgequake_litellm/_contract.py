"""Every LiteLLM internal transparent mode relies on, checked before anything is patched.

A LiteLLM release that renames a handler, changes a signature, stops calling a patched
method from its dispatch code, or routes chat/embeddings to its own Rust core would make a
patch silently wrong or silently unused. ``problems()`` lists each mismatch; ``install``
refuses to patch when there is any, and ``tests/test_contract.py`` fails loudly on them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .accel.accelerator import resolve

# (owner path, attribute, parameter names the patch passes or reads; LiteLLM passes them all
# by keyword, so their order does not matter)
_SIGNATURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "completion",
        ("model_response", "timeout", "optional_params", "litellm_params", "logging_obj", "model", "messages")
        + ("api_key", "api_base", "acompletion", "headers", "client", "custom_llm_provider", "shared_session"),
    ),
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "embedding",
        ("model", "input", "timeout", "logging_obj", "model_response", "optional_params", "api_key", "api_base")
        + ("client", "aembedding", "max_retries", "shared_session", "litellm_params"),
    ),
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "make_sync_openai_chat_completion_request",
        ("self", "openai_client", "data", "timeout", "logging_obj"),
    ),
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "make_openai_chat_completion_request",
        ("self", "openai_aclient", "data", "timeout", "logging_obj"),
    ),
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "make_sync_openai_embedding_request",
        ("self", "openai_client", "data", "timeout", "logging_obj"),
    ),
    (
        "litellm.llms.openai.openai.OpenAIChatCompletion",
        "make_openai_embedding_request",
        ("self", "openai_aclient", "data", "timeout", "logging_obj"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "completion",
        ("model", "messages", "api_base", "custom_llm_provider", "model_response", "encoding", "logging_obj")
        + ("optional_params", "timeout", "litellm_params", "acompletion", "stream", "fake_stream", "api_key")
        + ("headers", "client", "provider_config", "shared_session"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "embedding",
        ("model", "input", "timeout", "custom_llm_provider", "logging_obj", "api_base", "optional_params")
        + ("litellm_params", "model_response", "api_key", "client", "aembedding", "headers"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "_make_common_sync_call",
        ("self", "sync_httpx_client", "provider_config", "api_base", "headers", "data", "timeout")
        + ("litellm_params", "logging_obj", "stream", "signed_json_body"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "_make_common_async_call",
        ("self", "async_httpx_client", "provider_config", "api_base", "headers", "data", "timeout")
        + ("litellm_params", "logging_obj", "stream", "signed_json_body"),
    ),
    (
        "litellm.llms.anthropic.chat.handler.AnthropicChatCompletion",
        "completion",
        ("model", "messages", "api_base", "custom_llm_provider", "model_response", "api_key", "logging_obj")
        + ("optional_params", "timeout", "litellm_params", "acompletion", "headers", "client"),
    ),
    (
        "litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini.VertexLLM",
        "completion",
        ("model", "messages", "model_response", "custom_llm_provider", "logging_obj", "optional_params")
        + ("acompletion", "timeout", "gemini_api_key", "litellm_params", "client", "api_base"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "response_api_handler",
        ("model", "input", "responses_api_provider_config", "response_api_optional_request_params", "extra_body")
        + ("custom_llm_provider", "litellm_params", "logging_obj", "timeout", "client", "_is_async", "shared_session"),
    ),
    (
        "litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler",
        "async_response_api_handler",
        ("litellm_params", "timeout", "client", "shared_session"),
    ),
    (
        "litellm.llms.bedrock.chat.converse_handler.BedrockConverseLLM",
        "completion",
        ("model", "messages", "api_base", "optional_params", "acompletion", "timeout", "litellm_params")
        + ("extra_headers", "client", "api_key"),
    ),
    ("litellm.llms.bedrock.chat.converse_handler.BedrockConverseLLM", "async_completion", ("timeout", "client")),
    ("litellm.llms.bedrock.chat.converse_handler.BedrockConverseLLM", "async_streaming", ("timeout", "client")),
    ("litellm.llms.bedrock.chat.converse_handler", "make_sync_call", ("client", "timeout")),
    ("litellm.llms.bedrock.chat.invoke_handler", "make_call", ("client", "timeout")),
    (
        "litellm.llms.bedrock.embed.embedding.BedrockEmbedding",
        "embeddings",
        ("model", "input", "api_base", "optional_params", "litellm_params", "extra_headers", "client", "timeout")
        + ("aembedding", "api_key"),
    ),
    (
        "litellm.llms.azure.azure.AzureChatCompletion",
        "completion",
        ("model", "messages", "model_response", "api_key", "api_base", "api_version", "azure_ad_token")
        + ("azure_ad_token_provider", "timeout", "logging_obj", "optional_params", "litellm_params")
        + ("acompletion", "headers", "client"),
    ),
    (
        "litellm.llms.azure.azure.AzureChatCompletion",
        "embedding",
        ("model", "input", "api_base", "api_version", "timeout", "logging_obj", "model_response")
        + ("optional_params", "api_key", "azure_ad_token", "azure_ad_token_provider", "max_retries", "client")
        + ("aembedding", "headers", "litellm_params"),
    ),
    (
        "litellm.llms.azure.common_utils.BaseAzureLLM",
        "get_azure_openai_client",
        ("self", "api_key", "api_base", "api_version", "client", "litellm_params", "_is_async", "model"),
    ),
    # Text completions (``_patch_text``): the handlers, the client builders the twin calls with
    # LiteLLM's arguments, and the request transform it reads ``max_retries`` from.
    (
        "litellm.llms.openai.completion.handler.OpenAITextCompletion",
        "completion",
        ("model_response", "api_key", "model", "messages", "timeout", "custom_llm_provider", "logging_obj")
        + ("optional_params", "api_base", "acompletion", "litellm_params", "client", "organization", "headers"),
    ),
    *(
        (
            "litellm.llms.openai.completion.handler.OpenAITextCompletion",
            method,
            ("api_key", "api_base", "timeout", "max_retries", "client", "organization", "litellm_params"),
        )
        for method in ("acompletion", "streaming", "async_streaming")
    ),
    ("litellm.llms.openai.completion.handler.OpenAITextCompletion", "validate_environment", ("api_key",)),
    *(
        (
            "litellm.llms.openai.completion.handler",
            build,
            ("api_key", "api_base", "timeout", "max_retries", "organization", "litellm_params")
            + ("static_key_http_client_factory",),
        )
        for build in ("build_openai_client", "build_async_openai_client")
    ),
    ("litellm.utils.ProviderConfigManager", "get_provider_text_completion_config", ("model", "provider")),
    (
        "litellm.llms.base_llm.completion.transformation.BaseTextCompletionConfig",
        "transform_text_completion_request",
        ("model", "messages", "optional_params", "headers"),
    ),
    (
        "litellm.llms.azure.completion.handler.AzureTextCompletion",
        "completion",
        ("model", "messages", "model_response", "api_key", "api_base", "api_version", "azure_ad_token")
        + ("azure_ad_token_provider", "timeout", "logging_obj", "optional_params", "litellm_params")
        + ("acompletion", "headers", "client"),
    ),
    # The OpenAI SDK internals ``_sdk_send`` runs in the SDK's own order.
    ("openai._base_client.SyncAPIClient", "request", ("self", "cast_to", "options", "stream", "stream_cls")),
    ("openai._base_client.AsyncAPIClient", "request", ("self", "cast_to", "options", "stream", "stream_cls")),
    ("openai._base_client.SyncAPIClient", "_prepare_options", ("self", "options")),
    ("openai._base_client.AsyncAPIClient", "_prepare_options", ("self", "options")),
    ("openai._base_client.SyncAPIClient", "_prepare_request", ("self", "request")),
    ("openai._base_client.AsyncAPIClient", "_prepare_request", ("self", "request")),
    ("openai._base_client.BaseClient", "_build_request", ("self", "options", "retries_taken")),
    ("openai._base_client.BaseClient", "_maybe_override_cast_to", ("self", "cast_to", "options")),
    ("openai._base_client.BaseClient", "_custom_auth", ("self", "security")),
    ("openai._models.FinalRequestOptions", "get_max_retries", ("self", "max_retries")),
    ("litellm.llms.custom_httpx.http_handler.HTTPHandler", "__init__", ("self", "timeout", "client")),
    ("litellm.llms.custom_httpx.http_handler.AsyncHTTPHandler", "__init__", ("self", "timeout", "transport")),
)

# Names the patched code imports from LiteLLM and the OpenAI SDK.
_NAMES: tuple[str, ...] = (
    "litellm.main.openai_chat_completions",
    "litellm.main.base_llm_http_handler",
    "litellm.main.anthropic_chat_completions",
    "litellm.main.vertex_chat_completion",
    "litellm.main.bedrock_converse_chat_completion",
    "litellm.main.bedrock_embedding",
    "litellm.responses.main.base_llm_http_handler",
    "litellm.llms.custom_httpx.http_handler.AsyncHTTPHandler.should_use_aiohttp_transport",
    "litellm.llms.openai.openai.is_output_token_limit_error",
    "litellm.llms.openai.openai.build_output_token_limit_response",
    "litellm.llms.openai.openai.get_base_model_from_metadata",
    "litellm.llms.openai.openai._request_without_sdk_transform",
    "openai._constants.RAW_RESPONSE_HEADER",
    "litellm.litellm_core_utils.logging_utils.track_llm_api_timing",
    "litellm.llms.custom_httpx.http_handler.get_default_headers",
    "litellm.llms.custom_httpx.http_handler.get_ssl_verify",
    "openai._models.construct_type",
    "openai.OpenAI._make_status_error_from_response",
    "litellm.main.azure_chat_completions",
    "openai._base_client.BaseClient._idempotency_key",
    "openai._base_client.BaseClient._validate_max_retries",
    "openai._compat.model_copy",
    "openai._types.NotGiven",
    "openai._resource.SyncAPIResource",
    "openai._resource.AsyncAPIResource",
    "openai.types.Completion",
    "litellm.main.openai_text_completions",
    "litellm.main.azure_text_completions",
    "litellm.llms.openai.common_utils.BaseOpenAILLM.get_async_http_client",
    "litellm.llms.openai.common_utils.OpenAIHTTPClient",
    "litellm.llms.openai.common_utils.OpenAIAsyncHTTPClient",
    "litellm.types.utils.LlmProviders",
    "litellm.client_session",
    "litellm.aclient_session",
)

# LiteLLM's Azure handler must still obtain every SDK client it sends with through
# ``self.get_azure_openai_client`` (the one method ``RustAzureChatCompletion`` overrides).
_AZURE_CLIENT_USERS: tuple[str, ...] = ("acompletion", "streaming", "async_streaming", "aembedding", "embedding")
# ... and so must its text completion handler.
_AZURE_TEXT_CLIENT_USERS: tuple[str, ...] = ("completion", "acompletion", "streaming", "async_streaming")

# LiteLLM's text completion handler builds its SDK client in each of these methods, unless the
# call brings one, exactly so (whitespace aside): the twin builds the same one where LiteLLM
# would. ``completion`` reads ``max_retries`` from its request transform first.
_ARGS = "api_key=api_key, api_base=api_base, timeout=timeout, max_retries=max_retries, organization=organization, "
_TEXT_CLIENT_BUILDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "completion",
        (
            "data: Final = provider_config.transform_text_completion_request(",
            'max_retries: Final = data.pop("max_retries", 2)',
            "client if client is not None else build_openai_client( " + _ARGS + "litellm_params=litellm_params, "
            "static_key_http_client_factory=lambda: litellm.client_session, )",
            'if headers: optional_params = {**optional_params, "extra_headers": headers}',
            "if headers is None: headers = self.validate_environment(api_key=api_key)",
            "provider_config: Final = ProviderConfigManager.get_provider_text_completion_config( model=model, "
            "provider=LlmProviders(custom_llm_provider), )",
            "return self.async_streaming(",
            "return self.acompletion(",
            "return self.streaming(",
        ),
    ),
    (
        "acompletion",
        (
            "client if client is not None else build_async_openai_client( " + _ARGS + "litellm_params=litellm_params, "
            "static_key_http_client_factory=BaseOpenAILLM.get_async_http_client, )",
        ),
    ),
    (
        "streaming",
        (
            "client if client is not None else build_openai_client( " + _ARGS + "litellm_params=litellm_params, "
            "static_key_http_client_factory=lambda: litellm.client_session, )",
        ),
    ),
    (
        "async_streaming",
        (
            "client if client is not None else build_async_openai_client( " + _ARGS + "litellm_params=litellm_params, "
            "static_key_http_client_factory=lambda: litellm.aclient_session, )",
        ),
    ),
)

# The dispatch code must still call the patched handlers (as `<instance>.<method>(`).
_DISPATCH_CALLS: tuple[str, ...] = (
    "openai_chat_completions.completion(",
    "openai_chat_completions.embedding(",
    "base_llm_http_handler.completion(",
    "base_llm_http_handler.embedding(",
    "anthropic_chat_completions.completion(",
    "vertex_chat_completion.completion(",
    "bedrock_converse_chat_completion.completion(",
    "bedrock_embedding.embeddings(",
    "azure_chat_completions.completion(",
    "azure_chat_completions.embedding(",
    "openai_text_completions.completion(",
    "azure_text_completions.completion(",
)
# ... and other LiteLLM modules must still call theirs: (module, call).
_MODULE_DISPATCH_CALLS: tuple[tuple[str, str], ...] = (
    ("litellm.responses.main", "base_llm_http_handler.response_api_handler("),
)


def _check_signature(owner: str, attr: str, expected: tuple[str, ...]) -> str | None:
    try:
        fn = getattr(resolve(owner), attr)
    except (ImportError, AttributeError):
        return f"{owner}.{attr} is missing"
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return f"{owner}.{attr} has no readable signature"
    missing = [p for p in expected if p not in params]
    if missing:
        return f"{owner}.{attr} lost parameters {missing}"
    return None


def _check_types() -> list[str]:
    import litellm.main as main
    from litellm.llms.azure.azure import AzureChatCompletion
    from litellm.llms.custom_httpx.llm_http_handler import BaseLLMHTTPHandler
    from litellm.llms.openai.openai import OpenAIChatCompletion

    out = []
    if not isinstance(getattr(main, "openai_chat_completions", None), OpenAIChatCompletion):
        out.append("litellm.main.openai_chat_completions is not an OpenAIChatCompletion")
    if not isinstance(getattr(main, "base_llm_http_handler", None), BaseLLMHTTPHandler):
        out.append("litellm.main.base_llm_http_handler is not a BaseLLMHTTPHandler")
    if not isinstance(getattr(main, "azure_chat_completions", None), AzureChatCompletion):
        out.append("litellm.main.azure_chat_completions is not an AzureChatCompletion")
    from litellm.llms.azure.completion.handler import AzureTextCompletion
    from litellm.llms.openai.completion.handler import OpenAITextCompletion

    if not isinstance(getattr(main, "openai_text_completions", None), OpenAITextCompletion):
        out.append("litellm.main.openai_text_completions is not an OpenAITextCompletion")
    if not isinstance(getattr(main, "azure_text_completions", None), AzureTextCompletion):
        out.append("litellm.main.azure_text_completions is not an AzureTextCompletion")
    return out


def _get_their_clients(cls: type, names: tuple[str, ...]) -> list[str]:
    """Each of ``cls``'s methods ``names`` must still obtain its SDK client through
    ``self.get_azure_openai_client`` (the one method the Azure twins override)."""
    out = []
    for name in names:
        try:
            source = inspect.getsource(getattr(cls, name))
        except (OSError, TypeError, AttributeError):
            out.append(f"{cls.__name__}.{name} source is unavailable")
            continue
        if "self.get_azure_openai_client(" not in source:
            out.append(f"{cls.__name__}.{name} no longer calls self.get_azure_openai_client(...)")
    return out


def _check_azure_clients() -> list[str]:
    from litellm.llms.azure.azure import AzureChatCompletion

    out = _get_their_clients(AzureChatCompletion, _AZURE_CLIENT_USERS)
    import openai

    # ``_sdk_send`` rebuilds every retry's request when this provider is set (the SDK asks it per attempt).
    for client in (openai.AzureOpenAI, openai.AsyncAzureOpenAI):
        try:
            source = inspect.getsource(client._get_azure_ad_token)
        except (OSError, TypeError, AttributeError):
            source = ""
        if "self._azure_ad_token_provider" not in source:
            out.append(f"{client.__name__}._get_azure_ad_token no longer reads self._azure_ad_token_provider")
    return out


def _check_text_clients() -> list[str]:
    """Where and how LiteLLM's text completion handlers obtain their SDK clients."""
    from litellm.llms.azure.completion.handler import AzureTextCompletion
    from litellm.llms.openai.completion.handler import OpenAITextCompletion

    out = _get_their_clients(AzureTextCompletion, _AZURE_TEXT_CLIENT_USERS)
    kinds: dict[str, Callable[[Any], bool]] = {
        "acompletion": inspect.iscoroutinefunction,
        "streaming": inspect.isgeneratorfunction,
        "async_streaming": inspect.isasyncgenfunction,
    }
    for name, snippets in _TEXT_CLIENT_BUILDS:
        method: Any = getattr(OpenAITextCompletion, name, None)
        try:
            source = " ".join(inspect.getsource(method).split())
        except (OSError, TypeError):
            out.append(f"OpenAITextCompletion.{name} source is unavailable")
            continue
        lost = [s for s in snippets if " ".join(s.split()) not in source]
        out += [f"OpenAITextCompletion.{name} no longer has `{s}`" for s in lost]
        if name in kinds and not kinds[name](method):
            out.append(f"OpenAITextCompletion.{name} is no longer a {kinds[name].__name__.removeprefix('is')}")
    return out


def _check_dispatch() -> list[str]:
    import litellm.main as main

    try:
        source = inspect.getsource(main)
    except (OSError, TypeError):
        return ["litellm.main source is unavailable (cannot confirm the dispatch calls)"]
    out = [f"litellm.main no longer calls {c}...)" for c in _DISPATCH_CALLS if c not in source]
    for module, call in _MODULE_DISPATCH_CALLS:
        try:
            if call not in inspect.getsource(resolve(module)):
                out.append(f"{module} no longer calls {call}...)")
        except (ImportError, AttributeError, OSError, TypeError):
            out.append(f"{module} source is unavailable (cannot confirm it calls {call}...))")
    return out


def _check_rust_bridge() -> list[str]:
    """LiteLLM's own Rust core must leave chat completions, embeddings and responses to Python, where
    the patched handlers run."""
    try:
        from litellm.rust_bridge import catalog
    except ImportError:
        return []  # releases without the bridge always run the Python handlers
    out = []
    for route in ("CHAT_COMPLETIONS", "EMBEDDINGS", "RESPONSES"):
        try:
            might = catalog.rust_might_handle(getattr(catalog.Route, route), catalog.RULES)
        except Exception as e:  # noqa: BLE001 - any change in the catalog's shape is a mismatch
            out.append(f"litellm.rust_bridge.catalog changed shape ({type(e).__name__}: {e})")
            break
        if might:
            out.append(f"LiteLLM's rust_bridge may serve {route.lower()} natively (rollout is not PYTHON_ONLY)")
    return out


def problems() -> list[str]:
    """Every mismatch between the installed LiteLLM and what transparent mode relies on."""
    checks: list[Callable[[], list[str]]] = [
        _check_types,
        _check_dispatch,
        _check_rust_bridge,
        _check_azure_clients,
        _check_text_clients,
    ]
    out: list[str] = []
    for owner, attr, expected in _SIGNATURES:
        problem = _check_signature(owner, attr, expected)
        if problem:
            out.append(problem)
    for name in _NAMES:
        try:
            resolve(name)
        except (ImportError, AttributeError):
            out.append(f"{name} is missing")
    for check in checks:
        try:
            out.extend(check())
        except Exception as e:  # noqa: BLE001 - a check that cannot run is a mismatch
            out.append(f"{check.__name__} failed: {type(e).__name__}: {e}")
    return out


def accelerator_problems() -> dict[str, list[str]]:
    """Per accelerator, every mismatch with the LiteLLM internals it replaces or calls; an
    accelerator with any is refused by ``install`` (LiteLLM's own function stays)."""
    from .accel import problems as accel_problems

    return accel_problems()
