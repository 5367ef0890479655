"""The ``failed_prices`` accelerator against LiteLLM's own failing price of a stream start.

Every stream is priced when it starts (``Logging.response_cost_calculator`` on the
``CustomStreamWrapper``); for an unpriced model that price fails, and the logging object keeps the
error's message, the traceback LiteLLM's recorder returns for it, and a diagnostic. The accelerator
raises a remembered copy of that error; everything the logging object and the stream keep must be
LiteLLM's, with LiteLLM's recorder cleared before each side so that each side records its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import cost, failed_prices, tracebacks

from .test_accel_cost import _NETWORK_AUTH, _STREAM_HIDDEN, _logging
from .test_accel_cost import _stream_start as _cost_stream_start
from .test_patch import forget_recorded_tracebacks, kwargs
from .test_patch_routes import _logged, _marked
from .test_patch_routes import capture as capture  # the fixture


def _unpriced(litellm) -> list[tuple[str, str]]:
    """(model as the logging object names it, provider) that no candidate of which is priced: the
    ``edgequake/`` route's name for every chat model of the cost map, and self-hosted names."""
    out = [
        ("my-local-model", "openai"),
        ("openai/my-local-model", "openai"),
        ("qwen3-32b-awq", "hosted_vllm"),
        ("llama-3.1-8b-instruct", "openai_like"),
        ("edgequake/openai/my-local-model", "edgequake"),
    ]
    for key, entry in litellm.model_cost.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat" or key == "sample_spec":
            continue
        provider = entry.get("litellm_provider")
        if isinstance(provider, str) and provider not in _NETWORK_AUTH and provider not in cost._OWN_PRICING:
            out.append((f"edgequake/{provider}/{key.removeprefix(f'{provider}/')}", "edgequake"))
    return out


def _stream_start(model: str, provider: str, hidden: dict[str, Any]) -> tuple[Any, Any]:
    """The stream and its logging object, as LiteLLM's ``completion`` leaves them for the price."""
    log = _logging(model)
    log.stream = True
    log.model_call_details["custom_llm_provider"] = provider
    log.optional_params = {}
    return _cost_stream_start(model, provider, hidden, log), log


def _kept(w: Any, log: Any, value: Any) -> tuple[Any, ...]:
    """What a priced stream start leaves: the value, the failure record (message, recorded
    traceback and fields), the diagnostic, the breakdown, and the stream's hidden params."""
    details = log.model_call_details
    info = details.get("response_cost_failure_debug_information")
    return (
        value,
        dict(info) if info is not None else None,
        details.get("zero_cost_diagnostic", "unset"),
        getattr(log, "cost_breakdown", None),
        sorted(details),
        dict(w._hidden_params),
    )


def _price(model: str, provider: str, hidden: dict[str, Any]) -> tuple[Any, ...]:
    """A stream start priced as ``update_response_metadata`` prices it."""
    w, log = _stream_start(model, provider, hidden)
    value = log.response_cost_calculator(result=w, litellm_model_name=model, router_model_id=None, cache_hit=None)
    return _kept(w, log, value)


@pytest.fixture()
def accelerated(litellm) -> Iterator[Any]:
    accel.install(True)
    failed_prices.reset_counts()
    yield litellm
    failed_prices.reset_counts()


def _off_then_on(model: str, provider: str, hidden: dict[str, Any]) -> tuple[Any, Any, Any]:
    """LiteLLM's price, then the accelerated one twice (the first remembers, the second replays),
    LiteLLM's recorder cleared before each side."""
    accel.install(False)
    forget_recorded_tracebacks()
    off = _price(model, provider, hidden)
    accel.install(True)
    forget_recorded_tracebacks()
    return off, _price(model, provider, hidden), _price(model, provider, hidden)


def test_every_unpriced_stream_start(accelerated):
    """For every unpriced name (under a rotating hidden-params shape): the value, the failure
    record (the traceback included), the diagnostic and the stream's hidden params are LiteLLM's,
    when remembered and when replayed, LiteLLM's recorder cleared before each side."""
    names = _unpriced(accelerated)
    # three prices per name: LiteLLM's, then (recorder cleared) remembering and replaying
    shapes = [(model, provider, _STREAM_HIDDEN[i % len(_STREAM_HIDDEN)]) for i, (model, provider) in enumerate(names)]

    def pass_(times: int) -> list[list[tuple[Any, ...]]]:
        out = []
        for model, provider, hidden in shapes:
            forget_recorded_tracebacks()
            out.append([_price(model, provider, hidden) for _ in range(times)])
        return out

    accel.install(False)
    off = [o for (o,) in pass_(1)]
    accel.install(True)
    failed_prices.reset_counts()
    first, replayed = zip(*pass_(2), strict=True)
    diffs = [(s, a, b, c) for s, a, b, c in zip(shapes, off, first, replayed, strict=True) if not a == b == c]
    failed = sum(o[1] is not None for o in off)
    counts = failed_prices.counts()
    print(f"{len(names)} unpriced stream starts, {failed} failed in LiteLLM: {counts}")
    assert not diffs, diffs[:3]
    assert failed > len(names) * 0.8  # the corpus is what it claims: LiteLLM fails to price most
    assert all("ModelNotMappedError" in o[1]["traceback_str"] for o in off if o[1] is not None)
    # every failure replayed but those whose path logs (a tokenizer fallback's warning): LiteLLM's
    assert failed * 0.9 < counts.get("fast", 0) <= failed, counts


def test_replay_only_while_litellms_recorder_holds_the_traceback(accelerated):
    """After LiteLLM's recorder forgets the message, LiteLLM's function runs again and records
    the traceback of its own failing path (not the replay's)."""
    model, provider = "openai/forgotten-local-model", "openai"
    off, first, _ = _off_then_on(model, provider, {})
    failed_prices.reset_counts()
    forget_recorded_tracebacks()
    again = _price(model, provider, {})
    assert again == first == off
    assert failed_prices.counts() == {"litellm:traceback-not-cached": 1}
    assert "get_model_info_helper" in again[1]["traceback_str"]


def test_evicted_between_probe_and_read_records_what_the_recorder_held(accelerated):
    """The recorder losing the message between the probe and LiteLLM's read (another thread
    filling it) gives the traceback it held, not the replay's own frames."""
    from litellm.litellm_core_utils import litellm_logging

    model, provider = "openai/evicted-local-model", "openai"
    _, first, _ = _off_then_on(model, provider, {})
    probe = tracebacks.cached

    def probe_then_evict(message: str) -> str | None:
        text = probe(message)
        litellm_logging._get_traceback_str_for_error.cache_clear()
        return text

    with um.patch.object(tracebacks, "cached", probe_then_evict):
        evicted = _price(model, provider, {})
    assert evicted == first
    assert failed_prices.counts().get("fast") == 2


def test_the_cost_map_changing_drops_what_was_remembered(accelerated):
    litellm = accelerated
    model, provider = "openai/registered-later", "openai"
    _off_then_on(model, provider, {})
    saved = dict(litellm.model_cost)
    try:
        litellm.register_model(
            {
                model: {
                    "litellm_provider": "openai",
                    "mode": "chat",
                    "input_cost_per_token": 1e-6,
                    "output_cost_per_token": 2e-6,
                }
            }
        )
        on = _price(model, provider, {})
        accel.install(False)
        off = _price(model, provider, {})
    finally:
        litellm.model_cost.clear()
        litellm.model_cost.update(saved)
        accel.install(True)
    assert on == off
    assert on[1] is None and on[0] is not None  # priced now


def test_a_double_on_the_failing_path_is_called(accelerated):
    import litellm.cost_calculator as cc

    model, provider = "openai/doubled-local-model", "openai"
    off, first, _ = _off_then_on(model, provider, {})
    failed_prices.reset_counts()
    with um.patch.object(cc, "cost_per_token", wraps=cc.cost_per_token) as double:
        doubled = _price(model, provider, {})
    assert double.called
    assert doubled == first
    assert failed_prices.counts() == {"litellm:functions-or-logging-changed": 1}


def test_other_callers_and_debug_logging_run_litellms_function(accelerated, caplog):
    litellm = accelerated
    model, provider = "openai/another-local-model", "openai"
    _off_then_on(model, provider, {})
    failed_prices.reset_counts()
    w, log = _stream_start(model, provider, {})
    with pytest.raises(Exception, match="isn't mapped yet") as direct:
        litellm.response_cost_calculator(
            response_object=w,
            model=model,
            custom_llm_provider=provider,
            call_type="completion",
            optional_params={},
            litellm_logging_obj=log,
        )
    assert "get_model_info_helper" in "".join(__import__("traceback").format_tb(direct.value.__traceback__))
    with caplog.at_level(logging.DEBUG, logger="LiteLLM"):
        _price(model, provider, {})
    assert any("selected model name for cost calculation" in r.getMessage() for r in caplog.records)
    assert failed_prices.counts() == {"litellm:caller": 1, "litellm:debug-logging": 1}


def test_a_logging_level_changed_since_runs_litellms_function(accelerated):
    """A failure recorded with LiteLLM's logger at WARNING is not replayed at INFO: records the
    failing path emits at INFO would exist in LiteLLM's run."""
    from litellm._logging import verbose_logger

    model, provider = "openai/levelled-local-model", "openai"
    level = verbose_logger.level
    try:
        verbose_logger.setLevel(logging.WARNING)
        off, first, _ = _off_then_on(model, provider, {})
        failed_prices.reset_counts()
        verbose_logger.setLevel(logging.INFO)
        again = _price(model, provider, {})
    finally:
        verbose_logger.setLevel(level)
    assert again == first == off
    assert failed_prices.counts() == {"litellm:functions-or-logging-changed": 1}


def _caller_code() -> Any:
    from litellm.litellm_core_utils.litellm_logging import Logging

    return Logging.response_cost_calculator.__code__


def _remembered_after(original: Callable[..., Any]) -> bool:
    """Whether a failure of ``original`` is replayed on the next call (``original`` not run)."""
    runs = []

    def counted(**kw: Any) -> Any:
        runs.append(1)
        return original(**kw)

    w, log = _stream_start("openai/unit-model", "openai", {})
    kw = {"response_object": w, "litellm_logging_obj": log, "optional_params": {}}
    key = ("unit", id(original))
    forget_recorded_tracebacks()
    for _ in range(2):
        try:
            failed_prices.price(counted, kw, key, _caller_code())
        except ValueError as e:
            from litellm.litellm_core_utils import litellm_logging

            litellm_logging._get_traceback_str_for_error(str(e))  # as LiteLLM's caller records it
    return len(runs) == 1


def test_only_a_failure_without_side_effects_is_remembered(accelerated):
    from litellm._logging import verbose_logger

    def fails(**kw: Any) -> Any:
        raise ValueError("not priced")

    def writes(**kw: Any) -> Any:
        kw["litellm_logging_obj"].model_call_details["written"] = True
        raise ValueError("not priced, written")

    def logs(**kw: Any) -> Any:
        verbose_logger.warning("a warning on the failing path")
        raise ValueError("not priced, logged")

    def stamps(**kw: Any) -> Any:
        kw["response_object"]._hidden_params["response_cost"] = 0.0
        raise ValueError("not priced, stamped")

    assert _remembered_after(fails)
    assert not _remembered_after(writes)
    assert not _remembered_after(logs)
    assert not _remembered_after(stamps)


def test_real_stream_starts_on_and_off(litellm, mock, capture):
    """``edgequake/`` streams of an unpriced model, one cut by an error event: the failure payload
    carries the stream start's failure record; answers and payloads equal with the accelerator
    on (replaying) and off."""
    model = "edgequake/openai/my-streamed-local-model"
    msgs = _marked(f"failed_prices {model}")

    def streams() -> list[Any]:
        out: list[Any] = []
        for scenario in (None, None, "stream_error"):
            kw = {**kwargs(mock, scenario), "messages": msgs}
            try:
                chunks = litellm.completion(model=model, stream=True, **kw)
                out.append("".join(c.choices[0].delta.content or "" for c in chunks))
            except Exception as e:  # noqa: BLE001 - the error is part of the comparison
                out.append((type(e).__name__, str(e)))
        return out

    results = {}
    try:
        for on in (False, True):
            accel.install(on)
            failed_prices.reset_counts()
            forget_recorded_tracebacks()
            got: dict[str, Any] = {}
            logged = _logged(capture, lambda g=got: g.update(answers=streams()), 3, msgs)
            results[on] = (got["answers"], logged, failed_prices.counts().get("fast", 0))
    finally:
        accel.install(True)
    (off, off_logged, _), (on, on_logged, fast) = results[False], results[True]
    assert on == off
    assert on_logged == off_logged
    assert fast >= 2, failed_prices.counts()
    failures = [p for kind, p in off_logged if "failure" in kind]
    assert failures
    assert all("ModelNotMappedError" in p["response_cost_failure_debug_info"]["traceback_str"] for p in failures)
