"""The ``edgequake`` provider: a LiteLLM ``CustomLLM`` whose every call is served by the core.

LiteLLM hands this handler ``model="openai/gpt-4o"`` for ``edgequake/openai/gpt-4o``; the
first segment names the upstream provider family served by the Rust core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream

from . import _core
from ._call import Call
from ._errors import to_litellm
from ._provider_body import litellm_body
from ._responses import StreamAssembler, fill_chat, fill_embedding, log_post_call, log_pre_call


class EdgequakeLLM(CustomLLM):
    """Serves ``edgequake/<provider>/<model>`` chat and embedding calls from the Rust core."""

    def completion(
        self,
        model: str,
        messages: list,
        api_base: str | None,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict,
        acompletion: bool | None = None,
        litellm_params: dict | None = None,
        logger_fn: Callable | None = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        call = Call.build(model, api_key, api_base, headers, timeout, litellm_params)
        log_pre_call(logging_obj, call, messages, optional_params, stream=False)
        try:
            body, resp_headers, _ = _core.request(
                "chat",
                call.provider,
                call.model,
                messages,
                optional_params,
                body=litellm_body(call, messages, optional_params, stream=False),
                **call.kw,
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(logging_obj, call, messages, body, resp_headers)
        return fill_chat(model_response, body, resp_headers, call)

    async def acompletion(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        api_base: str | None,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict,
        acompletion: bool | None = None,
        litellm_params: dict | None = None,
        logger_fn: Callable | None = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        call = Call.build(model, api_key, api_base, headers, timeout, litellm_params)
        log_pre_call(logging_obj, call, messages, optional_params, stream=False)
        try:
            body, resp_headers, _ = await _core.arequest(
                "chat",
                call.provider,
                call.model,
                messages,
                optional_params,
                body=litellm_body(call, messages, optional_params, stream=False),
                **call.kw,
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(logging_obj, call, messages, body, resp_headers)
        return fill_chat(model_response, body, resp_headers, call)

    def streaming(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        api_base: str | None,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict,
        acompletion: bool | None = None,
        litellm_params: dict | None = None,
        logger_fn: Callable | None = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> Iterator[ModelResponseStream]:
        # Not a generator itself: the request is made now, so upstream errors raise from
        # litellm.completion(stream=True) as they do natively.
        stream = self._open_stream(
            model, messages, api_base, api_key, logging_obj, optional_params, litellm_params, headers, timeout
        )
        return _sync_iter(stream[0], stream[1])

    def astreaming(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        api_base: str | None,
        custom_prompt_dict: dict,
        model_response: ModelResponse,
        print_verbose: Callable,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict,
        acompletion: bool | None = None,
        litellm_params: dict | None = None,
        logger_fn: Callable | None = None,
        headers: dict | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ModelResponseStream]:
        # LiteLLM calls this from its executor thread (litellm.acompletion runs completion
        # there): open the stream now so errors surface from `await acompletion(...)`, then
        # iterate on the event loop.
        stream = self._open_stream(
            model, messages, api_base, api_key, logging_obj, optional_params, litellm_params, headers, timeout
        )
        return _async_iter(stream[0], stream[1])

    @staticmethod
    def _open_stream(
        model: str,
        messages: list,
        api_base: str | None,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict,
        litellm_params: dict | None,
        headers: dict | None,
        timeout: Any,
    ) -> tuple[_core.ChatStream, Call]:
        call = Call.build(model, api_key, api_base, headers, timeout, litellm_params)
        log_pre_call(logging_obj, call, messages, optional_params, stream=True)
        try:
            stream = _core.request(
                "chat_stream",
                call.provider,
                call.model,
                messages,
                optional_params,
                body=litellm_body(call, messages, optional_params, stream=True),
                **call.kw,
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        logging_obj.model_call_details["response_headers"] = stream.headers
        return stream, call

    def embedding(  # type: ignore[override]
        self,
        model: str,
        input: list,
        model_response: EmbeddingResponse,
        print_verbose: Callable,
        logging_obj: Any,
        optional_params: dict,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: Any = None,
        litellm_params: dict | None = None,
        **kwargs: Any,
    ) -> EmbeddingResponse:
        call = Call.build(model, api_key, api_base, kwargs.get("headers"), timeout, litellm_params)
        log_pre_call(logging_obj, call, input, optional_params, stream=False)
        try:
            body, resp_headers, _ = _core.request("embed", call.provider, call.model, input, optional_params, **call.kw)
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(logging_obj, call, input, body, resp_headers)
        return fill_embedding(model_response, body, resp_headers, call)

    async def aembedding(  # type: ignore[override]
        self,
        model: str,
        input: list,
        model_response: EmbeddingResponse,
        print_verbose: Callable,
        logging_obj: Any,
        optional_params: dict,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: Any = None,
        litellm_params: dict | None = None,
        **kwargs: Any,
    ) -> EmbeddingResponse:
        call = Call.build(model, api_key, api_base, kwargs.get("headers"), timeout, litellm_params)
        log_pre_call(logging_obj, call, input, optional_params, stream=False)
        try:
            body, resp_headers, _ = await _core.arequest(
                "embed", call.provider, call.model, input, optional_params, **call.kw
            )
        except _core.CoreError as e:
            raise to_litellm(e, provider=call.provider, model=call.model) from e
        log_post_call(logging_obj, call, input, body, resp_headers)
        return fill_embedding(model_response, body, resp_headers, call)


def _sync_iter(stream: _core.ChatStream, call: Call) -> Iterator[ModelResponseStream]:
    assembler = StreamAssembler()
    try:
        for batch in stream:
            yield from assembler.feed(batch)
        yield from assembler.finish()
    except _core.CoreError as e:
        raise to_litellm(e, provider=call.provider, model=call.model, mid_stream=True) from e
    finally:
        stream.close()


async def _async_iter(stream: _core.ChatStream, call: Call) -> AsyncIterator[ModelResponseStream]:
    assembler = StreamAssembler()
    try:
        async for batch in stream:
            for chunk in assembler.feed(batch):
                yield chunk
        for chunk in assembler.finish():
            yield chunk
    except _core.CoreError as e:
        raise to_litellm(e, provider=call.provider, model=call.model, mid_stream=True) from e
    finally:
        stream.close()


handler = EdgequakeLLM()
