"""A core ``ChatStream`` as LiteLLM stream chunks, for ``for`` and ``async for``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
from litellm.litellm_core_utils.exception_mapping_utils import exception_type
from litellm.types.utils import ModelResponseStream

from . import _core
from ._call import Call, translated
from ._errors import core_errors_as, to_litellm
from ._logging_pace import pace
from ._responses import StreamAssembler, UnreadableChunk, stream_pricer

# Providers whose chunks LiteLLM's stream wrapper names by the upstream's model.
_SERVED_MODEL = frozenset({"azure", "azure_ai", "openrouter"})


def _assembler(call: Call, priced: bool, wrapped: bool) -> StreamAssembler:
    return StreamAssembler(
        None if priced else stream_pricer(call),
        openai_wire=not translated(call.provider),
        wrapped=wrapped,
        model=None if call.provider in _SERVED_MODEL else call.model,
    )


def _check_finished(stream: _core.ChatStream, assembler: StreamAssembler, call: Call, wrapped: bool) -> None:
    """LiteLLM's stream wrapper fails an OpenAI-wire stream that ends without a finish_reason
    (``CustomStreamWrapper._should_fail_on_clean_eof``), a ``[DONE]`` counting as one where
    its own SSE iterator reads the stream. The chunks of a custom provider take another branch
    of the wrapper, which never checks: the same error is raised here, mapped as natively, and
    the wrapper wraps it in ``MidStreamFallbackError`` as it wraps the native one."""
    if not (wrapped and assembler.openai_wire and assembler.started) or assembler.finished or stream.finished_by_done:
        return
    eof = httpx.RemoteProtocolError(
        "Stream ended before a finish_reason was received",
        request=httpx.Request(method="POST", url="https://docs.litellm.ai/docs"),
    )
    raise _mapped(eof, call)


def _mapped(e: Exception, call: Call) -> Exception:
    """``e`` mapped as LiteLLM's wrapper maps a native stream's failure."""
    try:
        exception_type(model=call.model, custom_llm_provider=call.provider, original_exception=e)
    except Exception as mapped:  # exception_type always raises
        return mapped
    return e


def _paced(chunks: Iterator[ModelResponseStream], wrapped: bool) -> Iterator[ModelResponseStream]:
    """LiteLLM's wrapper queues a logging task per chunk it takes: see ``_logging_pace``."""
    for chunk in chunks:
        if wrapped:
            pace()
        yield chunk


def sync_chunks(
    stream: _core.ChatStream, call: Call, *, priced: bool = True, wrapped: bool = True
) -> Iterator[ModelResponseStream]:
    """``priced``: the caller's stream wrapper prices the upstream provider itself (transparent
    mode); on the ``edgequake/`` route it would price ``edgequake`` and find no price.
    ``wrapped``: LiteLLM's stream wrapper consumes the chunks (see ``StreamAssembler``)."""
    assembler = _assembler(call, priced, wrapped)
    try:
        with core_errors_as(to_litellm, provider=call.provider, model=call.model, mid_stream=True):
            for batch in stream:
                yield from _paced(assembler.feed(batch), wrapped)
            yield from _paced(assembler.finish(), wrapped)
        _check_finished(stream, assembler, call, wrapped)
    except UnreadableChunk as e:
        raise _mapped(e.original, call) from None
    finally:
        stream.close()


async def async_chunks(
    stream: _core.ChatStream, call: Call, *, priced: bool = True, wrapped: bool = True
) -> AsyncIterator[ModelResponseStream]:
    assembler = _assembler(call, priced, wrapped)
    try:
        with core_errors_as(to_litellm, provider=call.provider, model=call.model, mid_stream=True):
            async for batch in stream:
                for chunk in assembler.feed(batch):
                    yield chunk
            for chunk in assembler.finish():
                yield chunk
        _check_finished(stream, assembler, call, wrapped)
    except UnreadableChunk as e:
        raise _mapped(e.original, call) from None
    finally:
        stream.close()
