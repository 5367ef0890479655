"""Core errors as LiteLLM exceptions: one table, LiteLLM's own mapping.

The core's error is rebuilt as the exception the OpenAI SDK would have raised, and handed
to LiteLLM's ``exception_type`` with the real provider name, so the class, status and
message are the ones LiteLLM's native path produces for the same upstream answer.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from typing import Any

import httpx
import litellm
import openai
from litellm.litellm_core_utils.exception_mapping_utils import exception_type
from litellm.llms.openai.common_utils import OpenAIError

from ._call import not_served
from ._core import CoreError

_FIREWORKS_NO_KEY = "FIREWORKS_API_KEY is not set"


def _request(url: str | None) -> httpx.Request:
    # The URL is only used for the exception's repr; never include the query (it may hold a key).
    return httpx.Request("POST", (url or "http://localhost").split("?", 1)[0])


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


def _as_openai_error(err: CoreError, url: str | None, mid_stream: bool, embedding: bool) -> Exception:
    kind = err.kind
    if kind == "status":
        status = int(err.status or 500)
        message, body = _sdk_status_message(status, err.body or "")
        headers = httpx.Headers(err.headers or {})
        response = httpx.Response(status_code=status, headers=headers, request=_request(url))
        # LiteLLM's embedding handler passes no body on (its mapping then quotes the SDK's
        # whole text); its chat handler does, and the mapping quotes the body's message.
        return OpenAIError(
            status_code=status, message=message, headers=headers, response=response, body=None if embedding else body
        )
    if kind == "timeout":
        return openai.APITimeoutError(request=_request(url))
    if kind == "stream_error":
        return _sdk_stream_error(err, _request(url))
    if mid_stream:
        # While iterating, LiteLLM's stream wrapper maps the SDK's read/parse failures itself:
        # the SDK's "Connection error." for a transport failure, json's text for bad data.
        # The core's own limits have no native counterpart: their text says which.
        message = "Connection error." if kind in ("connection", "decode") else f"Connection error. {err.message}"
        if kind == "decode" and err.body is not None:
            try:
                json.loads(err.body)
            except ValueError as e:
                message = str(e)
        return openai.APIConnectionError(message=message, request=_request(url))
    if kind == "decode":
        # LiteLLM's native handler fails to parse the reply and reports it as a 500.
        return OpenAIError(status_code=500, message=f"error - {err.message}")
    # connection, invalid_request (raised by the SDK before sending), too_large, internal:
    # LiteLLM's native handler wraps what the SDK raises as a status-500 OpenAIError whose
    # text is the SDK's ("Connection error." for every transport failure).
    message = "Connection error." if kind == "connection" else err.message
    return OpenAIError(status_code=500, message=message)


def _sdk_stream_error(err: CoreError, request: httpx.Request) -> openai.APIError:
    """What the OpenAI SDK raises for an ``{"error": ...}`` event in a 200 stream."""
    try:
        body = json.loads(err.body or "null")
    except ValueError:
        body = None
    return openai.APIError(message=err.message, request=request, body=body)


def amend_timeout(e: Exception, timeout: Any, start: float) -> Exception:
    """As LiteLLM's async OpenAI chat request helper amends the SDK's timeout message."""
    if isinstance(e, openai.APITimeoutError):
        e.message += f" - timeout value={timeout}, time taken={round(time.time() - start, 2)} seconds"
    return e


def _as_anthropic_error(err: CoreError, model: str) -> Exception | None:
    """What LiteLLM's Anthropic handler raises (before its mapping) for the same failure:
    ``AnthropicError`` carrying the upstream's raw error text, or None where the handler
    lets the transport's exception through (timeouts, connection failures)."""
    from litellm.llms.anthropic.common_utils import AnthropicError

    kind = err.kind
    if kind == "status":
        status = int(err.status or 500)
        return AnthropicError(status_code=status, message=err.body or "", headers=httpx.Headers(err.headers or {}))
    if kind == "decode":
        return AnthropicError(status_code=int(err.status or 200), message=err.message)
    if kind == "invalid_request" and err.message.startswith("Missing Anthropic API Key"):
        # AnthropicModelInfo.validate_environment raises this one itself, unmapped.
        return litellm.AuthenticationError(message=err.message, llm_provider="anthropic", model=model)
    return None


def _as_gemini_error(err: CoreError, model: str) -> Exception | None:
    """What LiteLLM's Gemini handler raises (before its mapping): ``VertexAIError`` with the
    upstream's raw error text."""
    from litellm.llms.vertex_ai.common_utils import VertexAIError

    kind = err.kind
    if kind == "status":
        status = int(err.status or 500)
        return VertexAIError(status_code=status, message=err.body or "", headers=httpx.Headers(err.headers or {}))
    if kind == "decode":
        # LiteLLM wraps any failure to read a Gemini reply as a 422.
        return VertexAIError(
            status_code=422,
            message=f"Error converting to valid response block={err.message}. File an issue if litellm error - "
            "https://github.com/BerriAI/litellm/issues",
        )
    if kind == "connection":
        # LiteLLM's Gemini handler lets httpx's transport error through to its mapping.
        return httpx.ConnectError(err.message, request=_request(None))
    if kind == "invalid_request" and err.message.startswith("Missing Gemini API key"):
        return ValueError(err.message)
    if kind == "invalid_request":
        return litellm.BadRequestError(message=err.message, llm_provider="gemini", model=model)
    return None


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
    if err.kind == "not_served":
        return not_served(provider, model, err.message)
    if provider == "anthropic":
        original = _as_anthropic_error(err, model)
    elif provider == "gemini":
        original = _as_gemini_error(err, model)
    elif provider == "openai_like" and err.kind == "invalid_request" and err.status == 400:
        # OpenAILikeBase's own check (missing key or base), raised before the SDK runs.
        from litellm.llms.openai_like.common_utils import OpenAILikeError

        original = OpenAILikeError(status_code=400, message=err.message)
    elif provider == "fireworks_ai" and err.kind == "invalid_request" and err.message == _FIREWORKS_NO_KEY:
        original = ValueError(err.message)  # raised by LiteLLM's Fireworks config, before sending
    else:
        original = None
    if isinstance(original, (litellm.AuthenticationError, litellm.BadRequestError)):
        return original
    if original is None:
        original = _as_openai_error(err, url, mid_stream, embedding)
        if timed is not None:
            amend_timeout(original, *timed)
    try:
        exception_type(model=model, custom_llm_provider=provider, original_exception=original)
    except Exception as mapped:  # exception_type always raises
        return mapped
    return litellm.APIConnectionError(message=str(err), llm_provider=provider, model=model)


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


def as_sdk_error(err: CoreError, client: Any, url: str, *, mid_stream: bool = False) -> Exception:
    """The exception the OpenAI SDK ``client`` raises for this failure (transparent mode,
    where LiteLLM's own handler catches and maps it). LiteLLM gives the SDK an ``httpx``
    client, so the SDK's requests and responses are ``httpx`` objects."""
    request = _request(url)
    kind = err.kind
    if kind == "status":
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
        response = httpx.Response(status, headers=headers, content=content, request=request)
        return client._make_status_error_from_response(response)  # type: ignore[no-any-return]
    if kind == "timeout":
        return openai.APITimeoutError(request=request)
    if kind == "stream_error":
        return _sdk_stream_error(err, request)
    if kind == "decode":
        # The SDK hands the body to json, whose error LiteLLM then wraps.
        try:
            json.loads(err.body or "")
        except ValueError as e:
            return e
        return json.JSONDecodeError(err.message, err.body or "", 0)
    if kind == "connection" or mid_stream:
        return openai.APIConnectionError(request=request)
    # invalid_request, too_large, internal: raised before or around the exchange.
    return openai.APIError(message=err.message, request=request, body=None)
