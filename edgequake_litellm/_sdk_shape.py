"""An OpenAI-wire stream chunk as the OpenAI SDK renders it: ``construct_type(ChatCompletionChunk,
chunk).model_dump()``, which LiteLLM's native path hands its stream wrapper. That call walks the
SDK's type annotations for every field of every chunk (~0.1-0.2 ms a chunk). The common chunk
(scalars in every declared field, no tool calls, logprobs or usage) is rendered here directly:
the declared fields in the SDK's order, unsent ones None, then the extras as sent. Anything else
takes the SDK's own function, as does every declared field this table does not know (another
SDK version), so the result is the SDK's in every case (``tests/test_sdk_shape.py`` compares
both over a corpus).

``chunk_object`` is the object itself, ``construct_type(type_=ChatCompletionChunk, value=chunk)``,
which transparent mode's SDK tier hands LiteLLM for every chunk (as the SDK's ``Stream`` does):
built the way the SDK's ``construct`` builds it, without the per-field walk for the fields whose
annotation it knows (``tests/test_sdk_chunks.py``)."""

from __future__ import annotations

from typing import Any

from openai._models import BaseModel as _OpenAIModel
from openai._models import _construct_field, construct_type
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta

from .accel.accelerator import source_digest

_setattr = object.__setattr__
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
    fields: dict[str, Any] = getattr(model, "model_fields")  # noqa: B009  # pydantic models only
    for name, info in fields.items():
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
    built: Any = construct_type(type_=ChatCompletionChunk, value=chunk)
    return built.model_dump()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# The chunk object: ``construct_type(type_=ChatCompletionChunk, value=chunk)`` itself.
#
# For a dict and an SDK model class, ``construct_type`` calls the class's ``construct(**value)``
# (openai/_models.py), which builds the instance without validation: every declared field in
# declaration order, set from ``_construct_field`` (None -> the field's default, else
# ``construct_type`` of the value with the field's annotation) when sent, else its default;
# the undeclared keys as extras (kept as sent: these classes declare no extras type); then
# ``__dict__``, ``__pydantic_private__`` None, ``__pydantic_extra__`` and
# ``__pydantic_fields_set__`` (the sent declared names) set with ``object.__setattr__``. The
# builder below does the same with the per-field walk decided once per class from the field's
# annotation, for the annotations whose result it knows:
#   _AS_IS   ``str``, ``int``, a ``Literal``: ``construct_type`` returns any value unchanged;
#   _OPT_STR ``Optional[str]``, ``Optional[Literal[<str>...]]``: a ``str`` validates to itself
#            (or, outside the literal, falls through the variants unchanged);
#   _MODEL   a model class planned here: a dict is that class's ``construct``;
#   _LIST    ``List[<model planned here>]``: a list is each dict entry's ``construct``.
# Every other value, and every field this table does not name or whose annotation is not the
# kind it names (another SDK version), takes ``_construct_field``: the SDK's own function.
# The SDK functions this reproduces are pinned by source digest; another SDK's, and a
# Pydantic v1 install, leave every chunk to ``construct_type``. ``tests/test_sdk_chunks.py``
# compares both over a corpus.

_AS_IS, _OPT_STR, _MODEL, _LIST, _SDK = range(5)
# What each SDK function reproduced here hashed to (sha256 of its source, first 16 hex
# digits) in the openai release it was read against (3.57.0).
_PINNED = {
    "BaseModel.construct": "b560c0afdea9b030",
    "_construct_field": "5b477a49619d02f7",
    "construct_type": "68c40e11524171f3",
    "validate_type": "a78ff6d018c8e35a",
    "_validate_non_model_type": "f927751ba7cf8614",
    "_get_extra_fields_type": "cdd9cfa3d9803ef4",
    "field_get_default": "0a14b990b74955b7",
}
# Keyword names ``construct(__cls, _fields_set=None, **values)`` does not take as values (a
# dict carrying one is left to the SDK, as is one with a key that is not a string).
_KWARG_NAMES = frozenset({"_BaseModel__cls", "_fields_set"})
# The declared fields each chunk class is planned for, and the kind each annotation must be.
_KINDS: dict[type, dict[str, int]] = {
    ChatCompletionChunk: {
        "id": _AS_IS,
        "choices": _LIST,
        "created": _AS_IS,
        "model": _AS_IS,
        "object": _AS_IS,
        "obfuscation": _OPT_STR,
        "service_tier": _OPT_STR,
        "system_fingerprint": _OPT_STR,
    },
    Choice: {"delta": _MODEL, "index": _AS_IS, "finish_reason": _OPT_STR},
    ChoiceDelta: {"content": _OPT_STR, "refusal": _OPT_STR, "role": _OPT_STR},
}
# Set to False to leave every chunk to ``construct_type`` (for measuring the builder).
_BUILD = True


class _Plan:
    """One model class's ``construct``: per declared field (in order) its name, kind, the
    SDK's FieldInfo, and the nested class's plan for _MODEL and _LIST."""

    __slots__ = ("cls", "declared", "fields")

    def __init__(self, cls: Any, fields: tuple[tuple[str, int, Any, Any], ...]) -> None:
        self.cls = cls
        self.fields = fields
        self.declared = frozenset(name for name, *_ in fields)


def _sdk_functions() -> dict[str, Any]:
    from openai import _compat, _models

    return {
        "BaseModel.construct": _models.BaseModel.__dict__["construct"].__func__,
        "_construct_field": _models._construct_field,
        "construct_type": _models.construct_type,
        "validate_type": _models.validate_type,
        "_validate_non_model_type": _models._validate_non_model_type,
        "_get_extra_fields_type": _models._get_extra_fields_type,
        "field_get_default": _compat.field_get_default,
    }


def _kind(annotation: Any, wanted: int, plans: dict[type, _Plan]) -> int:
    """``wanted`` when ``annotation`` is of that kind, else _SDK."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if wanted == _AS_IS:
        ok = annotation in (str, int) or origin is typing.Literal
    elif wanted == _OPT_STR:
        rest = [a for a in args if a is not type(None)]
        ok = (
            origin in (typing.Union, types.UnionType)
            and len(args) == 2
            and len(rest) == 1
            and (
                rest[0] is str
                or (
                    typing.get_origin(rest[0]) is typing.Literal
                    and all(type(a) is str for a in typing.get_args(rest[0]))
                )
            )
        )
    elif wanted == _MODEL:
        ok = annotation in plans
    else:
        ok = origin is list and len(args) == 1 and args[0] in plans
    return wanted if ok else _SDK


def _plan_for(cls: Any, plans: dict[type, _Plan]) -> _Plan | None:
    from openai._compat import field_get_default
    from openai._models import BaseModel, _get_extra_fields_type

    if not issubclass(cls, BaseModel) or cls.construct.__func__ is not BaseModel.__dict__["construct"].__func__:
        return None  # the class constructs its own way
    if _get_extra_fields_type(cls) is not None:
        return None
    kinds = _KINDS[cls]
    fields = []
    for name, field in cls.model_fields.items():
        # construct() reads the alias first; a default the SDK computes per call is not shared.
        if field.alias is not None or field.default_factory is not None or field_get_default(field) is not None:
            return None
        kind = _kind(field.annotation, kinds[name], plans) if name in kinds else _SDK
        sub = plans.get(field.annotation) if kind == _MODEL else None
        if kind == _LIST:
            sub = plans[field.annotation.__args__[0]]
        fields.append((name, kind, field, sub))
    return _Plan(cls, tuple(fields))


def _make_plan() -> _Plan | None:
    from openai import _models

    if _models.PYDANTIC_V1:
        return None
    if any(source_digest(f) != _PINNED[name] for name, f in _sdk_functions().items()):
        return None
    plans: dict[type, _Plan] = {}
    for cls in (ChoiceDelta, Choice, ChatCompletionChunk):  # nested classes first
        plan = _plan_for(cls, plans)
        if plan is None:
            return None
        plans[cls] = plan
    return plans[ChatCompletionChunk]


_CONSTRUCT = _OpenAIModel.__dict__.get("construct")
_UNPLANNED: Any = object()
_CHUNK_PLAN: Any = _UNPLANNED


def _build(plan: Any, value: dict) -> Any:
    """``plan.cls.construct(**value)``."""
    declared = plan.declared
    extra = {k: v for k, v in value.items() if k not in declared}
    if extra and (not _KWARG_NAMES.isdisjoint(extra) or not all(type(k) is str for k in extra)):
        return construct_type(type_=plan.cls, value=value)
    fields_set = declared & value.keys()
    out: dict[str, Any] = {}
    for name, kind, field, sub in plan.fields:
        v = value.get(name)
        if v is None:  # unsent, or sent as None: the field's default (None, as planned)
            out[name] = None
        elif kind == _AS_IS or (kind == _OPT_STR and type(v) is str):
            out[name] = v
        elif kind == _MODEL and type(v) is dict:
            out[name] = _build(sub, v)
        elif kind == _LIST and type(v) is list:
            out[name] = [_build(sub, e) if type(e) is dict else construct_type(value=e, type_=sub.cls) for e in v]
        else:
            out[name] = _construct_field(value=v, field=field, key=name)
    m = plan.cls.__new__(plan.cls)
    _setattr(m, "__dict__", out)
    _setattr(m, "__pydantic_private__", None)
    _setattr(m, "__pydantic_extra__", extra)
    _setattr(m, "__pydantic_fields_set__", fields_set)
    return m


def chunk_object(chunk: dict) -> Any:
    """``construct_type(type_=ChatCompletionChunk, value=chunk)``."""
    global _CHUNK_PLAN
    plan = _CHUNK_PLAN
    if plan is _UNPLANNED:
        plan = _CHUNK_PLAN = _make_plan()
    if (
        plan is None
        or not _BUILD
        or type(chunk) is not dict
        # a test double on a class's construct (``unittest.mock.patch.object``) is the SDK's way
        or _OpenAIModel.__dict__.get("construct") is not _CONSTRUCT
        or "construct" in ChatCompletionChunk.__dict__
        or "construct" in Choice.__dict__
        or "construct" in ChoiceDelta.__dict__
    ):
        return construct_type(type_=ChatCompletionChunk, value=chunk)
    return _build(plan, chunk)
