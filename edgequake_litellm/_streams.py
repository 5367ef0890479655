"""A core ``ChatStream`` as LiteLLM stream chunks, for ``for`` and ``async for``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from litellm.types.utils import ModelResponseStream

from . import _core
from ._call import Call
from ._errors import to_litellm
from ._responses import TRANSLATED, StreamAssembler


def sync_chunks(stream: _core.ChatStream, call: Call, wrapped: bool = True) -> Iterator[ModelResponseStream]:
    """``wrapped``: LiteLLM's stream wrapper consumes the chunks (see ``StreamAssembler``)."""
    assembler = StreamAssembler(openai_wire=call.provider not in TRANSLATED, wrapped=wrapped)
    try:
        for batch in stream:
            yield from assembler.feed(batch)
        yield from assembler.finish()
    except _core.CoreError as e:
        raise to_litellm(e, provider=call.provider, model=call.model, mid_stream=True) from e
    finally:
        stream.close()


async def async_chunks(
    stream: _core.ChatStream, call: Call, wrapped: bool = True
) -> AsyncIterator[ModelResponseStream]:
    assembler = StreamAssembler(openai_wire=call.provider not in TRANSLATED, wrapped=wrapped)
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
