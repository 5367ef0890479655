"""The ``edgequake`` provider: a LiteLLM ``CustomLLM`` whose every call is served by the core.

LiteLLM hands this handler ``model="openai/gpt-4o"`` for ``edgequake/openai/gpt-4o``; the
first segment names the upstream provider served by the Rust core. LiteLLM always calls
these methods with keyword arguments (``model_response``, ``api_key``, ``api_base``,
``optional_params``, ``litellm_params``, ``logging_obj``, ``headers``, ``timeout``, ...).
Each call runs ``_serve.py`` with LiteLLM's logging object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream

from . import _serve
from ._call import Call, check_served
from ._streams import async_chunks, sync_chunks


def _call(model: str, kw: dict[str, Any], *, chat: bool = True) -> Call:
    call = Call.build(
        model, kw.get("api_key"), kw.get("api_base"), kw.get("headers"), kw.get("timeout"), kw.get("litellm_params")
    )
    check_served(call, kw.get("optional_params") or {}, chat=chat)
    return call


class EdgequakeLLM(CustomLLM):
    """Serves ``edgequake/<provider>/<model>`` chat and embedding calls from the Rust core."""

    def completion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        return _serve.chat(call, messages, kw["optional_params"], kw["model_response"], kw["logging_obj"])

    async def acompletion(self, model: str, messages: list, *args: Any, **kw: Any) -> ModelResponse:  # type: ignore[override]
        call = _call(model, kw)
        return await _serve.achat(call, messages, kw["optional_params"], kw["model_response"], kw["logging_obj"])

    def streaming(self, model: str, messages: list, *args: Any, **kw: Any) -> Iterator[ModelResponseStream]:  # type: ignore[override]
        # Not a generator itself: the request is made now, so upstream errors raise from
        # litellm.completion(stream=True) as they do natively.
        call = _call(model, kw)
        stream = _serve.open_stream(call, messages, kw["optional_params"], kw["logging_obj"])
        return sync_chunks(stream, call, priced=_litellm_prices(call, kw))

    def astreaming(self, model: str, messages: list, *args: Any, **kw: Any) -> AsyncIterator[ModelResponseStream]:  # type: ignore[override]
        # LiteLLM calls this from its executor thread (litellm.acompletion runs completion
        # there): open the stream now so errors surface from `await acompletion(...)`, then
        # iterate on the event loop.
        call = _call(model, kw)
        stream = _serve.open_stream(call, messages, kw["optional_params"], kw["logging_obj"], is_async=True)
        return async_chunks(stream, call, priced=_litellm_prices(call, kw))

    def embedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw, chat=False)
        return _serve.embed(call, input, kw["optional_params"], kw["model_response"], kw["logging_obj"])

    async def aembedding(self, model: str, input: list, *args: Any, **kw: Any) -> EmbeddingResponse:  # type: ignore[override]
        call = _call(model, kw, chat=False)
        return await _serve.aembed(call, input, kw["optional_params"], kw["model_response"], kw["logging_obj"])


def _litellm_prices(call: Call, kw: dict[str, Any]) -> bool:
    """Whether LiteLLM prices this call as the upstream provider itself: in transparent mode
    its own handler's stream wrapper does; on the ``edgequake/`` route it prices ``edgequake``."""
    return kw["logging_obj"].model_call_details.get("custom_llm_provider") == call.provider


handler = EdgequakeLLM()
