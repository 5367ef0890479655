"""The ``unread_payload`` accelerator: over a corpus of real calls through the mock upstream
(transparent ``openai/`` and ``edgequake/openai/``, sync and async; messages, parameters and
usage shapes crossed), the payload is skipped only where nothing can read it, and skipping it
changes nothing else: the response, the logging object's every other attribute and call detail,
LiteLLM's log records and Python warnings. For each skipped call, LiteLLM's own builder run
afterwards on the same logging object returns a payload without logging, warning or changing the
logging object: the work skipped had no effect but its result. Every reader (callbacks of each
kind, a caller's logging object, a stream, a Router call, the print switch, verbose logging, redaction, user
metadata, a test double on anything the builder reaches) gets LiteLLM's own payload."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import logging
import random
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import _patch, accel
from edgequake_litellm.accel import unread_payload as up

from .conftest import KEY, drain_litellm_logging
from .test_accel_logging_payload import _Records

ROUTES = ("openai/gpt-4o-mini", "edgequake/openai/gpt-4o-mini")
_CLOCKS = {
    "start_time",
    "end_time",
    "api_call_start_time",
    "completion_start_time",
    "first_api_call_start_time",
    "current_attempt_api_call_start_time",
    "llm_api_duration_ms",
    "callback_duration_ms",
    "_response_ms",
    "litellm_overhead_time_ms",
    "response_time_ms",
    "created",
    "litellm_call_id",
    "litellm_trace_id",
    "id",
    "_own_trace_id",
    "_own_session_id",
    "response_timing_metrics",
}
_MASKS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"0x[0-9a-f]+"), "<addr>"),
    (re.compile(r"chatcmpl-[A-Za-z0-9-]+"), "<chatcmpl>"),
    (re.compile(r"req-mock-\d+"), "<req>"),
    (re.compile(r"datetime\.datetime\([^)]*\)"), "<datetime>"),
    (re.compile(r"'x-litellm-[a-z-]*-ms': '[0-9.]+'"), "<ms header>"),
)


@pytest.fixture()
def switch(litellm) -> Iterator[Callable[[bool], None]]:
    """Transparent mode with every other accelerator as the suite leaves them (off), and this
    one on or off."""
    _patch.install()
    # Earlier tests' calls may have left callbacks in LiteLLM's global lists (it files a call's
    # own callbacks= there): none during these tests, the suite's back afterwards.
    lists = {n: list(getattr(litellm, n)) for n in up._GLOBAL_CALLBACKS}
    for name in up._GLOBAL_CALLBACKS:
        getattr(litellm, name)[:] = []

    def set_on(on: bool) -> None:
        accel.install({"unread_payload"} if on else False)
        up.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)
    _patch.uninstall()
    for name, saved in lists.items():
        getattr(litellm, name)[:] = saved


def _plain(x: Any, key: str = "") -> Any:
    """A comparable rendering: clocks and ids masked, objects by their attributes."""
    if key in _CLOCKS:
        return "<clock>"
    if isinstance(x, dict):
        return {str(k): _plain(v, str(k)) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, datetime.datetime | float) and key.endswith(("time", "_ms")):
        return "<clock>"
    if hasattr(x, "model_dump"):
        return (type(x).__name__, _plain(x.model_dump()), _plain(getattr(x, "_hidden_params", None)))
    text = repr(x)
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def _logging_state(lo: Any) -> dict[str, Any]:
    details = {k: v for k, v in lo.model_call_details.items() if k != "standard_logging_object"}
    attrs = {k: v for k, v in vars(lo).items() if k not in ("model_call_details", "_model_call_details_view")}
    return {"details": _plain(details), "attrs": _plain(attrs)}


class _Observed:
    """The logging objects LiteLLM creates, LiteLLM's log records that pass its loggers' levels,
    and Python warnings, while a block runs."""

    def __enter__(self) -> _Observed:
        from litellm.litellm_core_utils.litellm_logging import Logging

        self.objects: list[Any] = []
        objects = self.objects
        init = Logging.__init__

        def spy(obj: Any, *a: Any, **k: Any) -> None:
            init(obj, *a, **k)
            objects.append(obj)

        self.builds: list[tuple[Any, tuple[Any, ...]]] = []
        builds = self.builds
        build = vars(Logging)["_build_standard_logging_payload"]

        def record(obj: Any, *a: Any, **k: Any) -> Any:
            builds.append((obj, (*a, *k.values())))
            return build(obj, *a, **k)

        self._init = um.patch.object(Logging, "__init__", spy)
        self._init.start()
        self._build = um.patch.object(Logging, "_build_standard_logging_payload", record)
        self._build.start()
        self.records = _Records()
        self._loggers = [logging.getLogger(n) for n in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")]
        for lg in self._loggers:
            lg.addHandler(self.records)
        self._warn = warnings.catch_warnings(record=True)
        self.warnings = self._warn.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: object) -> None:
        self._warn.__exit__(*exc)
        for lg in self._loggers:
            lg.removeHandler(self.records)
        self._build.stop()
        self._init.stop()


def _outcome(fn: Callable[[], Any]) -> tuple[Any, list[Any], list[str], list[str], list[Any]]:
    """``fn()``'s response, the logging objects (their success handlers finished), the log
    records and warnings meanwhile, and the payload builds asked for (logging object, arguments)."""
    with _Observed() as seen:
        response = fn()
        drain_litellm_logging()
    warned = [f"{w.category.__name__}: {w.message}" for w in seen.warnings]
    return _plain(response), seen.objects, seen.records.seen, warned, seen.builds


# ---- the corpus ---------------------------------------------------------------------------

_IMAGE = "data:image/png;base64," + "iVBORw0KGgo" * 400
_MESSAGES = {
    "user": [{"role": "user", "content": "hi"}],
    "system": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    "turns": [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "w", "arguments": '{"c": "x"}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
    "parts": [
        {
            "role": "user",
            "content": [{"type": "text", "text": "what is this"}, {"type": "image_url", "image_url": {"url": _IMAGE}}],
        }
    ],
    "unicode": [{"role": "user", "content": "héllo \u2603 \U0001f600 \x00"}],
}
_TOOLS = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object", "properties": {}}}}]
_PARAMS: dict[str, dict[str, Any]] = {
    "none": {},
    "sampling": {"temperature": 0.2, "top_p": 0.9, "max_tokens": 20, "seed": 7, "stop": ["\n"]},
    "tools": {"tools": _TOOLS, "tool_choice": "auto"},
    "json": {"response_format": {"type": "json_object"}},
    "n": {"n": 2, "user": "u-1"},
    "extra": {"extra_body": {"x": 1}, "logit_bias": {"1": 2}, "timeout": 30},
}
_SCENARIOS = (None, "cached=3", "reasoning", "parallel", "model=gpt-4o-2024-08-06")


def _corpus(n: int, seed: int) -> list[tuple[str, str, str, str | None]]:
    every = list(itertools.product(_MESSAGES, _PARAMS, _SCENARIOS))
    rng = random.Random(seed)
    return [(*rng.choice(every), ROUTES[i % 2]) for i in range(n)]


def _call(mock: Any, messages: str, params: str, scenario: str | None, model: str, is_async: bool) -> Any:
    import litellm

    kw = {
        "model": model,
        "messages": _MESSAGES[messages],
        "api_key": KEY,
        "api_base": mock.base_url(scenario),
        **_PARAMS[params],
    }
    if not is_async:
        return litellm.completion(**kw)

    async def run() -> Any:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        worker = GLOBAL_LOGGING_WORKER
        worker.start()  # bound to this loop, where the async success handler runs
        out = await litellm.acompletion(**kw)
        # LiteLLM spawns a task that queues the handler on its worker: wait for every task but the
        # worker's own loops, then for the worker's queue, until neither has anything left.
        while True:
            spare = {worker._worker_task, worker._timeout_summary_task, asyncio.current_task()}
            others = {t for t in asyncio.all_tasks() if t not in spare and not t.done()}
            if others:
                await asyncio.wait(others)
            elif worker.pending_count:
                await worker.flush()
            else:
                return out

    return asyncio.run(run())


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_skipping_changes_nothing_but_the_payload(litellm, mock, switch, is_async):
    cases = _corpus(24, seed=11 + is_async)
    for case in cases:
        switch(False)
        # Once first: LiteLLM imports some modules on first use (pydantic warns about a few of
        # their types then); a one-time import is not this call's to compare.
        _outcome(lambda case=case: _call(mock, *case, is_async))
        native = _outcome(lambda case=case: _call(mock, *case, is_async))
        switch(True)
        ours = _outcome(lambda case=case: _call(mock, *case, is_async))
        assert up.counts().get("fast", 0) >= 1, (case, up.counts())
        assert set(up.counts()) == {"fast"}, (case, up.counts())
        assert ours[0] == native[0], case
        assert ours[2] == native[2], case  # log records
        assert ours[3] == native[3], case  # warnings
        assert len(ours[1]) == len(native[1]) == 1, case
        lo_native, lo_ours = native[1][0], ours[1][0]
        assert lo_native.model_call_details["standard_logging_object"] is not None
        assert lo_ours.model_call_details["standard_logging_object"] is None
        assert _logging_state(lo_ours) == _logging_state(lo_native), case

        # What was skipped, run now: a payload, nothing logged or warned, nothing changed.
        assert ours[4] and all(obj is lo_ours for obj, _ in ours[4]), case
        for _, args in ours[4]:
            before = _logging_state(lo_ours)
            with _Observed() as seen:
                payload = up._orig["build"](lo_ours, *args)
            assert payload is not None and payload["status"] == "success", case
            assert not [r for r, lv in zip(seen.records.seen, seen.records.levels) if lv >= logging.INFO], case
            assert not seen.warnings, case
            assert _logging_state(lo_ours) == before, case


# ---- every reader gets LiteLLM's payload ---------------------------------------------------


def _built(mock: Any, **extra: Any) -> tuple[Any, dict[str, int]]:
    """One sync transparent call with the accelerator on: its logging object's payload, and the
    accelerator's counts."""
    import litellm

    with _Observed() as seen:
        litellm.completion(model=ROUTES[0], messages=_MESSAGES["user"], api_key=KEY, api_base=mock.base_url(), **extra)
        drain_litellm_logging()
    return seen.objects[0].model_call_details.get("standard_logging_object"), up.counts()


def test_callbacks_of_every_kind_read_the_payload(litellm, mock, switch):
    from litellm.integrations.custom_logger import CustomLogger

    switch(True)
    got: list[Any] = []

    class Reader(CustomLogger):
        def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
            got.append(kwargs.get("standard_logging_object"))

    def fn(kwargs: Any, *_: Any) -> None:
        got.append(kwargs.get("standard_logging_object"))

    lists = ("callbacks", "success_callback", "_async_success_callback", "failure_callback", "_async_failure_callback")
    for name, value in (("callbacks", Reader()), ("success_callback", fn), ("_async_success_callback", fn)):
        assert all(getattr(litellm, n) == [] for n in lists)
        setattr(litellm, name, [value])
        try:
            up.reset_counts()
            payload, counts = _built(mock)
        finally:
            for n in lists:  # LiteLLM files a callback in the lists its kind needs
                getattr(litellm, n)[:] = []
        assert payload is not None and counts == {"litellm:callbacks": 1}, name
    assert got and all(p is not None for p in got)

    up.reset_counts()
    payload, counts = _built(mock, callbacks=[Reader()])  # per call: the dynamic lists
    assert payload is not None and counts == {"litellm:callbacks": 1}


def test_a_callers_logging_object_keeps_its_payload(litellm, mock, switch):
    import litellm as ll
    from litellm.utils import function_setup

    switch(True)
    kw = {"model": ROUTES[0], "messages": _MESSAGES["user"], "api_key": KEY, "api_base": mock.base_url()}
    kw["litellm_call_id"] = "call-of-the-caller"
    lo, _ = function_setup("completion", None, datetime.datetime.now(), **kw)  # not LiteLLM's wrapper
    ll.completion(**kw, litellm_logging_obj=lo)
    drain_litellm_logging()
    assert lo.model_call_details.get("standard_logging_object") is not None
    assert up.counts() == {"litellm:caller-logging-object": 1}


def test_a_stream_keeps_its_payload(litellm, mock, switch):
    import litellm as ll

    switch(True)
    stream = ll.completion(
        model=ROUTES[0], messages=_MESSAGES["user"], api_key=KEY, api_base=mock.base_url(), stream=True
    )
    for _ in stream:
        pass
    drain_litellm_logging()
    assert stream.logging_obj.model_call_details.get("standard_logging_object") is not None
    assert set(up.counts()) == {"litellm:stream"}, up.counts()


def test_a_router_call_keeps_its_payload(litellm, mock, switch):
    """The Router files its deployment in the call's metadata (its strategies and spend
    accounting read the payload): LiteLLM's builder runs."""
    switch(True)
    deployment = {"model": ROUTES[0], "api_key": KEY, "api_base": mock.base_url()}
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": deployment}])
    with _Observed() as seen:
        router.completion(model="m", messages=_MESSAGES["user"])
        drain_litellm_logging()
    assert [o.model_call_details.get("standard_logging_object") is not None for o in seen.objects] == [True]
    assert up.counts() == {"litellm:metadata": 1}, up.counts()


def test_print_switch_prints_the_same(litellm, mock, switch, monkeypatch, capfd):
    monkeypatch.setenv("LITELLM_PRINT_STANDARD_LOGGING_PAYLOAD", "1")
    switch(True)
    payload, counts = _built(mock)
    assert payload is not None and counts == {"litellm:print-payload": 1}
    assert '"status": "success"' in capfd.readouterr().out


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_verbose_logging_keeps_the_payload(litellm, mock, switch, level):
    switch(True)
    logger = logging.getLogger("LiteLLM")
    old = logger.level
    logger.setLevel(level)
    try:
        payload, counts = _built(mock)
    finally:
        logger.setLevel(old)
    assert payload is not None and counts == {"litellm:verbose-logging": 1}


def test_redaction_keeps_the_payload(litellm, mock, switch, monkeypatch):
    monkeypatch.setattr(litellm, "turn_off_message_logging", True)
    switch(True)
    payload, counts = _built(mock)
    assert payload is not None and counts == {"litellm:redaction": 1}


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"team": "a"}},
        {"metadata": {"tags": ["a"], "user_api_key_hash": "h"}},
        {"litellm_metadata": {"x": 1}},
    ],
)
def test_user_metadata_keeps_the_payload(litellm, mock, switch, extra):
    switch(True)
    payload, counts = _built(mock, **extra)
    assert counts == {"litellm:metadata": 1}, counts
    assert payload is not None


@pytest.mark.parametrize(
    "target",
    [
        "litellm.litellm_core_utils.litellm_logging.get_standard_logging_object_payload",
        "litellm.litellm_core_utils.litellm_logging.StandardLoggingPayloadSetup.get_model_cost_information",
        "litellm.litellm_core_utils.litellm_logging.StandardLoggingPayloadSetup.cleanup_timestamps",
        "litellm.litellm_core_utils.litellm_logging.truncate_base64_in_messages",
        "litellm.litellm_core_utils.litellm_logging.Logging.get_router_model_id",
    ],
)
def test_a_double_on_what_the_builder_reaches_sees_its_call(litellm, mock, switch, target):
    import importlib

    module, _, name = target.rpartition(".")
    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        mod, _, cls = module.rpartition(".")
        owner = getattr(importlib.import_module(mod), cls)
    switch(True)
    real = getattr(owner, name)
    method = isinstance(owner, type) and owner.__name__ == "Logging"  # called with self
    with um.patch.object(owner, name, side_effect=real, autospec=method or None) as double:
        payload, counts = _built(mock)
    assert double.called, target
    assert counts == {"litellm:test-double": 1}, counts
    _, after = _built(mock)  # the double gone: the fast path again
    assert after == {"litellm:test-double": 1, "fast": 1}


def test_a_users_class_over_the_builders_is_a_double(litellm, mock, switch):
    from litellm.litellm_core_utils import litellm_logging

    class Setup(litellm_logging.StandardLoggingPayloadSetup):
        pass

    switch(True)
    with um.patch.object(litellm_logging, "StandardLoggingPayloadSetup", Setup):
        payload, counts = _built(mock)
    assert payload is not None and counts == {"litellm:test-double": 1}


def test_other_accelerators_put_in_and_taken_out_keep_the_fast_path(litellm, mock, switch):
    """Installing ``logging_payload`` after this one rebinds globals the builder names: the
    change is this package's own code, adopted, not taken for a double (nor is its removal)."""
    switch(True)
    try:
        assert accel.install({"unread_payload", "logging_payload"}) == ["unread_payload", "logging_payload"]
        _, with_it = _built(mock)
        accel.install({"unread_payload"})
        _, without = _built(mock)
    finally:
        accel.install({"unread_payload"})
    assert with_it == {"fast": 1} and without == {"fast": 2}, (with_it, without)


def test_contract_status_and_uninstall(litellm, switch):
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.utils import __dict__ as utils_globals

    switch(False)
    original = (vars(Logging)["_build_standard_logging_payload"], utils_globals["function_setup"])
    assert accel.problems()["unread_payload"] == []
    switch(True)
    assert vars(Logging)["_build_standard_logging_payload"] is up._build_standard_logging_payload
    assert utils_globals["function_setup"] is up._function_setup
    state = accel.status()["unread_payload"]
    assert state["state"] == "installed" and set(state["replaces"]) == set(up._REPLACES)
    assert accel.problems()["unread_payload"] == []  # the pins read the originals under the stand-ins
    switch(False)
    assert (vars(Logging)["_build_standard_logging_payload"], utils_globals["function_setup"]) == original


def test_contract_refuses_a_moved_litellm(litellm, switch, monkeypatch):
    monkeypatch.setitem(up._PINNED, next(iter(up._PINNED)), "0" * 16)
    with pytest.warns(RuntimeWarning, match="unread_payload"):
        accel.install({"unread_payload"})
    assert accel.status()["unread_payload"]["state"] == "refused"
