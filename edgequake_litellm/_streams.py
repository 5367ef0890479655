"""A core ``ChatStream`` as LiteLLM stream chunks, for ``for`` and ``async for``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from litellm.types.utils import ModelResponseStream

from . import _core
from ._call import Call, translated
from ._errors import core_errors_as, to_litellm
from ._responses import StreamAssembler, stream_pricer

# Providers whose chunks LiteLLM's stream wrapper names by the upstream's model.
_SERVED_MODEL = frozenset({"azure", "azure_ai", "openrouter"})


def _assembler(call: Call, priced: bool, wrapped: bool) -> StreamAssembler:
    return StreamAssembler(
        None if priced else stream_pricer(call),
        openai_wire=not translated(call.provider),
        wrapped=wrapped,
        model=None if call.provider in _SERVED_MODEL else call.model,
    )


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
                yield from assembler.feed(batch)
            yield from assembler.finish()
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
    finally:
        stream.close()
