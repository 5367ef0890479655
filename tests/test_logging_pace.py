"""A sync stream read from the core waits for LiteLLM's logging pool (``_logging_pace``).

LiteLLM's stream wrapper queues a logging task per chunk of a sync stream on its bounded pool,
which drops new tasks once full (the last one runs the success callbacks and the cache write).
The core hands over chunks faster than the pool's threads, which need the GIL, run them: read
back to back from a fast upstream, streams filled the pool and lost tasks
(``benchmarks/logging_backlog.py`` measures that). So while the pool has more than
``high_water()`` tasks pending, the reader waits before each chunk, a bounded time.

Here the backlog is made without timing: the pool's workers are held on an event and more tasks
queue behind them. Every chunk of a sync stream on both routes must then wait (and the stream
must still end, with every chunk: the wait is bounded); with fewer pending, none may; an async
stream (whose logging runs on its event loop, not on the pool) never waits. Once the workers
are let go, every task runs: none was dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import edgequake_litellm
from edgequake_litellm import _logging_pace, _patch, accel
from edgequake_litellm.testing import MockUpstream, drain_litellm_logging

from .conftest import KEY

litellm = pytest.importorskip("litellm")
from litellm.litellm_core_utils import streaming_handler  # noqa: E402

BoundedPool: Any = getattr(
    pytest.importorskip("litellm.litellm_core_utils.thread_pool_executor"), "BoundedLoggingThreadPoolExecutor", None
)

CHUNKS = 12
WORKERS = 8
CAP = 1000


class Pool:
    """LiteLLM's own pool class, small, whose workers can be held busy."""

    def __init__(self) -> None:
        self.executor = BoundedPool(max_workers=WORKERS, max_pending_tasks=CAP)
        self.mark = _logging_pace.high_water(self.executor)
        self.drops = 0
        self.executor._record_drop = self._dropped
        self.release = threading.Event()
        self.ran = 0
        self._lock = threading.Lock()

    def _dropped(self) -> None:
        self.drops += 1

    def _held_task(self) -> None:
        self.release.wait(timeout=120)
        with self._lock:
            self.ran += 1

    def hold(self, queued: int) -> int:
        """Busy every worker, with ``queued`` more tasks behind them: returns the tasks added."""
        n = WORKERS + queued
        for _ in range(n):
            self.executor.submit(self._held_task)
        return n


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    if BoundedPool is None:
        pytest.skip("this LiteLLM's logging pool is unbounded: it drops nothing")
    p = Pool()
    monkeypatch.setattr(streaming_handler, "executor", p.executor)
    yield p
    p.release.set()
    drain_litellm_logging(p.executor)
    p.executor.shutdown(wait=True)


@pytest.fixture(params=["transparent", "edgequake"])
def model(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "edgequake":
        edgequake_litellm.install()
        yield "edgequake/openai/gpt-4o-mini"
        return
    edgequake_litellm.install(patch=True, accelerate=True)
    try:
        yield "openai/gpt-4o-mini"
    finally:
        _patch.uninstall()
        accel.install(None)


def _read(model: str, base: str) -> int:
    chunks = litellm.completion(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=True, api_key=KEY, api_base=base
    )
    return sum(1 for _ in chunks)


async def _aread(model: str, base: str) -> int:
    chunks = await litellm.acompletion(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=True, api_key=KEY, api_base=base
    )
    return len([c async for c in chunks])


def _held() -> int:
    return int(_logging_pace.status()["held"])


def test_the_mark_is_native_s_peak_or_a_tenth_of_a_lowered_cap() -> None:
    if BoundedPool is None:
        pytest.skip("this LiteLLM's logging pool is unbounded: it drops nothing")
    marks = {}
    for cap in (10_000, 1000, 300):
        p = BoundedPool(max_workers=1, max_pending_tasks=cap)
        marks[cap] = _logging_pace.high_water(p)
        p.shutdown()
    assert marks == {10_000: 100, 1000: 100, 300: 30}


def test_a_sync_stream_waits_for_a_pool_behind_on_both_routes(mock: MockUpstream, pool: Pool, model: str) -> None:
    assert _logging_pace.status()["active"] and _logging_pace.status()["high_water"] == pool.mark
    base = mock.base_url(f"chunks={CHUNKS},coalesce=all")
    free = _read(model, base)
    drain_litellm_logging(pool.executor)

    held = _held()
    added = pool.hold(pool.mark)
    assert _read(model, base) == free
    assert _held() - held >= free  # every chunk LiteLLM's wrapper took waited
    pool.release.set()
    drain_litellm_logging(pool.executor)
    assert (pool.drops, pool.ran) == (0, added)


def test_a_sync_stream_does_not_wait_below_the_mark(mock: MockUpstream, pool: Pool, model: str) -> None:
    base = mock.base_url(f"chunks={CHUNKS},coalesce=all")
    held = _held()
    pool.hold(pool.mark - WORKERS - CHUNKS - 10)  # the stream's own tasks stay under it
    assert _read(model, base) > CHUNKS
    assert _held() == held


async def test_an_async_stream_does_not_wait(mock: MockUpstream, pool: Pool, model: str) -> None:
    base = mock.base_url(f"chunks={CHUNKS},coalesce=all")
    held = _held()
    pool.hold(pool.mark)
    assert await _aread(model, base) > CHUNKS
    assert _held() == held


def test_the_direct_api_does_not_wait(mock: MockUpstream, pool: Pool) -> None:
    """No LiteLLM stream wrapper, no logging task per chunk."""
    base = mock.base_url(f"chunks={CHUNKS},coalesce=all")
    held = _held()
    pool.hold(pool.mark)
    chunks = edgequake_litellm.completion(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        api_key=KEY,
        api_base=base,
    )
    assert sum(1 for _ in chunks) > CHUNKS
    assert _held() == held


def test_draining_a_full_pool_waits_for_room_for_its_barrier() -> None:
    """``drain_litellm_logging`` on a full pool: its barrier tasks are dropped until slots free up,
    and one that stayed dropped would leave the barrier a party short (a 60 s timeout, then an
    error)."""
    if BoundedPool is None:
        pytest.skip("this LiteLLM's logging pool is unbounded: it drops nothing")
    executor = BoundedPool(max_workers=2, max_pending_tasks=6)
    release, dropped = threading.Event(), threading.Event()
    executor._record_drop = dropped.set
    for _ in range(6):
        executor.submit(release.wait, 120)
    outcome: list[BaseException | None] = []

    def drain() -> None:
        try:
            drain_litellm_logging(executor)
            outcome.append(None)
        except BaseException as e:  # the thread's error is the test's result
            outcome.append(e)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    assert dropped.wait(30)  # the drain found the pool full
    release.set()
    t.join(30)
    assert outcome == [None]
    executor.shutdown(wait=True)
