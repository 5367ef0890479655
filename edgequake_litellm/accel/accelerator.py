"""The record each accelerator module declares (read by the package's registry)."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import sys
import threading
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._doubles import _own_code, _package_dir


def source_digest(obj: object) -> str:
    """The pin a contract compares: sha256 (first 16 hex digits) of ``obj``'s source (a static or
    class method's function). Raises ``OSError``/``TypeError`` for an object without source (a
    mock, a builtin), which a contract reads as "not the function it was proven against"."""
    target = obj.__func__ if isinstance(obj, classmethod | staticmethod) else obj
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]  # type: ignore[arg-type]


def resolve(qualified: str) -> Any:
    """The object a dotted name (module path, then attributes) names, raw from class dicts (a
    static method as its ``staticmethod``). Raises ``ImportError``/``AttributeError``/``KeyError``."""
    parts = qualified.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = vars(obj)[name] if isinstance(obj, type) and name in vars(obj) else getattr(obj, name)
        return obj
    raise ImportError(qualified)


def pin_problems(pins: Mapping[str, str], replaced: Mapping[str, tuple[Any, Any]] | None = None) -> list[str]:
    """A contract's source pins (dotted name -> ``source_digest``) that no longer hold: names
    missing, without source, or with other source. ``replaced`` maps a name an accelerator has
    already installed over to (its replacement, the original): the original is what was pinned."""
    out: list[str] = []
    for qualified, digest in pins.items():
        try:
            obj = resolve(qualified)
        except (ImportError, AttributeError, KeyError):
            out.append(f"{qualified} is missing")
            continue
        replacement, original = (replaced or {}).get(qualified, (None, None))
        if replacement is not None and obj is replacement:
            obj = original
        try:
            if source_digest(obj) != digest:
                out.append(f"{qualified} differs from the source this accelerator was proven against")
        except (OSError, TypeError):
            out.append(f"{qualified} has no readable source")
    return out


def genuine(value: Any, packages: tuple[str, ...] = ("litellm",)) -> bool:
    """A binding that is ``packages``' own (a class, module or function, also as a static or
    class method or a property, whose code lives in them) or a plain constant or library object
    (pydantic's TypeAdapters), not a mock or a user's override (a mock's type is unittest.mock's)."""
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, property):
        return all(f is None or genuine(f, packages) for f in (value.fget, value.fset, value.fdel))
    if isinstance(value, type):
        return value.__module__.split(".", 1)[0] in packages
    if isinstance(value, types.ModuleType):
        return value.__name__.split(".", 1)[0] in packages
    if type(value) is types.BuiltinFunctionType:
        return True
    if isinstance(value, types.FunctionType | types.MethodType):
        return any(_own_code(value, _package_dir(sys.modules[p])) for p in packages if p in sys.modules)
    return type(value).__module__.split(".", 1)[0] in ("builtins", "pydantic", *packages)


class Tally:
    """How many calls took an accelerator's fast path, and how many ran LiteLLM's own function,
    by reason (``status()["accelerators"][name]["counts"]``).

    Counting takes no lock: ``next()`` on an ``itertools.count`` is one C call, atomic under the
    GIL, where a lock around a ``Counter`` update cost ~0.8 µs on every fast call (eight or nine
    per LiteLLM call). The lock only guards adding a reason and reading or resetting the counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fast = itertools.count()
        self._reasons: dict[str, itertools.count[int]] = {}

    def fast(self) -> None:
        next(self._fast)

    def fell_back(self, reason: str) -> None:
        counter = self._reasons.get(reason)
        if counter is None:
            with self._lock:
                counter = self._reasons.setdefault(reason, itertools.count())
        next(counter)

    def counts(self) -> dict[str, int]:
        with self._lock:
            named = [("fast", self._fast), *((f"litellm:{r}", c) for r, c in self._reasons.items())]
        counted = ((name, _counted(counter)) for name, counter in named)
        return {name: n for name, n in counted if n}

    def reset(self) -> None:
        with self._lock:
            self._fast = itertools.count()
            self._reasons = {}


def _counted(counter: itertools.count[int]) -> int:
    """How many times ``next()`` was called on ``counter`` (started at 0): its repr, ``count(n)``,
    is the only way to read it without advancing it."""
    return int(repr(counter)[6:-1])


@dataclass
class Accelerator:
    """One accelerator: what it replaces, its contract check, and how to put it in and out."""

    name: str
    replaces: tuple[str, ...]
    problems: Callable[[], list[str]]
    install: Callable[[], None]
    uninstall: Callable[[], None]
    counts: Callable[[], dict[str, int]] = field(default=lambda: {})
    # For an accelerator that replaces in modules loaded on demand (the proxy's): replace in those
    # loaded since it was installed, and name what is replaced now (default: all of ``replaces``).
    refresh: Callable[[], None] = field(default=lambda: None)
    in_effect: Callable[[], list[str]] | None = None
