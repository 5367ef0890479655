"""The provider_membership accelerator against LiteLLM's own list: the same answer for every kind
of value (every provider, enum members, str subclasses, values whose ``==`` raises), the same
``get_optional_params`` for every provider, LiteLLM's bytecode kept but for one constant, doubles
on ``LlmProviders`` answered by the list, and the same calls and payloads on real routes."""

from __future__ import annotations

import enum
import types
from collections.abc import Iterator
from typing import Any

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import provider_membership as pm

from .test_accel_lookups import calls_on_and_off
from .test_patch import MODEL
from .test_patch_routes import capture as capture  # the fixture


@pytest.fixture()
def accelerated(litellm) -> Iterator[Any]:
    accel.install({"provider_membership"})
    pm.reset_counts()
    yield litellm
    pm.reset_counts()
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


class _Loose(str):
    """A str subclass equal to everything: list membership says yes, a hash lookup would not."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


class _Raising:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __hash__ = object.__hash__


class _Upper(str):
    pass


def _values(litellm) -> list[Any]:
    from litellm.types.utils import LlmProviders

    return [
        *(p.value for p in LlmProviders),
        *LlmProviders,  # members: str-mixed, equal to their values
        "",
        "edgequake",
        "OPENAI",
        " openai",
        "openai\x00",
        "openai/",
        "custom_openai_x",
        _Upper("openai"),
        _Upper("nobody"),
        _Loose("nobody"),
        _Raising(),
        1,
        b"openai",
        ("openai",),
        None,
    ]


def _outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the same error is part of the comparison
        return ("raised", type(e), str(e))


def _comprehensions(site: str) -> tuple[Any, Any, dict[str, Any]]:
    """(LiteLLM's comprehension, the installed one) as functions, and the site's globals."""
    fn, theirs, _ = pm._orig[site]
    index = pm._target(theirs)
    assert index is not None
    g = fn.__globals__
    return (
        types.FunctionType(theirs.co_consts[index], g),
        types.FunctionType(fn.__code__.co_consts[index], g),
        g,
    )


@pytest.mark.parametrize("site", list(pm._SITES))
def test_same_answer_for_every_kind_of_value(accelerated, site):
    litellm = accelerated
    original, installed, g = _comprehensions(site)
    diffs = []
    for value in _values(litellm):
        a = _outcome(lambda v: v in original(iter(g["LlmProviders"])), value)
        b = _outcome(lambda v: v in installed(iter(g["LlmProviders"])), value)
        if a != b:
            diffs.append((value, a, b))
    assert not diffs, diffs[:5]
    counts = pm.counts()
    assert counts.get("fast", 0) >= 190, counts  # every provider's value took the lookup
    assert counts.get("litellm:not-a-str-or-enum-changed", 0) >= 190, counts


@pytest.mark.parametrize("site", list(pm._SITES))
def test_doubles_on_the_enum_get_the_list(accelerated, site, monkeypatch):
    """A double on the function's ``LlmProviders`` (another enum, a list of members) is iterated
    as LiteLLM iterates it; a changed value map on LiteLLM's own enum is not trusted."""
    original, installed, g = _comprehensions(site)
    Other = enum.Enum("Other", {"A": "openai-like", "B": "edgequake"}, type=str)
    for double in (Other, [types.SimpleNamespace(value="edgequake")], []):
        monkeypatch.setitem(g, "LlmProviders", double)
        pm.reset_counts()
        for value in ("edgequake", "openai", "openai-like", "nobody"):
            assert (value in installed(iter(double))) == (value in original(iter(double))), (double, value)
        assert pm.counts().get("fast", 0) == 0, pm.counts()
    monkeypatch.undo()
    from litellm.types.utils import LlmProviders

    monkeypatch.setitem(LlmProviders._value2member_map_, "not-a-member", LlmProviders.OPENAI)
    pm.reset_counts()
    assert ("not-a-member" in installed(iter(LlmProviders))) is False
    assert pm.counts().get("fast", 0) == 0, pm.counts()


def _optional_params_outcome(litellm, provider: str, params: dict[str, Any]) -> tuple[Any, ...]:
    from litellm.utils import get_optional_params

    try:
        out = get_optional_params(model="gpt-4o-mini", custom_llm_provider=provider, **params)
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e), str(e))
    return ("ok", out)


def test_get_optional_params_every_provider_on_and_off(litellm):
    """The provider test picks each provider's config: every provider (and some that are not)
    maps the same parameters to the same result or error with the accelerator on and off."""
    from litellm.types.utils import LlmProviders

    providers = [p.value for p in LlmProviders] + ["edgequake", "nobody", "OPENAI"]
    shapes = [
        {"temperature": 0.2, "max_tokens": 64},
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]},
        {"response_format": {"type": "json_object"}, "top_p": 0.5, "drop_params": True},
    ]
    results = {}
    for on in (False, True):
        accel.install({"provider_membership"} if on else False)
        pm.reset_counts()
        try:
            results[on] = [_optional_params_outcome(litellm, p, dict(s)) for p in providers for s in shapes]
        finally:
            fast = pm.counts().get("fast", 0)
            accel.install(False)
        if on:
            assert fast >= len(providers) * len(shapes), fast
    diffs = [(i, a, b) for i, (a, b) in enumerate(zip(results[False], results[True])) if a != b]
    assert not diffs, diffs[:3]


def test_messages_route_config_every_provider_on_and_off(litellm):
    """The `/v1/messages` route's config lookup: the same config class (or None, or error) for
    every provider, and some that are not, with and without an `api_base`."""
    from litellm.llms.anthropic.messages.native.handler import _native_messages_config
    from litellm.types.utils import LlmProviders

    providers = [p.value for p in LlmProviders] + ["edgequake", "nobody", "ANTHROPIC"]

    def outcome(provider: str, api_base: str | None) -> tuple[Any, ...]:
        try:
            config = _native_messages_config("claude-sonnet-4-5", provider, None, api_base)
        except Exception as e:  # noqa: BLE001
            return ("raised", type(e), str(e))
        return ("ok", type(config))

    results = {}
    for on in (False, True):
        accel.install({"provider_membership"} if on else False)
        pm.reset_counts()
        try:
            results[on] = [outcome(p, b) for p in providers for b in (None, "http://127.0.0.1:9/v1")]
        finally:
            fast = pm.counts().get("fast", 0)
            accel.install(False)
        if on:
            assert fast >= 2 * len(providers), fast
    assert results[False] == results[True]
    assert any(r[0] == "ok" and r[1] is not type(None) for r in results[True])  # some provider has one


@pytest.mark.parametrize("site", list(pm._SITES))
def test_litellms_code_but_one_constant(accelerated, site):
    """Bytecode, line and exception tables, names: LiteLLM's. One constant differs, the
    comprehension; uninstall() puts LiteLLM's code object back."""
    fn, theirs, _ = pm._orig[site]
    ours = fn.__code__
    assert ours is not theirs
    for attr in (
        "co_code",
        "co_linetable",
        "co_exceptiontable",
        "co_names",
        "co_varnames",
        "co_freevars",
        "co_cellvars",
        "co_filename",
        "co_firstlineno",
        "co_qualname",
        "co_flags",
        "co_argcount",
        "co_kwonlyargcount",
        "co_stacksize",
    ):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    differ = [i for i, (a, b) in enumerate(zip(ours.co_consts, theirs.co_consts)) if a is not b]
    assert differ == [pm._target(theirs)], differ
    _, installed, g = _comprehensions(site)
    accel.install(False)
    assert fn.__code__ is theirs
    # A call already in the replaced comprehension when uninstall() runs still answers.
    assert "openai" in installed(iter(g["LlmProviders"]))
    assert "nobody" not in installed(iter(g["LlmProviders"]))
    # Whatever replaced the installed code since (another tool) is left in place by uninstall().
    accel.install({"provider_membership"})
    foreign = theirs.replace()
    assert foreign is not theirs
    fn.__code__ = foreign
    try:
        accel.install(False)
        assert fn.__code__ is foreign
    finally:
        fn.__code__ = theirs


def test_contract_and_switch(litellm, monkeypatch):
    assert pm.ACCELERATOR.problems() == []
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "provider_membership")
    try:
        assert "provider_membership" not in accel.install(True)
        assert accel.status()["provider_membership"]["state"] == "off"
        monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
        assert "provider_membership" in accel.install(True)
        state = accel.status()["provider_membership"]
        assert state["state"] == "installed" and state["replaces"] == list(pm._REPLACES)
        assert pm.ACCELERATOR.problems() == []  # the contract reads LiteLLM's code, not ours
    finally:
        accel.install(False)
    monkeypatch.setitem(pm._PINNED, "completion", "0" * 16)
    assert any("completion source differs" in p for p in pm.ACCELERATOR.problems())


@pytest.mark.parametrize("model", [MODEL, f"edgequake/{MODEL}"])
def test_calls_same_on_and_off(litellm, mock, capture, model):
    results = calls_on_and_off(litellm, mock, capture, model, "provider_membership", pm)
    (off, off_logged, off_fast), (on, on_logged, on_fast) = results[False], results[True]
    assert off_fast == 0
    assert on_fast >= 2, pm.counts()  # completion and get_optional_params, per call
    assert on == off
    assert on_logged == off_logged and len(on_logged) >= 2
