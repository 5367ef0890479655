"""Test doubles over what transparent mode steps around, detected per call.

Where the core serves a call, some code LiteLLM would have run never runs: the OpenAI SDK's
send, httpx's and httpcore's transports, LiteLLM's aiohttp transport, LiteLLM's client
factories, the ``OpenAIChatCompletion`` methods the SDK twin overrides, the handler methods the
router shadows on the instances. A user who replaced one of those (respx, pytest-httpx,
``unittest.mock``, aioresponses, an instrumentation wrapper) expects the replacement to see
the call, so LiteLLM's own path runs while one is in place.

``install()`` takes a snapshot of every such entry point; each routed call compares them by
identity (one C-level ``map(getattr, ...)`` and a tuple comparison). Only a mismatch takes the
slow path, which names the replaced entry point, or adopts a value that is the library's own
code again (a double that was in place before ``install()`` and has been removed since).
"""

from __future__ import annotations

import importlib
import os
import threading
from types import CodeType
from typing import Any

_PREFIX = "test-double: "

# (module, class or "", attribute, what the reason says replaced it). Whoever patches what:
# respx's default mocker patches httpcore's connection pool, connection and proxy classes;
# respx(using="httpx") patches httpx's Client._transport_for_url; pytest-httpx patches httpx's
# HTTPTransport/AsyncHTTPTransport; aioresponses patches aiohttp's ClientSession._request.
_HTTPCORE = "httpcore transport patched (respx)"
_HTTPX_TRANSPORT = "httpx transport patched (pytest-httpx)"
_HTTPX_CLIENT = "httpx client patched (respx using='httpx')"
_AIOHTTP = "aiohttp transport patched"
_ENTRY_POINTS: tuple[tuple[str, str, str, str], ...] = (
    ("httpcore._sync.connection_pool", "ConnectionPool", "handle_request", _HTTPCORE),
    ("httpcore._sync.connection", "HTTPConnection", "handle_request", _HTTPCORE),
    ("httpcore._sync.http_proxy", "HTTPProxy", "handle_request", _HTTPCORE),
    ("httpcore._async.connection_pool", "AsyncConnectionPool", "handle_async_request", _HTTPCORE),
    ("httpcore._async.connection", "AsyncHTTPConnection", "handle_async_request", _HTTPCORE),
    ("httpcore._async.http_proxy", "AsyncHTTPProxy", "handle_async_request", _HTTPCORE),
    ("httpx", "HTTPTransport", "handle_request", _HTTPX_TRANSPORT),
    ("httpx", "AsyncHTTPTransport", "handle_async_request", _HTTPX_TRANSPORT),
    ("httpx", "Client", "_transport_for_url", _HTTPX_CLIENT),
    ("httpx", "AsyncClient", "_transport_for_url", _HTTPX_CLIENT),
    ("httpx", "Client", "send", _HTTPX_CLIENT),
    ("httpx", "AsyncClient", "send", _HTTPX_CLIENT),
    ("aiohttp", "ClientSession", "_request", _AIOHTTP),
    ("litellm.llms.custom_httpx.aiohttp_transport", "LiteLLMAiohttpTransport", "handle_async_request", _AIOHTTP),
    # The OpenAI SDK client's send (LiteLLM posts with ``client.post``), which the SDK tier
    # does not call; looked up through the client classes LiteLLM builds.
    ("openai", "OpenAI", "post", ""),
    ("openai", "AsyncOpenAI", "post", ""),
    ("openai", "OpenAI", "request", ""),
    ("openai", "AsyncOpenAI", "request", ""),
    ("openai", "AzureOpenAI", "request", ""),
    ("openai", "AsyncAzureOpenAI", "request", ""),
    # LiteLLM's handler methods the SDK twin overrides or the router shadows on the instance.
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "make_sync_openai_chat_completion_request", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "make_openai_chat_completion_request", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "make_sync_openai_embedding_request", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "make_openai_embedding_request", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "completion", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "embedding", ""),
    ("litellm.llms.custom_httpx.llm_http_handler", "BaseLLMHTTPHandler", "completion", ""),
    ("litellm.llms.custom_httpx.llm_http_handler", "BaseLLMHTTPHandler", "embedding", ""),
    ("litellm.llms.anthropic.chat.handler", "AnthropicChatCompletion", "completion", ""),
    ("litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini", "VertexLLM", "completion", ""),
    ("litellm.llms.custom_httpx.llm_http_handler", "BaseLLMHTTPHandler", "response_api_handler", ""),
    ("litellm.llms.bedrock.chat.converse_handler", "BedrockConverseLLM", "completion", ""),
    ("litellm.llms.bedrock.embed.embedding", "BedrockEmbedding", "embeddings", ""),
    ("litellm.llms.azure.azure", "AzureChatCompletion", "completion", ""),
    ("litellm.llms.azure.azure", "AzureChatCompletion", "embedding", ""),
    ("litellm.llms.azure.azure", "AzureChatCompletion", "get_azure_openai_client", ""),
    ("litellm.llms.openai.completion.handler", "OpenAITextCompletion", "completion", ""),
    ("litellm.llms.openai.completion.handler", "OpenAITextCompletion", "acompletion", ""),
    ("litellm.llms.openai.completion.handler", "OpenAITextCompletion", "streaming", ""),
    ("litellm.llms.openai.completion.handler", "OpenAITextCompletion", "async_streaming", ""),
    ("litellm.llms.azure.completion.handler", "AzureTextCompletion", "completion", ""),
    ("litellm.llms.azure.completion.handler", "AzureTextCompletion", "get_azure_openai_client", ""),
    # Client factories the plugin skips by handing LiteLLM its own clients: where they are
    # defined and where the patched handlers look them up.
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "_get_sync_http_client", ""),
    ("litellm.llms.openai.openai", "OpenAIChatCompletion", "_get_async_http_client", ""),
    ("litellm.llms.custom_httpx.http_handler", "", "_get_httpx_client", ""),
    ("litellm.llms.custom_httpx.http_handler", "", "get_httpx_client", ""),
    ("litellm.llms.custom_httpx.http_handler", "", "get_async_httpx_client", ""),
    ("litellm.llms.custom_httpx.llm_http_handler", "", "get_httpx_client", ""),
    ("litellm.llms.custom_httpx.llm_http_handler", "", "get_async_httpx_client", ""),
    ("litellm.llms.anthropic.chat.handler", "", "get_httpx_client", ""),
    ("litellm.llms.anthropic.chat.handler", "", "get_async_httpx_client", ""),
    ("litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini", "", "get_httpx_client", ""),
    ("litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini", "", "get_async_httpx_client", ""),
    ("litellm.llms.bedrock.chat.converse_handler", "", "get_httpx_client", ""),
    ("litellm.llms.bedrock.chat.converse_handler", "", "get_async_httpx_client", ""),
    ("litellm.llms.bedrock.chat.invoke_handler", "", "get_httpx_client", ""),
    ("litellm.llms.bedrock.chat.invoke_handler", "", "get_async_httpx_client", ""),
    ("litellm.llms.bedrock.embed.embedding", "", "get_httpx_client", ""),
    ("litellm.llms.bedrock.embed.embedding", "", "get_async_httpx_client", ""),
    ("litellm.llms.cohere.embed.handler", "", "get_async_httpx_client", ""),
    # The SDK client builders the text twin calls (a double's client may carry its own send).
    ("litellm.llms.openai.completion.handler", "", "build_openai_client", ""),
    ("litellm.llms.openai.completion.handler", "", "build_async_openai_client", ""),
)

# A value no attribute can be: an entry that was not the library's own code at install().
_UNKNOWN = object()
_MISSING = object()

_lock = threading.Lock()
_holders: tuple[Any, ...] = ()
_names: tuple[str, ...] = ()
_missing: tuple[object, ...] = ()
_expected: tuple[Any, ...] = ()
_labels: tuple[str, ...] = ()
_package_dirs: tuple[str, ...] = ()
# id(owner instance) -> the attribute names it had once patched (the router's own included).
_instance_keys: dict[int, frozenset[str]] = {}


def _package_dir(module: Any) -> str:
    top = importlib.import_module(module.__name__.split(".", 1)[0])
    return os.path.dirname(os.path.abspath(top.__file__ or "")) + os.sep


def _own_code(value: Any, package_dir: str) -> bool:
    """Whether ``value`` is a function whose code lives in the package that defines the entry
    point (decorated library functions included), not a mock, a wrapper object or code from
    elsewhere (respx, pytest-httpx, a test module)."""
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    # type(), not isinstance(): an AsyncMock's __code__ is a mock that claims to be a CodeType.
    return type(code) is CodeType and os.path.abspath(code.co_filename).startswith(package_dir)


def _label(i: int) -> str:
    module, cls, name, label = _ENTRY_POINTS[i]
    return _PREFIX + (label or f"{cls or module}.{name} patched")


def snapshot(owners: list[Any]) -> None:
    """Record every entry point as it is now (called by ``install(patch=True)`` once the
    owners are patched): what later differs is a double put in place since."""
    global _holders, _names, _missing, _expected, _labels, _package_dirs
    holders, names, expected, dirs = [], [], [], []
    for module_name, cls, name, _ in _ENTRY_POINTS:
        module = importlib.import_module(module_name)
        holder = getattr(module, cls) if cls else module
        package_dir = _package_dir(module)
        value = getattr(holder, name)
        holders.append(holder)
        names.append(name)
        expected.append(value if _own_code(value, package_dir) else _UNKNOWN)
        dirs.append(package_dir)
    with _lock:
        _holders, _names, _expected, _package_dirs = tuple(holders), tuple(names), tuple(expected), tuple(dirs)
        _missing = (_MISSING,) * len(_holders)
        _labels = tuple(_label(i) for i in range(len(_holders)))
        _instance_keys.clear()
        _instance_keys.update({id(o): frozenset(vars(o)) for o in owners})


def clear() -> None:
    global _holders, _names, _missing, _expected, _labels, _package_dirs
    with _lock:
        _holders = _names = _missing = _expected = _labels = _package_dirs = ()
        _instance_keys.clear()


def active(owner: Any) -> str | None:
    """The reason the call to ``owner``'s routed method must run LiteLLM's own path because a
    double replaced something the core would step around, or None. Identity checks only,
    unless something differs."""
    if tuple(map(getattr, _holders, _names, _missing)) == _expected and vars(owner).keys() == _instance_keys.get(
        id(owner), ()
    ):
        return None
    return _changed(owner)


def _changed(owner: Any) -> str | None:
    global _expected
    with _lock:
        expected = list(_expected)
        reason = None
        for i, (holder, name) in enumerate(zip(_holders, _names)):
            value = getattr(holder, name, _MISSING)
            if value is expected[i]:
                continue
            if _own_code(value, _package_dirs[i]):
                expected[i] = value  # the library's own code again: adopt it
            elif reason is None:
                reason = _labels[i]
        _expected = tuple(expected)
        keys = _instance_keys.get(id(owner))
    if reason is None and keys is not None and vars(owner).keys() != keys:
        extra = sorted(set(vars(owner)) - keys) or sorted(keys - set(vars(owner)))
        reason = f"{_PREFIX}{type(owner).__name__} instance attribute {', '.join(extra)} patched"
    return reason


_sdk_transports: frozenset[type] = frozenset()


def sdk_transport(client: Any) -> str | None:
    """The reason the SDK tier must let the OpenAI SDK send, when the httpx client LiteLLM gave
    it has a transport other than LiteLLM's defaults (say, a ``MockTransport`` from a patched
    factory): the core would step around it."""
    global _sdk_transports
    if not _sdk_transports:
        import httpx
        from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport
        from litellm.llms.custom_httpx.http2_connection_spread import AsyncHTTP2ConnectionSpread

        _sdk_transports = frozenset(
            {httpx.HTTPTransport, httpx.AsyncHTTPTransport, LiteLLMAiohttpTransport, AsyncHTTP2ConnectionSpread}
        )
    http = getattr(client, "_client", None)
    transport = getattr(http, "_transport", None)
    if type(transport) not in _sdk_transports:
        return f"{_PREFIX}OpenAI SDK client transport {type(transport).__name__}"
    for mounted in getattr(http, "_mounts", {}).values():
        if mounted is not None and type(mounted) not in _sdk_transports:
            return f"{_PREFIX}OpenAI SDK client transport {type(mounted).__name__}"
    return None
