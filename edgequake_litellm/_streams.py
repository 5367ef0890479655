"""A core ``ChatStream`` as LiteLLM stream chunks, for ``for`` and ``async for``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from litellm.types.utils import ModelResponseStream

from . import _core
from ._call import Call
from ._errors import to_litellm
from ._responses import TRANSLATED, StreamAssembler, stream_pricer

# Providers whose chunks LiteLLM's stream wrapper names by the upstream's model.
_SERVED_MODEL = frozenset({"azure", "azure_ai", "openrouter"})


def _assembler(call: Call, priced: bool, wrapped: bool) -> StreamAssembler:
    return StreamAssembler(
        None if priced else stream_pricer(call),
        openai_wire=call.provider not in TRANSLATED,
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
        for batch in stream:
            yield from assembler.feed(batch)
        yield from assembler.finish()
    except _core.CoreError as e:
        raise to_litellm(e, provider=call.provider, model=call.model, mid_stream=True) from e
    finally:
        stream.close()


async def async_chunks(
    stream: _core.ChatStream, call: Call, *, priced: bool = True, wrapped: bool = True
) -> AsyncIterator[ModelResponseStream]:
    assembler = _assembler(call, priced, wrapped)
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
