"""LiteLLM's text completion handlers with their SDK requests sent by the core (transparent mode).

``RustOpenAITextCompletion`` is LiteLLM's own ``OpenAITextCompletion`` (``text-completion-openai``,
``openai/<instruct model>`` text completions and the OpenAI-compatible providers LiteLLM sends
to ``/completions``). LiteLLM builds a new SDK client per call, with the module function
``build_openai_client`` / ``build_async_openai_client``, unless the call brings one: the twin
builds that very client, with LiteLLM's own arguments and http-client factory at the point
where LiteLLM would (lazily for streams), and hands LiteLLM its stand-in
(``_sdk_send.core_client``) as ``client=``. LiteLLM's code then runs unchanged (request
transform, logging, ``TextCompletionResponse``, stream wrapper, error wrapping) and the SDK
builds every request the core sends. Only the sync non-streamed path builds its client inline:
there the twin reads ``max_retries`` as LiteLLM does, from its own request transform.

``RustAzureTextCompletion`` is LiteLLM's ``AzureTextCompletion`` (``azure_text/``), which obtains
its SDK clients through ``get_azure_openai_client``, overridden as for Azure chat.

A client that cannot be built falls back to LiteLLM building it (its error, its wrapping); a
client whose httpx defaults trust something the core would not (``litellm.ssl_verify`` and
``SSL_VERIFY`` do not apply to it, ``SSL_CERT_DIR`` does) is handed to LiteLLM as built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm.llms.azure.completion.handler import AzureTextCompletion
from litellm.llms.openai.common_utils import BaseOpenAILLM, OpenAIAsyncHTTPClient, OpenAIHTTPClient
from litellm.llms.openai.completion import handler as text_handler
from litellm.types.utils import LlmProviders
from litellm.utils import ProviderConfigManager

from . import _status
from ._sdk_send import core_client
from ._tls import httpx_default, ssl_verify

OPENAI_TEXT, AZURE_TEXT = "openai.text", "azure.text"
OpenAITextCompletion = text_handler.OpenAITextCompletion
_END = object()
# The http clients ``build_*openai_client`` makes when no session is set: httpx defaults.
_HTTPX_DEFAULT_CLIENTS = (OpenAIHTTPClient, OpenAIAsyncHTTPClient)


def _tls_reason(client: Any) -> str | None:
    http = getattr(client, "_client", None)
    if isinstance(http, _HTTPX_DEFAULT_CLIENTS) and ssl_verify() != httpx_default():
        return "tls-settings"
    return None


def _served(client: Any) -> Any:
    """``client``'s stand-in, or ``client`` itself (counted) where the core would differ."""
    reason = _tls_reason(client)
    if reason is not None:
        _status.fell_back(OPENAI_TEXT, reason)
        return client
    return core_client(client, OPENAI_TEXT)


def _build(is_async: bool, factory: Any, kw: dict[str, Any], max_retries: Any) -> Any:
    """The client LiteLLM's handler builds for this call (``build_openai_client`` or its async
    twin, looked up where LiteLLM looks it up), as a stand-in; None when building fails, so
    that LiteLLM builds it again and fails its own way."""
    build = text_handler.build_async_openai_client if is_async else text_handler.build_openai_client
    try:
        client = build(
            api_key=kw.get("api_key"),
            api_base=kw.get("api_base"),
            timeout=kw.get("timeout"),
            max_retries=max_retries,
            organization=kw.get("organization"),
            litellm_params=kw.get("litellm_params"),
            static_key_http_client_factory=factory,
        )
    except Exception:  # noqa: BLE001 - LiteLLM's own build raises it again, as unpatched
        _status.fell_back(OPENAI_TEXT, "sdk-client-error")
        return None
    return _served(client)


def _sync_session() -> Any:
    return litellm.client_session


def _async_session() -> Any:
    return litellm.aclient_session


class RustOpenAITextCompletion(OpenAITextCompletion):  # type: ignore[misc, valid-type]
    """LiteLLM's ``OpenAITextCompletion`` whose SDK requests are sent by the core."""

    def completion(self, **kw: Any) -> Any:  # type: ignore[override]
        optional_params = kw.get("optional_params") or {}
        if kw.get("client") is None and not kw.get("acompletion") and not optional_params.get("stream", False):
            max_retries = self._max_retries(kw)
            client = None if max_retries is _END else _build(False, _sync_session, kw, max_retries)
            if client is not None:
                kw = {**kw, "client": client}
        return super().completion(**kw)

    def _max_retries(self, kw: dict[str, Any]) -> Any:
        """``max_retries`` as ``completion`` reads it: popped from its own request transform
        (``_END`` when that raises: LiteLLM raises it again, before building any client)."""
        try:
            headers, optional_params = kw.get("headers"), dict(kw["optional_params"])
            if headers:
                optional_params["extra_headers"] = headers
            if headers is None:
                headers = self.validate_environment(api_key=kw.get("api_key"))
            config = ProviderConfigManager.get_provider_text_completion_config(
                model=kw["model"], provider=LlmProviders(kw["custom_llm_provider"])
            )
            data = config.transform_text_completion_request(
                model=kw["model"], messages=kw["messages"], optional_params=optional_params, headers=headers
            )
        except Exception:  # noqa: BLE001 - LiteLLM's own transform raises it, as unpatched
            return _END
        return data.pop("max_retries", 2)

    async def acompletion(self, **kw: Any) -> Any:  # type: ignore[override]
        if kw.get("client") is None:
            kw = {**kw, "client": _build(True, BaseOpenAILLM.get_async_http_client, kw, kw.get("max_retries"))}
        return await super().acompletion(**kw)

    def streaming(self, **kw: Any) -> Iterator[Any]:  # type: ignore[override]
        # LiteLLM's is a generator: it builds and sends on the first read, after the routed
        # call returned; the call it belongs to is resumed around that read.
        return self._stream(_status.current(), kw)

    def _stream(self, call: Any, kw: dict[str, Any]) -> Iterator[Any]:
        def start() -> tuple[Iterator[Any], Any]:
            client = kw.get("client")
            if client is None:
                client = _build(False, _sync_session, kw, kw.get("max_retries"))
            inner = OpenAITextCompletion.streaming(self, **{**kw, "client": client})
            return inner, next(inner, _END)

        inner, first = _status.resumed(call, start)
        if first is _END:
            return
        yield first
        yield from inner

    def async_streaming(self, **kw: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        return self._astream(_status.current(), kw)

    async def _astream(self, call: Any, kw: dict[str, Any]) -> AsyncIterator[Any]:
        async def start() -> tuple[Any, Any]:
            client = kw.get("client")
            if client is None:
                client = _build(True, _async_session, kw, kw.get("max_retries"))
            inner = OpenAITextCompletion.async_streaming(self, **{**kw, "client": client})
            try:
                return inner, await inner.__anext__()
            except StopAsyncIteration:
                return inner, _END

        inner, first = await _status.aresumed(call, start)
        try:
            if first is _END:
                return
            yield first
            async for chunk in inner:
                yield chunk
        finally:
            await inner.aclose()


class RustAzureTextCompletion(AzureTextCompletion):  # type: ignore[misc]
    """LiteLLM's ``AzureTextCompletion`` whose SDK requests are sent by the core."""

    def get_azure_openai_client(self, *args: Any, **kwargs: Any) -> Any:
        client = super().get_azure_openai_client(*args, **kwargs)
        return None if client is None else core_client(client, AZURE_TEXT)
