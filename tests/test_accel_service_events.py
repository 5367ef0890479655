"""The ``service_events`` accelerator against LiteLLM's own ``service_success_hook``: for every
state the calling thread's event loop can be in, the same observable outcome with the accelerator
on and off (callbacks the loop runs, the numbers asyncio gives later tasks, what LiteLLM logs,
a test double's calls), the fast path taken only where that run would do nothing, and real
calls through LiteLLM's timed handlers with the same results."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import service_events

from .test_patch import MODEL, kwargs


@pytest.fixture()
def switch(litellm) -> Iterator[Callable[[bool], None]]:
    def set_on(on: bool) -> None:
        accel.install({"service_events"} if on else False)
        service_events.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


def _timed() -> Callable[..., str]:
    """A function timed as LiteLLM times its sync provider calls."""
    from litellm.litellm_core_utils.logging_utils import track_llm_api_timing

    @track_llm_api_timing()
    def provider_call(logging_obj: Any = None) -> str:
        return "answer"

    return provider_call


def _next_task_number() -> int:
    loop = asyncio.new_event_loop()
    try:

        async def name() -> str:
            task = asyncio.current_task()
            assert task is not None
            return task.get_name()

        return int(loop.run_until_complete(name()).removeprefix("Task-"))
    finally:
        loop.close()


class _Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.getMessage()}")


def _observe(setup: Callable[[list[str]], Callable[[], None]], calls: int = 3) -> dict[str, Any]:
    """Run ``calls`` timed calls in a thread with its own loop state (made by ``setup``, which
    returns its teardown): what ran on the loop, the task numbers they took, what LiteLLM logged."""
    from litellm._logging import verbose_logger

    out: dict[str, Any] = {}

    def body() -> None:
        ran: list[str] = []
        teardown = setup(ran)
        handler = _Logged()
        verbose_logger.addHandler(handler)
        try:
            call = _timed()
            before = _next_task_number()
            answers = [call(logging_obj=None) for _ in range(calls)]
            out["tasks taken"] = _next_task_number() - before - 1
            out["answers"] = answers
            out["ran"] = list(ran)
        finally:
            verbose_logger.removeHandler(handler)
            teardown()
        out["logged"] = [m for m in handler.messages if "service" in m.lower() or "loop" in m.lower()]

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return out


def _own_loop(prepare: Callable[[asyncio.AbstractEventLoop, list[str]], None]) -> Callable[[list[str]], Any]:
    def setup(ran: list[str]) -> Callable[[], None]:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        prepare(loop, ran)

        def teardown() -> None:
            asyncio.set_event_loop(None)
            loop.close()

        return teardown

    return setup


def _no_loop(ran: list[str]) -> Callable[[], None]:
    return lambda: None


def _signal_pending(loop: asyncio.AbstractEventLoop, ran: list[str]) -> None:
    loop.add_signal_handler(signal.SIGUSR1, lambda: ran.append("signal"))
    os.kill(os.getpid(), signal.SIGUSR1)


# (name, loop state, how many of 3 calls the fast path may serve: once a loop run has done what it
# had to, the loop is idle)
STATES: list[tuple[str, Callable[[list[str]], Any], int]] = [
    ("no loop in the thread", _no_loop, 3),
    ("idle loop", _own_loop(lambda loop, ran: None), 3),
    ("pending callback", _own_loop(lambda loop, ran: loop.call_soon(ran.append, "soon") and None), 2),
    ("due timer", _own_loop(lambda loop, ran: loop.call_later(0, ran.append, "timer") and None), 2),
    ("future timer", _own_loop(lambda loop, ran: loop.call_later(3600, ran.append, "later") and None), 0),
    ("stopping loop", _own_loop(lambda loop, ran: loop.stop()), 0),
    ("debug loop", _own_loop(lambda loop, ran: loop.set_debug(True)), 0),
    ("watched socket", _own_loop(lambda loop, ran: _watch_socket(loop, ran)), 2),
]


def _watch_socket(loop: asyncio.AbstractEventLoop, ran: list[str]) -> None:
    import socket

    a, b = socket.socketpair()
    b.send(b"x")
    loop.add_reader(a.fileno(), lambda: (ran.append("readable"), loop.remove_reader(a.fileno())))
    _SOCKETS.extend((a, b))


_SOCKETS: list[Any] = []


@pytest.mark.parametrize("name,setup,fast", STATES, ids=[s[0] for s in STATES])
def test_loop_states_equal(switch, name, setup, fast):
    results = {}
    try:
        for on in (False, True):
            switch(on)
            results[on] = _observe(setup)
            results[on]["fast"] = service_events.counts().get("fast", 0)
    finally:
        while _SOCKETS:
            _SOCKETS.pop().close()
    off, on = results[False], results[True]
    assert off["fast"] == 0
    assert on["fast"] == fast, service_events.counts()
    off.pop("fast"), on.pop("fast")
    assert on == off
    assert off["answers"] == ["answer"] * 3


def test_signal_handler_runs_as_natively(switch):
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        pytest.skip("signal handlers need the main thread")
    results = {}
    for on in (False, True):
        switch(on)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ran: list[str] = []
        try:
            _signal_pending(loop, ran)
            _timed()(logging_obj=None)
            results[on] = (list(ran), service_events.counts().get("fast", 0))
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
            asyncio.set_event_loop(None)
            loop.close()
    assert results[False] == (["signal"], 0)
    assert results[True] == (["signal"], 0)


def test_running_loop_equal(switch):
    """A sync call made inside a running loop: the event is a task on that loop, as natively."""
    results = {}
    for on in (False, True):
        switch(on)

        async def inside() -> tuple[int, str]:
            before = len(asyncio.all_tasks())
            answer = _timed()(logging_obj=None)
            after = len(asyncio.all_tasks())
            await asyncio.sleep(0)
            return after - before, answer

        results[on] = (asyncio.run(inside()), service_events.counts())
    assert results[False][0] == results[True][0] == (1, "answer")
    assert results[True][1] == {"litellm:event-loop": 1}


def _event_seen(litellm: Any, monkeypatch: Any, change: str) -> tuple[list[Any], int, int]:
    """One timing event sent from a thread without a loop, with ``change`` in place: what an
    observer saw, and LiteLLM's test counters."""
    from litellm._service_logger import ServiceLogging
    from litellm.types.services import ServiceTypes

    seen: list[Any] = []
    logger: Any = ServiceLogging()
    service = ServiceTypes.LITELLM
    double = None
    if change == "service_callback":
        monkeypatch.setattr(litellm, "service_callback", ["no-such-service-logger"])
    elif change == "mock_testing":
        logger = ServiceLogging(mock_testing=True)
    elif change == "double":
        double = um.patch.object(ServiceLogging, "async_service_success_hook", autospec=True)
        double.start().side_effect = lambda *a, **k: seen.append(sorted(k))
    elif change == "subclass":

        class Observing(ServiceLogging):
            async def async_service_success_hook(self, **kw: Any) -> None:
                seen.append(sorted(kw))

        logger = Observing()
    else:
        service = ServiceTypes.REDIS
    try:
        t = threading.Thread(
            target=lambda: logger.service_success_hook(service=service, duration=0.25, call_type="x <- timing")
        )
        t.start()
        t.join()
    finally:
        if double is not None:
            double.stop()
        monkeypatch.undo()
    return seen, logger.mock_testing_sync_success_hook, logger.mock_testing_async_success_hook


@pytest.mark.parametrize("change", ["service_callback", "mock_testing", "double", "subclass", "redis"])
def test_observers_get_the_original(switch, litellm, monkeypatch, change):
    """Anything that could observe the event (a service callback, LiteLLM's test counters, a test
    double on ServiceLogging, a subclass, Redis's call target) runs LiteLLM's own hook."""
    outcomes = {}
    for on in (False, True):
        switch(on)
        outcomes[on] = _event_seen(litellm, monkeypatch, change)
        assert service_events.counts().get("fast", 0) == 0, service_events.counts()
    assert outcomes[True] == outcomes[False]
    if change in ("double", "subclass"):
        assert outcomes[True][0], "the observer saw the event"
    if change == "mock_testing":
        assert outcomes[True][1:] == (1, 1)


def test_real_calls_equal_and_fast(switch, litellm, mock):
    """LiteLLM's own OpenAI handler (timed) against the mock, unpatched: same answers, and the
    accelerator served the timing event of each call."""
    results = {}
    for on in (False, True):
        switch(on)
        out = []
        for _ in range(3):
            r = litellm.completion(model=MODEL, **kwargs(mock))
            out.append((r.choices[0].message.content, r.usage.total_tokens, r._hidden_params["response_cost"]))
        results[on] = (out, service_events.counts().get("fast", 0))
    assert results[True][0] == results[False][0]
    assert results[False][1] == 0
    assert results[True][1] >= 3


def test_switches_and_uninstall(switch, litellm, monkeypatch):
    from litellm._service_logger import ServiceLogging

    original = ServiceLogging.__dict__["service_success_hook"]
    if original is service_events.service_success_hook:  # pragma: no cover - installed by a prior test
        original = service_events._orig["service_success_hook"]
    switch(True)
    assert ServiceLogging.__dict__["service_success_hook"] is service_events.service_success_hook
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "service_events")
    accel.install(True)
    assert ServiceLogging.__dict__["service_success_hook"] is original
    monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
    switch(True)
    accel.uninstall()
    assert ServiceLogging.__dict__["service_success_hook"] is original


def test_contract_refuses_changed_source(litellm, monkeypatch):
    assert service_events._problems() == []
    monkeypatch.setitem(service_events._PINNED, "_emit_guarded", "0" * 16)
    assert service_events._problems() == [
        f"{service_events._CLS}._emit_guarded differs from the source this accelerator was proven against"
    ]
