"""The record each accelerator module declares (read by the package's registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Accelerator:
    """One accelerator: what it replaces, its contract check, and how to put it in and out."""

    name: str
    replaces: tuple[str, ...]
    problems: Callable[[], list[str]]
    install: Callable[[], None]
    uninstall: Callable[[], None]
    counts: Callable[[], dict[str, int]] = field(default=lambda: {})
