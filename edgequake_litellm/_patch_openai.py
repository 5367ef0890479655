"""LiteLLM's OpenAI handler with its HTTP exchange served by the core (transparent mode).

``RustOpenAIChatCompletion`` is LiteLLM's own ``OpenAIChatCompletion`` with only the four
methods that hand a finished request to the OpenAI SDK overridden. Everything around them
(parameter mapping, request transform, logging, response conversion, the drop-params and
message-reformat retries, agentic hooks, error wrapping) is LiteLLM's code, run unchanged.
The SDK client LiteLLM built still carries the call's resolved settings (base URL, key,
organization, retries); the core sends exactly that request and answers with what the SDK
would have returned: a dumpable reply, a chunk stream, or the SDK's own exception.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import openai
from litellm.litellm_core_utils.logging_utils import track_llm_api_timing
from litellm.llms.openai import openai as litellm_openai
from openai._models import FinalRequestOptions, construct_type
from openai.types.chat import ChatCompletionChunk

from . import _core, _doubles, _status
from ._call import timeout_seconds
from ._errors import core_errors_as, sdk_error
from ._logging_pace import pace
from ._sdk_shape import chunk_object
from ._tls import ssl_verify

OpenAIChatCompletion = litellm_openai.OpenAIChatCompletion


class _Reply:
    """What LiteLLM reads from the SDK's parsed reply: ``model_dump()`` (chat, embeddings),
    ``parse()`` and ``headers`` (embeddings' raw response)."""

    __slots__ = ("_body", "headers")

    def __init__(self, body: Any, headers: dict[str, str]) -> None:
        self._body = body
        self.headers = headers

    def parse(self) -> _Reply:
        return self

    def model_dump(self, **_: Any) -> Any:
        return self._body


# Per SDK client: the inputs of its last header computation, and the headers it gave.
_HEADERS: weakref.WeakKeyDictionary[Any, tuple[tuple, dict[str, str]]] = weakref.WeakKeyDictionary()
# SDK client settings whose credentials the SDK resolves per request (LiteLLM's path runs).
_PER_REQUEST_AUTH = ("_api_key_provider", "_provider_runtime", "workload_identity")
# The SDK numbers its attempts in this header, unless the caller set it.
_RETRY_COUNT = "x-stainless-retry-count"


def _sdk_headers(client: Any, path: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The headers ``client`` sends on the first attempt of this request: the SDK's own
    (``_build_headers``: auth, ``User-Agent``, ``X-Stainless-*``, organization, the caller's)
    over its HTTP client's defaults (``Accept-Encoding``, ``Connection``). Computed by the SDK
    itself, again only when the client's settings or the call's headers or timeout change."""
    call_headers = options.get("headers") or {}
    key = (
        client.api_key,
        client.organization,
        client.project,
        tuple(client._custom_headers.items()),
        tuple(call_headers.items()),
        options.get("timeout"),
    )
    cached = _HEADERS.get(client)
    if cached is not None and cached[0] == key:
        return cached[1]
    sdk = client._build_headers(FinalRequestOptions.construct(method="post", url=path, **options), retries_taken=0)
    headers = dict(client._client.headers.multi_items())
    for name, value in sdk.multi_items():
        headers.pop(name, None)  # as httpx merges them: the request's own go last
        headers[name] = value
    _HEADERS[client] = (key, headers)
    return headers


def _request(client: Any, data: dict, timeout: Any, path: str) -> tuple[dict, dict[str, Any]] | None:
    """The core arguments for the request the SDK would send, or None when the SDK client
    carries something the core does not reproduce (then LiteLLM's own path runs).

    Body and options come from LiteLLM's own split of ``data`` (``_request_without_sdk_transform``),
    so its validation (header values must be text) and its SDK options apply unchanged."""
    body, options = litellm_openai._request_without_sdk_transform(data, timeout)
    if options.get("params") or client._custom_query or not isinstance(client.api_key, str):
        return None
    if any(getattr(client, a, None) is not None for a in _PER_REQUEST_AUTH):
        return None
    extra_json = options.get("extra_json")
    headers = _sdk_headers(client, path, options)
    base = str(client.base_url)
    call_headers = options.get("headers") or {}
    kw = {
        "api_key": client.api_key,
        "api_base": base,
        "headers": headers,
        "retry_count_header": None if any(k.lower() == _RETRY_COUNT for k in call_headers) else _RETRY_COUNT,
        # One value for every phase: routing sends phased httpx.Timeouts to LiteLLM's own code.
        "timeout": timeout_seconds(timeout),
        "max_retries": client.max_retries,
        # The SDK merges extra_body over the body, shallowly.
        "body": {**body, **extra_json} if extra_json else dict(body),
        # LiteLLM builds the SDK's httpx client from its global TLS settings.
        "ssl_verify": ssl_verify(),
    }
    return {"url": base.rstrip("/") + path}, kw


class _ChunkStream:
    """The SDK's ``Stream[ChatCompletionChunk]``, over a core stream: the same chunk objects,
    the same error for an ``{"error": ...}`` event, closed when exhausted or closed."""

    chunk_type: Any = ChatCompletionChunk

    def __init__(self, stream: _core.ChatStream, client: Any, url: str) -> None:
        self._stream = stream
        self._client = client
        self._url = url
        self._pending: list[dict] = []

    def _chunk(self, data: dict) -> Any:
        error = data.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else None
            if not message or not isinstance(message, str):
                message = "An error occurred during streaming"
            self._stream.close()
            raise openai.APIError(message=message, request=httpx.Request("POST", self._url), body=error)
        if self.chunk_type is ChatCompletionChunk:
            return chunk_object(data)  # construct_type's object, built without its walk
        return construct_type(type_=self.chunk_type, value=data)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        pace()
        while not self._pending:
            with core_errors_as(sdk_error, client=self._client, url=self._url, mid_stream=True):
                batch = next(self._stream)
            self._pending = batch[::-1]
        return self._chunk(self._pending.pop())

    def close(self) -> None:
        self._stream.close()


class _AsyncChunkStream(_ChunkStream):
    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        while not self._pending:
            with core_errors_as(sdk_error, client=self._client, url=self._url, mid_stream=True):
                batch = await self._stream.__anext__()
            self._pending = batch[::-1]
        return self._chunk(self._pending.pop())

    async def aclose(self) -> None:
        self._stream.close()


def _token_limit_reply(e: Exception, data: dict, logging_obj: Any, *, is_async: bool) -> Any:
    """LiteLLM answers an output-token-limit 400 with a truncated response, not an error."""
    if isinstance(e, openai.BadRequestError) and litellm_openai.is_output_token_limit_error(e):
        return litellm_openai.build_output_token_limit_response(
            e=e,
            data=data,
            is_async=is_async,
            base_model=litellm_openai.get_base_model_from_metadata(logging_obj.model_call_details),
        )
    return None


@track_llm_api_timing()
def _chat_sync(client: Any, data: dict, timeout: Any, logging_obj: Any, req: tuple) -> tuple[dict, Any]:
    where, kw = req
    stream = bool(data.get("stream"))
    try:
        with core_errors_as(sdk_error, client=client, url=where["url"], sync_chat=True):
            result = _core.request("chat_stream" if stream else "chat", "openai", data.get("model", ""), (), **kw)
    except openai.BadRequestError as err:
        reply = _token_limit_reply(err, data, logging_obj, is_async=False)
        if reply is None:
            raise
        return reply  # type: ignore[no-any-return]
    if stream:
        return result.headers, _ChunkStream(result, client, where["url"])
    body, headers, _ = result
    return headers, _Reply(body, headers)


@track_llm_api_timing()
async def _chat_async(client: Any, data: dict, timeout: Any, logging_obj: Any, req: tuple) -> tuple[dict, Any]:
    where, kw = req
    stream = bool(data.get("stream"))
    start = time.time()
    try:
        with core_errors_as(sdk_error, client=client, url=where["url"], timed=(timeout, start)):
            result = await _core.arequest(
                "chat_stream" if stream else "chat", "openai", data.get("model", ""), (), **kw
            )
    except openai.BadRequestError as err:
        reply = _token_limit_reply(err, data, logging_obj, is_async=True)
        if reply is None:
            raise
        return reply  # type: ignore[no-any-return]
    if stream:
        return result.headers, _AsyncChunkStream(result, client, where["url"])
    body, headers, _ = result
    return headers, _Reply(body, headers)


@track_llm_api_timing()
def _embed_sync(client: Any, data: dict, timeout: Any, logging_obj: Any, req: tuple) -> _Reply:
    where, kw = req
    with core_errors_as(sdk_error, client=client, url=where["url"]):
        body, headers, _ = _core.request("embed", "openai", data.get("model", ""), (), **kw)
    return _Reply(body, headers)


@track_llm_api_timing()
async def _embed_async(client: Any, data: dict, timeout: Any, logging_obj: Any, req: tuple) -> _Reply:
    where, kw = req
    with core_errors_as(sdk_error, client=client, url=where["url"]):
        body, headers, _ = await _core.arequest("embed", "openai", data.get("model", ""), (), **kw)
    return _Reply(body, headers)


def _sync_twin(name: str, path: str, serve: Any) -> Any:
    """A sync ``make_*_request`` method: served by the core, or LiteLLM's own when the SDK
    client carries something the core does not reproduce."""
    parent = getattr(OpenAIChatCompletion, name)

    def method(self: Any, openai_client: Any, data: dict, timeout: Any, logging_obj: Any) -> Any:
        reason = _doubles.sdk_transport(openai_client)
        req = None if reason else _request(openai_client, data, timeout, path)
        if req is None:
            _status.fell_back(_ROUTES[path], reason or "sdk-client-option")
            return parent(self, openai_client=openai_client, data=data, timeout=timeout, logging_obj=logging_obj)
        _status.sent()
        return serve(openai_client, data, timeout, logging_obj=logging_obj, req=req)

    method.__name__ = name
    return method


def _async_twin(name: str, path: str, serve: Any) -> Any:
    parent = getattr(OpenAIChatCompletion, name)

    async def method(self: Any, openai_aclient: Any, data: dict, timeout: Any, logging_obj: Any) -> Any:
        reason = _doubles.sdk_transport(openai_aclient)
        req = None if reason else _request(openai_aclient, data, timeout, path)
        if req is None:
            _status.fell_back(_ROUTES[path], reason or "sdk-client-option")
            return await parent(
                self, openai_aclient=openai_aclient, data=data, timeout=timeout, logging_obj=logging_obj
            )
        _status.sent()
        return await serve(openai_aclient, data, timeout, logging_obj=logging_obj, req=req)

    method.__name__ = name
    return method


_ROUTES = {"/chat/completions": "openai.chat", "/embeddings": "openai.embedding"}


class RustOpenAIChatCompletion(OpenAIChatCompletion):  # type: ignore[misc, valid-type]
    """LiteLLM's ``OpenAIChatCompletion`` whose SDK requests are sent by the core."""

    make_sync_openai_chat_completion_request = _sync_twin(
        "make_sync_openai_chat_completion_request", "/chat/completions", _chat_sync
    )
    make_openai_chat_completion_request = _async_twin(
        "make_openai_chat_completion_request", "/chat/completions", _chat_async
    )
    make_sync_openai_embedding_request = _sync_twin("make_sync_openai_embedding_request", "/embeddings", _embed_sync)
    make_openai_embedding_request = _async_twin("make_openai_embedding_request", "/embeddings", _embed_async)
