"""The ``edgequake`` provider: a LiteLLM ``CustomLLM`` whose every call is served by the core.

LiteLLM hands this handler ``model="openai/gpt-4o"`` for ``edgequake/openai/gpt-4o``; the
first segment names the upstream provider family served by the Rust core. LiteLLM always
calls these methods with keyword arguments (``model_response``, ``api_key``, ``api_base``,
``optional_params``, ``litellm_params``, ``logging_obj``, ``headers``, ``timeout``, ...).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.llms.openai.common_utils import model_dump_provider_response
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream
from openai._models import construct_type
from openai.types.chat import ChatCompletion

from . import _core
from ._call import Call, check_served
from ._embeddings import decoded, request_params
from ._errors import invalid_reply, reply_error, to_litellm
from ._provider_body import asend, builds_body, chat_request, send
from ._responses import TRANSLATED, fill_chat, fill_embedding, log_post_call, log_pre_call
from ._streams import async_chunks, sync_chunks


def _call(model: str, kw: dict[str, Any], *, chat: bool = True) -> Call:
    call = Call.build(
        model, kw.get("api_key"), kw.get("api_base"), kw.get("headers"), kw.get("timeout"), kw.get("litellm_params")
    )
    check_served(call, kw.get("optional_params") or {}, chat=chat)
    return call


def _chat_args(call: Call, messages: list, kw: dict[str, Any], *, stream: bool) -> tuple[tuple, dict[str, Any]]:
    args, kwargs = chat_request(call, messages, kw["optional_params"], stream=stream)
    log_pre_call(
        kw["logging_obj"],
        call,
        messages,
        kwargs["body"] or {"model": call.model, "messages": messages, **kw["optional_params"]},
    )
    return args, kwargs


class EdgequakeLLM(CustomLLM):
    """Serves ``edgequake/<provider>/<model>`` chat and embedding calls from the Rust core."""

    def completion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        args_, kwargs = _chat_args(call, messages, kw, stream=False)
        try:
            body, headers, _ = send(call, messages, kw["optional_params"], args_, kwargs, stream=False)
        except _core.CoreError as e:
            body, headers = _python_json_reply(e, call)
            if body is _UNREAD:
                raise _chat_error(e, call) from e
        log_post_call(kw["logging_obj"], call, messages, body, headers)
        return _filled(kw, body, headers, call)

    async def acompletion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        args_, kwargs = _chat_args(call, messages, kw, stream=False)
        start = time.time()
        try:
            body, headers, _ = await asend(call, messages, kw["optional_params"], args_, kwargs)
        except _core.CoreError as e:
            body, headers = _python_json_reply(e, call)
            if body is _UNREAD:
                raise _chat_error(e, call, timed=_timed(call, kw, start)) from e
        log_post_call(kw["logging_obj"], call, messages, body, headers)
        return _filled(kw, body, headers, call)

    def streaming(self, model: str, messages: list, *args: Any, **kw: Any) -> Iterator[ModelResponseStream]:  # type: ignore[override]
        # Not a generator itself: the request is made now, so upstream errors raise from
        # litellm.completion(stream=True) as they do natively.
        stream, call = _open_stream(model, messages, kw)
        return sync_chunks(stream, call, priced=_litellm_prices(call, kw))

    def astreaming(self, model: str, messages: list, *args: Any, **kw: Any) -> AsyncIterator[ModelResponseStream]:  # type: ignore[override]
        # LiteLLM calls this from its executor thread (litellm.acompletion runs completion
        # there): open the stream now so errors surface from `await acompletion(...)`, then
        # iterate on the event loop.
        stream, call = _open_stream(model, messages, kw, is_async=True)
        return async_chunks(stream, call, priced=_litellm_prices(call, kw))

    def embedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw, chat=False)
        log_pre_call(kw["logging_obj"], call, input, {"model": call.model, "input": input, **kw["optional_params"]})
        try:
            body, headers, _ = _core.request(
                "embed", call.provider, call.model, input, request_params(call, kw["optional_params"]), **call.kw
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model, embedding=True) from e
        body = decoded(call, kw["optional_params"], body)
        log_post_call(kw["logging_obj"], call, input, body, headers)
        return fill_embedding(kw["model_response"], body, headers, call, input, kw["logging_obj"])

    async def aembedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw, chat=False)
        log_pre_call(kw["logging_obj"], call, input, {"model": call.model, "input": input, **kw["optional_params"]})
        try:
            body, headers, _ = await _core.arequest(
                "embed", call.provider, call.model, input, request_params(call, kw["optional_params"]), **call.kw
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model, embedding=True) from e
        body = decoded(call, kw["optional_params"], body)
        log_post_call(kw["logging_obj"], call, input, body, headers)
        return fill_embedding(kw["model_response"], body, headers, call, input, kw["logging_obj"])


def _sdk_path(call: Call) -> bool:
    """Natively served by LiteLLM's OpenAI SDK chat handler (not its HTTP-handler or translated
    providers)."""
    return call.provider not in TRANSLATED and not builds_body(call.provider)


def _filled(kw: dict[str, Any], body: Any, headers: dict[str, str], call: Call) -> ModelResponse:
    """The reply as LiteLLM's response; a reply LiteLLM's handler cannot read fails as there."""
    logging_obj = kw.get("logging_obj")
    if not _sdk_path(call):
        return fill_chat(kw["model_response"], body, headers, call, logging_obj)
    # LiteLLM's handler reads the reply as the SDK parsed it (fields in the SDK's order).
    sdk_reply = construct_type(type_=ChatCompletion, value=body)
    try:
        if not isinstance(body, dict):
            raise invalid_reply(sdk_reply)
        try:
            return fill_chat(kw["model_response"], body, headers, call, logging_obj)
        except Exception:  # noqa: BLE001 - fail on the SDK's view, as natively
            return fill_chat(kw["model_response"], model_dump_provider_response(sdk_reply), headers, call, logging_obj)
    except Exception as e:
        raise reply_error(e, provider=call.provider, model=call.model) from e


_UNREAD = object()
_NON_FINITE = re.compile(r"NaN|Infinity")


def _python_json_reply(e: _core.CoreError, call: Call) -> tuple[Any, dict[str, str]]:
    """A complete reply the core's JSON parser refused but Python's accepts (``NaN``,
    ``Infinity``): on the OpenAI SDK path the SDK reads it with Python's json whatever its
    content type, so read it the same way and let LiteLLM's handling decide (``_UNREAD``
    otherwise)."""
    if e.kind != "decode" or e.body is None or e.status is None or not _sdk_path(call):
        return _UNREAD, {}
    # Only the literals Python's json adds to JSON; "\ufffd" marks bytes that were not UTF-8,
    # which the SDK refuses too.
    if "\ufffd" in e.body or not _NON_FINITE.search(e.body):
        return _UNREAD, {}
    try:
        return json.loads(e.body), dict(e.headers or {})
    except ValueError:
        return _UNREAD, {}


def _chat_error(e: _core.CoreError, call: Call, timed: tuple[Any, float] | None = None) -> Exception:
    """A failed chat call as LiteLLM's exception. On the OpenAI SDK path, a reply that is not
    JSON by content type is handed over as text by the SDK, which LiteLLM's handler refuses."""
    if e.kind == "decode" and e.body is not None and _sdk_path(call):
        content_type = (e.headers or {}).get("content-type", "*").split(";")[0]
        if not content_type.endswith("json"):
            return reply_error(invalid_reply(e.body), provider=call.provider, model=call.model)
    return to_litellm(e, provider=call.provider, model=call.model, timed=timed)


def _timed(call: Call, kw: dict[str, Any], start: float) -> tuple[Any, float] | None:
    """LiteLLM's async OpenAI SDK chat path (not its HTTP-handler or translated providers)
    amends a timeout's text with the timeout and the time taken."""
    return (kw.get("timeout"), start) if _sdk_path(call) else None


def _open_stream(
    model: str, messages: list, kw: dict[str, Any], *, is_async: bool = False
) -> tuple[_core.ChatStream, Call]:
    call = _call(model, kw)
    args_, kwargs = _chat_args(call, messages, kw, stream=True)
    start = time.time()
    try:
        stream = send(call, messages, kw["optional_params"], args_, kwargs, stream=True)
    except _core.CoreError as e:
        timed = _timed(call, kw, start) if is_async else None
        raise to_litellm(e, provider=call.provider, model=call.model, timed=timed) from e
    kw["logging_obj"].model_call_details["response_headers"] = stream.headers
    return stream, call


def _litellm_prices(call: Call, kw: dict[str, Any]) -> bool:
    """Whether LiteLLM prices this call as the upstream provider itself: in transparent mode
    its own handler's stream wrapper does; on the ``edgequake/`` route it prices ``edgequake``."""
    return kw["logging_obj"].model_call_details.get("custom_llm_provider") == call.provider


handler = EdgequakeLLM()


def serve_translated(
    provider: str,
    model: str,
    messages: list,
    *,
    optional_params: dict,
    api_key: str | None,
    api_base: str | None,
    headers: dict | None,
    timeout: Any,
    stream: bool,
    litellm_params: dict,
    logging_obj: Any,
    model_response: ModelResponse,
    acompletion: bool = False,
) -> Any:
    """One chat call to a provider whose wire format the core translates (``anthropic``),
    with the arguments LiteLLM's own provider handlers receive, returning LiteLLM's types:
    a ``ModelResponse`` (a coroutine of one with ``acompletion``), or for ``stream`` an
    iterator (async iterator with ``acompletion``) of ``ModelResponseStream`` for the
    caller's ``CustomStreamWrapper``. Errors are LiteLLM's exceptions for ``provider``.
    This is the seam a transparent patch of LiteLLM's native provider handler calls."""
    kw: dict[str, Any] = {
        "optional_params": optional_params,
        "api_key": api_key,
        "api_base": api_base,
        "headers": headers,
        "timeout": timeout,
        "litellm_params": litellm_params,
        "logging_obj": logging_obj,
        "model_response": model_response,
    }
    full = f"{provider}/{model}"
    if stream:
        return (handler.astreaming if acompletion else handler.streaming)(full, messages, **kw)
    return (handler.acompletion if acompletion else handler.completion)(full, messages, **kw)
