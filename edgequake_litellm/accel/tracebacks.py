"""Tracebacks LiteLLM records as data, without the accelerators' own frames.

When a price cannot be found (a model not in the cost map: any self-hosted ``openai/`` model),
``Logging.response_cost_calculator`` stores ``traceback.format_exc()`` (through
``_get_traceback_str_for_error``, an ``lru_cache`` keyed on the error's message) in
``response_cost_failure_debug_information``, which callbacks get as the standard logging payload's
``response_cost_failure_debug_info.traceback_str``. The error passes through the stand-ins the
``cost`` and ``lookups`` accelerators put in LiteLLM's place, so it would carry their frames.

Each of those stand-ins calls LiteLLM's original in the frame LiteLLM's caller would have called it
in, so without the stand-ins' frames the traceback is LiteLLM's own. The accelerators register the
code of those frames (``acquire``); while any is registered, ``litellm_logging``'s global
``traceback`` is a view of the module whose ``format_exc()`` drops exactly those frames (every other
name is the module's own). LiteLLM's cache stays in place, so which traceback it returns for a
message is decided as it decides it. A ``traceback.format_exc`` other than the standard library's
(a test double), or a call with arguments, gets that function unchanged.
"""

from __future__ import annotations

import functools
import sys
import threading
import traceback
import types
from collections.abc import Iterable
from typing import Any, cast

from .accelerator import genuine, pin_problems

_LOGGING = "litellm.litellm_core_utils.litellm_logging"
REPLACES = f"{_LOGGING}.traceback"  # listed by each accelerator that registers frames
# The one caller whose output is the payload's data, and what it was read as (LiteLLM 1.110.2).
_PINNED = {f"{_LOGGING}._get_traceback_str_for_error": "3bf3da94ef32b15f"}
_FORMAT_EXC = traceback.format_exc

_lock = threading.Lock()
_owners: dict[str, frozenset[tuple[str, str, int, int]]] = {}
_hidden: frozenset[tuple[str, str, int, int]] = frozenset()
_orig: dict[str, Any] = {}


def _span(code: types.CodeType) -> tuple[str, str, int, int]:
    lines = [line for _, _, line in code.co_lines() if line is not None]
    return (code.co_filename, code.co_name, min(lines, default=code.co_firstlineno), max(lines, default=0))


def _is_hidden(frame: traceback.FrameSummary) -> bool:
    return any(
        frame.filename == filename and frame.name == name and frame.lineno is not None and first <= frame.lineno <= last
        for filename, name, first, last in _hidden
    )


def _strip(te: traceback.TracebackException) -> None:
    todo, seen = [te], set()
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        kept = [f for f in t.stack if not _is_hidden(f)]
        if len(kept) != len(t.stack):
            t.stack = traceback.StackSummary.from_list(kept)
        todo.extend(x for x in (t.__cause__, t.__context__, *(getattr(t, "exceptions", None) or ())) if x is not None)


class _NotCached(Exception):
    """Raised by ``format_exc`` while ``cached`` probes LiteLLM's cache, so nothing is stored."""


_local = threading.local()  # .probing: in cached(); .stand_in: (id, message, text) of a replayed error


def format_exc(*args: Any, **kw: Any) -> str:
    """``traceback.format_exc()`` without the frames of the accelerators' stand-ins."""
    if getattr(_local, "probing", False):
        raise _NotCached
    if args or kw or traceback.format_exc is not _FORMAT_EXC or not _hidden:
        return traceback.format_exc(*args, **kw)
    _, value, tb = sys.exc_info()
    if value is None:
        return _FORMAT_EXC()
    stand_in = getattr(_local, "stand_in", None)
    if stand_in is not None and stand_in[0] == id(value) and stand_in[1] == str(value):
        return stand_in[2]  # evicted between ``cached`` and LiteLLM's read: what the cache held
    # what format_exc() formats: format_exception's TracebackException, compact, chained
    te = traceback.TracebackException(type(value), value, tb, compact=True)
    _strip(te)
    return "".join(te.format(chain=True))


class _View:
    """The ``traceback`` module as ``litellm_logging`` reads it: its own ``format_exc`` (an attribute
    set on the view, as ``mock.patch`` of ``litellm_logging.traceback.format_exc`` sets it, wins)."""

    format_exc = staticmethod(format_exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    def __repr__(self) -> str:
        return repr(traceback)


VIEW = _View()


def cached(message: str) -> str | None:
    """The traceback LiteLLM's recorder (``_get_traceback_str_for_error``) holds for ``message``, or
    None when it holds none: then nothing is computed or stored (the probe's miss raises inside the
    recorder, which an ``lru_cache`` does not store). Only LiteLLM's own recorder, with the view in
    place and no double on ``format_exc``, is probed; otherwise None."""
    module = sys.modules.get(_LOGGING)
    recorder = _orig.get("recorder")
    if recorder is None or module is None or "format_exc" in vars(VIEW) or traceback.format_exc is not _FORMAT_EXC:
        return None
    names = vars(module)
    if names.get("traceback") is not VIEW or names.get("_get_traceback_str_for_error") is not recorder:
        return None
    _local.probing = True
    try:
        text = cast(Any, recorder)(message)  # mypy narrows it by the identity test above
    except _NotCached:
        return None
    finally:
        _local.probing = False
    return text if type(text) is str else None


def replaying(error: BaseException, text: str) -> None:
    """``error`` (raised next on this thread) is a replay of one whose traceback LiteLLM's recorder
    held as ``text``: should the recorder lose it before it reads it, ``format_exc`` answers ``text``."""
    _local.stand_in = (id(error), str(error), text)


def problems() -> list[str]:
    """The contract of the view, read by each accelerator that registers frames."""
    out = pin_problems(_PINNED)
    module = sys.modules.get(_LOGGING)
    current = vars(module).get("traceback") if module is not None else traceback
    if current is not traceback and current is not VIEW:
        out.append(f"{REPLACES} is not the traceback module")
    return out


def acquire(owner: str, functions: Iterable[Any]) -> None:
    """Hide ``functions``' frames (their code) from the recorded tracebacks while ``owner`` is installed."""
    global _hidden
    import importlib

    with _lock:
        _owners[owner] = frozenset(_span(f.__code__) for f in functions)
        _hidden = frozenset().union(*_owners.values())
        if "module" not in _orig:
            module = importlib.import_module(_LOGGING)
            _orig["module"] = vars(module)["traceback"]
            recorder = vars(module).get("_get_traceback_str_for_error")
            # probed by cached(): only LiteLLM's own lru_cache-wrapped recorder, never a double
            own = isinstance(recorder, functools._lru_cache_wrapper) and genuine(recorder.__wrapped__)
            _orig["recorder"] = recorder if own else None
            module.traceback = VIEW  # type: ignore[attr-defined]


def release(owner: str) -> None:
    global _hidden
    with _lock:
        _owners.pop(owner, None)
        _hidden = frozenset().union(*_owners.values())
        if not _owners and "module" in _orig:
            module = sys.modules[_LOGGING]
            if vars(module).get("traceback") is VIEW:
                module.traceback = _orig["module"]  # type: ignore[attr-defined]
            _orig.clear()
