"""An OpenAI SDK client whose requests the core sends, for LiteLLM handlers that call the SDK's
resource methods (``chat.completions.with_raw_response.create``, ``embeddings...``) themselves.

``core_client(client, route)`` is a stand-in of the client LiteLLM built (same class, same
state, so ``isinstance`` checks and attribute reads are unchanged) whose ``request`` method,
the one every resource method ends in, sends through the core. Everything before it is the
SDK's own code: the resource method's argument handling and body transform, and, for each
request, ``_prepare_options`` (Azure's ``api-key`` or ``Authorization: Bearer`` from
``azure_ad_token`` or the caller's ``azure_ad_token_provider``, called per request) and
``_build_request`` (URL with its ``api-version`` query and ``/deployments/{model}`` path,
headers in the SDK's order, body bytes). The core sends exactly that request and retries as
the SDK, renumbering ``X-Stainless-Retry-Count``; a client that prepares each attempt anew (a
token provider, asked on every attempt) builds each retry's request again, called back by the
core (``rebuild``). The core hands back what the SDK's raw response would: ``headers``,
``status_code``, ``parse()``. The client LiteLLM cached is never changed.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable
from types import MethodType
from typing import Any

from openai._base_client import AsyncAPIClient, _merge_mappings
from openai._compat import model_copy
from openai._models import FinalRequestOptions, construct_type
from openai._resource import AsyncAPIResource, SyncAPIResource
from openai._types import NotGiven, Omit
from openai._utils._json import openapi_dumps
from openai.types import Completion
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, PrivateAttr

from . import _core, _doubles, _status
from ._errors import sdk_error
from ._patch_openai import _AsyncChunkStream, _ChunkStream
from ._tls import ssl_verify

_RETRY_COUNT = "x-stainless-retry-count"
# Set by the transport for the request it sends (hyper writes them itself).
_TRANSPORT_HEADERS = frozenset({"host", "content-length"})
# Stream chunk types the core's SSE events are rendered into (as the SDK's ``Stream`` does).
_CHUNK_TYPES = frozenset({ChatCompletionChunk, Completion})
_RESOURCE_TYPES = (SyncAPIResource, AsyncAPIResource)
# What the SDK runs to build each attempt's request (``request``'s loop); code of the SDK's
# own builds the same request every time, but for the retry count (which the core numbers).
_PREPARATION = (
    "_prepare_options",
    "_build_request",
    "_prepare_request",
    "_build_headers",
    "_auth_headers",
    "auth_headers",
    "default_headers",
    "_prepare_url",
)


class _Parsed(BaseModel):
    """A chat reply as LiteLLM's Azure handler reads it (``isinstance(r, BaseModel)``, then
    ``model_dump(exclude_unset=True)``): the reply's JSON object, without building the SDK's
    ``ChatCompletion`` only to dump it again."""

    _body: dict = PrivateAttr()

    def model_dump(self, **_: Any) -> dict:  # type: ignore[override]
        return self._body


def _parsed(body: dict) -> _Parsed:
    reply = _Parsed.model_construct()
    reply._body = body
    return reply


class _RawReply:
    """What LiteLLM reads from the SDK's ``LegacyAPIResponse``: ``headers``, ``status_code``,
    ``parse()`` (the SDK's ``_parse`` + ``post_parser``, or the failure parsing raises)."""

    __slots__ = ("_make", "headers", "status_code")

    def __init__(self, headers: dict[str, str], status_code: int, make: Callable[[], Any]) -> None:
        self.headers = headers
        self.status_code = status_code
        self._make = make

    def parse(self) -> Any:
        return self._make()


def _parse(cast_to: Any, options: FinalRequestOptions, body: Any) -> Any:
    """The SDK's ``LegacyAPIResponse.parse()`` of a JSON reply (its client never validates
    strictly here: ``_unsupported``)."""
    post_parser = options.post_parser
    if cast_to is ChatCompletion and isinstance(body, dict) and isinstance(post_parser, NotGiven):
        return _parsed(body)
    return _post_parse(options, construct_type(type_=cast_to, value=body))


def _post_parse(options: FinalRequestOptions, parsed: Any) -> Any:
    post_parser = options.post_parser
    return parsed if isinstance(post_parser, NotGiven) else post_parser(parsed)


def _undecodable(err: _core.CoreError, client: Any, url: str, options: FinalRequestOptions) -> Callable[[], Any]:
    """``parse()`` of a reply that is not JSON: the SDK returns the text (through the
    request's ``post_parser``) when the content type does not say JSON, else raises json's
    error (LiteLLM wraps either its own way)."""
    content_type = (err.headers or {}).get("content-type", "*").split(";")[0]
    if not content_type.endswith("json"):
        text = err.body or ""
        return lambda: _post_parse(options, text)

    def fail() -> Any:
        raise sdk_error(err, client=client, url=url)

    return fail


def _unsupported(client: Any, options: FinalRequestOptions, stream: bool, stream_cls: Any) -> str | None:
    """Why this request must be sent by the SDK itself, if it must."""
    reason = _doubles.sdk_transport(client)
    if reason:
        return reason
    if options.method.lower() != "post" or options.files is not None or options.content is not None:
        return "sdk-request-shape"
    if options.follow_redirects is not None or client._strict_response_validation:
        return "sdk-client-option"
    if client._custom_auth(options.security) is not None:
        return "sdk-client-option"
    if stream and _chunk_type(stream_cls) is None:
        return "sdk-stream-type"
    return None


def _chunk_type(stream_cls: Any) -> Any:
    args = getattr(stream_cls, "__args__", None) or (None,)
    return args[0] if args[0] in _CHUNK_TYPES else None


def _timeout(client: Any, options: FinalRequestOptions) -> float | None | str:
    """The request's timeout in seconds (None: none), or ``"phased"`` for one the core does
    not reproduce (httpx phases with different values)."""
    t = client.timeout if isinstance(options.timeout, NotGiven) else options.timeout
    if hasattr(t, "connect") and hasattr(t, "pool"):
        phases = {t.connect, t.read, t.write, t.pool}
        if len(phases) > 1:
            return "phased"
        t = phases.pop()
    return None if t is None else float(t)


def _start(client: Any, cast_to: Any, options: FinalRequestOptions) -> tuple[Any, FinalRequestOptions, int]:
    """The SDK's ``request`` up to its attempt loop. The idempotency key is drawn only for a
    client that sends one (``_idempotency_header``): otherwise nothing reads it."""
    cast_to = client._maybe_override_cast_to(cast_to, options)
    input_options = model_copy(options)
    if (
        input_options.idempotency_key is None
        and input_options.method.lower() != "get"
        and client._idempotency_header is not None
    ):
        input_options.idempotency_key = client._idempotency_key()
    max_retries = input_options.get_max_retries(client.max_retries)
    client._validate_max_retries(max_retries)
    return cast_to, input_options, max_retries


def _wire(request: Any) -> tuple[str, dict[str, str], bytes]:
    """URL, headers and body bytes of a request the SDK built, as the core sends them."""
    headers = {k: v for k, v in request.headers.multi_items() if k.lower() not in _TRANSPORT_HEADERS}
    return str(request.url), headers, request.content


def _send_kw(
    prepared: FinalRequestOptions, wire: tuple[str, dict[str, str], bytes], max_retries: int, timeout: float | None
) -> dict[str, Any]:
    """The core's arguments for the SDK's first attempt, exactly as built."""
    call_headers = prepared.headers if isinstance(prepared.headers, dict) else {}
    url, headers, content = wire
    return {
        "url": url,
        "content": content,
        "headers": headers,
        "retry_count_header": None if any(k.lower() == _RETRY_COUNT for k in call_headers) else _RETRY_COUNT,
        "timeout": timeout,
        "max_retries": max_retries,
        "ssl_verify": ssl_verify(),
    }


def _prepares_per_attempt(client: Any) -> bool:
    """Whether the SDK's preparation of an attempt may differ from the first one's: a token
    or key provider asked on every attempt, or request-building code that is not the SDK's
    own (a subclass, a double). Otherwise the first attempt's request is resent as is."""
    if getattr(client, "_azure_ad_token_provider", None) is not None:
        return True
    if getattr(client, "_api_key_provider", None) is not None:
        return True
    state = client.__dict__
    if any(name in state for name in _PREPARATION):
        return True
    return not _sdk_own_preparation(type(client))


# Per client class: its preparation code (by identity) and whether all of it is the SDK's.
_OWN_PREPARATION: weakref.WeakKeyDictionary[type, tuple[tuple[Any, ...], bool]] = weakref.WeakKeyDictionary()


def _sdk_own_preparation(cls: type) -> bool:
    code = tuple(getattr(cls, name, None) for name in _PREPARATION)
    known = _OWN_PREPARATION.get(cls)
    if known is not None and known[0] == code:
        return known[1]
    own = all(getattr(getattr(c, "fget", c), "__module__", "openai").startswith("openai") for c in code)
    _OWN_PREPARATION[cls] = (code, own)
    return own


# The SDK's first-attempt URL and headers per client state and request shape (everything
# ``_prepare_options``, ``_build_headers`` and ``_build_request`` read but the body, which is
# serialized per request as ``_build_request`` does). Used only where the SDK's preparation is
# its own, reads no per-attempt credential, and its source is the one this was read against.
_BUILT: dict[tuple, tuple[str, dict[str, str]]] = {}
_BUILT_MAX = 512


def _frozen(value: Any) -> Any:
    if isinstance(value, (NotGiven, Omit)):  # instances that compare by identity, one per call
        return type(value)
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if all(hasattr(value, a) for a in ("connect", "read", "write", "pool")):  # an httpx Timeout
        return (type(value), value.connect, value.read, value.write, value.pool)
    hash(value)  # unhashable: TypeError, no cache
    return value


# The SDK classes whose request preparation the cache was read against, and the digest of that
# code (every member of ``_PREPARATION`` and what they call that reads client state).
_PINNED_BUILD = "2cab4de242e496b3"
_BUILD_MEMBERS = (*_PREPARATION, "_auth_query", "default_query", "_validate_headers", "_maybe_override_cast_to")
_pinned_classes: list[frozenset[type]] = []


def build_digest() -> str:
    """The digest of the SDK's request-building code of the four client classes."""
    import hashlib
    import inspect

    import openai

    h = hashlib.sha256()
    for cls in (openai.OpenAI, openai.AsyncOpenAI, openai.AzureOpenAI, openai.AsyncAzureOpenAI):
        for name in _BUILD_MEMBERS:
            member = inspect.getattr_static(cls, name)
            member = getattr(member, "fget", None) or getattr(member, "__func__", None) or member
            h.update(f"{cls.__name__}.{name}:".encode() + inspect.getsource(member).encode())
    for fn in (openapi_dumps, _merge_mappings):
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()[:16]


def _cacheable_classes() -> frozenset[type]:
    if not _pinned_classes:
        import openai

        try:
            same = build_digest() == _PINNED_BUILD
        except (OSError, TypeError, AttributeError):
            same = False
        classes = (openai.OpenAI, openai.AsyncOpenAI, openai.AzureOpenAI, openai.AsyncAzureOpenAI)
        _pinned_classes.append(frozenset(classes) if same else frozenset())
    return _pinned_classes[0]


def _settings(name: str, value: Any) -> bool:
    """Whether a client attribute is a setting (not a resource object the client caches, its
    ``with_*`` views, or the stand-in's ``request``)."""
    return name != "request" and not name.startswith("with_") and not isinstance(value, _RESOURCE_TYPES)


def _shape(client: Any, options: FinalRequestOptions) -> tuple | None:
    """The cache key of this request's URL and headers, or None when it is not cached."""
    if type(client) not in _cacheable_classes() or client._idempotency_header is not None:
        return None
    if _prepares_per_attempt(client):
        return None
    json_data = options.json_data
    try:
        key = (
            type(client),
            tuple((k, _frozen(v)) for k, v in client.__dict__.items() if _settings(k, v)),
            _frozen(client._client.headers.multi_items()),
            options.method,
            options.url,
            _frozen(options.headers),
            _frozen(options.params),
            _frozen(options.max_retries),
            _frozen(options.timeout),
            _frozen(options.security),
            json_data.get("model") if isinstance(json_data, dict) else type(json_data),
        )
        hash(key)
    except TypeError:
        return None
    return key


def _body(options: FinalRequestOptions) -> bytes | None:
    """The request body ``_build_request`` writes (JSON bodies only: else None)."""
    json_data = options.json_data
    if options.extra_json is not None:
        if json_data is None:
            json_data = options.extra_json
        elif isinstance(json_data, dict):
            json_data = _merge_mappings(json_data, options.extra_json)
        else:
            return None
    if isinstance(json_data, bytes):
        return json_data
    return openapi_dumps(json_data) if isinstance(json_data, dict) else None


def _cached_wire(key: tuple | None, options: FinalRequestOptions) -> tuple[str, dict[str, str], bytes] | None:
    built = _BUILT.get(key) if key is not None else None
    if built is None:
        return None
    content = _body(options)
    return None if content is None else (built[0], built[1], content)


def _remember(key: tuple | None, request: Any) -> tuple[str, dict[str, str], bytes]:
    wire = _wire(request)
    if key is not None:
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        _BUILT[key] = (wire[0], wire[1])
    return wire


def _sync_rebuild(client: Any, input_options: FinalRequestOptions) -> Callable[[int], Any]:
    """Retry attempt ``n``'s request, prepared as the SDK's ``request`` loop prepares it."""

    def rebuild(attempt: int) -> tuple[str, dict[str, str], bytes]:
        prepared = client._prepare_options(model_copy(input_options))
        request = client._build_request(prepared, retries_taken=attempt)
        client._prepare_request(request)
        return _wire(request)

    return rebuild


def _async_rebuild(client: Any, input_options: FinalRequestOptions) -> Callable[[int], Any]:
    """``_sync_rebuild`` for the async client: its preparation (an async token provider
    included) runs on the caller's event loop, in the caller's context; the core, on its
    own thread, waits for the returned ``concurrent.futures.Future``."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()

    async def prepare(attempt: int) -> tuple[str, dict[str, str], bytes]:
        prepared = await client._prepare_options(model_copy(input_options))
        request = client._build_request(prepared, retries_taken=attempt)
        await client._prepare_request(request)
        return _wire(request)

    def rebuild(attempt: int) -> Any:
        return context.run(asyncio.run_coroutine_threadsafe, prepare(attempt), loop)

    return rebuild


class _Sent:
    """One request the SDK built, about to be sent by the core."""

    __slots__ = ("cast_to", "client", "kw", "prepared", "stream", "stream_cls")

    def __init__(self, client: Any, cast_to: Any, prepared: Any, kw: dict, stream: bool, stream_cls: Any) -> None:
        self.client = client
        self.cast_to = cast_to
        self.prepared = prepared
        self.kw = kw
        self.stream = stream
        self.stream_cls = stream_cls

    @property
    def op(self) -> str:
        return "chat_stream" if self.stream else "chat"

    def failed(self, err: _core.CoreError) -> _RawReply:
        """A decode failure surfaces at ``parse()``, as in the SDK; anything else now."""
        url = self.kw["url"]
        if err.kind == "decode" and not self.stream:
            return _RawReply(err.headers, int(err.status or 200), _undecodable(err, self.client, url, self.prepared))
        raise sdk_error(err, client=self.client, url=url) from err

    def reply(self, result: Any, stream_type: type) -> _RawReply:
        if self.stream:
            chunks = stream_type(result, self.client, self.kw["url"])
            chunks.chunk_type = _chunk_type(self.stream_cls)
            return _RawReply(result.headers, 200, lambda: chunks)
        body, headers, status = result
        cast_to, prepared = self.cast_to, self.prepared
        return _RawReply(headers, status, lambda: _parse(cast_to, prepared, body))


def _sync_request(route: str) -> Callable[..., Any]:
    def request(
        self: Any, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        reason = _unsupported(self, options, stream, stream_cls)
        timeout = None if reason else _timeout(self, options)
        if reason or timeout == "phased":
            _status.fell_back(route, reason or "phased-timeout")
            return type(self).request(self, cast_to, options, stream=stream, stream_cls=stream_cls)
        cast_to, input_options, max_retries = _start(self, cast_to, options)
        key = _shape(self, input_options)
        prepared, wire = input_options, _cached_wire(key, input_options)
        if wire is None:
            prepared = self._prepare_options(model_copy(input_options))
            request = self._build_request(prepared, retries_taken=0)
            self._prepare_request(request)
            wire = _remember(key, request)
        sent = _Sent(self, cast_to, prepared, _send_kw(prepared, wire, max_retries, timeout), stream, stream_cls)
        if max_retries and _prepares_per_attempt(self):
            sent.kw["rebuild"] = _sync_rebuild(self, input_options)
        _status.sent()
        try:
            result = _core.request(sent.op, "openai", "", (), **sent.kw)
        except _core.CoreError as err:
            return sent.failed(err)
        return sent.reply(result, _ChunkStream)

    return request


def _async_request(route: str) -> Callable[..., Any]:
    async def request(
        self: Any, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        reason = _unsupported(self, options, stream, stream_cls)
        timeout = None if reason else _timeout(self, options)
        if reason or timeout == "phased":
            _status.fell_back(route, reason or "phased-timeout")
            return await type(self).request(self, cast_to, options, stream=stream, stream_cls=stream_cls)
        cast_to, input_options, max_retries = _start(self, cast_to, options)
        key = _shape(self, input_options)
        prepared, wire = input_options, _cached_wire(key, input_options)
        if wire is None:
            prepared = await self._prepare_options(model_copy(input_options))
            request = self._build_request(prepared, retries_taken=0)
            await self._prepare_request(request)
            wire = _remember(key, request)
        sent = _Sent(self, cast_to, prepared, _send_kw(prepared, wire, max_retries, timeout), stream, stream_cls)
        if max_retries and _prepares_per_attempt(self):
            sent.kw["rebuild"] = _async_rebuild(self, input_options)
        _status.sent()
        try:
            result = await _core.arequest(sent.op, "openai", "", (), **sent.kw)
        except _core.CoreError as err:
            return sent.failed(err)
        return sent.reply(result, _AsyncChunkStream)

    return request


_REQUESTS = {False: _sync_request, True: _async_request}


def core_client(client: Any, route: str) -> Any:
    """A stand-in of ``client`` whose requests the core sends (``route`` names them in
    ``status()`` when one falls back to the SDK). Resource objects the client cached are left
    out, so the stand-in builds its own, bound to it."""
    proxy = object.__new__(type(client))
    state = proxy.__dict__
    for name, value in client.__dict__.items():
        if not isinstance(value, _RESOURCE_TYPES) and not name.startswith("with_"):
            state[name] = value
    is_async = isinstance(client, AsyncAPIClient)
    state["request"] = MethodType(_REQUESTS[is_async](route), proxy)
    return proxy
