"""The cost accelerator against LiteLLM's own pricing: bit-identical cost and cost breakdown for
every chat model of the bundled cost map under every usage shape, plans invalidated when the
cost map changes, and the same ``response_cost`` on real calls with the accelerator on and off."""

from __future__ import annotations

import asyncio
import datetime
import struct
from collections.abc import Iterator
from typing import Any

import pytest

import edgequake_litellm
from edgequake_litellm import accel
from edgequake_litellm.accel import cost

from .test_patch import MODEL, kwargs
from .test_patch_routes import _logged, _marked
from .test_patch_routes import capture as capture  # the fixture


def _usage_shapes() -> dict[str, dict[str, Any]]:
    return {
        "plain": {"prompt_tokens": 1200, "completion_tokens": 345},
        "zero": {"prompt_tokens": 0, "completion_tokens": 0},
        "huge": {"prompt_tokens": 2_000_000, "completion_tokens": 900_000},
        "cached": {"prompt_tokens": 1200, "completion_tokens": 345, "prompt_tokens_details": {"cached_tokens": 1024}},
        "cache_creation": {
            "prompt_tokens": 1500,
            "completion_tokens": 80,
            "prompt_tokens_details": {"cached_tokens": 200, "cache_creation_tokens": 700},
        },
        "anthropic_cache": {
            "prompt_tokens": 900,
            "completion_tokens": 80,
            "cache_creation_input_tokens": 300,
            "cache_read_input_tokens": 400,
        },
        "reasoning": {
            "prompt_tokens": 700,
            "completion_tokens": 2000,
            "completion_tokens_details": {"reasoning_tokens": 1500},
        },
        "audio": {
            "prompt_tokens": 900,
            "completion_tokens": 600,
            "prompt_tokens_details": {"audio_tokens": 500, "text_tokens": 400},
            "completion_tokens_details": {"audio_tokens": 450, "text_tokens": 150},
        },
        "image": {
            "prompt_tokens": 1100,
            "completion_tokens": 900,
            "prompt_tokens_details": {"image_tokens": 800, "cached_tokens": 100},
            "completion_tokens_details": {"image_tokens": 700},
        },
        "overlapping": {
            "prompt_tokens": 1000,
            "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 600, "text_tokens": 1000, "audio_tokens": 300},
        },
        # Shapes for the once-per-call parse of the details (cost._UsageReads): every field the
        # parsers, _cache_token_counts and _reasoning_token_count read.
        "cached_by_modality": {
            "prompt_tokens": 2000,
            "completion_tokens": 50,
            "prompt_tokens_details": {
                "cached_tokens": 1500,
                "audio_tokens": 400,
                "image_tokens": 600,
                "text_tokens": 1000,
                "cached_tokens_details": {"audio_tokens": 300, "text_tokens": 700, "image_tokens": 400},
            },
        },
        "cache_write_and_ttl": {
            "prompt_tokens": 3000,
            "completion_tokens": 90,
            "prompt_tokens_details": {
                "cached_tokens": 100,
                "cache_write_tokens": 900,
                "cache_creation_token_details": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 400},
            },
        },
        "units": {
            "prompt_tokens": 800,
            "completion_tokens": 120,
            "prompt_tokens_details": {
                "character_count": 3100,
                "image_count": 2,
                "video_tokens": 300,
                "video_length_seconds": 12.5,
                "audio_length_seconds": 3.25,
                "query_count": 4,
            },
            "completion_tokens_details": {"video_tokens": 60, "reasoning_tokens": 20, "text_tokens": 100},
        },
        "details_all_none": {
            "prompt_tokens": 640,
            "completion_tokens": 32,
            "prompt_tokens_details": {"cached_tokens": None, "text_tokens": None},
            "completion_tokens_details": {"reasoning_tokens": None},
        },
        "top_level_counters": {
            "prompt_tokens": 1300,
            "completion_tokens": 700,
            "reasoning_tokens": 300,
            "cache_read_input_tokens": 250,
            "completion_tokens_details": {"audio_tokens": 0},
        },
    }


# Providers whose model-info lookup in LiteLLM logs in over the network (device-code flows):
# no test may call the internet, so they stay out of the corpus.
_NETWORK_AUTH = frozenset({"github_copilot", "chatgpt", "gigachat"})


def _chat_models(litellm) -> list[tuple[str, str]]:
    """(model as a caller names it, provider) for every chat entry of the cost map."""
    out = []
    for key, entry in litellm.model_cost.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat" or key == "sample_spec":
            continue
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str) or provider in _NETWORK_AUTH:
            continue
        out.append((key.removeprefix(f"{provider}/"), provider))
    return out


def _response(litellm, model: str, provider: str | None, usage: dict[str, Any]) -> Any:
    from litellm.types.utils import ModelResponse, Usage

    r = ModelResponse(model=model, usage=Usage(**usage))
    if provider is not None:
        r._hidden_params["custom_llm_provider"] = provider
    return r


def _logging(model: str) -> Any:
    from litellm.litellm_core_utils.litellm_logging import Logging

    return Logging(
        model=model,
        messages=[],
        stream=False,
        call_type="completion",
        start_time=datetime.datetime.now(),
        litellm_call_id="id",
        function_id="f",
    )


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if isinstance(x, float) else x


def _outcome(fn, **kw: Any) -> tuple[Any, ...]:
    """The value (as its bits), or the exception's class and message; and the breakdown logged."""
    log = kw.get("litellm_logging_obj")
    try:
        value: Any = ("ok", _bits(fn(**kw)))
    except Exception as e:  # noqa: BLE001 - the same error is part of the comparison
        value = ("raised", type(e), str(e))
    breakdown = getattr(log, "cost_breakdown", None) if log is not None else None
    rates = getattr(log, "billed_token_rates", None) if log is not None else None
    if isinstance(breakdown, dict):
        breakdown = {k: _bits(v) for k, v in breakdown.items()}
    return value, breakdown, rates


@pytest.fixture()
def accelerated(litellm) -> Iterator[Any]:
    accel.install(True)
    cost.reset_counts()
    yield litellm
    cost.reset_counts()


def _pair(litellm, model: str, provider: str | None, usage: dict[str, Any]) -> tuple[Any, Any]:
    """LiteLLM's response_cost_calculator and the accelerated one, each on a fresh response and
    logging object, as LiteLLM's Logging calls it."""

    def run(fn):
        r = _response(litellm, model, provider, usage)
        return _outcome(
            fn,
            response_object=r,
            model=model,
            custom_llm_provider=provider,
            call_type="completion",
            optional_params={},
            cache_hit=None,
            litellm_logging_obj=_logging(model),
        )

    return run(cost._F["response_cost_calculator"]), run(cost.response_cost_calculator)


def test_every_chat_model_every_usage_shape(accelerated):
    litellm = accelerated
    models = _chat_models(litellm)
    assert len(models) > 500, len(models)
    diffs = []
    for name, shape in _usage_shapes().items():
        for model, provider in models:
            original, fast = _pair(litellm, model, provider, shape)
            if original != fast:
                diffs.append((model, provider, name, original, fast))
    counts = cost.counts()
    print(f"cost accelerator over {len(models)} chat models: {counts}")
    assert not diffs, diffs[:5]
    # The comparison must exercise the fast path, not only the fallback.
    assert counts.get("fast", 0) > len(models) * 2, counts


def test_provider_not_given_every_chat_model(accelerated):
    """completion_cost as the edgequake/ route's stamp and user code call it: the model named
    with its provider, with or without ``custom_llm_provider``."""
    litellm = accelerated
    original_fn = cost._F["completion_cost"]
    diffs = []
    for model, provider in _chat_models(litellm):
        for given in (provider, None):
            named = model if given else f"{provider}/{model}"
            for shape in ("plain", "cached"):
                usage = _usage_shapes()[shape]
                kw = {"model": named, "custom_llm_provider": given, "call_type": "completion"}
                a = _outcome(original_fn, completion_response=_response(litellm, named, given, usage), **kw)
                b = _outcome(litellm.completion_cost, completion_response=_response(litellm, named, given, usage), **kw)
                if a != b:
                    diffs.append((named, given, shape, a, b))
    print(f"completion_cost: {cost.counts()}")
    assert not diffs, diffs[:5]
    assert cost.counts().get("fast", 0) > 500


def _stream_start(model: str, provider: str, hidden: dict[str, Any], log: Any) -> Any:
    """A ``CustomStreamWrapper`` as ``update_response_metadata`` prices it when a stream starts."""
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    w = CustomStreamWrapper(completion_stream=iter(()), model=model, logging_obj=log, custom_llm_provider=provider)
    w._hidden_params.update(hidden)
    return w


# The hidden params completion_cost reads from a stream (its model-name selection), as LiteLLM
# and the core's routes leave them at stream start; and the built-in tools a request may carry.
_STREAM_HIDDEN = (
    {},
    {"custom_llm_provider": "openai", "model_id": "deployment-1", "api_base": "http://127.0.0.1/v1"},
    {"model": "gpt-4o"},
    {"provider_response_model": "gpt-4o-2024-08-06"},
    {"litellm_model_name": "openai/gpt-4o-mini", "model": ""},
)
_TOOLS = (None, {"web_search_options": {"search_context_size": "medium"}}, {"file_search": {"type": "file_search"}})


def test_every_chat_model_stream_start(accelerated):
    """completion_cost of a ``CustomStreamWrapper`` (every stream start): the cost, the breakdown
    stored on the logging object and any error, bit for bit, for every chat model of the cost map
    under each hidden-params shape, and under built-in tools for a sample."""
    from litellm.types.utils import StandardBuiltInToolsParams

    litellm = accelerated
    models = _chat_models(litellm)
    diffs = []
    for i, (model, provider) in enumerate(models):
        for h, hidden in enumerate(_STREAM_HIDDEN):
            tools = _TOOLS[(i + h) % len(_TOOLS)] if i % 7 == 0 else None

            def run(fn, model=model, provider=provider, hidden=hidden, tools=tools):
                log = _logging(model)
                log.stream = True
                return _outcome(
                    fn,
                    response_object=_stream_start(model, provider, hidden, log),
                    model=model,
                    custom_llm_provider=provider,
                    call_type="completion",
                    optional_params={},
                    cache_hit=None,
                    prompt="",
                    standard_built_in_tools_params=StandardBuiltInToolsParams(**tools) if tools else None,
                    litellm_logging_obj=log,
                )

            original, fast = run(cost._F["response_cost_calculator"]), run(cost.response_cost_calculator)
            if original != fast:
                diffs.append((model, provider, hidden, tools, original, fast))
    counts = cost.counts()
    print(f"stream start over {len(models)} chat models: {counts}")
    assert not diffs, diffs[:5]
    assert counts.get("fast", 0) > len(models) * 2, counts


def _priced_response(shape: str, log: list[str] | None) -> Any:
    """A gpt-4o response with a Usage of ``shape``; with ``log``, its details are subclasses
    that record every read."""
    from litellm.types.utils import CompletionTokensDetailsWrapper, ModelResponse, PromptTokensDetailsWrapper, Usage

    response = ModelResponse(model="gpt-4o", usage=Usage(**_usage_shapes()[shape]))
    response._hidden_params["custom_llm_provider"] = "openai"
    usage = response.usage
    if log is None:
        return response

    def recording(base: type) -> type:
        def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
            if not name.startswith("_"):
                log.append(f"{base.__name__}.{name}")
            return base.__getattribute__(self, name)

        return type(f"Recorded{base.__name__}", (base,), {"__getattribute__": __getattribute__})

    for field, base in (
        ("prompt_tokens_details", PromptTokensDetailsWrapper),
        ("completion_tokens_details", CompletionTokensDetailsWrapper),
    ):
        details = getattr(usage, field)
        if details is not None:
            object.__setattr__(details, "__class__", recording(base))
    return response


def _as_logging_calls_it(response: Any) -> dict[str, Any]:
    """response_cost_calculator's arguments for a gpt-4o response, as LiteLLM's Logging passes them."""
    return {
        "response_object": response,
        "model": "gpt-4o",
        "custom_llm_provider": "openai",
        "call_type": "completion",
        "optional_params": {},
        "litellm_logging_obj": _logging("gpt-4o"),
    }


@pytest.mark.parametrize("shape", ["cached_by_modality", "units", "image", "top_level_counters"])
def test_usage_details_read_as_litellm_reads_them(accelerated, shape):
    """The fast path prices only details of LiteLLM's own classes, and parses them once per
    call: details of any other class (here one that records its reads, as a user's subclass or a
    test double could) see exactly LiteLLM's reads, in LiteLLM's order, and the same cost."""
    from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils

    outcomes, logs = [], []
    for fn in (cost._F["response_cost_calculator"], cost.response_cost_calculator):
        log: list[str] = []
        outcomes.append(_outcome(fn, **_as_logging_calls_it(_priced_response(shape, log))))
        logs.append(log)
    assert outcomes[0] == outcomes[1]
    assert logs[0] == logs[1]
    assert logs[0], "the recording details saw no read: this test would prove nothing"
    assert cost.counts().get("fast", 0) == 0, cost.counts()
    assert cost.counts().get("litellm:usage-details-type") == 1, cost.counts()

    # LiteLLM's own classes: each parser runs once per priced call (LiteLLM runs the prompt's
    # three times); the cost and breakdown are the corpus test's.
    calls: list[str] = []
    originals = {name: cost._F[name] for name in ("parse_prompt_tokens_details", "parse_completion_tokens_details")}
    try:
        for name, fn in originals.items():
            cost._F[name] = lambda usage, _fn=fn, _name=name: (calls.append(_name), _fn(usage))[1]
        cost.response_cost_calculator(**_as_logging_calls_it(_priced_response(shape, None)))
    finally:
        cost._F.update(originals)
    assert cost.counts().get("fast") == 1, cost.counts()
    assert calls.count("parse_prompt_tokens_details") == 1, calls
    assert calls.count("parse_completion_tokens_details") <= 1, calls
    assert cost_utils.parse_prompt_tokens_details is originals["parse_prompt_tokens_details"]


def _prompt_reads_in_litellm_source() -> tuple[set[str], set[str]]:
    """The names ``parse_prompt_tokens_details`` reads with ``getattr(usage.prompt_tokens_details,
    "name", ...)``, and every attribute it reads off ``usage``, from LiteLLM's source."""
    import ast
    import inspect
    import textwrap

    from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils

    tree = ast.parse(textwrap.dedent(inspect.getsource(cost_utils.parse_prompt_tokens_details)))
    names, off_usage = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "usage":
            off_usage.add(node.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and ast.unparse(node.args[0]) == "usage.prompt_tokens_details"
        ):
            names.add(node.args[1].value)  # type: ignore[attr-defined]
    return names, off_usage


def test_prompt_details_stand_in_reads_what_litellm_s_parser_reads(accelerated):
    names, off_usage = _prompt_reads_in_litellm_source()
    assert names == set(cost._PROMPT_DETAIL_READS)
    assert off_usage == {"prompt_tokens_details"}  # the stand-in carries nothing else


def _prompt_details_cases() -> list[Any]:
    from litellm.types.utils import Usage

    usages = [Usage(**shape) for shape in _usage_shapes().values()]
    # an extra pydantic keeps, and a read name only the extras hold (pydantic's __getattr__ answers it)
    odd = Usage(prompt_tokens=90, completion_tokens=9, prompt_tokens_details={"cached_tokens": 40, "vendor_field": 1})
    odd.prompt_tokens_details.__pydantic_extra__["cache_write_tokens"] = 25
    odd.prompt_tokens_details.__pydantic_extra__["query_count"] = 3
    return [*usages, odd]


def test_prompt_details_stand_in_parses_as_litellm_does(accelerated):
    """LiteLLM's parser on the stand-in and on the usage itself: equal for every usage shape of
    the corpus, with details of LiteLLM's own class read through the stand-in."""
    from litellm.litellm_core_utils.llm_cost_calc.utils import parse_prompt_tokens_details

    assert cost._PYDANTIC_GETATTR[0] is not None, "another pydantic: the stand-in is never used here"
    stood_in = 0
    for usage in _prompt_details_cases():
        read = cost._prompt_details_read(usage)
        stood_in += read is not usage
        assert parse_prompt_tokens_details(read) == parse_prompt_tokens_details(usage)
    with_details = sum(u.prompt_tokens_details is not None for u in _prompt_details_cases())
    assert stood_in == with_details > 10


@pytest.mark.parametrize("double", ["field", "getattribute", "getattr"])
def test_a_double_on_the_details_class_sees_litellm_s_reads(accelerated, monkeypatch, double):
    """A double set on LiteLLM's details class (a property for a read name, a hook on attribute
    lookup) makes the fast path pass the usage itself: the parser sees what the double answers."""
    from litellm.types.utils import PromptTokensDetailsWrapper, Usage

    seen: list[str] = []
    if double == "field":
        monkeypatch.setattr(PromptTokensDetailsWrapper, "cache_write_tokens", property(lambda self: 77), raising=False)
    elif double == "getattribute":

        def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
            seen.append(name)
            return object.__getattribute__(self, name)

        monkeypatch.setattr(PromptTokensDetailsWrapper, "__getattribute__", __getattribute__, raising=False)
    else:
        pydantic_getattr = PromptTokensDetailsWrapper.__getattr__

        def __getattr__(self: Any, name: str) -> Any:  # noqa: N807
            seen.append(name)
            return pydantic_getattr(self, name)

        monkeypatch.setattr(PromptTokensDetailsWrapper, "__getattr__", __getattr__, raising=False)
    usage = Usage(prompt_tokens=900, completion_tokens=9, prompt_tokens_details={"cached_tokens": 100})
    assert cost._prompt_details_read(usage) is usage
    parsed = cost._UsageReads(usage).prompt()
    if double == "field":
        assert parsed["cache_creation_tokens"] == 77
    else:
        assert "cache_write_tokens" in seen


def test_fall_through_shapes_equal(accelerated):
    """Shapes the plan does not cover run LiteLLM's function: same answers, counted as such."""
    litellm = accelerated
    usage = _usage_shapes()["cached"]
    cases = [
        {
            "custom_pricing": True,
            "custom_cost_per_token": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
        },
        {"base_model": "gpt-4o"},
        {"service_tier": "flex"},
        {"optional_params": {"service_tier": "priority"}},
        {"optional_params": {"service_tier": ""}},  # not a tier, but LiteLLM stores "" in the breakdown
        {"cache_hit": True},
    ]
    for extra in cases:
        outs = []
        for fn in (cost._F["response_cost_calculator"], cost.response_cost_calculator):
            kw = {
                "response_object": _response(litellm, "gpt-5", "openai", usage),
                "model": "gpt-5",
                "custom_llm_provider": "openai",
                "call_type": "completion",
                "optional_params": {},
                "litellm_logging_obj": _logging("gpt-5"),
                **extra,
            }
            outs.append(_outcome(fn, **kw))
        assert outs[0] == outs[1], extra
    assert cost.counts().get("fast", 0) == 0, cost.counts()


def _price(litellm, model: str, usage: dict[str, Any]) -> tuple[Any, Any]:
    """(LiteLLM's completion_cost, the accelerated one): each its value's bits or its error."""
    kw = {"model": model, "custom_llm_provider": "openai", "call_type": "completion"}
    return (
        _outcome(cost._F["completion_cost"], completion_response=_response(litellm, model, "openai", usage), **kw)[0],
        _outcome(litellm.completion_cost, completion_response=_response(litellm, model, "openai", usage), **kw)[0],
    )


@pytest.fixture()
def restored_cost_map(accelerated) -> Iterator[Any]:
    litellm = accelerated
    saved = litellm.model_cost
    copy = {k: dict(v) if isinstance(v, dict) else v for k, v in saved.items()}
    yield litellm
    litellm.model_cost = saved
    litellm.model_cost.pop("eq-accel-test-model", None)
    litellm.model_cost.pop("openai/eq-accel-test-model", None)
    for k in list(saved):
        if k not in copy:
            saved.pop(k)
    saved.update(copy)
    from litellm.utils import _invalidate_model_cost_lowercase_map

    _invalidate_model_cost_lowercase_map()


def test_register_model_invalidates(restored_cost_map):
    litellm = restored_cost_map
    usage = _usage_shapes()["cached"]
    before = _price(litellm, "gpt-4o-mini", usage)
    assert before[0] == before[1]
    litellm.register_model({"gpt-4o-mini": {"input_cost_per_token": 7e-6, "litellm_provider": "openai"}})
    after = _price(litellm, "gpt-4o-mini", usage)
    assert after[0] == after[1]
    assert after[1] != before[1]
    assert cost.counts()["fast"] == 2


def test_cost_map_mutation_invalidates(restored_cost_map):
    litellm = restored_cost_map
    usage = _usage_shapes()["plain"]
    entry = {"input_cost_per_token": 3e-6, "output_cost_per_token": 5e-6, "litellm_provider": "openai", "mode": "chat"}
    # A model added by direct assignment (the map grows).
    first = _price(litellm, "eq-accel-test-model", usage)
    assert first[0] == first[1] and first[1][0] == "raised"
    litellm.model_cost["eq-accel-test-model"] = entry
    second = _price(litellm, "eq-accel-test-model", usage)
    assert second[0] == second[1] and second[1] != first[1]
    # The whole map replaced by a copy with another price (same length).
    replaced = dict(litellm.model_cost)
    replaced["eq-accel-test-model"] = {**entry, "input_cost_per_token": 4e-6}
    litellm.model_cost = replaced
    from litellm.utils import _invalidate_model_cost_lowercase_map

    _invalidate_model_cost_lowercase_map()  # LiteLLM's own caches need this too
    third = _price(litellm, "eq-accel-test-model", usage)
    assert third[0] == third[1] and third[1] != second[1]


def test_litellm_settings_fall_through(restored_cost_map):
    litellm = restored_cost_map
    usage = _usage_shapes()["plain"]
    saved = litellm.cost_discount_config
    litellm.cost_discount_config = {"openai": 0.25}
    try:
        discounted = _price(litellm, "gpt-4o-mini", usage)
    finally:
        litellm.cost_discount_config = saved
    assert discounted[0] == discounted[1]
    assert cost.counts().get("litellm:discount-or-margin") == 1
    plain = _price(litellm, "gpt-4o-mini", usage)
    assert plain[0] == plain[1] and plain[1] != discounted[1]


def test_switches(litellm, monkeypatch):
    original = cost._F.get("completion_cost") or litellm.cost_calculator.completion_cost
    accel.install(False)
    assert litellm.completion_cost is original
    assert edgequake_litellm.status()["accelerators"]["cost"]["state"] == "off"
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "cost")
    accel.install(True)
    assert litellm.completion_cost is original
    assert edgequake_litellm.status()["accelerators"]["cost"]["disabled"] is True
    monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
    monkeypatch.setenv("EDGEQUAKE_ACCEL", "0")
    accel.install(None)
    assert litellm.completion_cost is original
    monkeypatch.delenv("EDGEQUAKE_ACCEL")
    accel.install({"cost"})
    assert litellm.completion_cost is cost.completion_cost
    assert litellm.response_cost_calculator is cost.response_cost_calculator
    assert edgequake_litellm.status()["accelerators"]["cost"]["state"] == "installed"
    with pytest.raises(ValueError):
        accel.install({"no-such-accelerator"})
    accel.uninstall()
    assert litellm.completion_cost is original
    assert litellm.response_cost_calculator is litellm.cost_calculator.response_cost_calculator
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


def test_contract_holds(litellm):
    from edgequake_litellm._contract import accelerator_problems

    assert accelerator_problems() == {name: [] for name in accel.registry()}


# ---- end to end: the same cost on real calls, accelerator on and off ----------------------


def _calls(litellm, mock, model: str, msgs: list[dict], scenario: str | None) -> dict[str, Any]:
    kw = {**kwargs(mock, scenario), "messages": msgs}
    out: dict[str, Any] = {}
    r = litellm.completion(model=model, **kw)
    out["sync"] = _bits(r._hidden_params.get("response_cost"))

    async def run() -> tuple[Any, Any]:
        a = await litellm.acompletion(model=model, **kw)
        chunks = [c async for c in await litellm.acompletion(model=model, stream=True, **kw)]
        await asyncio.sleep(0.3)
        return a, chunks

    a, chunks = asyncio.run(run())
    out["async"] = _bits(a._hidden_params.get("response_cost"))
    stream = litellm.stream_chunk_builder(chunks)
    out["stream_usage"] = stream.usage.model_dump() if stream is not None else None
    return out


@pytest.mark.parametrize("model", [MODEL, f"edgequake/{MODEL}"])
@pytest.mark.parametrize("scenario", [None, "cached=64", "reasoning=1"])
def test_calls_same_cost_on_and_off(litellm, mock, capture, model, scenario):
    from edgequake_litellm import _patch

    cap = capture
    msgs = _marked(f"accel {model} {scenario}")
    _patch.install()
    try:
        results = {}
        for on in (False, True):
            accel.install(on)
            cost.reset_counts()
            got: dict[str, Any] = {}
            logged = _logged(cap, lambda g=got: g.update(_calls(litellm, mock, model, msgs, scenario)), 3, msgs)
            payloads = sorted(
                (kind, _bits(p.get("response_cost")), repr(p.get("cost_breakdown"))) for kind, p in logged
            )
            results[on] = (got, payloads, cost.counts().get("fast", 0))
    finally:
        accel.install(None)
        _patch.uninstall()
    (off, off_logged, off_fast), (on, on_logged, on_fast) = results[False], results[True]
    assert off_fast == 0
    assert on_fast >= 2, cost.counts()  # the fast path priced these calls
    assert off["sync"] is not None
    assert on == off
    assert on_logged == off_logged and len(on_logged) >= 3
