"""The ``stream_logging`` accelerator and ``reused_loop`` against ``asyncio.run`` and LiteLLM.

``reused_loop.run`` first, against ``asyncio.run`` itself: a corpus of coroutines that return,
raise, cancel themselves, leave tasks, callbacks, timers, async generators, readers and executor
work behind, or change the loop's handler, factory or debug setting, each followed by a probe of
the state the next run finds. Both run the same sequence on a worker thread; what each coroutine
returned or raised, what it and its leftovers logged, the task numbers it drew, the thread's
event loop after it and the probe's view must be the same, while the reused loop must actually
have been reused (or the test would prove nothing).

Then real sync streams through both routes (transparent and ``edgequake/``), with and without the
accelerator: every chunk, the logging object's ``model_call_details`` after each chunk's logging,
the sync success callback's payload, and the task numbers the stream drew. Then the fallbacks
(async callbacks, test doubles, long messages whose truncation runs in a thread), the copy of
LiteLLM's method, the switch, ``uninstall()`` and the contract.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import _stream_logging_code, reused_loop, stream_logging

from .test_accel_stream_chunks import chunk_view, differences, norm
from .test_patch import MODEL, kwargs

EQ_MODEL = f"edgequake/{MODEL}"
VAR: contextvars.ContextVar[str] = contextvars.ContextVar("stream_logging_test", default="outside")


# -- reused_loop against asyncio.run ---------------------------------------------------------------


def _task_number() -> int:
    """The number the next unnamed task takes (taking it)."""
    seen: list[int] = []

    async def name() -> None:
        seen.append(int(asyncio.current_task().get_name().split("-")[1]))  # type: ignore[union-attr]

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(name())
    finally:
        loop.close()
    return seen[0]


async def _returns(log: list[Any]) -> Any:
    await asyncio.sleep(0)
    return {"value": 1}


async def _raises(log: list[Any]) -> Any:
    raise ValueError("boom")


async def _cancels_itself(log: list[Any]) -> Any:
    asyncio.current_task().cancel()  # type: ignore[union-attr]
    await asyncio.sleep(0)


async def _leaves_a_task(log: list[Any]) -> Any:
    async def waits() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            log.append("cancelled at teardown")
            raise

    t = asyncio.ensure_future(waits())
    await asyncio.sleep(0)
    log.append(t.get_name().startswith("Task-"))


async def _leaves_a_waiting_task(log: list[Any]) -> Any:
    never_set = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        try:
            await never_set  # no timer, nothing ready: only the task itself is pending
        except asyncio.CancelledError:
            log.append("cancelled at teardown")
            raise

    asyncio.ensure_future(waits())
    await asyncio.sleep(0)


async def _leaves_an_unstarted_task(log: list[Any]) -> Any:
    async def never() -> None:
        log.append("ran")

    asyncio.get_running_loop().create_task(never())


async def _leaves_a_failing_task(log: list[Any]) -> Any:
    async def fails() -> None:
        raise RuntimeError("at teardown")

    t = asyncio.ensure_future(fails())
    t.add_done_callback(lambda f: log.append(type(f.exception()).__name__))
    # still pending when the coroutine returns: asyncio.run's teardown lets it fail


async def _leaves_call_soon(log: list[Any]) -> Any:
    asyncio.get_running_loop().call_soon(log.append, "soon")


async def _schedules_after_its_end(log: list[Any]) -> Any:
    loop = asyncio.get_running_loop()
    # Runs once the loop is told to stop: the handle is still ready when run_until_complete returns.
    asyncio.current_task().add_done_callback(lambda _: loop.call_soon(log.append, "after the end"))  # type: ignore[union-attr]


async def _leaves_timers(log: list[Any]) -> Any:
    loop = asyncio.get_running_loop()
    loop.call_later(0, log.append, "later 0")
    loop.call_later(0.01, log.append, "later 0.01")  # due while the probe after it sleeps
    loop.call_later(60, log.append, "later 60")


async def _cancelled_timer(log: list[Any]) -> Any:
    asyncio.get_running_loop().call_later(60, log.append, "never").cancel()


async def _suspended_async_generator(log: list[Any]) -> Any:
    async def gen() -> Any:
        try:
            yield 1
            yield 2
        finally:
            log.append("generator closed")

    g = gen()
    log.append(await g.__anext__())
    globals()["_KEPT_GENERATOR"] = g  # alive past the run: asyncio.run's teardown closes it


async def _finished_async_generator(log: list[Any]) -> Any:
    async def gen() -> Any:
        yield 1

    log.append([x async for x in gen()])


async def _to_thread(log: list[Any]) -> Any:
    log.append(await asyncio.to_thread(lambda: "in thread"))


async def _run_in_default_executor(log: list[Any]) -> Any:
    log.append(await asyncio.get_running_loop().run_in_executor(None, lambda: "in executor"))


async def _sets_exception_handler(log: list[Any]) -> Any:
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: log.append("handled"))


async def _sets_task_factory(log: list[Any]) -> Any:
    asyncio.get_running_loop().set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))


async def _sets_debug(log: list[Any]) -> Any:
    asyncio.get_running_loop().set_debug(True)


async def _slows_callbacks(log: list[Any]) -> Any:
    asyncio.get_running_loop().slow_callback_duration = 5.0


async def _adds_a_reader(log: list[Any]) -> Any:
    a, b = socket.socketpair()
    globals()["_KEPT_SOCKETS"] = (a, b)
    asyncio.get_running_loop().add_reader(a.fileno(), log.append, "readable")


async def _sets_a_context_variable(log: list[Any]) -> Any:
    VAR.set("inside")
    log.append(VAR.get())


async def _nested_run(log: list[Any]) -> Any:
    coro = asyncio.sleep(0)
    try:
        asyncio.run(coro)
    finally:
        coro.close()


async def _shuts_down_asyncgens_itself(log: list[Any]) -> Any:
    await asyncio.get_running_loop().shutdown_asyncgens()


async def _keeps_the_loop(log: list[Any]) -> Any:
    globals()["_KEPT_LOOP"] = asyncio.get_running_loop()


async def _threadsafe_while_busy(log: list[Any]) -> Any:
    """A thread queues callbacks (each writes the wake-up socket) while the loop only runs ready
    callbacks, the iterations whose zero-timeout poll the reused loops skip; then the coroutine
    waits for a thread's result, a poll that must still wake up."""
    loop = asyncio.get_running_loop()
    poked = threading.Event()

    def poke() -> None:
        for i in range(3):
            loop.call_soon_threadsafe(log.append, f"poked {i}")
        poked.set()

    t = threading.Thread(target=poke)
    t.start()
    while not poked.is_set():
        await asyncio.sleep(0)
    t.join()
    for _ in range(5):
        await asyncio.sleep(0)
    done = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon_threadsafe(done.set_result, "from a thread")).start()
    log.append(await done)


async def _busy_then_a_timer(log: list[Any]) -> Any:
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    log.append("after the timer")


CORPUS: list[Callable[[list[Any]], Coroutine[Any, Any, Any]]] = [
    _returns,
    _raises,
    _cancels_itself,
    _leaves_a_task,
    _returns,
    _leaves_a_waiting_task,
    _leaves_an_unstarted_task,
    _leaves_a_failing_task,
    _leaves_call_soon,
    _schedules_after_its_end,
    _returns,
    _leaves_timers,
    _cancelled_timer,
    _suspended_async_generator,
    _finished_async_generator,
    _returns,
    _to_thread,
    _run_in_default_executor,
    _returns,
    _sets_exception_handler,
    _sets_task_factory,
    _sets_debug,
    _slows_callbacks,
    _returns,
    _adds_a_reader,
    _sets_a_context_variable,
    _nested_run,
    _shuts_down_asyncgens_itself,
    _returns,
    _threadsafe_while_busy,
    _returns,
    _busy_then_a_timer,
    _threadsafe_while_busy,
    _returns,
]


async def _probe(log: list[Any]) -> Any:
    """What a run finds: the loop's public settings and leftovers, and the context."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.03)
    return {
        "debug": loop.get_debug(),
        "exception_handler": loop.get_exception_handler() is None,
        "task_factory": loop.get_task_factory() is None,
        "slow": loop.slow_callback_duration,
        "tasks": len(asyncio.all_tasks(loop)),
        "closed": loop.is_closed(),
        "var": VAR.get(),
        "policy_loop": asyncio.get_event_loop_policy().get_event_loop() is loop,
        "loop": id(loop),
    }


def _outcome(run: Callable[[Any], Any], make: Callable[[], Any]) -> Any:
    coro = make()
    try:
        value = run(coro)
        return ("returned", value)
    except BaseException as e:  # noqa: BLE001  # the outcome is what is compared
        return ("raised", type(e).__name__, str(e))
    finally:
        coro.close()


def _sequence(run: Callable[[Any], Any]) -> tuple[list[Any], list[int]]:
    """The corpus, each entry followed by a probe, on a fresh worker thread."""
    out: list[Any] = []
    loops: list[int] = []
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage().split("\n")[0])

    handler = Capture(level=logging.ERROR)
    asyncio.log.logger.addHandler(handler)

    def work() -> None:
        base = _task_number()
        for entry in CORPUS:
            log: list[Any] = []
            before = _task_number()
            outcome = _outcome(run, lambda: entry(log))  # noqa: B023
            gc.collect()
            logged = list(log)  # what ran before the next run (a loop kept as is would run it there)
            for peer in globals().get("_KEPT_SOCKETS", ())[1:]:
                peer.send(b"x")  # a reader still registered would run in the probe
            drawn = _task_number() - before
            try:
                asyncio.get_event_loop_policy().get_event_loop()
                thread_loop = "set"
            except RuntimeError:
                thread_loop = "none"
            probe = _outcome(run, lambda: _probe([]))
            if probe[0] == "returned":
                loops.append(probe[1].pop("loop"))
            out.append((entry.__name__, outcome, logged, log, drawn, thread_loop, probe, list(records)))
            records.clear()
            for name in ("_KEPT_GENERATOR", "_KEPT_LOOP"):
                globals().pop(name, None)
            for s in globals().pop("_KEPT_SOCKETS", ()):
                s.close()
        out.append(("tasks drawn in all", _task_number() - base))

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    asyncio.log.logger.removeHandler(handler)
    assert not t.is_alive()
    return out, loops


def test_reused_loop_runs_as_asyncio_run() -> None:
    assert reused_loop.problems() == []
    assert reused_loop.why_not() == "main-thread"
    reused_loop._free.clear()
    off, _ = _sequence(asyncio.run)
    on, loops = _sequence(lambda coro: reused_loop.run(coro, keep=lambda: True))
    assert off == on, differences(off, on)
    # Not vacuous: most probes ran on a loop an earlier run used.
    assert len(loops) - len(set(loops)) >= 10, loops


class _CountingEpoll:
    """A loop's epoll instance, recording the timeout of every poll."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.polls: list[float] = []

    def poll(self, timeout: float = -1, maxevents: int = -1) -> Any:
        self.polls.append(timeout)
        return self.inner.poll(timeout, maxevents)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_reused_loop_skips_only_the_polls_that_can_find_nothing() -> None:
    """A run with only ready callbacks makes no system call to poll; a run that waits for a
    thread polls (and wakes up), and so does any run with a file of its own registered."""
    seen: dict[str, Any] = {}

    async def from_a_thread() -> str:
        done = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        polls: list[float] = loop._selector._selector.polls  # type: ignore[attr-defined]

        def later() -> None:
            # Only once the loop has entered a blocking poll: what it must wake up from.
            deadline = time.monotonic() + 30
            while -1 not in polls and time.monotonic() < deadline:
                time.sleep(0.001)
            loop.call_soon_threadsafe(done.set_result, "woken")

        threading.Thread(target=later).start()
        return await done

    async def with_a_reader() -> str:
        a, b = socket.socketpair()
        loop = asyncio.get_running_loop()
        loop.add_reader(a.fileno(), lambda: None)
        try:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        finally:
            loop.remove_reader(a.fileno())
            a.close()
            b.close()
        return "reader"

    def work() -> None:
        reused_loop._free.clear()
        loop: Any = reused_loop._take()
        seen["selector"] = type(loop._selector)
        counter = _CountingEpoll(loop._selector._selector)
        loop._selector._selector = counter
        assert reused_loop._give_back(loop)
        for name, make in (("ready only", lambda: _returns([])), ("thread", from_a_thread), ("reader", with_a_reader)):
            seen[name] = (reused_loop.run(make(), keep=lambda: True), list(counter.polls))
            counter.polls.clear()
        seen["reused"] = reused_loop._free == [loop]

    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert seen["selector"] is reused_loop._QuietEpollSelector
    assert seen["ready only"] == ({"value": 1}, [])
    value, polls = seen["thread"]
    assert value == "woken" and -1 in polls and 0 not in polls, polls
    value, polls = seen["reader"]
    assert value == "reader" and polls.count(0) >= 2, polls
    assert seen["reused"]


def test_reused_loop_is_dropped_when_keep_says_no() -> None:
    seen: list[Any] = []

    def work() -> None:
        for _ in range(3):
            seen.append(reused_loop.run(_keeps_loop(), keep=lambda: False))
            seen.append(globals().pop("_KEPT_LOOP").is_closed())

    async def _keeps_loop() -> int:
        await _keeps_the_loop([])
        return id(asyncio.get_running_loop())

    reused_loop._free.clear()
    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert seen[1::2] == [True, True, True]  # closed after each run, as asyncio.run closes it
    assert reused_loop._free == []


def test_reused_loop_defers_to_asyncio_run() -> None:
    """Where ``run``'s reasoning was not read (a loop policy, debug logging, a running loop),
    ``why_not`` names it."""
    reasons: list[Any] = []

    def work() -> None:
        reasons.append(reused_loop.why_not())
        logger = asyncio.log.logger
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            reasons.append(reused_loop.why_not())
        finally:
            logger.setLevel(level)

        class Policy(asyncio.DefaultEventLoopPolicy):
            pass

        old = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(Policy())
        try:
            reasons.append(reused_loop.why_not())
        finally:
            asyncio.set_event_loop_policy(old)

        async def inside() -> Any:
            return reused_loop.why_not()

        reasons.append(asyncio.run(inside()))

    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert reasons == [None, "asyncio-debug", "loop-policy", "running-loop"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_never_reuses_or_unregisters_the_parents_loops() -> None:
    """A child shares its parent's epoll instances: it makes its own loops, and dropping the
    parent's must not unregister the parent's wake-up socket (the parent's next run would then
    never wake up for a thread's result)."""
    ids: list[int] = []

    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    async def thread_result() -> int:
        await asyncio.to_thread(lambda: None)  # woken by the thread through the wake-up socket
        return id(asyncio.get_running_loop())

    def run_on_thread(make: Callable[[], Any] = loop_id) -> None:
        ids.append(reused_loop.run(make(), keep=lambda: True))

    reused_loop._free.clear()
    for _ in range(2):
        t = threading.Thread(target=run_on_thread)
        t.start()
        t.join(30)
    assert ids[0] == ids[1] and len(reused_loop._free) == 1
    parent_loop = reused_loop._free[0]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it ran on the parent's loop, then drop them
        code = 1
        try:
            t = threading.Thread(target=run_on_thread)
            t.start()
            t.join(30)
            code = 0 if ids[-1] != id(parent_loop) and parent_loop in reused_loop._inherited else 2
            reused_loop._inherited.clear()
            gc.collect()
        finally:
            os.write(w, bytes([code]))
            os._exit(0)
    os.close(w)
    try:
        assert os.read(r, 1) == b"\x00"
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    t = threading.Thread(target=run_on_thread, args=(thread_result,), daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "the parent's loop no longer wakes up"
    assert ids[-1] == id(parent_loop)


# -- real sync streams through LiteLLM ------------------------------------------------------------


_CALLBACK_LISTS = ("callbacks", "_async_success_callback", "success_callback")


@pytest.fixture()
def switch(litellm: Any) -> Iterator[Callable[[bool], None]]:
    """The accelerator on or off, with no callback left registered by earlier tests (an async
    one would send every run to ``asyncio.run``)."""

    def set_on(on: bool) -> None:
        accel.install({"stream_logging"} if on else False)
        stream_logging.reset_counts()

    saved = {name: list(getattr(litellm, name)) for name in _CALLBACK_LISTS}
    for name in _CALLBACK_LISTS:
        getattr(litellm, name).clear()
    try:
        yield set_on
    finally:
        accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)
        for name, entries in saved.items():
            getattr(litellm, name)[:] = entries


_DETAIL_SKIP = {"litellm_params", "optional_params", "additional_args", "original_response", "api_key"}


def observe(litellm: Any, upstream: Any, model: str, scenario: str = "chunks=12", **call_kw: Any) -> dict[str, Any]:
    """One sync stream (from an upstream in its own process: one in this process takes task
    numbers for its connections): the chunks, ``model_call_details`` once each chunk's logging is done,
    the sync success callback's payload and the task numbers the stream drew."""
    from litellm.litellm_core_utils import streaming_handler

    events: list[Any] = []

    def callback(kwargs: dict[str, Any], response: Any, start_time: Any, end_time: Any) -> None:
        events.append((norm(kwargs.get("standard_logging_object")), norm(response)))

    serial = ThreadPoolExecutor(max_workers=1)  # each chunk's logging in order, waited for
    saved = list(litellm.success_callback)
    litellm.success_callback[:] = [callback]
    out: dict[str, Any] = {"chunks": [], "details": []}
    try:
        with um.patch.object(streaming_handler, "executor", serial):
            before = _task_number()
            threads = set(threading.enumerate())
            w = litellm.completion(model=model, **kwargs(upstream, scenario, stream=True, **call_kw))
            lo = w.logging_obj
            try:
                for c in w:
                    serial.submit(lambda: None).result()
                    out["chunks"].append(chunk_view(c))
                    details = {k: v for k, v in lo.model_call_details.items() if k not in _DETAIL_SKIP}
                    out["details"].append(norm(details))
            except Exception as e:  # noqa: BLE001  # compared
                out["error"] = (type(e).__name__, str(e)[:200])
            for t in set(threading.enumerate()) - threads:  # the sync failure handler's thread
                if t.name.endswith("(failure_handler)"):
                    t.join(timeout=60)
            serial.shutdown(wait=True)
            out["truncated"] = norm(lo.truncated_messages_for_logging)
            out["final"] = norm({k: v for k, v in lo.model_call_details.items() if k not in _DETAIL_SKIP})
            out["tasks drawn"] = _task_number() - before
    finally:
        serial.shutdown(wait=True)
        litellm.success_callback[:] = saved
    out["events"] = events
    return out


def same_on_and_off(switch: Callable[[bool], None], run: Callable[[], dict[str, Any]]) -> dict[str, int]:
    switch(False)
    run()  # first calls take one-time steps (task numbers among them), with or without it
    off = run()
    switch(True)
    on = run()
    counts = stream_logging.counts()
    switch(False)
    assert off == on, differences(off, on)
    return counts


@pytest.mark.parametrize("route", ["transparent", "edgequake/"])
@pytest.mark.parametrize(
    "scenario", ["chunks=12", "reasoning=1", "parallel=2", "stream_error", "no_finish", "truncate=400"]
)
def test_real_streams_same_on_and_off(litellm, proc_upstream, switch, route, scenario) -> None:
    from edgequake_litellm import _patch

    model = MODEL if route == "transparent" else EQ_MODEL
    if route == "transparent":
        _patch.install()
    try:
        counts = same_on_and_off(switch, lambda: observe(litellm, proc_upstream, model, scenario))
    finally:
        if route == "transparent":
            _patch.uninstall()
    assert counts.get("fast", 0) >= (12 if scenario == "chunks=12" else 1), counts
    assert set(counts) == {"fast"}, counts


def test_stream_options_and_usage_same_on_and_off(litellm, proc_upstream, switch) -> None:
    counts = same_on_and_off(
        switch, lambda: observe(litellm, proc_upstream, MODEL, "chunks=5", stream_options={"include_usage": True})
    )
    assert counts.get("fast", 0) >= 5, counts


def test_long_messages_truncated_in_a_thread_same_on_and_off(litellm, proc_upstream, switch) -> None:
    """LiteLLM truncates a long history's base64 in ``asyncio.to_thread``: the loop gets a
    default executor, so every run is torn down as ``asyncio.run`` tears it down."""
    image = "data:image/png;base64," + "QUJD" * 70_000
    messages = [{"role": "user", "content": image}]
    reused_loop._free.clear()
    counts = same_on_and_off(switch, lambda: observe(litellm, proc_upstream, MODEL, "chunks=3", messages=messages))
    assert counts.get("fast", 0) >= 3, counts
    assert reused_loop._free == []  # no run left its loop as new


def test_async_callbacks_run_on_asyncio_run(litellm, proc_upstream, switch) -> None:
    """With an async success callback the coroutine runs user code that could keep the loop."""
    from litellm.integrations.custom_logger import CustomLogger

    class Streams(CustomLogger):
        def __init__(self) -> None:
            super().__init__()
            self.loops: list[int] = []

        async def async_log_stream_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
            self.loops.append(id(asyncio.get_running_loop()))

    rec = Streams()
    litellm.callbacks.append(rec)
    try:
        switch(True)
        observe(litellm, proc_upstream, MODEL, "chunks=6")
        counts = stream_logging.counts()
    finally:
        litellm.callbacks.remove(rec)
        for name in ("_async_success_callback", "success_callback"):
            if rec in getattr(litellm, name):
                getattr(litellm, name).remove(rec)
    assert counts.get("fast", 0) == 0 and counts.get("litellm:async-callbacks", 0) >= 6, counts
    assert len(rec.loops) >= 6


def test_test_doubles_see_litellms_calls(litellm, proc_upstream, switch) -> None:
    from litellm.litellm_core_utils.litellm_logging import Logging

    switch(True)
    with um.patch.object(Logging, "async_success_handler", autospec=True) as double:
        observe(litellm, proc_upstream, MODEL, "chunks=4")
    assert double.call_count >= 4
    assert stream_logging.counts().get("litellm:handler-replaced", 0) >= 4
    stream_logging.reset_counts()
    with um.patch("asyncio.run", wraps=asyncio.run) as run:
        observe(litellm, proc_upstream, MODEL, "chunks=4")
    assert run.call_count >= 4
    assert stream_logging.counts().get("litellm:asyncio-run-replaced", 0) >= 4


# -- the copy, the switch, the contract ---------------------------------------------------------------


def test_method_is_litellms_but_for_asyncio_run(litellm, switch) -> None:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    switch(False)
    original = inspect.getsource(CustomStreamWrapper.run_success_logging_and_cache_storage).splitlines()
    code = inspect.getsource(_stream_logging_code.methods).splitlines()
    start = code.index("    def run_success_logging_and_cache_storage(self, processed_chunk, cache_hit: bool):")
    ours = code[start : start + len(original)]
    expected = [line.replace("asyncio.run(self.logging_obj", "run_logging(self, self.logging_obj") for line in original]
    assert ours == expected
    assert sum(a != b for a, b in zip(ours, original)) == 1
    switch(True)
    theirs = stream_logging._orig["run_success_logging_and_cache_storage"].__code__
    copy = CustomStreamWrapper.run_success_logging_and_cache_storage.__code__
    assert (copy.co_filename, copy.co_firstlineno) == (theirs.co_filename, theirs.co_firstlineno)


def test_switch_and_uninstall_restore_litellms_method(litellm, monkeypatch) -> None:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    import edgequake_litellm

    original = CustomStreamWrapper.__dict__["run_success_logging_and_cache_storage"]
    accel.install({"stream_logging"})
    assert CustomStreamWrapper.__dict__["run_success_logging_and_cache_storage"] is not original
    assert edgequake_litellm.status()["accelerators"]["stream_logging"]["state"] == "installed"
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "stream_logging")
    accel.install(True)
    assert CustomStreamWrapper.__dict__["run_success_logging_and_cache_storage"] is original
    monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
    accel.install({"stream_logging"})
    edgequake_litellm.uninstall()
    try:
        assert CustomStreamWrapper.__dict__["run_success_logging_and_cache_storage"] is original
    finally:
        edgequake_litellm.install()
        accel.install(False)


def test_contract(litellm, monkeypatch) -> None:
    accel.install(False)
    assert stream_logging._problems() == []
    monkeypatch.setitem(stream_logging._PINNED, f"{stream_logging._LOG}.Logging._async_success_handler_body", "0" * 16)
    assert any("_async_success_handler_body differs" in p for p in stream_logging._problems())
    monkeypatch.undo()
    with um.patch("asyncio.run"):
        assert any("asyncio.run is not asyncio's own" in p for p in stream_logging._problems())
    monkeypatch.setitem(reused_loop.PINNED, (3, 11), {**reused_loop.PINNED[(3, 11)], "asyncio.runners.run": "0"})
    assert any("asyncio.runners.run differs" in p for p in reused_loop.problems())
