"""When memos derived from ``litellm.model_cost`` must be dropped.

LiteLLM bumps a model-cost generation on ``register_model`` and map reloads (the same event
that clears its own price caches); a caller may also replace ``litellm.model_cost`` or grow or
shrink it by assignment. ``ModelCostWatch.changed()`` reports any of these since its last call.
"""

from __future__ import annotations

import threading
from typing import Any

_read: list[Any] = []  # litellm, and LiteLLM's generation getter (imported on first use)


class ModelCostWatch:
    """One consumer's view of the cost map's identity, size and LiteLLM's generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: tuple[Any, int, int] | None = None

    def current(self) -> tuple[Any, int, int]:
        """The map object, its size and LiteLLM's generation, now."""
        read = _read
        if not read:
            import litellm
            import litellm.utils as utils

            read[:] = [litellm, utils.get_model_cost_mutation_generation]
        model_cost = read[0].model_cost
        return model_cost, len(model_cost), read[1]()

    def changed(self, now: tuple[Any, int, int] | None = None) -> bool:
        """Whether the map changed since the last call (the first call reports a change)."""
        now = self.current() if now is None else now
        with self._lock:
            seen = self._seen
            if seen is not None and seen[0] is now[0] and seen[1] == now[1] and seen[2] == now[2]:
                return False
            self._seen = now
            return True

    def still(self, now: tuple[Any, int, int]) -> bool:
        """Whether ``now`` (read before building a memo entry) is still what the watch last saw."""
        with self._lock:
            seen = self._seen
            return seen is not None and seen[0] is now[0] and seen[2] == now[2]

    def reset(self) -> None:
        with self._lock:
            self._seen = None
