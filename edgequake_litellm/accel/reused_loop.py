"""``asyncio.run`` as its caller observes it, without making a new event loop per run.

``asyncio.run`` makes a selector loop (an epoll instance, a wake-up socket pair), runs one
coroutine and closes it all again: about 0.1 ms of CPU and a dozen system calls, each of which
hands the GIL to another thread. LiteLLM does that for every chunk of a sync stream. Here the loop
is taken from a small free list and put back after the run, but only when the run left it exactly
as a new loop is: nothing ready, timed, pending or registered, no async generator first iterated
in it, no default executor, no handler, factory or debug setting changed. For such a loop,
``asyncio.run``'s teardown (cancel the remaining tasks, shut down async generators and the
default executor, close) does nothing anyone can see but take two task numbers, which are taken
here too (``Task-N`` names stay the same). Any other run is torn down exactly as ``asyncio.run``
tears it down, with asyncio's own functions.

The loops made here also skip the zero-timeout ``epoll_wait`` of a loop iteration that has
callbacks ready while nothing but the loop's own wake-up socket is registered. Such a poll can
only report that wake-up socket, whose reader just drains bytes written by
``call_soon_threadsafe`` after queueing its callback (signals never write to it off the main
thread); the bytes stay and are drained by the next poll that waits. The skipped system call is
what matters: each releases the GIL, so a run of LiteLLM's per-chunk logging handed the GIL to the
consuming thread and waited for it back twice per chunk.

What remains different is the loop object's identity across runs, so a caller may keep a loop only
for runs in which no code but code it has vetted can hold on to the loop (``run``'s ``keep``).
Runs that asyncio would log about (asyncio's logger at DEBUG, debug mode), other loop policies,
the main thread (where ``asyncio.run`` installs a SIGINT handler) and Pythons this was not read
against use ``asyncio.run`` itself. A forked child never reuses its parent's loops (they share the
parent's epoll instance) and never unregisters anything from them.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import os
import selectors
import sys
import threading
from asyncio import coroutines, events
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .accelerator import pin_problems

T = TypeVar("T")
_ASYNCIO_LOGGER = logging.getLogger("asyncio")  # asyncio.log.logger
_debug_mode: Callable[[], bool] = getattr(coroutines, "_is_debug_mode")  # noqa: B009  # what a new loop's debug flag reads

# sha256 (first 16 hex digits) of the asyncio code whose effects are reproduced, per Python read.
PINNED: dict[tuple[int, int], dict[str, str]] = {
    (3, 11): {
        "asyncio.runners.run": "e95032235870b8b4",
        "asyncio.runners.Runner.run": "f8caa8af64fd0c73",
        "asyncio.runners.Runner.close": "54aaf57c1392b03e",
        "asyncio.runners.Runner._lazy_init": "679490615a90e4d9",
        "asyncio.runners._cancel_all_tasks": "a217fa877b04e831",
        "asyncio.base_events.BaseEventLoop.__init__": "82d671bf254ae862",
        "asyncio.base_events.BaseEventLoop.shutdown_asyncgens": "c111f5aa89612a18",
        "asyncio.base_events.BaseEventLoop.shutdown_default_executor": "952772eeb86af857",
        "asyncio.base_events.BaseEventLoop.run_until_complete": "a409abc9bbbbe4c6",
        "asyncio.base_events.BaseEventLoop.run_forever": "43aba033a9e8157c",
        "asyncio.base_events.BaseEventLoop.close": "b440b53da1070ac6",
        "asyncio.selector_events.BaseSelectorEventLoop.__init__": "9ecdccaba5eb4a24",
        "asyncio.selector_events.BaseSelectorEventLoop.close": "b5125c5bdeeb6080",
        "asyncio.events.BaseDefaultEventLoopPolicy.set_event_loop": "0282d373508f76c0",
        "asyncio.unix_events._UnixDefaultEventLoopPolicy.set_event_loop": "2515d156cdea6253",
        # what the skipped zero-timeout poll would have done (_QuietEpollSelector)
        "asyncio.base_events.BaseEventLoop._run_once": "26970ce6b0d67ef5",
        "asyncio.selector_events.BaseSelectorEventLoop._process_events": "7044c856635b7f64",
        "asyncio.selector_events.BaseSelectorEventLoop._read_from_self": "810287e1b1153adb",
        "asyncio.selector_events.BaseSelectorEventLoop._make_self_pipe": "8dbd307d343bad29",
        "asyncio.unix_events._UnixSelectorEventLoop.__init__": "4d451189241c35cb",
        "asyncio.unix_events._UnixSelectorEventLoop._process_self_data": "46db2077a3f840ee",
        "asyncio.events.BaseDefaultEventLoopPolicy.new_event_loop": "324db5a8a85fad23",
        "selectors.EpollSelector.select": "a0a73b27d0478350",
    },
}
# Tasks asyncio.run creates around a coroutine: the coroutine's, then shutdown_asyncgens' and
# shutdown_default_executor's, each through run_until_complete.
ASYNCIO_RUN_TASKS = {(3, 11): 3}
_KEEP = 4  # idle loops kept (each holds an epoll descriptor and a socket pair)

_lock = threading.Lock()
_free: list[asyncio.AbstractEventLoop] = []
_pid = os.getpid()
_inherited: list[asyncio.AbstractEventLoop] = []  # a forked child's copies of its parent's loops


def problems() -> list[str]:
    """Why this Python's asyncio is not the one ``run`` reproduces (empty when it is)."""
    pins = PINNED.get(sys.version_info[:2])
    if pins is None:
        return [f"asyncio.run was not read against Python {sys.version_info[0]}.{sys.version_info[1]}"]
    return pin_problems(pins)


# -- task numbers ---------------------------------------------------------------------------------


class _CountingLoop:
    """Just enough of a loop for ``asyncio.Task``: the task it is given is never run."""

    def call_soon(self, *_: Any, **__: Any) -> None:
        return None

    def get_debug(self) -> bool:
        return False

    def call_exception_handler(self, _: Any) -> None:
        return None


_COUNTING_LOOP = _CountingLoop()


async def _nothing() -> None:
    return None


def take_task_numbers(n: int) -> None:
    """Advance asyncio's task counter as ``n`` tasks created and never run would."""
    for _ in range(n):
        coro = _nothing()
        try:
            asyncio.Task(coro, loop=_COUNTING_LOOP)  # type: ignore[arg-type]
        finally:
            coro.close()


# -- the run --------------------------------------------------------------------------------------


def why_not() -> str | None:
    """Why ``run`` would hand this call to ``asyncio.run`` itself (``None``: it would not)."""
    if sys.version_info[:2] not in ASYNCIO_RUN_TASKS:
        return "python"
    if threading.current_thread() is threading.main_thread():
        return "main-thread"
    if events._get_running_loop() is not None:
        return "running-loop"
    if type(events.get_event_loop_policy()) is not asyncio.DefaultEventLoopPolicy:
        return "loop-policy"
    if _debug_mode() or _ASYNCIO_LOGGER.isEnabledFor(logging.DEBUG):
        return "asyncio-debug"  # a new loop logs its selector; a debug loop logs and times more
    return None


def idle(given: asyncio.AbstractEventLoop) -> bool:
    """Whether ``run_until_complete`` on ``given`` would run nothing but the task it is given: a
    selector loop not running, stopping or in debug mode, with nothing ready, no timer, no signal
    handler and no file but its own wake-up socket."""
    if not isinstance(given, asyncio.selector_events.BaseSelectorEventLoop):
        return False
    loop: Any = given  # its private state, as asyncio's own run reads it
    try:
        if loop.is_running() or loop.get_debug() or loop._stopping:
            return False
        if loop._ready or loop._scheduled or getattr(loop, "_signal_handlers", None):
            return False
        wakeup = loop._ssock.fileno()
        return all(key.fd == wakeup for key in loop._selector.get_map().values())
    except (AttributeError, OSError, RuntimeError):
        return False


def _as_new(given: asyncio.AbstractEventLoop) -> bool:
    """Whether ``given`` (not running) is in every respect a caller can see as a new loop is:
    idle, and nothing left or changed that teardown would act on or a later run would find."""
    if type(given) is not asyncio.SelectorEventLoop or not idle(given):
        return False
    loop: Any = given  # its private state, as asyncio's own teardown reads it
    try:
        return (
            not loop.is_closed()
            and not loop._asyncgens
            and not loop._asyncgens_shutdown_called
            and not loop._executor_shutdown_called
            and loop._default_executor is None
            and loop._exception_handler is None
            and loop._task_factory is None
            and loop.slow_callback_duration == 0.1
            and not loop._transports
            and not asyncio.all_tasks(loop)
        )
    except (AttributeError, RuntimeError):
        return False


class _QuietEpollSelector(selectors.EpollSelector):
    """asyncio's default selector, without the zero-timeout poll that can only find the loop's
    own wake-up socket (see the module's docstring)."""

    wakeup = -1  # the loop's wake-up socket, set once the loop has registered it

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            keys = self._fd_to_key  # type: ignore[attr-defined]
            if len(keys) == 1 and self.wakeup in keys:
                return []
        return super().select(timeout)


def _new_loop() -> asyncio.AbstractEventLoop:
    """``events.new_event_loop()`` as ``why_not()`` allowed it (the default policy), with the
    quiet selector where that policy would make a selector loop on epoll."""
    policy: Any = events.get_event_loop_policy()
    if getattr(policy, "_loop_factory", None) is not asyncio.SelectorEventLoop or (
        selectors.DefaultSelector is not selectors.EpollSelector
    ):
        return events.new_event_loop()
    selector = _QuietEpollSelector()
    loop: Any = asyncio.SelectorEventLoop(selector)
    selector.wakeup = loop._ssock.fileno()
    return loop


def _take() -> asyncio.AbstractEventLoop:
    with _lock:
        if os.getpid() == _pid and _free:
            return _free.pop()
    return _new_loop()


def _disown_after_fork() -> None:
    """In a forked child: the free loops' epoll instances are the parent's. Closing a loop would
    unregister the parent's wake-up socket from it, so the child closes only its own copies of the
    descriptors (which leaves the parent's registrations alone) and marks the loops closed."""
    global _pid, _lock
    _pid = os.getpid()
    _lock = threading.Lock()  # another thread of the parent may have held it at the fork
    for loop in _free:
        try:
            loop._selector._selector.close()  # type: ignore[attr-defined]
            loop._ssock.close()  # type: ignore[attr-defined]
            loop._csock.close()  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            pass
        loop._closed = True  # type: ignore[attr-defined]  # its __del__ then leaves it alone
        _inherited.append(loop)
    _free.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_disown_after_fork)


def _give_back(loop: asyncio.AbstractEventLoop) -> bool:
    with _lock:
        if os.getpid() == _pid and len(_free) < _KEEP:
            _free.append(loop)
            return True
    return False


def _close_as_runner_does(loop: asyncio.AbstractEventLoop) -> None:
    """``asyncio.Runner.close`` for a loop set as this thread's event loop."""
    try:
        asyncio.runners._cancel_all_tasks(loop)  # type: ignore[attr-defined]
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        events.set_event_loop(None)
        loop.close()


def run(coro: Coroutine[Any, Any, T], keep: Callable[[], bool]) -> T:
    """``asyncio.run(coro)``, for a call ``why_not()`` allowed. The loop is reused afterwards
    only if ``keep()`` (asked once the run is over) says no code that could hold on to it ran."""
    if not coroutines.iscoroutine(coro):
        return asyncio.run(coro)  # its ValueError, with its loop made and closed
    loop = _take()
    events.set_event_loop(loop)
    task = None
    try:
        task = loop.create_task(coro, context=contextvars.copy_context())
        return loop.run_until_complete(task)
    finally:
        if task is not None and task.done() and _as_new(loop) and keep():
            # asyncio.run's teardown of such a loop: two tasks that find nothing to do.
            take_task_numbers(ASYNCIO_RUN_TASKS[sys.version_info[:2]] - 1)
            events.set_event_loop(None)
            if not _give_back(loop):
                loop.close()
        else:
            _close_as_runner_does(loop)


@atexit.register
def _close_free_loops() -> None:
    with _lock:
        loops = list(_free) if os.getpid() == _pid else []
        _free.clear()
    for loop in loops:
        loop.close()
