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

import sys
import threading
import traceback
import types
from collections.abc import Iterable
from typing import Any

from .accelerator import pin_problems

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


def format_exc(*args: Any, **kw: Any) -> str:
    """``traceback.format_exc()`` without the frames of the accelerators' stand-ins."""
    if args or kw or traceback.format_exc is not _FORMAT_EXC or not _hidden:
        return traceback.format_exc(*args, **kw)
    _, value, tb = sys.exc_info()
    if value is None:
        return _FORMAT_EXC()
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
