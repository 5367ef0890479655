"""One chat or embedding call served by the core, answered with LiteLLM's types and errors.

The single path behind both entry points: the ``edgequake/`` handler (``_handler.py``) passes
LiteLLM's ``logging_obj``, which gets the pre- and post-call records LiteLLM's own handlers
write; the direct API (``_direct.py``) passes none. Streams are opened here; their chunks are
read by ``_streams.py``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from litellm.llms.openai.common_utils import model_dump_provider_response
from litellm.types.utils import EmbeddingResponse, ModelResponse
from openai._models import construct_type
from openai.types.chat import ChatCompletion

from . import _core
from ._call import Call, translated
from ._embeddings import decoded, request_params
from ._errors import core_errors_as, invalid_reply, reply_error, to_litellm
from ._provider_body import asend, builds_body, chat_request, send
from ._responses import fill_chat, fill_embedding, log_post_call, log_pre_call


def chat(
    call: Call, messages: list, params: dict[str, Any], model_response: ModelResponse, logging_obj: Any = None
) -> ModelResponse:
    args, kwargs = _chat_request(call, messages, params, logging_obj, stream=False)
    try:
        body, headers, _ = send(call, messages, params, args, kwargs, stream=False)
    except _core.CoreError as e:
        body, headers = _python_json_reply(e, call, None)
    _log_reply(logging_obj, call, messages, body, headers)
    return _filled(model_response, body, headers, call, logging_obj)


async def achat(
    call: Call, messages: list, params: dict[str, Any], model_response: ModelResponse, logging_obj: Any = None
) -> ModelResponse:
    args, kwargs = _chat_request(call, messages, params, logging_obj, stream=False)
    start = time.time()
    try:
        body, headers, _ = await asend(call, messages, params, args, kwargs)
    except _core.CoreError as e:
        body, headers = _python_json_reply(e, call, _timed(call, start))
    _log_reply(logging_obj, call, messages, body, headers)
    return _filled(model_response, body, headers, call, logging_obj)


def open_stream(
    call: Call, messages: list, params: dict[str, Any], logging_obj: Any = None, *, is_async: bool = False
) -> _core.ChatStream:
    """The stream, opened now so upstream errors raise from the call that opens it, as they do
    natively. ``is_async``: for an async caller (LiteLLM runs the ``edgequake/`` handler's
    ``astreaming`` in its executor thread, where the request is made synchronously)."""
    args, kwargs = _chat_request(call, messages, params, logging_obj, stream=True)
    timed = _timed(call, time.time()) if is_async else None
    with core_errors_as(to_litellm, provider=call.provider, model=call.model, timed=timed):
        stream = send(call, messages, params, args, kwargs, stream=True)
    _log_stream(logging_obj, stream)
    return stream  # type: ignore[no-any-return]


async def aopen_stream(call: Call, messages: list, params: dict[str, Any], logging_obj: Any = None) -> _core.ChatStream:
    """``open_stream`` as a coroutine over the core's async request."""
    args, kwargs = _chat_request(call, messages, params, logging_obj, stream=True)
    timed = _timed(call, time.time())
    with core_errors_as(to_litellm, provider=call.provider, model=call.model, timed=timed):
        stream = await asend(call, messages, params, args, kwargs, stream=True)
    _log_stream(logging_obj, stream)
    return stream  # type: ignore[no-any-return]


def embed(
    call: Call, input: Any, params: dict[str, Any], model_response: EmbeddingResponse, logging_obj: Any = None
) -> EmbeddingResponse:
    _log_embedding_request(logging_obj, call, input, params)
    with core_errors_as(to_litellm, provider=call.provider, model=call.model, embedding=True):
        body, headers, _ = _core.request(
            "embed", call.provider, call.model, input, request_params(call, params), **call.kw
        )
    return _embedding(call, input, params, body, headers, model_response, logging_obj)


async def aembed(
    call: Call, input: Any, params: dict[str, Any], model_response: EmbeddingResponse, logging_obj: Any = None
) -> EmbeddingResponse:
    _log_embedding_request(logging_obj, call, input, params)
    with core_errors_as(to_litellm, provider=call.provider, model=call.model, embedding=True):
        body, headers, _ = await _core.arequest(
            "embed", call.provider, call.model, input, request_params(call, params), **call.kw
        )
    return _embedding(call, input, params, body, headers, model_response, logging_obj)


def _chat_request(
    call: Call, messages: list, params: dict[str, Any], logging_obj: Any, *, stream: bool
) -> tuple[tuple, dict[str, Any]]:
    args, kwargs = chat_request(call, messages, params, stream=stream)
    if logging_obj is not None:
        body = kwargs["body"] or {"model": call.model, "messages": messages, **params}
        log_pre_call(logging_obj, call, messages, body)
    return args, kwargs


def _log_reply(logging_obj: Any, call: Call, payload: Any, body: Any, headers: dict[str, str]) -> None:
    if logging_obj is not None:
        log_post_call(logging_obj, call, payload, body, headers)


def _log_stream(logging_obj: Any, stream: _core.ChatStream) -> None:
    if logging_obj is not None:
        logging_obj.model_call_details["response_headers"] = stream.headers


def _log_embedding_request(logging_obj: Any, call: Call, input: Any, params: dict[str, Any]) -> None:
    if logging_obj is not None:
        log_pre_call(logging_obj, call, input, {"model": call.model, "input": input, **params})


def _embedding(
    call: Call,
    input: Any,
    params: dict[str, Any],
    body: Any,
    headers: dict[str, str],
    model_response: EmbeddingResponse,
    logging_obj: Any,
) -> EmbeddingResponse:
    body = decoded(call, params, body)
    _log_reply(logging_obj, call, input, body, headers)
    return fill_embedding(model_response, body, headers, call, input, logging_obj)


def _sdk_path(call: Call) -> bool:
    """Natively served by LiteLLM's OpenAI SDK chat handler (not its HTTP-handler providers,
    nor the providers whose wire format the core translates)."""
    return not translated(call.provider) and not builds_body(call.provider)


def _filled(
    model_response: ModelResponse, body: Any, headers: dict[str, str], call: Call, logging_obj: Any
) -> ModelResponse:
    """The reply as LiteLLM's response; a reply LiteLLM's handler cannot read fails as there."""
    if not _sdk_path(call):
        return fill_chat(model_response, body, headers, call, logging_obj)
    # LiteLLM's handler reads the reply as the SDK parsed it (fields in the SDK's order). The
    # SDK's parse is built only where it can differ: the body read directly gives the same
    # response for every reply it can read.
    try:
        if not isinstance(body, dict):
            raise invalid_reply(construct_type(type_=ChatCompletion, value=body))
        try:
            return fill_chat(model_response, body, headers, call, logging_obj)
        except Exception:  # noqa: BLE001 - fail on the SDK's view, as natively
            sdk_reply = construct_type(type_=ChatCompletion, value=body)
            return fill_chat(model_response, model_dump_provider_response(sdk_reply), headers, call, logging_obj)
    except Exception as e:
        raise reply_error(e, provider=call.provider, model=call.model) from e


_NON_FINITE = re.compile(r"NaN|Infinity")


def _python_json_reply(e: _core.CoreError, call: Call, timed: tuple[Any, float] | None) -> tuple[Any, dict[str, str]]:
    """A complete reply the core's JSON parser refused but Python's accepts (``NaN``,
    ``Infinity``): on the OpenAI SDK path the SDK reads it with Python's json whatever its
    content type, so read it the same way and let LiteLLM's handling decide. Any other failure
    raises as LiteLLM's exception."""
    # Only the literals Python's json adds to JSON; "\ufffd" marks bytes that were not UTF-8,
    # which the SDK refuses too.
    if (
        e.kind == "decode"
        and e.body is not None
        and e.status is not None
        and _sdk_path(call)
        and "\ufffd" not in e.body
        and _NON_FINITE.search(e.body)
    ):
        try:
            return json.loads(e.body), dict(e.headers or {})
        except ValueError:
            pass
    raise _chat_error(e, call, timed) from e


def _chat_error(e: _core.CoreError, call: Call, timed: tuple[Any, float] | None) -> Exception:
    """A failed chat call as LiteLLM's exception. On the OpenAI SDK path, a reply that is not
    JSON by content type is handed over as text by the SDK, which LiteLLM's handler refuses."""
    if e.kind == "decode" and e.body is not None and _sdk_path(call):
        content_type = (e.headers or {}).get("content-type", "*").split(";")[0]
        if not content_type.endswith("json"):
            return reply_error(invalid_reply(e.body), provider=call.provider, model=call.model)
    return to_litellm(e, provider=call.provider, model=call.model, timed=timed)


def _timed(call: Call, start: float) -> tuple[Any, float] | None:
    """LiteLLM's async OpenAI SDK chat path (not its HTTP-handler or translated providers)
    amends a timeout's text with the timeout and the time taken."""
    return (call.timeout, start) if _sdk_path(call) else None
