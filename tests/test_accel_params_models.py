"""The params_models accelerator against LiteLLM's own validations: a seeded corpus of kwargs (every
field of ``LiteLLM_Params``, extras, reserved keys, valid and invalid values of every plain type,
``-0.0``, NaN, values that warn) gives the same ``get_api_base`` answer and the same supplemental
params (values, fields set, extras in order, dropped keys, errors) as LiteLLM, first and when
answered from the memo; copies are independent; a logger level change brings the warning back;
and real calls log the same payloads with it on and off."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import params_models as pm

from .test_accel_lookups import calls_on_and_off
from .test_patch import MODEL
from .test_patch_routes import capture as capture  # the fixture

_SHARED = object()  # one object, so its repr is the same on both sides
_VALUES: list[Any] = [
    "http://127.0.0.1:9/v1",
    "",
    "09:30",
    "9:30",
    "x-affinity",
    "Authorization",
    "bad header",
    "3",
    "x",
    "true",
    "os.environ/NOPE",
    0,
    1,
    -1,
    5,
    2**70,
    0.0,
    -0.0,
    1.5,
    600.0,
    float("inf"),
    float("nan"),
    True,
    False,
    None,
    {},
    {"id": "x"},
    [],
    ["a"],
    b"bytes",
    httpx.Timeout(5.0),
    _SHARED,
]
_EXTRAS = ["messages", "litellm_call_id", "base_url", "stream", "metadata", "model_dump", "_private", "extra_headers"]


@pytest.fixture()
def accelerated(litellm) -> Iterator[Any]:
    accel.install({"params_models"})
    pm.reset_counts()
    yield litellm
    pm.reset_counts()
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.levelno, record.getMessage()))


@pytest.fixture()
def records() -> Iterator[_Records]:
    from litellm._logging import verbose_logger

    handler = _Records()
    verbose_logger.addHandler(handler)
    level = verbose_logger.level
    yield handler
    verbose_logger.setLevel(level)
    verbose_logger.removeHandler(handler)


def _run(records: _Records, fn: Any, *args: Any) -> tuple[str, list[tuple[int, str]]]:
    """An answer as text a difference shows in (types, ``-0.0``, extras' order), and the records."""
    records.seen.clear()
    try:
        out = fn(*args)
    except Exception as e:  # noqa: BLE001 - the error is part of the answer
        return f"raised {type(e).__name__}: {e}", list(records.seen)
    return _shown(out), list(records.seen)


def _shown(out: Any) -> str:
    params = getattr(out, "params", None)
    if params is None:
        return f"{type(out).__name__} {out!r}"
    return repr(
        (
            type(out).__name__,
            type(params).__name__,
            list(params.__dict__.items()),
            sorted(params.model_fields_set),
            list((params.model_extra or {}).items()),
            sorted(out.dropped_keys),
        )
    )


def _kwargs(rng: random.Random, fields: list[str], keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in rng.sample(keys, rng.randint(0, 6)):
        out[name] = rng.choice(_VALUES)
    for name in rng.sample(fields, rng.randint(0, 5)):
        # mostly values a field accepts (a str for a str field...), so the memo's answers are many
        out[name] = rng.choice(_VALUES) if rng.random() < 0.2 else _fitting(name, rng)
    return out


_FITTING = {str: "v", int: 2, float: 2.5, bool: True, dict: {"k": 1}, type(None): None}


def _fitting(name: str, rng: random.Random) -> Any:
    """A value of a type the field's annotation takes as it is (the corpus is mostly valid)."""
    kinds = sorted(pm._plain.get(name, ()), key=str)
    return _FITTING[rng.choice(kinds)] if kinds else rng.choice(_VALUES)


def test_get_api_base_same_as_litellm_over_a_corpus(accelerated, records):
    from litellm.litellm_core_utils.llm_response_utils import response_metadata
    from litellm.types.router import LiteLLM_Params

    original, standin = pm._orig["get_api_base"], response_metadata.get_api_base
    assert standin is pm.get_api_base
    rng = random.Random(11)
    fields = sorted(LiteLLM_Params.model_fields)
    answered = 0
    # every field with every value alone, then mixes of fields, extras, reserved keys and models
    single = [{name: value} for name in fields for value in _VALUES]
    for i, given in enumerate([*single, *([None] * 3000)]):
        if given is not None:
            kw, model = {"api_base": "http://h/v1", **given}, "gpt-4o"
        else:
            kw = _kwargs(rng, fields, _EXTRAS)
            if rng.random() < 0.05:
                kw[rng.choice(["self", "params", "__class__", 1, ("k",)])] = rng.choice(_VALUES)
            if rng.random() < 0.3:
                kw["model"] = rng.choice(["openai/gpt-4o-mini", "openai/gpt-4o-mini", 5, None])
            if rng.random() < 0.85:
                kw["api_base"] = rng.choice(["http://127.0.0.1:9/v1", "http://h/v1"])
            model = rng.choice(["openai/gpt-4o-mini", "gpt-4o", "", "gpt-4o", None])
        if i == len(single) + 1500:
            from litellm._logging import verbose_logger

            verbose_logger.setLevel(logging.ERROR)  # validators' warnings no longer emitted
        want = _run(records, original, model, dict(kw))
        before = pm.counts().get("fast", 0)
        for _ in range(2):  # the first fills the memo, the second answers from it
            assert _run(records, standin, model, dict(kw)) == want, (model, kw)
        answered += pm.counts().get("fast", 0) > before
    counts = pm.counts()
    # Both sides of the memo were exercised: many answered, many left to LiteLLM.
    assert answered > 4000, counts
    assert counts.get("litellm:field-value", 0) > 3000, counts
    assert counts.get("litellm:no-api-base", 0) > 300, counts


def test_supplemental_params_same_as_litellm_over_a_corpus(accelerated, records):
    import litellm.main as main

    original, standin = pm._orig["parse"], main._parse_supplemental_provider_params
    assert standin is pm._parse_supplemental_provider_params
    rng = random.Random(12)
    keys = sorted(main.SUPPLEMENTAL_KWARGS_KEYS)
    single = [{name: value} for name in keys for value in _VALUES]
    for i, given in enumerate([*single, *([None] * 3000)]):
        kw = dict(given) if given is not None else _kwargs(rng, keys, _EXTRAS)
        if rng.random() < 0.3:
            kw["drop_params"] = rng.choice([True, False, None, "true", 5])
        if i == len(single) + 1500:
            from litellm._logging import verbose_logger

            verbose_logger.setLevel(logging.ERROR)
        want = _run(records, original, dict(kw))
        for _ in range(2):
            assert _run(records, standin, dict(kw)) == want, kw
    counts = pm.counts()
    assert counts.get("fast", 0) > 4000, counts
    assert counts.get("litellm:supplemental-value-type", 0) > 2000, counts


def test_supplemental_params_copies_are_independent(accelerated):
    import litellm.main as main

    kw = {"use_xai_oauth": False, "extra_headers": None, "api_version": "2024-01-01", "tpm": 5}
    first = main._parse_supplemental_provider_params(dict(kw))
    shown = _shown(first)
    for _ in range(3):
        got = main._parse_supplemental_provider_params(dict(kw))
        assert _shown(got) == shown
        assert got.params is not first.params
        got.params["api_version"] = "changed"  # LiteLLM's __setitem__
        got.params.model_extra["extra_headers"] = {"x": "y"}
        got.params.model_fields_set.add("rpm")
    assert pm.counts().get("fast", 0) == 3
    assert _shown(main._parse_supplemental_provider_params(dict(kw))) == shown


def test_a_validator_that_warns_is_never_probed(accelerated, records):
    """``coerce_drop_params`` warns for a value that is not a flag: such a value is left to
    LiteLLM's function (a probe would add a record), at any logger level; flags are answered."""
    from litellm._logging import verbose_logger
    from litellm.litellm_core_utils.llm_response_utils import response_metadata

    original = pm._orig["get_api_base"]
    for level in (logging.ERROR, logging.WARNING, logging.ERROR):
        verbose_logger.setLevel(level)
        for value in (5, 2.5, {"a": 1}, True, "yes", None):
            kw = {"drop_params": value, "api_base": "http://h/v1", "messages": []}
            want = _run(records, original, "gpt-4o", dict(kw))
            assert bool(want[1]) == (level == logging.WARNING and value in (5, 2.5, {"a": 1}))
            for _ in range(2):
                assert _run(records, response_metadata.get_api_base, "gpt-4o", dict(kw)) == want
    assert pm.counts() == {"fast": 18, "litellm:field-value": 18}


def test_uninstall_restores_litellm_functions(litellm):
    import litellm.main as main
    from litellm.litellm_core_utils import streaming_handler
    from litellm.litellm_core_utils.llm_response_utils import get_api_base, response_metadata

    parse = main._parse_supplemental_provider_params
    accel.install({"params_models"})
    try:
        assert main._parse_supplemental_provider_params is pm._parse_supplemental_provider_params
        assert response_metadata.get_api_base is streaming_handler.get_api_base is pm.get_api_base
    finally:
        accel.install(False)
    assert main._parse_supplemental_provider_params is parse
    assert response_metadata.get_api_base is streaming_handler.get_api_base is get_api_base.get_api_base


def test_contract_refuses_a_mutable_default(litellm, monkeypatch):
    from litellm.types.router import LiteLLM_Params

    assert pm._problems() == []
    monkeypatch.setattr(LiteLLM_Params.model_fields["tags"], "default", [])
    assert any("tags has a mutable default" in p for p in pm._problems())


def _with_stream(litellm, mock, model: str, msgs: list[dict]) -> dict[str, Any]:
    from .test_accel_lookups import _calls, kwargs

    out = _calls(litellm, mock, model, msgs)
    stream = litellm.completion(model=model, stream=True, **{**kwargs(mock), "messages": msgs})
    out["stream"] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    return out


@pytest.mark.parametrize("model", [MODEL, f"edgequake/{MODEL}"])
def test_calls_same_payloads_on_and_off(litellm, mock, capture, model):
    results = calls_on_and_off(litellm, mock, capture, model, "params_models", pm, calls=_with_stream, events=3)
    (off, off_logged, off_fast), (on, on_logged, on_fast) = results[False], results[True]
    assert off_fast == 0
    assert on_fast >= 3, pm.counts()
    assert on == off
    assert on_logged == off_logged and len(on_logged) >= 3


def test_router_calls_answered_with_the_same_hidden_params(litellm, mock):
    """The Router's calls carry its deployment's values (``model_info``, trace id, timeout,
    retries): answered from the fast path, with the same ``api_base`` and answer as LiteLLM's."""
    from edgequake_litellm import _patch

    from .test_patch import KEY

    deployment = {"model": MODEL, "api_key": KEY, "api_base": mock.base_url(), "timeout": 30.0, "max_retries": 1}
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": deployment}])
    msgs = [{"role": "user", "content": "router"}]
    _patch.install()
    try:
        seen = {}
        for on in (False, True):
            accel.install({"params_models"} if on else False)
            pm.reset_counts()
            out = [router.completion(model="m", messages=msgs) for _ in range(2)]
            seen[on] = [(r.choices[0].message.content, r._hidden_params["api_base"]) for r in out]
            if on:
                # per call: the supplemental kwargs (completion) and get_api_base; the second call
                # answers both from the memo
                assert pm.counts().get("fast", 0) >= 3, pm.counts()
    finally:
        accel.install(False)
        _patch.uninstall()
    assert seen[True] == seen[False]
    assert seen[True][0][1] == mock.base_url()


@pytest.mark.parametrize("target", ["validate_litellm_params_strictly", "model_validate", "LiteLLM_Params"])
def test_a_double_sees_every_call(accelerated, target):
    """A ``mock.patch`` on what LiteLLM's functions reach on the way to a validation: every call
    goes to LiteLLM's function, so the double sees each one."""
    from unittest import mock

    import litellm.main as main
    from litellm.litellm_core_utils.llm_response_utils import get_api_base, response_metadata
    from litellm.types.router import GenericLiteLLMParams, LiteLLM_Params

    supplemental = {"use_xai_oauth": False, "extra_headers": None}
    given = {"api_base": "http://h/v1", "messages": [], "timeout": 30.0}
    for _ in range(2):  # memos filled
        main._parse_supplemental_provider_params(dict(supplemental))
        response_metadata.get_api_base("gpt-4o", dict(given))
    assert pm.counts().get("fast", 0) == 3
    calls: list[str] = []
    if target == "validate_litellm_params_strictly":
        patched = mock.patch.object(main, target, wraps=main.validate_litellm_params_strictly)
    elif target == "model_validate":
        patched = mock.patch.object(GenericLiteLLMParams, target, wraps=GenericLiteLLMParams.model_validate)
    else:

        class Counted(LiteLLM_Params):
            def __init__(self, **data: Any) -> None:
                calls.append("init")
                super().__init__(**data)

        patched = mock.patch.object(get_api_base, target, Counted)
    with patched as double:
        for _ in range(3):
            main._parse_supplemental_provider_params(dict(supplemental))
            assert response_metadata.get_api_base("gpt-4o", dict(given)) == "http://h/v1"
        seen = len(calls) if target == "LiteLLM_Params" else double.call_count
    assert seen == 3, seen  # the double saw each call of the function that reaches it
    assert pm.counts()["litellm:double"] == 6
    pm.reset_counts()
    main._parse_supplemental_provider_params(dict(supplemental))
    response_metadata.get_api_base("gpt-4o", dict(given))
    assert pm.counts() == {"fast": 2}  # the double gone, the memos answer again
