"""The lookups accelerator against LiteLLM's own ``get_model_info_helper``: the same answer (values
and their types, or the same error) for every model of the bundled cost map under every provider
and argument shape; after every change to what the lookup reads; with callers mutating what it
returns; under test doubles; and the same standard logging payloads on real calls."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import lookups

from .test_patch import MODEL, forget_recorded_tracebacks, kwargs
from .test_patch_routes import _logged, _marked
from .test_patch_routes import capture as capture  # the fixture

# Providers whose model-info lookup reaches the network (a model server's /api/show, a HuggingFace
# config, device-code logins): no test may call the internet, so they stay out of the corpus.
_NETWORK = frozenset({"github_copilot", "chatgpt", "gigachat", "ollama", "ollama_chat", "lemonade", "huggingface"})
_EXTRA_PROVIDERS = ("openai", "azure", "anthropic", "fireworks_ai", "openrouter", "groq", "xai", "gemini")


def _outcome(fn: Any, **kw: Any) -> tuple[Any, ...]:
    """The value with each field's type, or the exception's class and message."""
    try:
        value = fn(**kw)
    except Exception as e:  # noqa: BLE001 - the same error is part of the comparison
        return ("raised", type(e), str(e))
    if not isinstance(value, dict):
        return ("ok", type(value), value)
    return ("ok", type(value), list(value), [(type(v), v) for v in value.values()])


def _original() -> Any:
    return lookups._orig["get_model_info_helper"]


@pytest.fixture()
def accelerated(litellm) -> Iterator[Any]:
    accel.install({"lookups"})
    lookups.reset_counts()
    yield litellm
    lookups.reset_counts()
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


@pytest.fixture()
def restored(accelerated) -> Iterator[Any]:
    """The cost map, its entries, LiteLLM's alias tables and rules as they were, after the test."""
    litellm = accelerated
    from litellm.litellm_core_utils import fallback_generalizations as fg

    saved = litellm.model_cost
    copy = {k: dict(v) if isinstance(v, dict) else v for k, v in saved.items()}
    azure = dict(litellm.azure_llms)
    rules = fg.get_fallback_generalization_rules()
    alias = dict(litellm.model_alias_map)
    api_base = litellm.api_base
    yield litellm
    litellm.model_cost = saved
    for k in list(saved):
        if k not in copy:
            saved.pop(k)
    for k, v in copy.items():
        if isinstance(saved.get(k), dict) and isinstance(v, dict):
            saved[k].clear()
            saved[k].update(v)
        else:
            saved[k] = v
    litellm.azure_llms.clear()
    litellm.azure_llms.update(azure)
    fg.set_fallback_generalizations(rules)
    litellm.model_alias_map = alias
    litellm.api_base = api_base
    from litellm.utils import _invalidate_model_cost_lowercase_map

    _invalidate_model_cost_lowercase_map()


def _corpus(litellm) -> list[dict[str, Any]]:
    """Every chat model of the cost map, named bare and with its prefix, under its own provider and
    a set of others, with and without api_base, and the keyword-only switches."""
    out = []
    for key, entry in litellm.model_cost.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat" or key == "sample_spec":
            continue
        own = entry.get("litellm_provider")
        if not isinstance(own, str) or own in _NETWORK:
            continue
        bare = key.removeprefix(f"{own}/")
        for provider in dict.fromkeys((own, *_EXTRA_PROVIDERS)):
            for model in dict.fromkeys((bare, key)):
                out.append({"model": model, "custom_llm_provider": provider})
        out.append({"model": bare, "custom_llm_provider": own, "api_base": "http://127.0.0.1:9/v1"})
        out.append({"model": bare, "custom_llm_provider": own, "preserve_unset_costs": True})
        out.append({"model": bare, "custom_llm_provider": own, "catalog_only": True})
    return out


def test_every_chat_model_every_provider(accelerated):
    litellm = accelerated
    corpus = _corpus(litellm)
    assert len(corpus) > 5000
    helper = sys.modules["litellm.responses.bridge_check"].get_model_info_helper
    assert helper is lookups.get_model_info_helper
    for kw in corpus:
        want = _outcome(_original(), **kw)
        assert _outcome(helper, **kw) == want, kw  # built
        assert _outcome(helper, **kw) == want, kw  # from the memo
    counts = lookups.counts()
    assert counts.get("fast", 0) > 2000, counts


def test_shapes_that_fall_back(accelerated):
    litellm = accelerated
    helper = litellm.utils.get_model_info_helper
    cases = [
        {"model": "gpt-4o-mini"},  # no provider: LiteLLM resolves one
        {"model": "gpt-4o-mini", "custom_llm_provider": "openai", "api_key": "sk-x"},
        {"model": "gemini-1.5-pro", "custom_llm_provider": "vertex_ai"},
        {"model": "anthropic.claude-3-haiku-20240307-v1:0", "custom_llm_provider": "bedrock"},
    ]
    for kw in cases:
        for _ in range(2):
            assert _outcome(helper, **kw) == _outcome(_original(), **kw), kw
    counts = lookups.counts()
    assert counts.get("fast", 0) == 0, counts
    assert {"litellm:arguments", "litellm:api-key", "litellm:provider"} <= set(counts)


def _step(helper: Any, kw: dict[str, Any]) -> tuple[Any, ...]:
    want = _outcome(_original(), **kw)
    got = _outcome(helper, **kw)
    assert got == want, kw
    assert _outcome(helper, **kw) == want, kw
    return want


def test_values_follow_every_input(restored):
    """After each change to what the lookup reads, the same answer as LiteLLM's own function."""
    litellm = restored
    helper = sys.modules["litellm.responses.bridge_check"].get_model_info_helper
    kw = {"model": "gpt-4o-mini", "custom_llm_provider": "openai"}
    seen = [_step(helper, kw)]

    def changed() -> None:
        seen.append(_step(helper, kw))
        assert seen[-1] != seen[-2]

    litellm.register_model({"gpt-4o-mini": {"input_cost_per_token": 7e-6, "litellm_provider": "openai"}})
    changed()
    litellm.model_cost["gpt-4o-mini"]["max_input_tokens"] = 11  # in place: no generation bump
    changed()
    litellm.model_cost["gpt-4o-mini"]["input_cost_per_token"] = 0  # an equal number of another type
    litellm.model_cost["gpt-4o-mini"]["input_cost_per_token"] = 0.0
    before = seen[-1]
    litellm.model_cost["gpt-4o-mini"]["input_cost_per_token"] = 0
    changed()
    assert seen[-1] != before
    litellm.model_cost["gpt-4o-mini"]["output_cost_per_token_above_200k_tokens"] = 1e-5  # a key it copies
    changed()
    litellm.model_cost["gpt-4o-mini"] = {**litellm.model_cost["gpt-4o-mini"], "max_output_tokens": 3}
    changed()
    # An earlier candidate appears, and the map's size stays the same (one key out, one in).
    shadow = {**litellm.model_cost["gpt-4o-mini"], "max_output_tokens": 5, "litellm_provider": "openai"}
    litellm.model_cost.pop("sample_spec", None)
    litellm.model_cost["openai/gpt-4o-mini"] = shadow
    changed()
    litellm.model_cost["openai/gpt-4o-mini"]["litellm_provider"] = "groq"  # now a provider mismatch
    changed()
    replaced = dict(litellm.model_cost)
    replaced["gpt-4o-mini"] = {**replaced["gpt-4o-mini"], "max_input_tokens": 12}
    litellm.model_cost = replaced
    changed()
    litellm.model_cost.pop("gpt-4o-mini")
    litellm.model_cost.pop("openai/gpt-4o-mini")
    changed()
    assert seen[-1][0] == "raised"
    litellm.model_cost["gpt-4o-mini"] = {"litellm_provider": "openai", "mode": "chat", "max_tokens": 1}
    changed()
    # An Azure alias rewrites the model before the lookup.
    litellm.azure_llms["gpt-4o-mini"] = "gpt-4o"
    changed()
    litellm.azure_llms.pop("gpt-4o-mini")
    # Fill-missing rules merged into a mapped entry.
    from litellm.litellm_core_utils import fallback_generalizations as fg

    fg.set_fallback_generalizations(
        [
            {
                "name": "eq-test",
                "pattern": "gpt-4o-mini",
                "model_info": {"supports_vision": True, "max_output_tokens": 99},
                "fill_missing_for_providers": ["openai"],
            }
        ]
    )
    changed()
    # What the lookup does not read: its answer stays the same, and still equals LiteLLM's.
    stable = seen[-1]
    litellm.model_alias_map = {"gpt-4o-mini": "gpt-4o"}
    litellm.api_base = "http://127.0.0.1:9/v1"
    with um.patch.dict(os.environ, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-env"}):
        assert _step(helper, kw) == stable
    assert lookups.counts().get("fast", 0) >= len(seen)


def test_unmapped_follows_every_input(restored):
    """A model the map does not price: LiteLLM's error, memoized, until the model is priced under any
    of its candidate names or a rule covers it."""
    litellm = restored
    helper = sys.modules["litellm.responses.bridge_check"].get_model_info_helper
    kw = {"model": "openai/eq-unpriced-model", "custom_llm_provider": "edgequake"}
    seen = [_step(helper, kw)]
    assert seen[0][0] == "raised"
    assert lookups.counts().get("fast", 0) == 1

    def changed() -> None:
        seen.append(_step(helper, kw))
        assert seen[-1] != seen[-2]

    entry = {"litellm_provider": "edgequake", "mode": "chat", "input_cost_per_token": 1e-6}
    litellm.model_cost["openai/eq-unpriced-model"] = entry  # a later candidate, by assignment
    changed()
    litellm.model_cost.pop("openai/eq-unpriced-model")
    changed()
    litellm.model_cost["openai/eq-unpriced-model"] = {**entry, "litellm_provider": "groq"}  # priced elsewhere
    assert _step(helper, kw) == seen[-1]
    litellm.model_cost["openai/eq-unpriced-model"]["litellm_provider"] = "edgequake"
    changed()
    litellm.model_cost.pop("openai/eq-unpriced-model")
    changed()
    from litellm.litellm_core_utils import fallback_generalizations as fg

    fg.set_fallback_generalizations([{"name": "eq", "pattern": "eq-unpriced", "model_info": {"mode": "chat"}}])
    changed()  # resolved by the rule (not memoized)
    fg.set_fallback_generalizations([])
    changed()
    assert lookups.counts().get("litellm:not-memoized", 0) >= 1  # the rule-resolved answer


def test_callers_mutating_the_answer(accelerated):
    helper = sys.modules["litellm.responses.bridge_check"].get_model_info_helper
    kw = {"model": "gpt-4o-search-preview", "custom_llm_provider": "openai"}
    want = _original()(**kw)
    for _ in range(3):  # built, then answered from the memo: every answer is the caller's own
        got = helper(**kw)
        assert got == want
        got["mode"] = "responses"
        got.pop("max_tokens")
    assert helper(**kw) == want
    assert lookups.counts().get("fast", 0) >= 3
    # Nested values are the cost map's own objects, as LiteLLM's are.
    nested = [k for k, v in want.items() if isinstance(v, dict | list)]
    assert nested
    again = helper(**kw)
    assert all(again[k] is want[k] for k in nested)
    # LiteLLM's own caller writes into the answer (function tools bridge gpt-5.4 to the Responses
    # API): a later call without them must not see it.
    from litellm.responses.bridge_check import responses_api_bridge_check

    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    for _ in range(3):
        info, _ = responses_api_bridge_check(model="gpt-5.4", custom_llm_provider="openai", tools=tools)
        assert info["mode"] == "responses"
        info, _ = responses_api_bridge_check(model="gpt-5.4", custom_llm_provider="openai")
        assert info["mode"] == "chat"


def test_doubles_run_the_original(accelerated):
    litellm = accelerated
    helper = sys.modules["litellm.responses.bridge_check"].get_model_info_helper
    kw = {"model": "gpt-4o-mini", "custom_llm_provider": "openai"}
    helper(**kw)
    helper(**kw)
    lookups.reset_counts()
    real = litellm.utils.get_potential_model_names
    with um.patch("litellm.utils.get_potential_model_names", side_effect=real) as double:
        assert helper(**kw) == _original()(**kw)
        assert double.call_count == 2
    with um.patch.object(litellm.OpenAIGPTConfig, "get_model_cost_key", return_value="gpt-4o") as double:
        assert helper(**kw) == _original()(**kw)
        assert double.call_count == 2
    counts = lookups.counts()
    assert counts.get("fast", 0) == 0, counts
    assert helper(**kw) == _original()(**kw)
    # A user's own function in place of ours is theirs alone.
    with um.patch("litellm.responses.bridge_check.get_model_info_helper", return_value={"mode": "x"}):
        from litellm.responses.bridge_check import responses_api_bridge_check

        assert responses_api_bridge_check(model="gpt-4o-mini", custom_llm_provider="openai")[0] == {"mode": "x"}


def test_switches_and_uninstall(litellm, monkeypatch):
    import importlib

    accel.install(False)
    originals = {m: vars(importlib.import_module(m))["get_model_info_helper"] for m in lookups._BINDINGS}
    assert all(fn is litellm.utils.get_model_info_helper for fn in originals.values())
    accel.install({"lookups"})
    bound = [vars(importlib.import_module(m))["get_model_info_helper"] for m in originals]
    assert all(fn is lookups.get_model_info_helper for fn in bound)
    import edgequake_litellm

    status = edgequake_litellm.status()["accelerators"]["lookups"]
    assert status["state"] == "installed" and status["replaces"] == list(lookups._REPLACES)
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "lookups")
    accel.install(True)
    assert all(vars(importlib.import_module(m))["get_model_info_helper"] is fn for m, fn in originals.items())
    monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
    accel.install({"lookups"})
    accel.uninstall()
    assert all(vars(importlib.import_module(m))["get_model_info_helper"] is fn for m, fn in originals.items())
    accel.install(False)


def test_contract_pins_the_sources(litellm):
    assert lookups._problems() == []
    with um.patch("litellm.utils._strip_model_name", lambda model, custom_llm_provider: model):
        assert any("_strip_model_name" in p for p in lookups._problems())


# ---- end to end: the same standard logging payloads on real calls, accelerator on and off ------


def _calls(litellm, mock, model: str, msgs: list[dict]) -> dict[str, Any]:
    import asyncio

    kw = {**kwargs(mock), "messages": msgs}
    out: dict[str, Any] = {"sync": litellm.completion(model=model, **kw).choices[0].message.content}

    async def run() -> Any:
        a = await litellm.acompletion(model=model, **kw)
        await asyncio.sleep(0.3)
        return a

    out["async"] = asyncio.run(run()).choices[0].message.content
    return out


def calls_on_and_off(
    litellm,
    mock,
    capture,
    model: str,
    name: str,
    module: Any,
    *,
    accelerate: Any = None,
    calls: Callable[..., Any] = _calls,
    events: int = 2,
) -> dict[bool, tuple[Any, ...]]:
    """``calls`` (a sync and an async call by default) in transparent mode with the accelerators
    off, then on (``accelerate``, by default ``{name}``): per state, the answers, the success
    payloads logged (``events`` of them), and ``module``'s fast-path count."""
    from edgequake_litellm import _patch

    msgs = _marked(f"{name} {model}")
    _patch.install()
    try:
        results = {}
        for on in (False, True):
            accel.install(({name} if accelerate is None else accelerate) if on else False)
            module.reset_counts()
            forget_recorded_tracebacks()  # each state records its own
            got: dict[str, Any] = {}
            logged = _logged(capture, lambda g=got: g.update(answers=calls(litellm, mock, model, msgs)), events, msgs)
            results[on] = (got["answers"], logged, module.counts().get("fast", 0))
    finally:
        accel.install(False)
        _patch.uninstall()
    return results


@pytest.mark.parametrize("model", [MODEL, f"edgequake/{MODEL}"])
def test_calls_same_payloads_on_and_off(litellm, mock, capture, model):
    results = calls_on_and_off(litellm, mock, capture, model, "lookups", lookups)
    (off, off_logged, off_fast), (on, on_logged, on_fast) = results[False], results[True]
    assert off_fast == 0
    assert on_fast >= 1, lookups.counts()
    assert on == off
    assert on_logged == off_logged and len(on_logged) >= 2
