"""The traceback LiteLLM records when it cannot price a call, with the accelerators on and off.

A model missing from the cost map (any self-hosted ``openai/`` model) makes LiteLLM store the
pricing error's ``traceback.format_exc()`` in the standard logging payload
(``response_cost_failure_debug_info.traceback_str``). The error passes through the ``cost`` and
``lookups`` stand-ins, and ``lookups`` answers a remembered "not mapped" itself: the payload must
still read as LiteLLM's own, frame for frame.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import cost, lookups, tracebacks

from .test_accel_lookups import calls_on_and_off
from .test_patch import kwargs
from .test_patch_routes import _logged, _marked
from .test_patch_routes import capture as capture  # the fixture

UNMAPPED = ("openai/my-local-model", "openai/gpt-4o-mini-but-not-priced")
SETS: dict[str, Any] = {"lookups": {"lookups"}, "cost": {"cost"}, "all": True}


def _calls(litellm, mock, model: str, msgs: list[dict]) -> list[Any]:
    kw = {**kwargs(mock), "messages": msgs}
    out = [litellm.completion(model=model, **kw).choices[0].message.content for _ in range(2)]
    out.append("".join(c.choices[0].delta.content or "" for c in litellm.completion(model=model, stream=True, **kw)))

    async def run() -> Any:
        a = await litellm.acompletion(model=model, **kw)
        await asyncio.sleep(0.3)
        return a.choices[0].message.content

    out.append(asyncio.run(run()))
    return out


def _on_and_off(litellm, mock, capture, model: str, which: str) -> dict[bool, tuple[Any, ...]]:
    return calls_on_and_off(
        litellm, mock, capture, model, f"tracebacks {which}", lookups, accelerate=SETS[which], calls=_calls, events=4
    )


@pytest.mark.parametrize("which", list(SETS))
@pytest.mark.parametrize("model", [*UNMAPPED, f"edgequake/{UNMAPPED[0]}"])
def test_unpriced_calls_record_litellms_traceback(litellm, mock, capture, model, which):
    results = _on_and_off(litellm, mock, capture, model, which)
    (off, off_logged, _), (on, on_logged, on_fast) = results[False], results[True]
    assert on == off
    assert len(off_logged) >= 4
    for _, payload in off_logged:  # the case this test is about, in LiteLLM's own run
        info = payload.get("response_cost_failure_debug_info") or {}
        assert "ModelNotMappedError" in (info.get("traceback_str") or ""), payload
    if which != "cost":
        assert on_fast >= 1, lookups.counts()  # a remembered "not mapped" answered
    recorded = {
        on: sorted(p["response_cost_failure_debug_info"]["traceback_str"].splitlines() for _, p in logged)
        for on, logged in ((True, on_logged), (False, off_logged))
    }
    assert recorded[True] == recorded[False]
    assert on_logged == off_logged


def _caller(fn: Callable[[], Any]) -> Any:
    return fn()


def _inner() -> None:
    try:
        {}["missing"]
    except KeyError as e:
        raise ValueError("not priced") from e


def _wrapper() -> None:
    return _inner()


def _recorded(fn: Callable[[], Any], record: Callable[[str], str]) -> str:
    try:
        _caller(fn)
    except ValueError as e:
        return record(str(e))
    raise AssertionError("no error")


def test_formatter_is_format_exc_without_registered_frames(litellm):
    accel.install({"cost"})
    try:
        tracebacks.acquire("test", (_wrapper,))
        direct = _recorded(_inner, lambda _: traceback.format_exc())
        through = _recorded(_wrapper, lambda _: tracebacks.VIEW.format_exc())
        assert through == direct and "KeyError" in direct and "_wrapper" not in through
        # without registration the wrapper's frame shows, as format_exc shows it
        tracebacks.release("test")
        assert _recorded(_wrapper, lambda _: tracebacks.VIEW.format_exc()) == _recorded(
            _wrapper, lambda _: traceback.format_exc()
        )
    finally:
        tracebacks.release("test")
        accel.install(False)


@pytest.mark.parametrize("where", ["traceback", "litellm_logging.traceback"])
def test_a_double_on_format_exc_is_called(litellm, mock, capture, where):
    import litellm.litellm_core_utils.litellm_logging as logging_mod

    from edgequake_litellm import _patch

    model = f"openai/priced-nowhere-{where}"  # LiteLLM caches the recorded traceback by the error's message
    msgs = _marked(f"tracebacks double {where}")
    double = um.Mock(return_value="a double's traceback\n")
    _patch.install()
    accel.install(True)
    try:
        target = traceback if where == "traceback" else logging_mod.traceback
        assert where == "traceback" or target is tracebacks.VIEW
        with um.patch.object(target, "format_exc", double):
            logged = _logged(capture, lambda: _calls(litellm, mock, model, msgs), 4, msgs)
    finally:
        accel.install(False)
        _patch.uninstall()
    assert double.called
    assert {p["response_cost_failure_debug_info"]["traceback_str"] for _, p in logged} == {"a double's traceback\n"}


def test_installed_with_either_accelerator_and_restored(litellm):
    import litellm.litellm_core_utils.litellm_logging as logging_mod

    assert logging_mod.traceback is traceback
    try:
        for names in ({"cost", "lookups"}, {"lookups"}, {"cost"}):
            accel.install(names)
            assert logging_mod.traceback is tracebacks.VIEW
            assert logging_mod.traceback.format_tb is traceback.format_tb  # every other name: the module's
        accel.install({"service_events"})
        assert logging_mod.traceback is traceback
        accel.install({"cost"})
        accel.uninstall()
        assert logging_mod.traceback is traceback
    finally:
        accel.install(False)


def test_refused_when_litellm_changed_the_recorder(litellm):
    def other(error_str: str) -> str:
        return "changed"

    with um.patch("litellm.litellm_core_utils.litellm_logging._get_traceback_str_for_error", other):
        for module in (cost, lookups):
            assert any("_get_traceback_str_for_error" in p for p in module.ACCELERATOR.problems())
    with um.patch("litellm.litellm_core_utils.litellm_logging.traceback", um.Mock()):
        for module in (cost, lookups):
            assert any("is not the traceback module" in p for p in module.ACCELERATOR.problems())
