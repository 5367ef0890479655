"""The record each accelerator module declares (read by the package's registry)."""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


def source_digest(obj: object) -> str:
    """The pin a contract compares: sha256 (first 16 hex digits) of ``obj``'s source (a static or
    class method's function). Raises ``OSError``/``TypeError`` for an object without source (a
    mock, a builtin), which a contract reads as "not the function it was proven against"."""
    target = obj.__func__ if isinstance(obj, classmethod | staticmethod) else obj
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]  # type: ignore[arg-type]


class Tally:
    """How many calls took an accelerator's fast path, and how many ran LiteLLM's own function,
    by reason (``status()["accelerators"][name]["counts"]``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def fast(self) -> None:
        with self._lock:
            self._counts["fast"] += 1

    def fell_back(self, reason: str) -> None:
        with self._lock:
            self._counts[f"litellm:{reason}"] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class Accelerator:
    """One accelerator: what it replaces, its contract check, and how to put it in and out."""

    name: str
    replaces: tuple[str, ...]
    problems: Callable[[], list[str]]
    install: Callable[[], None]
    uninstall: Callable[[], None]
    counts: Callable[[], dict[str, int]] = field(default=lambda: {})
