"""Core errors as the exceptions LiteLLM's own code raises: one table, LiteLLM's own mapping.

A core error has a ``kind`` (``rust/errors.rs``). ``TABLE`` has one row per kind and one column
per component whose exception the failure must look like where it surfaces:

- ``openai``, ``anthropic``, ``gemini``: what LiteLLM's provider handler for that wire family
  raises before its ``exception_type`` mapping (``None``: as the ``openai`` column). ``to_litellm``
  hands it to ``exception_type`` with the real provider name, so class, status and message are
  those LiteLLM's native path produces for the same upstream answer (``edgequake/``, direct API);
- ``sdk``: what the OpenAI SDK call (as LiteLLM's handler makes it) raises, for LiteLLM's handler
  to catch and map itself (transparent mode's SDK tier, ``_patch_openai.py``);
- ``httpx``: what httpx's transport raises, for LiteLLM's HTTP handler (transparent mode's
  generic tier, ``_patch_http.py``).

``core_errors_as`` is the one ``except CoreError`` every call site uses.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import litellm
import openai
from litellm.litellm_core_utils.exception_mapping_utils import exception_type
from litellm.llms.openai.common_utils import OpenAIError
from openai._legacy_response import LegacyAPIResponse
from openai.types.chat import ChatCompletion

from ._call import OPENAI, family, not_served
from ._core import CoreError

_FIREWORKS_NO_KEY = "FIREWORKS_API_KEY is not set"


class core_errors_as:  # noqa: N801 - used as a statement: ``with core_errors_as(...):``
    """``with core_errors_as(convert, **how):`` a ``CoreError`` raised in the block leaves it as
    ``convert(err, **how)``, chained to the core's error; anything else passes unchanged."""

    __slots__ = ("_convert", "_how")

    def __init__(self, convert: Callable[..., Exception], **how: Any) -> None:
        self._convert = convert
        self._how = how

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(err, CoreError):
            raise self._convert(err, **self._how) from err


@dataclass(frozen=True)
class Seen:
    """Where a failure surfaces: what a cell of ``TABLE`` may read besides the error."""

    provider: str = OPENAI
    model: str = ""
    url: str | None = None
    mid_stream: bool = False  # while iterating a stream
    embedding: bool = False
    client: Any = None  # the OpenAI SDK client (``sdk`` column)
    request: httpx.Request | None = None  # the httpx request (``httpx`` column)
    sync_chat: bool = False  # LiteLLM's sync SDK chat helper (``sdk`` column)
    aiohttp: bool = False  # LiteLLM's async client reads through its aiohttp transport (``httpx`` column)


Cell = Callable[[CoreError, Seen], "Exception | None"]


@dataclass(frozen=True)
class Row:
    openai: Cell
    anthropic: Cell | None
    gemini: Cell | None
    sdk: Cell
    httpx: Cell


def _request(url: str | None) -> httpx.Request:
    # The URL is only used for the exception's repr; never include the query (it may hold a key).
    return httpx.Request("POST", (url or "http://localhost").split("?", 1)[0])


def _headers(err: CoreError) -> httpx.Headers:
    return httpx.Headers(err.headers or {})


def _sdk_status_message(status: int, text: str) -> tuple[str, Any]:
    """The OpenAI SDK's message and body for an HTTP error: ``Error code: N - <error.message>``
    (the message part only when the body is JSON carrying one), body parsed when it is JSON."""
    message = f"Error code: {status}"
    body: Any = text.strip()
    try:
        body = json.loads(body)
    except ValueError:
        return message, body
    error = body.get("error", body) if isinstance(body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    if isinstance(detail, str) and detail:
        message += f" - {detail}"
    return message, body


def _sdk_stream_error(err: CoreError, seen: Seen) -> Exception:
    """What the OpenAI SDK raises for an ``{"error": ...}`` event in a 200 stream."""
    try:
        body = json.loads(err.body or "null")
    except ValueError:
        body = None
    return openai.APIError(message=err.message, request=_request(seen.url), body=body)


def _sdk_timeout(err: CoreError, seen: Seen) -> Exception:
    return openai.APITimeoutError(request=_request(seen.url))


# ---- the ``openai`` column: LiteLLM's OpenAI-family handlers, before its mapping


def _openai_status(err: CoreError, seen: Seen) -> Exception:
    status = int(err.status or 500)
    message, body = _sdk_status_message(status, err.body or "")
    headers = _headers(err)
    response = httpx.Response(status_code=status, headers=headers, request=_request(seen.url))
    # LiteLLM's embedding handler passes no body on (its mapping then quotes the SDK's
    # whole text); its chat handler does, and the mapping quotes the body's message.
    return OpenAIError(
        status_code=status, message=message, headers=headers, response=response, body=None if seen.embedding else body
    )


def _openai_other(err: CoreError, seen: Seen) -> Exception:
    """Invalid request (raised by the SDK before sending), too large, internal: LiteLLM's
    handler wraps what the SDK raises as a status-500 ``OpenAIError`` with the SDK's text.
    While iterating, LiteLLM's stream wrapper maps the SDK's read failure itself; the core's
    own limits have no native counterpart there: their text says which."""
    if seen.mid_stream:
        return openai.APIConnectionError(message=f"Connection error. {err.message}", request=_request(seen.url))
    return OpenAIError(status_code=500, message=err.message)


def _openai_connection(err: CoreError, seen: Seen) -> Exception:
    # The SDK's "Connection error." for every transport failure.
    if seen.mid_stream:
        return openai.APIConnectionError(message="Connection error.", request=_request(seen.url))
    return OpenAIError(status_code=500, message="Connection error.")


def _openai_decode(err: CoreError, seen: Seen) -> Exception:
    if seen.mid_stream:
        # LiteLLM's stream wrapper reports json's text for bad data in a stream.
        message = "Connection error."
        if err.body is not None:
            try:
                json.loads(err.body)
            except ValueError as e:
                message = str(e)
        return openai.APIConnectionError(message=message, request=_request(seen.url))
    # LiteLLM's native handler fails to parse the reply and reports it as a 500.
    return OpenAIError(status_code=500, message=f"error - {err.message}")


def _openai_invalid(err: CoreError, seen: Seen) -> Exception:
    if seen.provider == "openai_like" and err.status == 400:
        # OpenAILikeBase's own check (missing key or base), raised before the SDK runs.
        from litellm.llms.openai_like.common_utils import OpenAILikeError

        return OpenAILikeError(status_code=400, message=err.message)
    if seen.provider == "fireworks_ai" and err.message == _FIREWORKS_NO_KEY:
        return ValueError(err.message)  # raised by LiteLLM's Fireworks config, before sending
    return _openai_other(err, seen)


def _not_served(err: CoreError, seen: Seen) -> Exception:
    return not_served(seen.provider, seen.model, err.message)


# ---- the ``anthropic`` column: LiteLLM's Anthropic handler raises ``AnthropicError`` with the
# upstream's raw error text, and lets the transport's exceptions through (the ``openai`` column).


def _anthropic_status(err: CoreError, seen: Seen) -> Exception:
    from litellm.llms.anthropic.common_utils import AnthropicError

    return AnthropicError(status_code=int(err.status or 500), message=err.body or "", headers=_headers(err))


def _anthropic_decode(err: CoreError, seen: Seen) -> Exception:
    from litellm.llms.anthropic.common_utils import AnthropicError

    return AnthropicError(status_code=int(err.status or 200), message=err.message)


def _anthropic_invalid(err: CoreError, seen: Seen) -> Exception | None:
    if err.message.startswith("Missing Anthropic API Key"):
        # AnthropicModelInfo.validate_environment raises this one itself, unmapped.
        return litellm.AuthenticationError(message=err.message, llm_provider="anthropic", model=seen.model)
    return None


# ---- the ``gemini`` column: LiteLLM's Gemini handler raises ``VertexAIError`` with the
# upstream's raw error text.


def _gemini_status(err: CoreError, seen: Seen) -> Exception:
    from litellm.llms.vertex_ai.common_utils import VertexAIError

    return VertexAIError(status_code=int(err.status or 500), message=err.body or "", headers=_headers(err))


def _gemini_decode(err: CoreError, seen: Seen) -> Exception:
    from litellm.llms.vertex_ai.common_utils import VertexAIError

    # LiteLLM wraps any failure to read a Gemini reply as a 422.
    return VertexAIError(
        status_code=422,
        message=f"Error converting to valid response block={err.message}. File an issue if litellm error - "
        "https://github.com/BerriAI/litellm/issues",
    )


def _gemini_connection(err: CoreError, seen: Seen) -> Exception:
    # LiteLLM's Gemini handler lets httpx's transport error through to its mapping.
    return httpx.ConnectError(err.message, request=_request(None))


def _gemini_invalid(err: CoreError, seen: Seen) -> Exception:
    if err.message.startswith("Missing Gemini API key"):
        return ValueError(err.message)
    return litellm.BadRequestError(message=err.message, llm_provider="gemini", model=seen.model)


# ---- the ``sdk`` column: the OpenAI SDK, whose requests and responses are ``httpx`` objects
# (LiteLLM gives it an ``httpx`` client).


def _sdk_status(err: CoreError, seen: Seen) -> Exception:
    status = int(err.status or 500)
    headers = httpx.Headers(list((err.headers or {}).items()))
    content = (err.body or "").encode()
    coding = headers.get("content-encoding", "").lower()
    # The core hands the body over decoded, the headers as sent: encode it again for
    # httpx, which decodes by the headers, so the SDK sees what it sees natively.
    if "gzip" in coding:
        content = gzip.compress(content, mtime=0)
    elif "deflate" in coding:
        content = zlib.compress(content)
    response = httpx.Response(status, headers=headers, content=content, request=_request(seen.url))
    return seen.client._make_status_error_from_response(response)  # type: ignore[no-any-return]


def _sdk_decode(err: CoreError, seen: Seen) -> Exception:
    # The SDK hands the body to json, whose error LiteLLM then wraps.
    error: Exception = json.JSONDecodeError(err.message, err.body or "", 0)
    try:
        json.loads(err.body or "")
    except ValueError as e:
        error = e
    if seen.sync_chat:
        # LiteLLM's sync chat helper wraps a parse failure with the SDK response's repr,
        # which quotes the upstream's status line.
        sdk_reply = f"<APIResponse [{err.status} {err.reason}] type={ChatCompletion}>"
        return Exception(f"error - {error}, Received response - {sdk_reply}, Type of response - {LegacyAPIResponse}")
    return error


def _sdk_connection(err: CoreError, seen: Seen) -> Exception:
    return openai.APIConnectionError(request=_request(seen.url))


def _sdk_other(err: CoreError, seen: Seen) -> Exception:
    # Raised before or around the exchange.
    if seen.mid_stream:
        return _sdk_connection(err, seen)
    return openai.APIError(message=err.message, request=_request(seen.url), body=None)


# ---- the ``httpx`` column: httpx's own transport, with OS-level failures worded as Python's
# ``OSError`` (which httpx's messages carry).

_GAI_ERRORS = {"Name or service not known": -2, "Temporary failure in name resolution": -3}
_OS_ERROR = re.compile(r"([^:()]+?)\s*\(os error (-?\d+)\)")


def _socket_message(text: str) -> str:
    """``... Connection refused (os error 111)`` -> ``[Errno 111] Connection refused``."""
    m = _OS_ERROR.search(text)
    if m:
        return f"[Errno {m.group(2)}] {m.group(1).strip()}"
    for reason, errno in _GAI_ERRORS.items():
        if reason in text:
            return f"[Errno {errno}] {reason}"
    return text


def _httpx_timeout(err: CoreError, seen: Seen) -> Exception:
    cls = httpx.ConnectTimeout if "connect" in err.message else httpx.ReadTimeout
    return cls(_socket_message(err.message), request=seen.request)


# hyper's words for a body the peer ended early (between chunks: the size line), which httpx's
# transport (h11) raises as ``RemoteProtocolError``.
_CUT_BODY = "error reading a body from connection"
_CUT_CHUNKED = "unexpected EOF during chunk size line"


# ... and LiteLLM's aiohttp transport as ``ReadError``, in aiohttp's words.
_CUT_CHUNKED_AIOHTTP = (
    "Response payload is not completed: <TransferEncodingError: 400, message='Not enough data to satisfy "
    "transfer length header.'>"
)


def _httpx_connection(err: CoreError, seen: Seen) -> Exception:
    if _CUT_BODY in err.message:
        chunked = _CUT_CHUNKED in err.message
        if seen.aiohttp:
            return httpx.ReadError(_CUT_CHUNKED_AIOHTTP if chunked else err.message, request=seen.request)
        text = "peer closed connection without sending complete message body (incomplete chunked read)"
        return httpx.RemoteProtocolError(text if chunked else err.message, request=seen.request)
    connecting = "connect" in err.message.lower() or "dns" in err.message.lower()
    return (httpx.ConnectError if connecting else httpx.ReadError)(_socket_message(err.message), request=seen.request)


def _httpx_invalid(err: CoreError, seen: Seen) -> Exception:
    return httpx.UnsupportedProtocol(_socket_message(err.message), request=seen.request)


def _httpx_read(err: CoreError, seen: Seen) -> Exception:
    return httpx.ReadError(_socket_message(err.message), request=seen.request)


_OTHER = Row(openai=_openai_other, anthropic=None, gemini=None, sdk=_sdk_other, httpx=_httpx_read)

# One row per core error kind (``rust/errors.rs``); a kind not listed reads as ``internal``.
TABLE: dict[str, Row] = {
    "status": Row(_openai_status, _anthropic_status, _gemini_status, _sdk_status, _httpx_read),
    "timeout": Row(_sdk_timeout, None, None, _sdk_timeout, _httpx_timeout),
    "stream_error": Row(_sdk_stream_error, None, None, _sdk_stream_error, _httpx_read),
    "connection": Row(_openai_connection, None, _gemini_connection, _sdk_connection, _httpx_connection),
    "decode": Row(_openai_decode, _anthropic_decode, _gemini_decode, _sdk_decode, _httpx_read),
    "invalid_request": Row(_openai_invalid, _anthropic_invalid, _gemini_invalid, _sdk_other, _httpx_invalid),
    "not_served": Row(_not_served, None, None, _sdk_other, _httpx_read),
    "too_large": _OTHER,
    "internal": _OTHER,
    "unsupported": _OTHER,
}


def amend_timeout(e: Exception, timeout: Any, start: float) -> Exception:
    """As LiteLLM's async OpenAI chat request helper amends the SDK's timeout message."""
    if isinstance(e, openai.APITimeoutError):
        e.message += f" - timeout value={timeout}, time taken={round(time.time() - start, 2)} seconds"
    return e


def to_litellm(
    err: CoreError,
    *,
    provider: str,
    model: str,
    url: str | None = None,
    mid_stream: bool = False,
    embedding: bool = False,
    timed: tuple[Any, float] | None = None,
) -> Exception:
    """The LiteLLM exception LiteLLM raises for this failure on its native path. ``timed``:
    the call's timeout and start (``time.time()``) where LiteLLM's native path amends a
    timeout's text with them (see ``amend_timeout``)."""
    seen = Seen(provider=provider, model=model, url=url, mid_stream=mid_stream, embedding=embedding)
    row = TABLE.get(err.kind, _OTHER)
    wire = family(provider)
    cell = getattr(row, wire) if wire != OPENAI else None
    original = cell(err, seen) if cell is not None else None
    if original is None:
        original = row.openai(err, seen)
        if timed is not None:
            amend_timeout(original, *timed)  # type: ignore[arg-type]
    if isinstance(original, (litellm.AuthenticationError, litellm.BadRequestError)):
        return original  # raised by LiteLLM's own checks, unmapped
    try:
        exception_type(model=model, custom_llm_provider=provider, original_exception=original)
    except Exception as mapped:  # exception_type always raises
        return mapped
    return litellm.APIConnectionError(message=str(err), llm_provider=provider, model=model)


def sdk_error(
    err: CoreError,
    *,
    client: Any,
    url: str,
    mid_stream: bool = False,
    sync_chat: bool = False,
    timed: tuple[Any, float] | None = None,
) -> Exception:
    """The exception the OpenAI SDK ``client`` raises for this failure (transparent mode,
    where LiteLLM's own handler catches and maps it)."""
    seen = Seen(url=url, mid_stream=mid_stream, client=client, sync_chat=sync_chat)
    error = TABLE.get(err.kind, _OTHER).sdk(err, seen)
    assert error is not None
    return amend_timeout(error, *timed) if timed is not None else error


def httpx_error(err: CoreError, *, request: httpx.Request, aiohttp: bool = False) -> Exception:
    """The exception httpx's own transport (``aiohttp``: LiteLLM's aiohttp transport, reading a
    body) raises for the same failure."""
    error = TABLE.get(err.kind, _OTHER).httpx(err, Seen(request=request, aiohttp=aiohttp))
    assert error is not None
    return error


def reply_error(e: Exception, *, provider: str, model: str) -> Exception:
    """The LiteLLM exception for a reply the OpenAI SDK chat handler cannot read: it wraps the
    failure as ``OpenAIError`` (status 500, the failure's text), which LiteLLM maps."""
    if not isinstance(e, OpenAIError):
        e = OpenAIError(status_code=getattr(e, "status_code", 500), message=getattr(e, "text", str(e)))
    try:
        exception_type(model=model, custom_llm_provider=provider, original_exception=e)
    except Exception as mapped:  # exception_type always raises
        return mapped
    return e


def invalid_reply(body: Any) -> OpenAIError:
    """LiteLLM's OpenAI chat handler's error for a reply that is not a JSON object."""
    return OpenAIError(
        status_code=500,
        message=f"Empty or invalid response from LLM endpoint. Received: {body!r}. Check the reverse proxy or "
        "model server configuration.",
    )
