"""The ``logging_payload`` accelerator against LiteLLM's own payload helpers: over generated corpora
(request metadata x usage dicts x models, metadata x exceptions x error strings, responses x
served texts) the same return values, the same warnings logged and the same inputs afterwards with
the accelerator on and off; the fast path taken only where LiteLLM's answer is provably the
shortcut's; test doubles on everything it reads reached; and real calls through the mock upstream
(transparent ``openai/`` and ``edgequake/openai/``, sync, async, streams, failures) logging the
same ``StandardLoggingPayload`` field by field."""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import math
import random
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import logging_payload as lp

from .test_patch import MODEL, kwargs
from .test_patch_routes import _logged, _marked
from .test_patch_routes import capture as capture  # the fixture


@pytest.fixture()
def switch(litellm) -> Iterator[Callable[[bool], None]]:
    def set_on(on: bool) -> None:
        accel.install({"logging_payload"} if on else False)
        lp.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []
        self.levels: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.name} {record.levelname} {record.getMessage()}")
        self.levels.append(record.levelno)


def _observed(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """``fn()``'s result (or exception) and what LiteLLM's loggers recorded meanwhile."""
    from litellm._logging import verbose_logger, verbose_proxy_logger, verbose_router_logger

    handler = _Records()
    loggers = (verbose_logger, verbose_proxy_logger, verbose_router_logger)
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        try:
            out: Any = ("ok", fn())
        except Exception as e:  # noqa: BLE001  # the exception is part of the outcome
            out = ("raised", type(e), str(e))
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
    return out, handler.seen


def _bits(x: Any) -> Any:
    """Floats by their bits (nan equal to itself), recursively."""
    if isinstance(x, float):
        return ("float", x.hex())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _bits(v) for k, v in x.items()}, list(x))
    if isinstance(x, list | tuple):
        return (type(x).__name__, [_bits(v) for v in x])
    return (type(x).__name__, repr(x))


# ---- the autorouter savings ----------------------------------------------------------------


def _usage_dumps() -> list[dict[str, Any]]:
    """Usage dicts as LiteLLM's logging builds them (``Usage.model_dump()`` of real shapes)."""
    from litellm.types.utils import Usage

    shapes: list[dict[str, Any]] = [
        {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60, "reasoning_tokens": 30},
        {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "total_tokens": 105,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 1},
        },
        {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10, "cache_read_input_tokens": 4},
        {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10, "cache_creation_input_tokens": 3},
        {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10, "prompt_cache_hit_tokens": 2},
        {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "cost": 0.5},
        {
            "prompt_tokens": 3,
            "completion_tokens": 1,
            "total_tokens": 4,
            "prompt_tokens_details": {"cache_write_tokens": 2, "video_length_seconds": 1.5, "cache_type": "x"},
        },
    ]
    return [Usage(**s).model_dump() for s in shapes]


# Usage dicts no LiteLLM dump produces, each a reason Usage(**usage) raises, warns or mutates.
def _odd_usages() -> list[Any]:
    from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper

    return [
        None,
        {},
        {"prompt_tokens": True, "completion_tokens": 1, "total_tokens": 2},
        {"prompt_tokens": "7", "completion_tokens": 1, "total_tokens": 8},
        {"prompt_tokens": "seven", "completion_tokens": 1, "total_tokens": 8},
        {"prompt_tokens": 2.0, "completion_tokens": 1, "total_tokens": 3},
        {"prompt_tokens": 2.5, "completion_tokens": 1, "total_tokens": 3},
        {"prompt_tokens": 2**70, "completion_tokens": -1, "total_tokens": 0},
        {"prompt_tokens": 1, "cost": float("nan")},
        {"prompt_tokens": 1, "cost": float("inf")},
        {"prompt_tokens": 1, "cost": 2},
        {"prompt_tokens": 1, "cost": {"a": 1.0}},
        {"prompt_tokens": 1, "cost": "free"},
        {"prompt_tokens": 1, "server_tool_use": {"web_search_requests": 2}},
        {"prompt_tokens": 1, "server_tool_use": {"web_search_requests": "x"}},
        {"prompt_tokens": 1, "foo": "bar"},
        {"prompt_tokens": 1, "model_config": 1},
        {"prompt_tokens": 1, "cache_read_input_tokens": "4"},
        {"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": "x"}},
        {"prompt_tokens": 1, "prompt_tokens_details": {"unknown": 1}},
        {"prompt_tokens": 1, "prompt_tokens_details": {"cache_creation_token_details": {"ephemeral_5m": 2}}},
        {"prompt_tokens": 1, "prompt_tokens_details": {"video_length_seconds": float("nan")}},
        {"prompt_tokens": 1, "prompt_tokens_details": {"cache_type": 5}},
        {"prompt_tokens": 1, "prompt_tokens_details": "details"},
        {"prompt_tokens": 1, "prompt_tokens_details": PromptTokensDetailsWrapper(cached_tokens=1)},
        {"prompt_tokens": 1, "completion_tokens": 9, "completion_tokens_details": {"reasoning_tokens": "2"}},
        # A details object the original mutates in place (reasoning_tokens, text_tokens).
        {
            "prompt_tokens": 1,
            "completion_tokens": 9,
            "reasoning_tokens": 4,
            "completion_tokens_details": CompletionTokensDetailsWrapper(audio_tokens=1),
        },
        {"prompt_tokens": 1, "completion_tokens": None, "reasoning_tokens": 4},
        MappingProxyType({"prompt_tokens": 1}),
        [("prompt_tokens", 1)],
    ]


def _metadatas() -> list[Any]:
    from litellm.constants import INTERNAL_CALL_ORIGIN_METADATA_KEY as INTERNAL

    return [
        {},
        {"team": "a", "model_group": "g"},
        {"routing_decision": None},
        {"routing_decision": {}},
        {"routing_decision": {"classifier_cost": 0.01}},
        {"routing_decision": {"savings_baseline_model": ""}},
        {"routing_decision": {"savings_baseline_model": 5}},
        {"routing_decision": {"savings_baseline_model": None, "savings_baseline_deployment_id": "d"}},
        {"routing_decision": "auto"},
        {"routing_decision": ["x"]},
        {"routing_decision": MappingProxyType({})},
        {INTERNAL: None},
        {INTERNAL: ""},
        {INTERNAL: "classifier"},
        {INTERNAL: 0, "routing_decision": {}},
        MappingProxyType({"team": "a"}),
    ]


# A routing decision naming a baseline model: LiteLLM computes savings (with the proxy's router).
_DECISION = {"routing_decision": {"savings_baseline_model": "gpt-4o", "classifier_cost": 0.001}}
_MODELS = ["gpt-4o-mini", "openai/gpt-4o-mini", "", None]


def _savings_corpus() -> list[dict[str, Any]]:
    cases = []
    for md, usage, model in itertools.product(_metadatas(), _usage_dumps() + _odd_usages(), _MODELS):
        cases.append({"request_metadata": md, "model": model, "usage_object": usage})
    # A real decision only with no model: LiteLLM's answer is then None without importing the
    # proxy server for its router (the decision with a model is checked below, without calling).
    for usage in _usage_dumps() + _odd_usages():
        cases.append({"request_metadata": copy.deepcopy(_DECISION), "model": "", "usage_object": usage})
    return cases


def _savings(case: dict[str, Any]) -> tuple[Any, list[str], str]:
    from litellm.litellm_core_utils import litellm_logging

    def call() -> Any:
        return litellm_logging._autorouter_savings_for_payload(
            request_metadata=case["request_metadata"],
            model=case["model"],
            custom_llm_provider="openai",
            model_id="m1",
            usage_object=case["usage_object"],
            cost_breakdown={"total_cost": 1e-5},
        )

    out, logged = _observed(call)
    return _bits(out), logged, repr(case["usage_object"])


def test_savings_corpus_on_and_off(switch):
    results = {}
    for on in (False, True):
        switch(on)
        results[on] = [_savings(c) for c in _savings_corpus()]
        results[f"{on} counts"] = lp.counts()
    assert results[False] == results[True]
    assert len(results[True]) > 1000
    counts = results["True counts"]
    assert results["False counts"] == {}
    # The dumps LiteLLM makes, without an internal marker or a decision, take the fast path.
    assert counts["fast"] >= len(_usage_dumps()) * len(_MODELS) * 6, counts
    for reason in ("usage-shape", "routing-decision", "internal-call", "metadata-type"):
        assert counts.get(f"litellm:savings-{reason}", 0) > 0, (reason, counts)
    # Some odd shapes made LiteLLM warn, and the accelerator let it.
    assert any(logged for _, logged, _ in results[True])


def test_decision_with_a_model_runs_litellm(switch):
    """A routing decision with a baseline model is LiteLLM's to price: never the fast path."""
    switch(True)
    for usage, model in itertools.product(_usage_dumps(), ["gpt-4o-mini", "openai/gpt-4o-mini"]):
        reason = lp._no_savings_reason(copy.deepcopy(_DECISION), model, usage, None, None)
        assert reason == "routing-decision"


def _random_usage(rng: random.Random) -> dict[str, Any]:
    from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper

    values: list[Any] = [
        None,
        0,
        1,
        -3,
        2**40,
        True,
        1.0,
        2.5,
        float("nan"),
        "3",
        "x",
        [],
        {},
        {"cached_tokens": 1},
    ]
    keys = [*lp._TOKENS, *lp._MAPPED_EXTRAS, "cost", "server_tool_use", "foo", *lp._DETAILS]
    out: dict[str, Any] = {}
    for key in rng.sample(keys, rng.randint(0, len(keys))):
        if key in lp._DETAILS:
            cls = PromptTokensDetailsWrapper if key == "prompt_tokens_details" else CompletionTokensDetailsWrapper
            fields = [*cls.model_fields, "bogus"]
            out[key] = (
                None
                if rng.random() < 0.2
                else {f: rng.choice(values[:11]) for f in rng.sample(fields, rng.randint(0, 4))}
            )
        else:
            out[key] = rng.choice(values)
    return out


def test_plain_usage_builds_plainly(litellm):
    """The fast path's premise over a generated corpus: a usage dict it accepts builds a Usage
    without an exception, a log record or a change to the dict."""
    from litellm.types.utils import Usage

    accel.install({"logging_payload"})  # the shape tables are read at install
    try:
        rng = random.Random(11)
        corpus = _usage_dumps() + [u for u in _odd_usages() if isinstance(u, dict)]
        corpus += [_random_usage(rng) for _ in range(4000)]
        accepted = 0
        for usage in corpus:
            if not lp.usage_builds_plainly(usage):
                continue
            accepted += 1
            before = repr(usage)
            (kind, *_), logged = _observed(lambda u=usage: Usage(**u))
            assert kind == "ok" and logged == [] and repr(usage) == before, usage
        assert accepted > 200
    finally:
        accel.install(False)


# ---- error information on a success ---------------------------------------------------------


def _exceptions() -> list[Any]:
    import httpx
    import litellm

    req = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    resp = httpx.Response(429, request=req, headers={"x-request-id": "r1"})
    out: list[Any] = [None, ValueError("plain"), ValueError("key sk-0123456789abcdef0123456789 leaked")]
    out.append(litellm.RateLimitError("slow down", llm_provider="openai", model="gpt-4o-mini", response=resp))
    try:
        raise litellm.BadRequestError("bad", llm_provider="openai", model="m")
    except litellm.BadRequestError as e:
        out.append(e)
    out.append(litellm.BudgetExceededError(current_cost=2.0, max_budget=1.0))
    return out


def _error_metadatas() -> list[Any]:
    return [
        {},
        {"team": "a"},
        {"client_disconnected": None},
        {"client_disconnected": False},
        {"client_disconnected": True},
        {"client_disconnected": 0},
        {"client_disconnected": ""},
        {"client_disconnected": "yes"},
        {"client_disconnected": True, "error_information": {"error_code": "499", "error_class": "X"}},
        {"client_disconnected": True, "error_information": "text"},
        MappingProxyType({}),
    ]


def test_error_information_corpus_on_and_off(switch):
    from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup

    results = {}
    for on in (False, True):
        switch(on)
        got = []
        for md, exc, error_str in itertools.product(_error_metadatas(), _exceptions(), [None, "", "boom"]):

            def call(md: Any = md, exc: Any = exc, error_str: Any = error_str) -> Any:
                return StandardLoggingPayloadSetup.get_error_information_for_logging_payload(
                    metadata=md, original_exception=exc, error_str=error_str
                )

            got.append(_observed(call))
        results[on] = got
        results[f"{on} counts"] = lp.counts()
    assert results[False] == results[True]
    counts = results["True counts"]
    assert counts.get("fast", 0) == 3 * 5, counts  # no exception, no disconnect marker
    assert counts.get("litellm:error-exception", 0) > 0 and counts.get("litellm:error-metadata", 0) > 0


def test_error_information_is_a_fresh_record(switch):
    from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup

    switch(True)
    first, _ = StandardLoggingPayloadSetup.get_error_information_for_logging_payload({}, None, None)
    first["error_code"] = "changed"
    second, _ = StandardLoggingPayloadSetup.get_error_information_for_logging_payload({}, None, None)
    assert second["error_code"] == "" and second is not first
    assert lp.counts() == {"fast": 2}


# ---- served output texts ----------------------------------------------------------------


class _Dict(dict):
    pass


def _responses() -> list[Any]:
    return [
        {},
        {"id": "x", "choices": [{"message": {"role": "assistant", "content": "hi"}, "index": 0}]},
        {"choices": [{"text": "t"}]},
        {1: "non-str key"},
        _Dict(choices=[{"message": {"content": "a"}}]),
        ["a", "b"],
        "text",
        None,
        42,
    ]


def test_overlay_corpus_on_and_off(switch):
    from litellm.litellm_core_utils import litellm_logging

    served: list[Any] = [None, ("changed",), (None,), ["changed"], "junk", 5, ()]
    results = {}
    for on in (False, True):
        switch(on)
        got = []
        for response, texts in itertools.product(_responses(), served):
            before = repr(response)
            out, logged = _observed(lambda r=response, t=texts: litellm_logging.overlay_served_output_texts(r, t))
            got.append((_bits(out[1]) if out[0] == "ok" else out, out[0] == "ok" and out[1] is response, logged))
            assert repr(response) == before
        results[on] = got
        results[f"{on} counts"] = lp.counts()
    assert results[False] == results[True]
    assert results["True counts"].get("fast") == 4  # the four plain dicts, no served texts


# ---- what the accelerator must not step around ------------------------------------------------


def test_test_doubles_are_reached(switch):
    from litellm.litellm_core_utils import litellm_logging, served_output_texts
    from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup
    from litellm.proxy.spend_tracking import savings
    from litellm.types.utils import Usage

    switch(True)
    usage = _usage_dumps()[0]

    def savings_call() -> Any:
        return litellm_logging._autorouter_savings_for_payload({}, "gpt-4o-mini", "openai", "m", usage, None)

    def error_call() -> Any:
        return StandardLoggingPayloadSetup.get_error_information_for_logging_payload({}, None, None)

    doubles: list[tuple[Any, str, Callable[[], Any]]] = [
        (savings, "_usage_from_spend_log", savings_call),
        (savings, "autorouter_savings_for_request", savings_call),
        (savings, "autorouter_savings_for_logging_payload", savings_call),
        (savings, "Usage", savings_call),
        (StandardLoggingPayloadSetup, "get_error_information", error_call),
        (litellm_logging, "redact_string", error_call),
        (litellm_logging, "normalize_error", error_call),
        (served_output_texts, "_as_json_object", lambda: litellm_logging.overlay_served_output_texts({}, None)),
    ]
    for owner, name, call in doubles:
        with um.patch.object(owner, name, wraps=getattr(owner, name)) as double:
            call()
        assert double.called, name
    with um.patch.object(Usage, "__init__", autospec=True, side_effect=Usage.__init__) as init:
        savings_call()
    assert init.called
    assert lp.counts().get("fast") is None, lp.counts()
    # With the doubles gone, the fast path again.
    savings_call()
    error_call()
    assert lp.counts().get("fast") == 2


def test_switches_and_uninstall(litellm, monkeypatch):
    from litellm.litellm_core_utils import litellm_logging
    from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup

    originals = (
        litellm_logging.__dict__["_autorouter_savings_for_payload"],
        litellm_logging.__dict__["overlay_served_output_texts"],
        StandardLoggingPayloadSetup.__dict__["get_error_information_for_logging_payload"],
    )

    def current() -> tuple[Any, ...]:
        return (
            litellm_logging.__dict__["_autorouter_savings_for_payload"],
            litellm_logging.__dict__["overlay_served_output_texts"],
            StandardLoggingPayloadSetup.__dict__["get_error_information_for_logging_payload"],
        )

    try:
        assert accel.install({"logging_payload"}) == ["logging_payload"]
        assert current()[0] is lp._autorouter_savings_for_payload
        assert accel.problems()["logging_payload"] == []  # the contract holds installed too
        assert accel.status()["logging_payload"]["state"] == "installed"
        accel.uninstall()
        assert all(a is b for a, b in zip(current(), originals, strict=True))
        monkeypatch.setenv(accel.ENV_DISABLE, "logging_payload")
        assert "logging_payload" not in accel.install(True)
        assert all(a is b for a, b in zip(current(), originals, strict=True))
    finally:
        accel.install(False)
    assert all(a is b for a, b in zip(current(), originals, strict=True))


def test_moved_litellm_is_refused(litellm):
    from litellm.proxy.spend_tracking import savings

    def autorouter_savings_for_request(*a: Any, **k: Any) -> None:  # a LiteLLM that changed it
        return None

    with um.patch.object(savings, "autorouter_savings_for_request", autorouter_savings_for_request):
        found = accel.problems()["logging_payload"]
    assert any("autorouter_savings_for_request" in p for p in found), found


def test_double_in_place_before_install_is_refused(litellm):
    """A binding the fast path keeps is recorded at install: one already replaced then (a test
    double, an override) refuses the accelerator, so the double sees every call."""
    from litellm.litellm_core_utils import litellm_logging

    for target in ("_get_provider_request_id", "normalize_error"):
        with um.patch.object(litellm_logging, target) as double:
            found = accel.problems()["logging_payload"]
            assert any(target in p and "not LiteLLM's own" in p for p in found), found
            assert double.call_count == 0
    assert accel.problems()["logging_payload"] == []


# ---- end to end: the same payloads on real calls, accelerator on and off --------------------


def _calls(litellm, mock, model: str, msgs: list[dict], metadata: dict[str, Any]) -> None:
    kw = {**kwargs(mock, None), "messages": msgs, "metadata": metadata}
    litellm.completion(model=model, **kw)
    for _ in litellm.completion(model=model, stream=True, stream_options={"include_usage": True}, **kw):
        pass
    try:
        litellm.completion(model=model, **{**kw, "api_base": mock.base_url("status=429")}, max_retries=0)
    except litellm.RateLimitError:
        pass

    async def run() -> None:
        await litellm.acompletion(model=model, **kw)
        async for _ in await litellm.acompletion(model=model, stream=True, **kw):
            pass
        try:
            await litellm.acompletion(model=model, **{**kw, "api_base": mock.base_url("status=429")}, max_retries=0)
        except litellm.RateLimitError:
            pass
        await asyncio.sleep(0.3)

    asyncio.run(run())


@pytest.mark.parametrize("model", [MODEL, f"edgequake/{MODEL}"])
@pytest.mark.parametrize(
    "metadata",
    [{}, {"team": "a", "routing_decision": {"classifier_cost": 0.002}}, {"client_disconnected": False}],
    ids=["plain", "decision-without-baseline", "connected"],
)
def test_calls_same_payloads_on_and_off(litellm, mock, capture, model, metadata):
    from edgequake_litellm import _patch

    msgs = _marked(f"logging_payload {model} {sorted(metadata)}")
    _patch.install()
    results = {}
    try:
        for on in (False, True):
            accel.install({"logging_payload"} if on else False)
            lp.reset_counts()
            logged = _logged(capture, lambda: _calls(litellm, mock, model, msgs, metadata), 6, msgs)
            results[on] = (logged, lp.counts())
    finally:
        accel.install(False)
        _patch.uninstall()
    (off, off_counts), (on, on_counts) = results[False], results[True]
    assert off_counts == {}
    kinds = sorted(kind for kind, _ in on)
    assert kinds.count("success") >= 2 and kinds.count("async_success") >= 2, kinds
    assert "failure" in kinds and "async_failure" in kinds, kinds
    assert on == off
    # Every success payload took all three fast paths; failures the error block's fallback.
    assert on_counts.get("fast", 0) >= 3 * 4, on_counts
    assert on_counts.get("litellm:error-exception", 0) >= 2, on_counts
    for _, payload in on:
        assert not math.isnan(payload.get("response_cost") or 0.0)
