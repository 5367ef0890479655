"""A sync stream read from the core must not outrun LiteLLM's logging pool.

For every chunk of a sync stream, LiteLLM's stream wrapper queues a logging task on its thread
pool (``streaming_handler.executor``), which drops new tasks once 10,000 are pending
(``LOGGING_EXECUTOR_MAX_PENDING_TASKS``; the end-of-stream task, which runs the success
callbacks and the cache write, is one of them). The native path spends ~1.4 ms of its own per
chunk and the pool keeps up. A core stream's chunks are already in memory: the reading thread
holds the GIL from one to the next, the pool's threads mostly get it at the 5 ms switch
interval, and back-to-back streams filled the queue and dropped tasks. So before each chunk,
while more than ``high_water()`` tasks are pending, the reader naps with the GIL released, for
at most ``MAX_WAIT`` per chunk: the pool's threads need ~0.33 ms of GIL per task, so that keeps
the pool near the mark, and a pool held up by something else (a blocked callback) costs the
reader no more per chunk than the native path spends reading one.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# Back-to-back native streams peak at ~190 pending tasks (benchmarks/logging_backlog.py): the
# reader waits below that, so callbacks run no later than natively; a pool whose cap a user
# lowered (LOGGING_EXECUTOR_MAX_PENDING_TASKS) is held to a tenth of it.
HIGH_WATER = 100
NAP = 50e-6
MAX_WAIT = 1e-3

_lock = threading.Lock()
_held = 0  # chunks the reader waited before
_wrapper_module: Any = None


def _executor() -> Any:
    """LiteLLM's logging pool, read where its stream wrapper reads it (on every call: a test
    or a user may replace it), if it is bounded as this reads (an unbounded pool drops nothing)."""
    global _wrapper_module
    if _wrapper_module is None:
        try:
            from litellm.litellm_core_utils import streaming_handler
        except ImportError:
            return None
        _wrapper_module = streaming_handler
    pool = getattr(_wrapper_module, "executor", None)
    slots = getattr(pool, "_pending_slots", None)
    bounded = isinstance(getattr(pool, "_max_pending_tasks", None), int)
    return pool if bounded and isinstance(getattr(slots, "_value", None), int) else None


def _pending(pool: Any) -> int:
    """Tasks queued or running: ``BoundedLoggingThreadPoolExecutor`` takes a slot per task
    accepted and gives it back when the task is done."""
    return pool._max_pending_tasks - pool._pending_slots._value  # type: ignore[no-any-return]


def pace() -> None:
    """Called before a chunk of a sync stream that LiteLLM's stream wrapper consumes."""
    pool = _executor()
    if pool is not None and _pending(pool) > high_water(pool):
        _wait(pool)


def high_water(pool: Any) -> int:
    return min(HIGH_WATER, pool._max_pending_tasks // 10)  # type: ignore[no-any-return]


def _wait(pool: Any) -> None:
    global _held
    with _lock:
        _held += 1
    mark = high_water(pool)
    deadline = time.monotonic() + MAX_WAIT
    while _pending(pool) > mark and time.monotonic() < deadline:
        time.sleep(NAP)


def status() -> dict[str, Any]:
    """``held``: chunks the reader waited before, for the pool to catch up."""
    pool = _executor()
    return {
        "active": pool is not None,
        "high_water": None if pool is None else high_water(pool),
        "held": _held,
    }
