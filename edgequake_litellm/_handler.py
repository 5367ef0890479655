"""The ``edgequake`` provider: a LiteLLM ``CustomLLM`` whose every call is served by the core.

LiteLLM hands this handler ``model="openai/gpt-4o"`` for ``edgequake/openai/gpt-4o``; the
first segment names the upstream provider family served by the Rust core. LiteLLM always
calls these methods with keyword arguments (``model_response``, ``api_key``, ``api_base``,
``optional_params``, ``litellm_params``, ``logging_obj``, ``headers``, ``timeout``, ...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream

from . import _core
from ._call import Call
from ._errors import to_litellm
from ._provider_body import chat_request, fallback_body
from ._responses import fill_chat, fill_embedding, log_post_call, log_pre_call
from ._streams import async_chunks, sync_chunks


def _call(model: str, kw: dict[str, Any]) -> Call:
    return Call.build(
        model, kw.get("api_key"), kw.get("api_base"), kw.get("headers"), kw.get("timeout"), kw.get("litellm_params")
    )


def _chat_args(call: Call, messages: list, kw: dict[str, Any], *, stream: bool) -> tuple[tuple, dict[str, Any]]:
    args, kwargs = chat_request(call, messages, kw["optional_params"], stream=stream)
    log_pre_call(
        kw["logging_obj"],
        call,
        messages,
        kwargs["body"] or {"model": call.model, "messages": messages, **kw["optional_params"]},
    )
    return args, kwargs


def _with_fallback_body(call: Call, messages: list, kw: dict[str, Any], kwargs: dict[str, Any], *, stream: bool) -> dict:
    """The core refused to translate the request (a feature it leaves to LiteLLM): the same
    call with the body LiteLLM's own transform builds; the reply is still translated by the core."""
    body, beta = fallback_body(call, messages, kw["optional_params"], stream=stream)
    return {**kwargs, "body": body, "headers": {**beta, **(kwargs.get("headers") or {})} or None}


def _send(call: Call, messages: list, kw: dict[str, Any], args: tuple, kwargs: dict[str, Any], *, stream: bool) -> Any:
    try:
        return _core.request(*args, **kwargs)
    except _core.CoreError as e:
        if e.kind != "unsupported":
            raise
    return _core.request(*args, **_with_fallback_body(call, messages, kw, kwargs, stream=stream))


async def _asend(call: Call, messages: list, kw: dict[str, Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    try:
        return await _core.arequest(*args, **kwargs)
    except _core.CoreError as e:
        if e.kind != "unsupported":
            raise
    return await _core.arequest(*args, **_with_fallback_body(call, messages, kw, kwargs, stream=False))


class EdgequakeLLM(CustomLLM):
    """Serves ``edgequake/<provider>/<model>`` chat and embedding calls from the Rust core."""

    def completion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        args_, kwargs = _chat_args(call, messages, kw, stream=False)
        try:
            body, headers, _ = _send(call, messages, kw, args_, kwargs, stream=False)
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(kw["logging_obj"], call, messages, body, headers)
        return fill_chat(kw["model_response"], body, headers, call)

    async def acompletion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        args_, kwargs = _chat_args(call, messages, kw, stream=False)
        try:
            body, headers, _ = await _asend(call, messages, kw, args_, kwargs)
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(kw["logging_obj"], call, messages, body, headers)
        return fill_chat(kw["model_response"], body, headers, call)

    def streaming(self, model: str, messages: list, *args: Any, **kw: Any) -> Iterator[ModelResponseStream]:  # type: ignore[override]
        # Not a generator itself: the request is made now, so upstream errors raise from
        # litellm.completion(stream=True) as they do natively.
        stream, call = _open_stream(model, messages, kw)
        return sync_chunks(stream, call)

    def astreaming(self, model: str, messages: list, *args: Any, **kw: Any) -> AsyncIterator[ModelResponseStream]:  # type: ignore[override]
        # LiteLLM calls this from its executor thread (litellm.acompletion runs completion
        # there): open the stream now so errors surface from `await acompletion(...)`, then
        # iterate on the event loop.
        stream, call = _open_stream(model, messages, kw)
        return async_chunks(stream, call)

    def embedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw)
        log_pre_call(kw["logging_obj"], call, input, {"model": call.model, "input": input, **kw["optional_params"]})
        try:
            body, headers, _ = _core.request(
                "embed", call.provider, call.model, input, kw["optional_params"], **call.kw
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(kw["logging_obj"], call, input, body, headers)
        return fill_embedding(kw["model_response"], body, headers, call)

    async def aembedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw)
        log_pre_call(kw["logging_obj"], call, input, {"model": call.model, "input": input, **kw["optional_params"]})
        try:
            body, headers, _ = await _core.arequest(
                "embed", call.provider, call.model, input, kw["optional_params"], **call.kw
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(kw["logging_obj"], call, input, body, headers)
        return fill_embedding(kw["model_response"], body, headers, call)


def _open_stream(model: str, messages: list, kw: dict[str, Any]) -> tuple[_core.ChatStream, Call]:
    call = _call(model, kw)
    args_, kwargs = _chat_args(call, messages, kw, stream=True)
    try:
        stream = _send(call, messages, kw, args_, kwargs, stream=True)
    except _core.CoreError as e:
        raise to_litellm(e, provider=call.provider, model=call.model) from e
    kw["logging_obj"].model_call_details["response_headers"] = stream.headers
    return stream, call


handler = EdgequakeLLM()
