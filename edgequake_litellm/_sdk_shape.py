"""An OpenAI-wire stream chunk as the OpenAI SDK renders it: ``construct_type(ChatCompletionChunk,
chunk).model_dump()``, which LiteLLM's native path hands its stream wrapper. That call walks the
SDK's type annotations for every field of every chunk (~0.1-0.2 ms a chunk). The common chunk
(scalars in every declared field, no tool calls, logprobs or usage) is rendered here directly:
the declared fields in the SDK's order, unsent ones None, then the extras as sent. Anything else
takes the SDK's own function, as does every declared field this table does not know (another
SDK version), so the result is the SDK's in every case (``tests/test_sdk_shape.py`` compares
both over a corpus)."""

from __future__ import annotations

from typing import Any

from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta

_STR = (str, type(None))
_NONE = (type(None),)

# Per declared field: the value types rendered as sent (an absent field is rendered None).
# ``int`` excludes ``bool`` below; required fields must be present.
_CHUNK: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "choices": (list,),
    "created": (int,),
    "model": (str,),
    "object": (str,),
    "moderation": _NONE,
    "obfuscation": _STR,
    "service_tier": _STR,
    "system_fingerprint": _STR,
    "usage": _NONE,
}
_CHOICE: dict[str, tuple[type, ...]] = {
    "delta": (dict,),
    "index": (int,),
    "finish_reason": _STR,
    "logprobs": _NONE,
}
_DELTA: dict[str, tuple[type, ...]] = {
    "audio": _NONE,
    "content": _STR,
    "function_call": _NONE,
    "refusal": _STR,
    "role": _STR,
    "tool_calls": _NONE,
}
_SCALAR = (str, int, float, bool, type(None))


def _fields(model: type, table: dict[str, tuple[type, ...]]) -> tuple[tuple[str, tuple[type, ...], bool], ...] | None:
    """The model's declared fields with their rendered types and whether required, in the
    SDK's order; None when the installed SDK declares a field the table does not know."""
    out = []
    for name, info in model.model_fields.items():
        if name not in table:
            return None
        out.append((name, table[name], info.is_required()))
    return tuple(out)


_CHUNK_FIELDS = _fields(ChatCompletionChunk, _CHUNK)
_CHOICE_FIELDS = _fields(Choice, _CHOICE)
_DELTA_FIELDS = _fields(ChoiceDelta, _DELTA)


def _flat(value: dict, fields: tuple[tuple[str, tuple[type, ...], bool], ...]) -> dict | None:
    out: dict[str, Any] = {}
    for name, types, required in fields:
        if name not in value:
            if required:
                return None
            out[name] = None
            continue
        v = value[name]
        if not isinstance(v, types) or v is True or v is False:
            return None
        out[name] = v
    for k, v in value.items():
        if k not in out:
            if not isinstance(v, _SCALAR):
                return None
            out[k] = v
    return out


def _fast(chunk: dict) -> dict | None:
    if _CHUNK_FIELDS is None or _CHOICE_FIELDS is None or _DELTA_FIELDS is None:
        return None
    out = _flat(chunk, _CHUNK_FIELDS)
    if out is None:
        return None
    choices = []
    for choice in out["choices"]:
        if not isinstance(choice, dict):
            return None
        c = _flat(choice, _CHOICE_FIELDS)
        if c is None:
            return None
        delta = _flat(c["delta"], _DELTA_FIELDS)
        if delta is None:
            return None
        c["delta"] = delta
        choices.append(c)
    out["choices"] = choices
    return out


def sdk_chunk(chunk: dict) -> dict:
    """``construct_type(type_=ChatCompletionChunk, value=chunk).model_dump()``."""
    fast = _fast(chunk)
    if fast is not None:
        return fast
    return construct_type(type_=ChatCompletionChunk, value=chunk).model_dump()
