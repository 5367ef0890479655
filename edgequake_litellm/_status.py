"""Which route each call took in transparent mode: counts a user can read with ``status()``."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

RUST = "rust"

_lock = threading.Lock()
_counts: Counter[tuple[str, str, str]] = Counter()
_refused: list[str] = []


def record(route: str, provider: str | None, outcome: str) -> None:
    """Count one call of ``route`` (e.g. ``openai.chat``) for ``provider``: served by the
    core (``outcome == "rust"``) or handed to LiteLLM's own code, ``outcome`` naming why."""
    key = (route, provider or "?", outcome)
    with _lock:
        _counts[key] += 1


def set_refused(problems: list[str]) -> None:
    with _lock:
        _refused[:] = problems


def reset() -> None:
    """Forget the counts (for tests and benchmarks)."""
    with _lock:
        _counts.clear()


def status() -> dict[str, Any]:
    """What transparent mode patched, why it refused if it did, and the route calls took.

    ``calls`` lists ``{"route", "provider", "served_by": "rust" | "litellm", "reason", "count"}``
    (``reason`` is None for calls served by the core), most frequent first; ``accelerators``
    has each accelerator's state and its fast/fallback counts (``edgequake_litellm.accel``)."""
    from . import _patch, accel

    with _lock:
        counts = sorted(_counts.items(), key=lambda kv: -kv[1])
        refused = list(_refused)
    calls = [
        {
            "route": route,
            "provider": provider,
            "served_by": "rust" if outcome == RUST else "litellm",
            "reason": None if outcome == RUST else outcome,
            "count": n,
        }
        for (route, provider, outcome), n in counts
    ]
    return {
        "patched": _patch.is_patched(),
        "patch_points": _patch.patch_points(),
        "refused": refused,
        "calls": calls,
        "served_by_rust": sum(c["count"] for c in calls if c["served_by"] == "rust"),
        "fell_back": sum(c["count"] for c in calls if c["served_by"] == "litellm"),
        "accelerators": accel.status(),
    }
