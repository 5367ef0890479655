"""Runtime behaviour of the Rust core and the ``edgequake/`` provider: GIL release,
concurrency, connection reuse and cleanup, incremental streams, signals, fork, interpreter
exit and import cost.

Timing-sensitive tests use ``proc_upstream`` (the mock in its own process) so the upstream
never competes for this process's GIL. Every wait is bounded: calls run with ``timeout=``,
waits on threads/tasks/subprocesses have their own deadlines, so nothing can hang CI.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from edgequake_litellm import _core

from .conftest import KEY

ROOT = str(Path(__file__).resolve().parents[1])
OURS = "edgequake/openai/gpt-4o-mini"
MSGS = [{"role": "user", "content": "hello there"}]


def _msgs(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _chat(api_base: str, text: str = "hello there", **kw: Any) -> tuple[dict, dict, int]:
    kw.setdefault("timeout", 10)
    kw.setdefault("max_retries", 0)
    return _core.request("chat", "openai", "gpt-4o-mini", _msgs(text), api_key=KEY, api_base=api_base, **kw)


def _achat(api_base: str, text: str = "hello there", **kw: Any):  # noqa: ANN202
    kw.setdefault("timeout", 10)
    kw.setdefault("max_retries", 0)
    return _core.arequest("chat", "openai", "gpt-4o-mini", _msgs(text), api_key=KEY, api_base=api_base, **kw)


def _stream(api_base: str, **kw: Any) -> _core.ChatStream:
    kw.setdefault("timeout", 10)
    kw.setdefault("max_retries", 0)
    return _core.request("chat_stream", "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=api_base, **kw)


def _astream(api_base: str, **kw: Any):  # noqa: ANN202
    kw.setdefault("timeout", 10)
    kw.setdefault("max_retries", 0)
    return _core.arequest("chat_stream", "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=api_base, **kw)


def _content(body: dict) -> str:
    return body["choices"][0]["message"]["content"]


def _run_async(coro, limit: float):  # noqa: ANN001, ANN202
    """Run a coroutine in a fresh event loop with a hard deadline."""
    return asyncio.run(asyncio.wait_for(coro, limit))


def _wait_until(pred: Callable[[], bool], limit: float) -> float:
    """Poll ``pred`` until true or ``limit`` seconds; returns the elapsed time."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if pred():
            break
        time.sleep(0.02)
    return time.perf_counter() - start


async def _await_until(pred: Callable[[], bool], limit: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if pred():
            break
        await asyncio.sleep(0.02)
    return time.perf_counter() - start


def _closed(mock) -> Callable[[], bool]:  # noqa: ANN001
    return lambda: mock.stats()["open"] == 0


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.pop("PYTHONWARNINGS", None)
    return env


# Hang guards for child interpreters, not timings: on a 2-core machine kept busy by other
# work, importing LiteLLM alone took 67 s.
CHILD_LIMIT = 300.0


def _run_script(source: str, *args: str, limit: float = CHILD_LIMIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        env=_subprocess_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=limit,
    )


def _assert_clean_exit(proc: subprocess.CompletedProcess[str], marker: str) -> None:
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert marker in proc.stdout, (proc.stdout, proc.stderr)
    for bad in ("Fatal Python error", "panicked", "Traceback", "Segmentation fault", "core dumped"):
        assert bad not in proc.stderr, proc.stderr


# ---- 1. GIL released during a slow sync call --------------------------------------------


def _ran_while_in_flight(call: Callable[[str], Any], upstream: Any) -> tuple[bool, Any]:
    """Run ``call(marker)`` in another thread while this one runs Python: polling the upstream
    over HTTP until it holds the request carrying ``marker``. Returns whether that was seen
    before the call returned (checked by the calling thread first thing after the call), and
    the call's result. A call that held the GIL while blocked would let this thread run only
    after it returned."""
    marker = f"gil-{time.monotonic_ns()}"
    seen, done = threading.Event(), threading.Event()
    out: list[Any] = []

    def run() -> None:
        try:
            result = call(marker)
            out.append((seen.is_set(), result))
        except BaseException as e:  # noqa: BLE001
            out.append(e)
        finally:
            done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while not done.is_set():
        if marker in str(upstream.requests()):
            seen.set()
            break
        time.sleep(0.01)
    worker.join(60)
    assert not worker.is_alive(), "the call did not finish"
    assert not isinstance(out[0], BaseException), out
    return out[0]


def test_gil_released_during_sync_core_call(proc_upstream):
    _chat(proc_upstream.base_url())  # warm: runtime and pool exist before measuring
    in_flight, result = _ran_while_in_flight(lambda m: _chat(proc_upstream.base_url("delay=1.5"), m), proc_upstream)
    assert _content(result[0]).startswith("Echo: gil-")
    assert in_flight


def test_gil_released_during_litellm_completion(litellm, proc_upstream):
    def call(scenario: str | None, text: str):  # noqa: ANN202
        return litellm.completion(
            model=OURS,
            messages=_msgs(text),
            api_key=KEY,
            api_base=proc_upstream.base_url(scenario),
            max_retries=0,
            timeout=10,
        )

    assert call(None, "warm").choices[0].message.content == "Echo: warm"
    in_flight, result = _ran_while_in_flight(lambda m: call("delay=1.5", m), proc_upstream)
    assert result.choices[0].message.content.startswith("Echo: gil-")
    assert in_flight


# ---- 2. concurrency of async calls -------------------------------------------------------


_SERIAL_100 = 100 * 1.0  # 100 calls to a 1 s upstream, one after another


def test_100_concurrent_core_arequests_overlap(proc_upstream):
    _chat(proc_upstream.base_url())

    async def main() -> tuple[float, list]:
        start = time.perf_counter()
        results = await asyncio.gather(
            *[_achat(proc_upstream.base_url("delay=1"), f"msg {i}", timeout=20) for i in range(100)]
        )
        return time.perf_counter() - start, results

    elapsed, results = _run_async(main(), 90)
    assert [_content(r[0]) for r in results] == [f"Echo: msg {i}" for i in range(100)]
    assert all(r[2] == 200 for r in results)
    # Each call waits 1 s upstream: one after another they take 100 s. Speed: benchmarks/.
    assert 0.9 < elapsed < _SERIAL_100 / 2, elapsed


def test_100_concurrent_litellm_acompletions_overlap(litellm, proc_upstream):
    async def one(i: int):  # noqa: ANN202
        return await litellm.acompletion(
            model=OURS,
            messages=_msgs(f"msg {i}"),
            api_key=KEY,
            api_base=proc_upstream.base_url("delay=1"),
            max_retries=0,
            timeout=30,
        )

    async def main() -> tuple[float, list]:
        await one(-1)  # warm LiteLLM's lazy imports outside the measurement
        start = time.perf_counter()
        results = await asyncio.gather(*[one(i) for i in range(100)])
        return time.perf_counter() - start, results

    elapsed, results = _run_async(main(), 120)
    assert [r.choices[0].message.content for r in results] == [f"Echo: msg {i}" for i in range(100)]
    assert 0.9 < elapsed < _SERIAL_100 / 2, elapsed


# ---- 3. connection reuse -----------------------------------------------------------------


def test_sequential_sync_calls_reuse_one_connection(mock):
    mock.reset()
    for i in range(20):
        body, _, status = _chat(mock.base_url(), f"seq {i}")
        assert (status, _content(body)) == (200, f"Echo: seq {i}")
    _assert_reused(mock, 20)


def test_sequential_async_calls_reuse_one_connection(mock):
    mock.reset()

    async def main() -> list[str]:
        out = []
        for i in range(20):
            body, _, _ = await _achat(mock.base_url(), f"aseq {i}")
            out.append(_content(body))
        return out

    assert _run_async(main(), 60) == [f"Echo: aseq {i}" for i in range(20)]
    _assert_reused(mock, 20)


def test_sequential_litellm_calls_reuse_one_connection(litellm, mock):
    mock.reset()
    for i in range(20):
        resp = litellm.completion(
            model=OURS, messages=_msgs(f"l {i}"), api_key=KEY, api_base=mock.base_url(), max_retries=0, timeout=10
        )
        assert resp.choices[0].message.content == f"Echo: l {i}"
    _assert_reused(mock, 20)


def _assert_reused(mock, calls: int) -> None:
    """Sequential calls ride one pooled connection. hyper hands a finished connection back to
    the pool from a runtime task; on a loaded machine the next call can start first and open a
    second one, so allow that, but reuse must dominate (no reuse would open `calls`). Each
    connection says which side ended it (``closed_by``) and whether the pool carried it over from
    an earlier test (``accepted_before_reset``): a CI run once saw 4 opened and 3 closed in 20
    sequential LiteLLM calls (not reproduced since, also not with three busy loops on this
    2-core machine and 30 idle connections left in the pool; under investigation)."""
    stats = mock.stats()
    assert stats["requests"] == calls, stats
    assert stats["connections_opened"] <= 2, (stats, mock.connections())
    assert max(c["requests"] for c in mock.connections()) >= calls // 2, mock.connections()


# ---- 4. cancellation / early exit closes the upstream connection -------------------------


def test_cancelled_arequest_closes_connection(mock):
    async def main() -> tuple[dict, float]:
        task = asyncio.ensure_future(_achat(mock.base_url("stall"), timeout=30))
        await _await_until(lambda: mock.stats()["requests"] == 1, 5)
        before = mock.stats()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _await_until(_closed(mock), 10)
        return before

    before = _run_async(main(), 30)
    assert before["open"] == 1 and before["requests"] == 1, before
    stats = mock.stats()
    assert stats["open"] == 0 and stats["connections_closed"] == 1, stats


def test_cancelled_delayed_arequest_closes_connection(mock):
    """``delay`` keeps the mock asleep (it does not watch the socket), so it only sees the
    close once it answers at 2 s. A request that was not really dropped would read that
    answer and park the connection in the pool, leaving it open."""

    async def main() -> None:
        task = asyncio.ensure_future(_achat(mock.base_url("delay=2"), timeout=30))
        await _await_until(lambda: mock.stats()["requests"] == 1, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _await_until(lambda: mock.stats()["connections_closed"] == 1, 15)

    _run_async(main(), 40)
    stats = mock.stats()
    assert stats["open"] == 0 and stats["connections_closed"] == 1, stats


def test_cancelled_litellm_acompletion_closes_connection(litellm, mock):
    async def main() -> None:
        task = asyncio.ensure_future(
            litellm.acompletion(
                model=OURS, messages=MSGS, api_key=KEY, api_base=mock.base_url("stall"), max_retries=0, timeout=30
            )
        )
        await _await_until(lambda: mock.stats()["requests"] == 1, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _await_until(_closed(mock), 3)

    _run_async(main(), 20)
    stats = mock.stats()
    assert stats["requests"] == 1 and stats["open"] == 0 and stats["connections_closed"] == 1, stats


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="LiteLLM calls a custom provider's astreaming() in its executor thread; we open the "
    "stream there so upstream errors raise from `await acompletion()` as natively, which a "
    "task cancel cannot interrupt before the response head or the timeout (docs/providers.md)",
)
def test_cancelled_litellm_acompletion_stream_closes_connection(litellm, mock):
    """Cancelling ``acompletion(stream=True)`` while the response head is awaited must drop
    the upstream request, as LiteLLM's native ``openai/`` path does."""
    timeout = 6  # the request's own deadline; the check below ends well before it

    async def main() -> dict:
        task = asyncio.ensure_future(
            litellm.acompletion(
                model=OURS,
                messages=MSGS,
                api_key=KEY,
                api_base=mock.base_url("stall"),
                max_retries=0,
                timeout=timeout,
                stream=True,
            )
        )
        await _await_until(lambda: mock.stats()["requests"] == 1, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _await_until(_closed(mock), 2)
        return mock.stats()

    stats = _run_async(main(), 30)
    assert stats["requests"] == 1
    assert stats["open"] == 0 and stats["connections_closed"] == 1, stats


def _read_batches(stream: Any) -> tuple[list[list[dict]], str]:
    """Every batch of a sync core stream, and how it ended ("end" or the error's kind)."""
    batches: list[list[dict]] = []
    try:
        for batch in stream:
            batches.append(batch)
    except _core.CoreError as e:
        return batches, e.kind
    return batches, "end"


async def _aread_batches(stream: Any) -> tuple[list[list[dict]], str]:
    batches: list[list[dict]] = []
    try:
        async for batch in stream:
            batches.append(batch)
    except _core.CoreError as e:
        return batches, e.kind
    return batches, "end"


@pytest.mark.parametrize("fault", ["", "stream_error", "malformed_sse", "truncate", "reset_after=6"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_first_batch_is_the_first_chunk_alone(mock, mode, fault):
    """A server that writes the whole stream at once: the first batch carries only the first
    chunk (the caller sees it before the rest is parsed), and the rest follows in order,
    then the same end or error as when every event comes in its own write."""

    def read(scenario: str) -> tuple[list[list[dict]], str]:
        url = mock.base_url(",".join(x for x in (scenario, "chunks=12", fault) if x))
        if mode == "sync":
            return _read_batches(_stream(url))

        async def main() -> tuple[list[list[dict]], str]:
            return await _aread_batches(await _astream(url))

        return _run_async(main(), 20)  # type: ignore[no-any-return]

    whole, whole_end = read("coalesce=all")
    apart, apart_end = read("")
    flat = [c for b in whole for c in b]
    assert flat == [c for b in apart for c in b] and whole_end == apart_end
    assert flat and len(whole[0]) == 1, [len(b) for b in whole]
    assert len(whole) == 1 if len(flat) == 1 else len(whole) >= 2


def test_sync_stream_close_after_first_batch_closes_connection(mock):
    stream = _stream(mock.base_url("stall_after=2"), timeout=30)
    first = next(stream)
    assert first and first[0]["choices"][0]["delta"]["role"] == "assistant"
    assert mock.stats()["open"] == 1
    stream.close()
    _wait_until(_closed(mock), 10)
    assert mock.stats()["open"] == 0 and mock.stats()["connections_closed"] == 1, mock.stats()


@pytest.mark.parametrize("scenario", ["stall_after=2"])
def test_sync_stream_iteration_after_close_just_ends(mock, scenario):
    """Iterating a closed stream ends (StopIteration, possibly after batches that were
    already buffered): no error of kind "internal" (reserved for core bugs), no blocking."""
    stream = _stream(mock.base_url(scenario), timeout=30)
    assert next(stream)
    stream.close()
    outcome: list[Any] = []

    def drain() -> None:
        try:
            for _ in range(20):
                outcome.append(next(stream))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    t.join(5)
    assert outcome, "next() on a closed stream blocked"
    assert all(isinstance(o, list) for o in outcome[:-1]), outcome
    assert isinstance(outcome[-1], StopIteration), repr(outcome[-1])


def test_async_stream_iteration_after_close_just_ends(mock):
    async def main() -> BaseException | None:
        stream = await _astream(mock.base_url("stall_after=2"), timeout=30)
        assert await stream.__anext__()
        stream.close()
        try:
            await asyncio.wait_for(stream.__anext__(), 5)
        except BaseException as e:  # noqa: BLE001
            return e
        return None

    outcome = _run_async(main(), 20)
    assert isinstance(outcome, StopAsyncIteration), repr(outcome)


def test_sync_stream_dropped_after_first_batch_closes_connection(mock):
    stream = _stream(mock.base_url("stall_after=2"), timeout=30)
    for batch in stream:
        assert batch
        break
    assert mock.stats()["open"] == 1
    del stream, batch
    gc.collect()
    _wait_until(_closed(mock), 3)
    assert mock.stats()["open"] == 0 and mock.stats()["connections_closed"] == 1, mock.stats()


@pytest.mark.parametrize("how", ["close", "drop"])
def test_async_stream_early_break_closes_connection(mock, how):
    async def main() -> tuple[int, dict]:
        stream = await _astream(mock.base_url("stall_after=2"), timeout=30)
        n = 0
        async for batch in stream:
            n += len(batch)
            break
        open_before = mock.stats()["open"]
        if how == "close":
            stream.close()
        else:
            del stream
            gc.collect()
        await _await_until(_closed(mock), 10)
        return n, {"open_before": open_before, **mock.stats()}

    n, stats = _run_async(main(), 20)
    assert n >= 1
    assert stats["open_before"] == 1
    assert stats["open"] == 0 and stats["connections_closed"] == 1, stats


# A cycle of the test below failed in about one run in fifteen on a loaded 2-core machine
# when the runtime dropped its own handle on the awaitable without the GIL.
_DROP_CYCLES = 30


def _raw_stream_args(api_base: str) -> tuple:
    headers = [("authorization", f"Bearer {KEY}"), ("content-type", "application/json")]
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": true}'
    return ("POST", f"{api_base}/chat/completions", headers, body)


@pytest.mark.parametrize("kind", ["chat_stream", "byte_stream"])
def test_dropped_unread_async_stream_closes_connection_without_later_calls(mock, kind):
    """An async stream dropped unclosed releases its connection by itself, every time: nothing
    in the runtime keeps the awaitable that returned it (and so the stream) alive until some
    later call into Python. Between the drop and the check no call enters the core, so a
    handle left to pyo3's deferred release would keep the connection open."""

    async def open_stream() -> object:
        if kind == "chat_stream":
            return await _astream(mock.base_url("stall_after=2"), timeout=30)
        status, _, body = await _core.asend(*_raw_stream_args(mock.base_url("stall_after=2")), stream=True, timeout=30)
        assert status == 200
        return body

    async def main() -> tuple[int, dict] | None:
        for cycle in range(_DROP_CYCLES):
            mock.reset()
            stream = await open_stream()
            assert mock.stats()["open"] == 1
            del stream  # the last reference: no cycle, so no gc.collect (slow with LiteLLM loaded)
            await _await_until(_closed(mock), 10)
            if mock.stats()["open"]:
                return cycle, mock.stats()
        return None

    assert _run_async(main(), _DROP_CYCLES * 15) is None  # a hang guard; each cycle has its bound


def test_dropped_sync_byte_stream_closes_connection(mock):
    _, _, body = _core.send(*_raw_stream_args(mock.base_url("stall_after=2")), stream=True, timeout=30)
    assert next(body)
    assert mock.stats()["open"] == 1
    del body
    gc.collect()
    _wait_until(_closed(mock), 10)
    assert mock.stats()["open"] == 0 and mock.stats()["connections_closed"] == 1, mock.stats()


def test_async_stream_cancelled_consumer_then_close(mock):
    async def main() -> tuple[int, dict]:
        stream = await _astream(mock.base_url("stall_after=2"), timeout=30)
        got: list = []

        async def consume() -> None:
            async for batch in stream:
                got.extend(batch)

        task = asyncio.ensure_future(consume())
        await _await_until(lambda: len(got) >= 2, 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stream.close()
        await _await_until(_closed(mock), 3)
        return len(got), mock.stats()

    n, stats = _run_async(main(), 20)
    assert n == 2  # role chunk and first token, then the upstream stalls
    assert stats["open"] == 0 and stats["connections_closed"] == 1, stats


def test_litellm_stream_dropped_after_first_chunk_closes_connection(litellm, mock):
    resp = litellm.completion(
        model=OURS,
        messages=MSGS,
        api_key=KEY,
        api_base=mock.base_url("stall_after=2"),
        max_retries=0,
        timeout=30,
        stream=True,
    )
    for chunk in resp:
        assert chunk.choices[0].delta.role == "assistant"
        break
    del resp, chunk
    gc.collect()
    _wait_until(_closed(mock), 3)
    assert mock.stats()["open"] == 0 and mock.stats()["connections_closed"] == 1, mock.stats()


# ---- 5. streams are incremental ----------------------------------------------------------

CHUNK_DELAY = 0.5
INCREMENTAL = f"chunks=5,chunk_delay={CHUNK_DELAY}"
# The upstream pauses before each frame after the first: the last token leaves at least
# 5 pauses after the request. A client that buffered could show nothing before that.
LAST_TOKEN_SENT_AFTER = 5 * CHUNK_DELAY


def test_sync_stream_is_incremental(proc_upstream):
    start = time.perf_counter()
    stream = _stream(proc_upstream.base_url(INCREMENTAL))
    arrivals: list[tuple[float, int]] = []
    for batch in stream:
        arrivals.append((time.perf_counter() - start, len(batch)))
    total = time.perf_counter() - start
    assert sum(n for _, n in arrivals) == 7  # role, 5 tokens, finish
    assert len(arrivals) >= 4, arrivals  # spread over several batches, not one at the end
    assert arrivals[0][0] < LAST_TOKEN_SENT_AFTER <= total, (arrivals, total)


def test_async_stream_is_incremental(proc_upstream):
    async def main() -> tuple[list, float]:
        start = time.perf_counter()
        stream = await _astream(proc_upstream.base_url(INCREMENTAL))
        arrivals = []
        async for batch in stream:
            arrivals.append((time.perf_counter() - start, len(batch)))
        return arrivals, time.perf_counter() - start

    arrivals, total = _run_async(main(), 30)
    assert sum(n for _, n in arrivals) == 7
    assert len(arrivals) >= 4, arrivals
    assert arrivals[0][0] < LAST_TOKEN_SENT_AFTER <= total, (arrivals, total)


def test_litellm_stream_is_incremental(litellm, proc_upstream):
    start = time.perf_counter()
    resp = litellm.completion(
        model=OURS,
        messages=MSGS,
        api_key=KEY,
        api_base=proc_upstream.base_url(INCREMENTAL),
        max_retries=0,
        timeout=10,
        stream=True,
    )
    arrivals = []
    for chunk in resp:
        text = chunk.choices[0].delta.content if chunk.choices else None
        if text:
            arrivals.append((time.perf_counter() - start, text))
    total = time.perf_counter() - start
    assert [t for _, t in arrivals] == [f"tok{k} " for k in range(5)]
    assert arrivals[0][0] < LAST_TOKEN_SENT_AFTER <= total, (arrivals, total)


def test_litellm_async_stream_is_incremental(litellm, proc_upstream):
    async def main() -> tuple[list, float]:
        start = time.perf_counter()
        resp = await litellm.acompletion(
            model=OURS,
            messages=MSGS,
            api_key=KEY,
            api_base=proc_upstream.base_url(INCREMENTAL),
            max_retries=0,
            timeout=10,
            stream=True,
        )
        arrivals = []
        async for chunk in resp:
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                arrivals.append((time.perf_counter() - start, text))
        return arrivals, time.perf_counter() - start

    arrivals, total = _run_async(main(), 30)
    assert [t for _, t in arrivals] == [f"tok{k} " for k in range(5)]
    assert arrivals[0][0] < LAST_TOKEN_SENT_AFTER <= total, (arrivals, total)


# ---- 6. Ctrl-C during a sync call --------------------------------------------------------

# Every child starts with Python's own SIGINT handler: a process launched as a background job
# of a non-interactive shell (``make test &``) inherits SIGINT ignored, Python then keeps it
# ignored, and a Ctrl-C test would observe the shell, not the core. Each child calls with a
# marker the parent waits to see arrive at the upstream, so the signal lands during the call.
_SIGINT_PRELUDE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
base, marker = sys.argv[1], sys.argv[2]
msgs = [{"role": "user", "content": marker}]
"""

_SIGINT_CORE = """
from edgequake_litellm import _core
print("READY", flush=True)
try:
    _core.request("chat", "openai", "gpt-4o-mini", msgs, api_key="sk-test", api_base=base,
                  max_retries=0, timeout=600)
    print("RETURNED", flush=True)
except KeyboardInterrupt:
    print("CAUGHT KeyboardInterrupt at", time.monotonic(), flush=True)
"""

_SIGINT_LITELLM = """
import litellm, edgequake_litellm
litellm.suppress_debug_info = True
edgequake_litellm.install()
print("READY", flush=True)
try:
    litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=msgs, api_key="sk-test",
                       api_base=base, max_retries=0, timeout=600)
    print("RETURNED", flush=True)
except KeyboardInterrupt:
    print("CAUGHT KeyboardInterrupt at", time.monotonic(), flush=True)
"""

_SIGINT_STREAM = """
from edgequake_litellm import _core
stream = _core.request("chat_stream", "openai", "gpt-4o-mini", msgs, api_key="sk-test",
                       api_base=base, max_retries=0, timeout=600)
got = 0
while got < 2:  # the upstream sends two chunks, then stalls
    got += len(next(stream))
try:
    print("READY", flush=True)  # inside the try: the next statement is the blocking read
    next(stream)
    print("RETURNED", flush=True)
except KeyboardInterrupt:
    print("CAUGHT KeyboardInterrupt at", time.monotonic(), flush=True)
"""

# The upstream never answers (the calls' own timeout is 600 s): a child that ignored SIGINT
# would still be waiting when these bounds, generous for a loaded machine, run out.
_SIGINT_CAUGHT_WITHIN = 60.0
_SIGINT_EXIT_WITHIN = 240.0


@pytest.mark.parametrize(
    ("script", "scenario"),
    [(_SIGINT_CORE, "stall"), (_SIGINT_LITELLM, "stall"), (_SIGINT_STREAM, "stall_after=2")],
    ids=["core", "litellm", "core_stream"],
)
def test_ctrl_c_interrupts_sync_call_promptly(proc_upstream, script, scenario):
    """SIGINT sent once the upstream holds the child's request raises KeyboardInterrupt in
    the blocked call (time.monotonic is one clock for both processes on Linux), and the
    process then exits cleanly."""
    marker = f"sigint-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SIGINT_PRELUDE + script), proc_upstream.base_url(scenario), marker],
        env=_subprocess_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(CHILD_LIMIT)  # a hang guard: importing LiteLLM is slow on a loaded machine
        assert ready and ready[0].strip() == "READY", (ready, proc.poll())
        arrived = _wait_until(lambda: marker in str(proc_upstream.requests()) or proc.poll() is not None, CHILD_LIMIT)
        assert marker in str(proc_upstream.requests()), (arrived, proc.poll())
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=_SIGINT_EXIT_WITHIN)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "CAUGHT KeyboardInterrupt at" in out, (out, err)
    assert "RETURNED" not in out
    assert proc.returncode == 0, (proc.returncode, err)
    assert "Fatal Python error" not in err and "panicked" not in err, err
    caught = float(out.split("CAUGHT KeyboardInterrupt at", 1)[1].split()[0])
    assert 0 <= caught - sent < _SIGINT_CAUGHT_WITHIN, caught - sent


# ---- 7. fork -----------------------------------------------------------------------------

_FORK = """
import os, sys, time
from edgequake_litellm import _core
base = sys.argv[1]

def call(text):
    body, _, status = _core.request("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": text}],
                                    api_key="sk-test", api_base=base, max_retries=0, timeout=10)
    return status, body["choices"][0]["message"]["content"]

assert call("parent 1") == (200, "Echo: parent 1")
pid = os.fork()
if pid == 0:
    try:
        ok = call("child") == (200, "Echo: child")
    except BaseException as e:
        os.write(2, repr(e).encode())
        os._exit(4)
    os._exit(0 if ok else 3)
deadline = time.monotonic() + 20
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("CHILD", os.waitstatus_to_exitcode(status), flush=True)
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("CHILD HUNG", flush=True)
        break
    time.sleep(0.02)
assert call("parent 2") == (200, "Echo: parent 2")
print("PARENT OK", flush=True)
"""

_FORK_INFLIGHT = """
import os, sys, threading, time
from edgequake_litellm import _core
base, slow = sys.argv[1], sys.argv[2]

def call(text, api_base=base):
    body, _, _ = _core.request("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": text}],
                               api_key="sk-test", api_base=api_base, max_retries=0, timeout=10)
    return body["choices"][0]["message"]["content"]

call("warm")
slow_result = []
t = threading.Thread(target=lambda: slow_result.append(call("slow", slow)))
t.start()
time.sleep(0.3)  # the parent's runtime is busy with the slow call while we fork
codes = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if call(f"child {i}") == f"Echo: child {i}" else 3)
        except BaseException:
            os._exit(4)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            codes.append(os.waitstatus_to_exitcode(status))
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            codes.append("hung")
            break
        time.sleep(0.02)
t.join(20)
print("CODES", codes, slow_result, call("after"), flush=True)
"""

_FORK_POOL = """
import multiprocessing, sys
from edgequake_litellm import _core
base = sys.argv[1]

def call(text):
    body, _, _ = _core.request("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": text}],
                               api_key="sk-test", api_base=base, max_retries=0, timeout=10)
    return body["choices"][0]["message"]["content"]

if __name__ == "__main__":
    assert call("parent") == "Echo: parent"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(call, ["w0", "w1", "w2", "w3"], chunksize=1).get(30)
    print("POOL", result, flush=True)
    print("PARENT", call("parent again"), flush=True)
"""

_FORK_LITELLM = """
import os, sys, time
import litellm, edgequake_litellm
litellm.suppress_debug_info = True
edgequake_litellm.install()
base = sys.argv[1]

def call(text):
    r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=[{"role": "user", "content": text}],
                           api_key="sk-test", api_base=base, max_retries=0, timeout=10)
    return r.choices[0].message.content

assert call("parent") == "Echo: parent"
pid = os.fork()
if pid == 0:
    try:
        os._exit(0 if call("child") == "Echo: child" else 3)
    except BaseException:
        os._exit(4)
deadline = time.monotonic() + 30
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("CHILD", os.waitstatus_to_exitcode(status), flush=True)
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("CHILD HUNG", flush=True)
        break
    time.sleep(0.02)
print("PARENT", call("parent again"), flush=True)
"""


def test_calls_work_after_fork(proc_upstream):
    proc = _run_script(_FORK, proc_upstream.base_url())
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "CHILD 0" in proc.stdout, (proc.stdout, proc.stderr)
    assert "PARENT OK" in proc.stdout


def test_fork_while_parent_call_in_flight(proc_upstream):
    proc = _run_script(_FORK_INFLIGHT, proc_upstream.base_url(), proc_upstream.base_url("delay=1"))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "CODES [0, 0, 0] ['Echo: slow'] Echo: after" in proc.stdout, (proc.stdout, proc.stderr)


def test_fork_pool_workers_make_calls(proc_upstream):
    proc = _run_script(_FORK_POOL, proc_upstream.base_url())
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "POOL ['Echo: w0', 'Echo: w1', 'Echo: w2', 'Echo: w3']" in proc.stdout, (proc.stdout, proc.stderr)
    assert "PARENT Echo: parent again" in proc.stdout


def test_litellm_calls_work_after_fork(proc_upstream):
    proc = _run_script(_FORK_LITELLM, proc_upstream.base_url())
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "CHILD 0" in proc.stdout, (proc.stdout, proc.stderr)
    assert "PARENT Echo: parent again" in proc.stdout


# ---- 8. many Python threads --------------------------------------------------------------


def _hammer(fn: Callable[[int], str], n: int = 50) -> list[str]:
    barrier = threading.Barrier(n, timeout=30)

    def one(i: int) -> str:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        return [f.result(timeout=60) for f in futures]


def test_50_threads_core_requests_unmixed(mock):
    results = _hammer(lambda i: _content(_chat(mock.base_url(), f"thread {i} says {i * 7}")[0]))
    assert results == [f"Echo: thread {i} says {i * 7}" for i in range(50)]
    assert mock.stats()["requests"] == 50


def test_50_threads_litellm_completion_unmixed(litellm, mock):
    def call(i: int) -> str:
        resp = litellm.completion(
            model=OURS,
            messages=_msgs(f"thread {i} says {i * 7}"),
            api_key=KEY,
            api_base=mock.base_url(),
            max_retries=0,
            timeout=30,
        )
        return resp.choices[0].message.content

    results = _hammer(call)
    assert results == [f"Echo: thread {i} says {i * 7}" for i in range(50)]
    bodies = [r["body"]["messages"][-1]["content"] for r in mock.requests()]
    assert sorted(bodies) == sorted(f"thread {i} says {i * 7}" for i in range(50))


def test_50_threads_sync_streams_unmixed(mock):
    def call(i: int) -> str:
        stream = _core.request(
            "chat_stream",
            "openai",
            "gpt-4o-mini",
            _msgs(f"s{i} x{i}"),
            api_key=KEY,
            api_base=mock.base_url(),
            max_retries=0,
            timeout=30,
        )
        return "".join(c["choices"][0]["delta"].get("content") or "" for batch in stream for c in batch if c["choices"])

    assert _hammer(call) == [f"Echo: s{i} x{i}" for i in range(50)]


# ---- 9. interpreter exit -----------------------------------------------------------------

_EXIT_ASYNC_IN_FLIGHT = """
import asyncio, sys
from edgequake_litellm import _core
base = sys.argv[1]

async def main():
    tasks = [asyncio.ensure_future(_core.arequest("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": "x"}],
                                                  api_key="sk-test", api_base=base, max_retries=0, timeout=30))
             for _ in range(5)]
    await asyncio.sleep(0.3)
    print("EXITING", flush=True)
    sys.exit(0)

asyncio.run(main())
"""

_EXIT_DAEMON_THREAD_IN_FLIGHT = """
import asyncio, sys, threading, time
from edgequake_litellm import _core
async_base, sync_base = sys.argv[1], sys.argv[2]

def loop_thread():
    async def go():
        await asyncio.gather(*[_core.arequest("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": "x"}],
                                              api_key="sk-test", api_base=async_base, max_retries=0, timeout=30)
                               for _ in range(10)])
    asyncio.new_event_loop().run_until_complete(go())

def sync_thread():
    while True:
        _core.request("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": "x"}],
                      api_key="sk-test", api_base=sync_base, max_retries=0, timeout=30)

threading.Thread(target=loop_thread, daemon=True).start()
threading.Thread(target=sync_thread, daemon=True).start()
time.sleep(0.3)
print("EXITING", flush=True)
"""

_EXIT_AFTER_CALLS = """
import asyncio, sys
from edgequake_litellm import _core
base, stall = sys.argv[1], sys.argv[2]
body, _, status = _core.request("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": "a"}],
                                api_key="sk-test", api_base=base, max_retries=0, timeout=10)
assert status == 200

async def go():
    return await _core.arequest("chat", "openai", "gpt-4o-mini", [{"role": "user", "content": "b"}],
                                api_key="sk-test", api_base=base, max_retries=0, timeout=10)

assert asyncio.run(go())[2] == 200
stream = _core.request("chat_stream", "openai", "gpt-4o-mini", [{"role": "user", "content": "c"}],
                       api_key="sk-test", api_base=stall, max_retries=0, timeout=30)
next(stream)  # leave a stream open at exit
print("EXITING", flush=True)
"""

_EXIT_LITELLM = """
import asyncio, sys
import litellm, edgequake_litellm
litellm.suppress_debug_info = True
edgequake_litellm.install()
base, slow = sys.argv[1], sys.argv[2]
kw = dict(api_key="sk-test", max_retries=0, timeout=30)
r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=[{"role": "user", "content": "a"}],
                       api_base=base, **kw)
assert r.choices[0].message.content == "Echo: a"

async def main():
    r = await litellm.acompletion(model="edgequake/openai/gpt-4o-mini", messages=[{"role": "user", "content": "b"}],
                                  api_base=base, **kw)
    assert r.choices[0].message.content == "Echo: b"
    asyncio.ensure_future(litellm.acompletion(model="edgequake/openai/gpt-4o-mini",
                                              messages=[{"role": "user", "content": "c"}], api_base=slow, **kw))
    await asyncio.sleep(0.3)
    print("EXITING", flush=True)

asyncio.run(main())
"""


def test_exit_with_async_calls_in_flight(proc_upstream):
    _assert_clean_exit(_run_script(_EXIT_ASYNC_IN_FLIGHT, proc_upstream.base_url("delay=5")), "EXITING")


def test_exit_with_daemon_threads_mid_call(proc_upstream):
    """Async calls completing while the interpreter finalises (the main thread exits after
    0.3 s; the upstream answers them after 0.3 s) must not touch the dead interpreter.
    The race window is narrow, so the script runs several times."""
    for delay in ("0.28", "0.3", "0.32", "0.3", "0.3", "0.3"):
        proc = _run_script(
            _EXIT_DAEMON_THREAD_IN_FLIGHT, proc_upstream.base_url(f"delay={delay}"), proc_upstream.base_url("delay=0.1")
        )
        _assert_clean_exit(proc, "EXITING")


def test_exit_right_after_sync_and_async_calls(proc_upstream):
    proc = _run_script(_EXIT_AFTER_CALLS, proc_upstream.base_url(), proc_upstream.base_url("stall_after=2"))
    _assert_clean_exit(proc, "EXITING")


def test_exit_with_litellm_acompletion_in_flight(proc_upstream):
    proc = _run_script(_EXIT_LITELLM, proc_upstream.base_url(), proc_upstream.base_url("delay=5"))
    _assert_clean_exit(proc, "EXITING")


# ---- 10. import cost ---------------------------------------------------------------------


def test_import_is_cheap_and_does_not_import_litellm():
    """Cheap means no heavy module comes with it (import time is measured in benchmarks/)."""
    proc = _run_script(
        """
        import sys
        import edgequake_litellm
        heavy = sorted(m for m in ("litellm", "openai", "httpx", "pydantic") if m in sys.modules)
        print(repr((heavy, edgequake_litellm.__version__ == edgequake_litellm._core.__version__)))
        """
    )
    assert proc.returncode == 0, proc.stderr
    heavy, same_version = eval(proc.stdout.strip())  # noqa: S307 - our own repr
    assert heavy == [], heavy
    assert same_version is True


def test_import_time_via_importtime_flag():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import sys, edgequake_litellm; print('litellm' in sys.modules)"],
        env=_subprocess_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    rows = [line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")]
    cumulative = {r[2].strip(): int(r[1]) for r in rows if len(r) == 3 and r[1].strip().isdigit()}
    assert "edgequake_litellm" in cumulative, proc.stderr[-2000:]
    assert not any(name.split(".")[0] == "litellm" for name in cumulative)


# ---- 11. panics ----------------------------------------------------------------------------


def test_panic_becomes_core_error(monkeypatch):
    monkeypatch.setenv("EDGEQUAKE_DEBUG_HOOKS", "1")
    with pytest.raises(_core.CoreError) as info:
        _core._debug_panic("sync")
    assert info.value.kind == "internal"
    assert "debug panic in a sync call" in str(info.value)
    # The core still works after a panic.
    assert _core.providers()


def test_panic_in_awaitable_becomes_exception(monkeypatch):
    monkeypatch.setenv("EDGEQUAKE_DEBUG_HOOKS", "1")

    async def main():
        return await _core._debug_panic("async")

    with pytest.raises(Exception) as info:  # pyo3-async-runtimes' RustPanic, an Exception subclass
        asyncio.run(main())
    assert "panicked" in str(info.value)
    assert isinstance(info.value, Exception)


def test_debug_hooks_are_off_by_default(monkeypatch):
    monkeypatch.delenv("EDGEQUAKE_DEBUG_HOOKS", raising=False)
    with pytest.raises(_core.CoreError, match="disabled"):
        _core._debug_panic("sync")
