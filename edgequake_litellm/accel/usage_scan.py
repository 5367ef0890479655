"""The ``usage_scan`` accelerator: the end-of-stream usage scan reads a chunk without usage once.

At the end of every stream (both routes, sync and async, and LiteLLM's logging of it)
``stream_chunk_builder`` runs ``ChunkProcessor._calculate_usage_per_chunk``, which calls
``extract_usage_chunk`` on every chunk, then once more per chunk for each of two pricing fields
(``_last_provider_pricing_field``: ``inference_geo``, ``speed``). For a chunk without usage
(every chunk but the last, as a rule) each call finds nothing the slow way: two pydantic
attribute misses that raise and catch ``AttributeError``, then the hidden params. Three times.

Within one scan, a chunk whose first read gave ``None`` gives ``None`` again: the reads only look
(``hasattr``, ``in``, the hidden-params property, ``isinstance``), and nothing the scan runs between
them writes to a chunk (it accumulates counts in locals; the pricing-field reads follow the loop).
So the replacement ``extract_usage_chunk`` remembers, for the scan running on this thread, the
chunks (by identity, holding them) whose read by LiteLLM's function gave ``None`` and answers
``None`` for them again. Every first read, every chunk with usage (a fresh ``Usage`` each time,
as LiteLLM builds it), every read outside a scan, and every chunk that is not exactly LiteLLM's
``ModelResponseStream`` or ``ModelResponse`` runs LiteLLM's function. A scan in which a test
double or override sits on anything those reads call (the classes' ``__contains__``,
``__getattr__``, ``__getattribute__``, ``hidden_params``, the module's class bindings) remembers
nothing, so the double sees every call.

The sources of the three ``ChunkProcessor`` functions and of the classes' ``__contains__`` are pinned.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from .accelerator import Accelerator, Tally, genuine, pin_problems

_UTILS = "litellm.litellm_core_utils.streaming_chunk_builder_utils"
_TYPES = "litellm.types.utils"

_REPLACES = (
    f"{_UTILS}.ChunkProcessor._calculate_usage_per_chunk",
    f"{_UTILS}.ChunkProcessor.extract_usage_chunk",
)

# sha256 (first 16 hex digits) of the sources this reasons about, in LiteLLM 1.110.2.
_PINNED: dict[str, str] = {
    f"{_UTILS}.ChunkProcessor.extract_usage_chunk": "8ba539b7c2de70aa",
    f"{_UTILS}.ChunkProcessor._calculate_usage_per_chunk": "306dcc7f9e5af249",
    f"{_UTILS}.ChunkProcessor._last_provider_pricing_field": "b1205727b61a125b",
    f"{_TYPES}.ModelResponseStream.__contains__": "df86631abd834f0e",
    f"{_TYPES}.ModelResponse.__contains__": "df86631abd834f0e",
}
# The module globals the reads resolve (checked by identity per scan).
_BINDINGS = ("Usage", "UnreportedUsage", "ModelResponse", "ModelResponseStream")
# What the reads of an exact chunk class call, looked up through its MRO (checked per scan).
_MEMBERS = ("__contains__", "__getattr__", "__getattribute__", "hidden_params")

_tally = Tally()
_orig: dict[str, Any] = {}
_seen: dict[str, Any] = {}
_checks: list[tuple[Any, str, Any]] = []  # (namespace, name, value at install)
_local = threading.local()  # .none: {id(chunk): chunk} for the scan running on this thread
_ABSENT = object()


def _member(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return _ABSENT


def _intact() -> bool:
    for namespace, name, value in _checks:
        if namespace.get(name, _ABSENT) is not value:
            return False
    return all(_member(cls, name) is value for cls, name, value in _seen["members"])


def extract_usage_chunk(chunk: Any) -> Any:
    none = getattr(_local, "none", None)
    if none is None:
        return _orig["extract"](chunk)
    if none.get(id(chunk)) is chunk:
        return None
    out = _orig["extract"](chunk)
    if out is None and type(chunk) in _seen["exact"]:
        none[id(chunk)] = chunk
    return out


def _calculate_usage_per_chunk(self: Any, chunks: Any) -> Any:
    outer = getattr(_local, "none", None)
    if _intact():
        _local.none = {}
        _tally.fast()
    else:
        _local.none = None
        _tally.fell_back("replaced")
    try:
        return _orig["scan"](self, chunks=chunks)
    finally:
        _local.none = outer


def _processor() -> Any:
    return sys.modules[_UTILS].ChunkProcessor


def _problems() -> list[str]:
    import importlib

    try:
        utils = importlib.import_module(_UTILS)
    except Exception as e:  # noqa: BLE001
        return [f"{_UTILS} cannot be imported ({type(e).__name__})"]
    processor = utils.ChunkProcessor
    replaced = {
        f"{_UTILS}.ChunkProcessor._calculate_usage_per_chunk": (_calculate_usage_per_chunk, _orig.get("scan")),
        f"{_UTILS}.ChunkProcessor.extract_usage_chunk": (_orig.get("installed_extract"), _orig.get("extract_static")),
    }
    out = pin_problems(_PINNED, replaced)
    if not isinstance(processor.__dict__.get("extract_usage_chunk"), staticmethod):
        out.append(f"{_UTILS}.ChunkProcessor.extract_usage_chunk is not a static method")
    for name in _BINDINGS:
        value = utils.__dict__.get(name, _ABSENT)
        if value is _ABSENT:
            out.append(f"{_UTILS}.{name} is missing")
        elif not genuine(value) or value is not getattr(sys.modules[_TYPES], name, None):
            out.append(f"{_UTILS}.{name} is not LiteLLM's own (a test double or an override)")
    for cls_name in ("ModelResponse", "ModelResponseStream"):
        cls = utils.__dict__.get(cls_name)
        if not isinstance(cls, type):
            continue  # reported as a binding above
        for name in _MEMBERS:
            value = _member(cls, name)
            if value is _ABSENT or not genuine(value, ("litellm", "pydantic")):
                out.append(f"{cls_name}.{name} is not LiteLLM's or pydantic's own")
    return out


def _install() -> None:
    utils = sys.modules[_UTILS]
    processor = utils.ChunkProcessor
    _orig.clear()
    _orig["extract_static"] = processor.__dict__["extract_usage_chunk"]
    _orig["extract"] = _orig["extract_static"].__func__
    _orig["scan"] = processor.__dict__["_calculate_usage_per_chunk"]
    classes = (utils.ModelResponse, utils.ModelResponseStream)
    _seen["exact"] = frozenset(classes)
    _seen["members"] = tuple((cls, name, _member(cls, name)) for cls in classes for name in _MEMBERS)
    _checks[:] = [(utils.__dict__, name, utils.__dict__[name]) for name in _BINDINGS]
    _checks.append(
        (processor.__dict__, "_last_provider_pricing_field", processor.__dict__["_last_provider_pricing_field"])
    )
    _orig["installed_extract"] = staticmethod(extract_usage_chunk)
    processor.extract_usage_chunk = _orig["installed_extract"]
    processor._calculate_usage_per_chunk = _calculate_usage_per_chunk
    # Installed: the binding the per-scan check expects is ours.
    _checks.append((processor.__dict__, "extract_usage_chunk", _orig["installed_extract"]))


def _uninstall() -> None:
    utils = sys.modules.get(_UTILS)
    if utils is None or not _orig:
        return
    processor = utils.ChunkProcessor
    if processor.__dict__.get("_calculate_usage_per_chunk") is _calculate_usage_per_chunk:
        processor._calculate_usage_per_chunk = _orig["scan"]
    if processor.__dict__.get("extract_usage_chunk") is _orig.get("installed_extract"):
        processor.extract_usage_chunk = _orig["extract_static"]


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="usage_scan",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
