"""LiteLLM's generic HTTP handler with its exchange served by the core (transparent mode).

``BaseLLMHTTPHandler`` serves dozens of providers from their LiteLLM transform classes: the
transform builds URL, headers and body, LiteLLM's ``HTTPHandler.post`` sends them, and the
transform parses the ``httpx.Response``. Transparent mode changes one thing: the handler it
posts with is passed in as ``client``, a LiteLLM ``HTTPHandler``/``AsyncHTTPHandler`` whose
httpx transport is the core. LiteLLM's request building, status checks, error masking, retries on 422 and
response parsing all run as they are; only the socket work (connection pool, TLS, proxies,
timeouts) moves to Rust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from litellm.llms.custom_httpx.http_handler import (
    _DEFAULT_TIMEOUT,
    AsyncHTTPHandler,
    HTTPHandler,
    blocked_cookie_jar,
    get_default_headers,
)

from . import _core, _status
from ._errors import core_errors_as, httpx_error
from ._tls import ssl_verify

# Connection-level headers belong to the connection the core opens, not to the request.
# (``accept-encoding`` goes out: the core hands the body back as sent, for httpx to decode.)
_HOP_BY_HOP = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade", "te"})


def _outgoing(request: httpx.Request) -> tuple[str, list[tuple[str, str]], bytes, float | None]:
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
    timeout = request.extensions.get("timeout") or {}
    phases = [v for v in timeout.values() if v is not None] if isinstance(timeout, dict) else []
    return str(request.url), headers, request.read(), (max(phases) if phases else None)


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: _core.ByteStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with core_errors_as(httpx_error, request=self._request):
            yield from self._stream

    def close(self) -> None:
        self._stream.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: _core.ByteStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Natively LiteLLM's async client reads bodies through its aiohttp transport (by default).
        aiohttp = AsyncHTTPHandler.should_use_aiohttp_transport()
        with core_errors_as(httpx_error, request=self._request, aiohttp=aiohttp):
            async for piece in self._stream:
                yield piece

    async def aclose(self) -> None:
        self._stream.close()


def _response(status: int, head: list, content: Any, request: httpx.Request, body: type) -> httpx.Response:
    if isinstance(content, bytes):
        return httpx.Response(status, headers=head, content=content, request=request)
    return httpx.Response(status, headers=head, stream=body(content, request), request=request)


class CoreTransport(httpx.BaseTransport):
    """An httpx transport whose exchanges are made by the core; ``stream`` picks whether the
    body is read in full (one crossing into Rust) or handed over piece by piece."""

    def __init__(self, *, stream: bool) -> None:
        self._stream = stream

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url, headers, body, timeout = _outgoing(request)
        _status.sent()
        with core_errors_as(httpx_error, request=request):
            status, head, content = _core.send(
                request.method, url, headers, body, timeout=timeout, stream=self._stream, ssl_verify=ssl_verify()
            )
        return _response(status, head, content, request, _Body)


class AsyncCoreTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, stream: bool) -> None:
        self._stream = stream

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url, headers, body, timeout = _outgoing(request)
        _status.sent()
        with core_errors_as(httpx_error, request=request):
            status, head, content = await _core.asend(
                request.method, url, headers, body, timeout=timeout, stream=self._stream, ssl_verify=ssl_verify()
            )
        return _response(status, head, content, request, _AsyncBody)


class CoreHandlers:
    """LiteLLM ``HTTPHandler``/``AsyncHTTPHandler`` instances posting through the core, one
    per (async, streamed) shape, configured as LiteLLM's default handlers are."""

    def __init__(self) -> None:
        self._sync = {s: HTTPHandler(client=_sync_client(s)) for s in (False, True)}
        # AsyncHTTPHandler builds its httpx client around the transport it is given.
        self._async = {s: AsyncHTTPHandler(transport=AsyncCoreTransport(stream=s)) for s in (False, True)}
        self._timed: dict[tuple[Any, ...], HTTPHandler | AsyncHTTPHandler] = {}

    def pick(self, *, is_async: bool, stream: bool) -> HTTPHandler | AsyncHTTPHandler:
        return (self._async if is_async else self._sync)[stream]

    def timed(self, *, is_async: bool, stream: bool, timeout: Any) -> HTTPHandler | AsyncHTTPHandler:
        """A handler whose client carries ``timeout`` as its own: what LiteLLM's Bedrock handlers
        get from ``get_httpx_client({"timeout": httpx.Timeout(timeout)})`` and then post with
        no per-request timeout. One per distinct timeout, kept as LiteLLM caches its clients."""
        if timeout is None:
            return self.pick(is_async=is_async, stream=stream)
        limit = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        key = (is_async, stream, limit.connect, limit.read, limit.write, limit.pool)
        handler = self._timed.get(key)
        if handler is None:
            if len(self._timed) >= 64:
                self._timed.clear()
            handler = (
                AsyncHTTPHandler(timeout=limit, transport=AsyncCoreTransport(stream=stream))
                if is_async
                else HTTPHandler(client=_sync_client(stream, limit))
            )
            self._timed[key] = handler
        return handler


def _sync_client(stream: bool, timeout: httpx.Timeout = _DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        transport=CoreTransport(stream=stream),
        timeout=timeout,
        headers=get_default_headers(),
        cookies=blocked_cookie_jar(),
        follow_redirects=True,
        # Proxies come from the environment in the core, as httpx would read them.
        trust_env=False,
    )
