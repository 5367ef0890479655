"""How the core hands awaitables' results to asyncio (`rust/python/bridge.rs`).

Results that finish while their loop is busy join one batch, drained by one callback on the
loop's thread. These tests hold a loop's thread still (a blocking sleep inside a callback),
let results arrive, and then look at what the loop was given: one drain for the batch, the
futures completed on their own loop's thread, cancelled ones left alone with their results
released, and a loop closed or dropped before its drain ran leaking nothing.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from edgequake_litellm import _core

from .conftest import KEY

MSGS = [{"role": "user", "content": "hello there"}]


def _achat(api_base: str, text: str) -> Any:
    msgs = [{"role": "user", "content": text}]
    return _core.arequest(
        "chat", "openai", "gpt-4o-mini", msgs, api_key=KEY, api_base=api_base, timeout=10, max_retries=0
    )


async def _one(api_base: str, text: str) -> dict[str, Any]:
    body, _, _ = await _achat(api_base, text)
    return body


STALLED = "stall_after=1"  # a stream that holds its connection until the client drops it


def _astream(api_base: str) -> Any:
    return _core.arequest(
        "chat_stream", "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=api_base, timeout=10, max_retries=0
    )


def _drains(loop: asyncio.AbstractEventLoop) -> int:
    """The core's drains waiting in the loop's ready queue."""
    return sum(type(h._callback).__name__ == "Drain" for h in list(loop._ready))  # type: ignore[attr-defined]


def _hold_until(pred: Callable[[], bool], limit: float = 10) -> None:
    """Block the calling (loop) thread until ``pred`` holds; fail after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _answer(mock: Any) -> Callable[[], bool]:
    return lambda: mock.stats()["open"] == 0


def test_results_that_arrive_while_the_loop_is_busy_share_one_drain(mock):
    n = 32

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        futs = [_achat(mock.base_url(), f"m {i}") for i in range(n)]
        # The loop's thread is held here: every result that arrives queues behind one drain.
        _hold_until(lambda: _core._pending_deliveries() == n)
        assert _drains(loop) == 1
        return await asyncio.gather(*futs)

    out = asyncio.run(main(), debug=True)
    assert [b["choices"][0]["message"]["content"] for b, _, _ in out] == [f"Echo: m {i}" for i in range(n)]
    assert _core._pending_deliveries() == 0


def test_each_loop_gets_only_its_own_results(mock):
    """Several loops in several threads at once: asyncio's debug mode raises if a future is
    completed from a thread other than its loop's."""
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        async def main() -> None:
            for rnd in range(5):
                texts = [f"t{t} r{rnd} {i}" for i in range(16)]
                out = await asyncio.gather(*(_achat(mock.base_url(), x) for x in texts))
                assert [b["choices"][0]["message"]["content"] for b, _, _ in out] == [f"Echo: {x}" for x in texts]

        try:
            asyncio.run(main(), debug=True)
        except BaseException as e:  # surfaced in the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not any(th.is_alive() for th in threads)
    assert not errors, errors
    assert _core._pending_deliveries() == 0


def test_a_result_cancelled_while_queued_is_released_not_delivered(mock, capfd):
    """Cancelled after its result left the runtime and before the drain ran: the drain leaves
    the future cancelled and drops the result (a stream: its connection closes)."""
    n = 8

    async def main() -> None:
        loop = asyncio.get_running_loop()
        futs = [_astream(mock.base_url(STALLED)) for _ in range(n)]
        _hold_until(lambda: _core._pending_deliveries() == n)
        assert _drains(loop) == 1
        for f in futs:
            f.cancel()
        await asyncio.sleep(0)  # the drain runs
        assert all(f.cancelled() for f in futs)
        deadline = time.monotonic() + 10
        while mock.stats()["open"] and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    asyncio.run(main(), debug=True)
    stats = mock.stats()
    assert stats["requests"] == n and stats["open"] == 0, (stats, mock.connections())
    assert {c["closed_by"] for c in mock.connections()} == {"client"}, mock.connections()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "InvalidStateError" not in err, err


def _started_on(loop: asyncio.AbstractEventLoop, n: int, api_base: str) -> list[Any]:
    """Start ``n`` streams on ``loop`` and return their futures with the loop stopped."""

    async def start() -> list[Any]:
        return [_astream(api_base) for _ in range(n)]

    return loop.run_until_complete(start())


def test_a_loop_closed_before_its_drain_ran_releases_the_results(mock):
    loop = asyncio.new_event_loop()
    futs = _started_on(loop, 4, mock.base_url(STALLED))
    _hold_until(lambda: _core._pending_deliveries() == 4)
    assert _drains(loop) == 1
    loop.close()  # clears the ready queue: the drain and its batch go with it
    assert _core._pending_deliveries() == 0
    del futs
    _hold_until(_answer(mock))
    assert {c["closed_by"] for c in mock.connections()} == {"client"}, mock.connections()


def test_a_loop_dropped_unclosed_before_its_drain_ran_is_collected(mock):
    """The loop, its ready queue, the drain and the queued futures form a cycle through
    Rust; the drain shows its part to the garbage collector, which frees all of it."""
    loop = asyncio.new_event_loop()
    futs = _started_on(loop, 4, mock.base_url(STALLED))
    _hold_until(lambda: _core._pending_deliveries() == 4)
    del futs, loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # "unclosed event loop"
        gc.collect()
    assert _core._pending_deliveries() == 0
    _hold_until(_answer(mock))


def test_a_result_for_an_already_closed_loop_is_reported_and_released(mock, capfd):
    loop = asyncio.new_event_loop()
    futs = _started_on(loop, 1, mock.base_url(f"delay=0.3,{STALLED}"))
    loop.close()  # the answer comes 0.3 s later: no loop to schedule its drain on
    del futs
    _hold_until(lambda: mock.stats()["requests"] == 1 and mock.stats()["open"] == 0)
    assert _core._pending_deliveries() == 0
    assert [c["closed_by"] for c in mock.connections()] == ["client"], mock.connections()
    err = capfd.readouterr().err
    assert err.count("RuntimeError: Event loop is closed") == 1, err
    # The core still delivers to the next loop.
    out = asyncio.run(_one(mock.base_url(), "after"))
    assert out["choices"][0]["message"]["content"] == "Echo: after"


def test_a_future_completed_by_someone_else_is_reported_to_the_loop(mock):
    """The drain cannot complete a future that is already done: asyncio's own report for a
    callback that raised (the loop's exception handler), and the rest of the batch goes on."""
    seen: list[dict[str, Any]] = []

    async def main() -> tuple[Any, list[Any]]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
        taken = _achat(mock.base_url(), "taken")
        others = [_achat(mock.base_url(), f"o {i}") for i in range(3)]
        _hold_until(lambda: _core._pending_deliveries() == 4)
        taken.set_result("mine")
        return await taken, await asyncio.wait_for(asyncio.gather(*others), 10)

    mine, others = asyncio.run(main())
    assert mine == "mine"
    assert [b["choices"][0]["message"]["content"] for b, _, _ in others] == [f"Echo: o {i}" for i in range(3)]
    assert len(seen) == 1, seen
    assert isinstance(seen[0]["exception"], asyncio.InvalidStateError), seen
    assert "could not complete a future" in seen[0]["message"]
