"""The ``cost`` accelerator: LiteLLM's chat-completion pricing, exact, without its per-call resolution.

LiteLLM prices every call from scratch (``completion_cost``): it picks a model name among
candidates, resolves the provider, looks the price entry up, resolves its base rates, then
prices the usage twice (the totals, and the token-type breakdown it logs). All but the usage
arithmetic depends only on the model/provider strings and ``litellm.model_cost``. This
accelerator resolves that part once per key with LiteLLM's own functions (a ``_Plan``), and
per call runs the usage arithmetic of ``generic_cost_per_token`` and
``get_token_type_cost_breakdown`` in LiteLLM's operation order, calling LiteLLM's own helpers
for every usage-dependent step, so the floats are bit-identical.

Covered: a ``ModelResponse`` with a ``Usage`` for a completion call, and the
``CustomStreamWrapper`` LiteLLM prices when a stream starts (the empty completion text, counted by
LiteLLM's ``token_counter``, with no usage object), priced from the cost map
(no custom pricing, base_model, service tier, residency/region/location uplift, provider-billed
cost, discount or margin), for providers LiteLLM prices with ``generic_cost_per_token`` and a
price entry without tiers, thresholds, off-peak or explicit cache-read rates. Every other
shape calls LiteLLM's original function; ``status()`` counts both.

Plans are keyed on every string they read and dropped when ``litellm.model_cost`` is replaced,
grows or shrinks, or LiteLLM bumps its model-cost generation (``register_model``, map reloads):
the same events that clear LiteLLM's own price caches.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import failed_prices, tracebacks
from .accelerator import Accelerator, Tally, pin_problems, source_digest
from .model_cost_watch import ModelCostWatch

_REPLACES = ("litellm.response_cost_calculator", "litellm.completion_cost", tracebacks.REPLACES)

# Providers whose cost_per_token branch is not generic_cost_per_token on the cost-map entry,
# or that add costs (azure routing fees, vertex characters, together/replicate lookups).
_OWN_PRICING = frozenset(
    {
        "vertex_ai",
        "vertex_ai_beta",
        "anthropic",
        "bedrock",
        "databricks",
        "fireworks_ai",
        "azure",
        "azure_ai",
        "gemini",
        "deepseek",
        "tencent",
        "perplexity",
        "xai",
        "lemonade",
        "dashscope",
        "qwencloud",
        "qwen_ai_platform",
        "together_ai",
        "replicate",
    }
)
# Price-entry fields whose rates depend on the usage size or the clock: such entries fall back.
_USAGE_DEPENDENT_FIELDS = ("tiered_pricing", "off_peak_pricing", "explicit_cache_read_input_token_cost")
_COMPLETION = frozenset({"completion", "acompletion"})
_HEADER_COST = "llm_provider-x-litellm-response-cost"
# completion_cost's parameters the fast path reads, and the defaults of every other one.
_COMPLETION_COST_ARGS = frozenset(
    {"completion_response", "model", "custom_llm_provider", "call_type", "optional_params", "litellm_logging_obj"}
)
_MISS = object()

# LiteLLM functions, resolved at install from the modules whose bindings completion_cost reads.
_F: dict[str, Any] = {}
_FUNCTIONS = {
    "litellm.cost_calculator": (
        "response_cost_calculator",
        "completion_cost",
        "select_model_name_for_cost_calc",
        "_priced_candidates_before_unpriced_rules",
        "_pricing_provider_for_cost_candidate",
        "_per_second_pricing_cost",
        "_has_token_or_tiered_pricing",
        "_resolve_billable_service_tier",
        "_served_service_tier",
        "_response_time_ms_for_cost",
        "_store_cost_breakdown_in_logging_obj",
        "get_usage_object",
        "infer_call_type",
        "billed_usage_cost",
        "cached_get_model_info_helper",
        "StandardBuiltInToolCostTracking",
        "_LOGGED_LITELLM_PARAMS",
        "token_counter",
    ),
    "litellm.litellm_core_utils.streaming_handler": ("CustomStreamWrapper",),
    "litellm.litellm_core_utils.llm_cost_calc.utils": (
        "get_model_info",
        "apply_provider_cache_read_default",
        "_get_token_base_cost",
        "_cost_map_billed_rates",
        "_resolve_billed_reasoning_rate",
        "_uses_inclusive_token_thresholds",
        "parse_prompt_tokens_details",
        "parse_completion_tokens_details",
        "_calculate_input_cost",
        "get_cost_per_unit",
        "_coerce_token_count",
        "calculate_cache_writing_cost",
        "get_regional_uplift_multiplier",
        "get_fedramp_uplift_multiplier",
        "get_vertex_regional_endpoint_uplift",
        "get_provider_specific_geo_multiplier",
        "get_provider_specific_speed_multiplier",
        "TokenTypeCostBreakdown",
    ),
    "litellm.utils": ("get_model_cost_mutation_generation",),
    "litellm.types.utils": ("Usage", "PromptTokensDetailsWrapper", "CompletionTokensDetailsWrapper"),
}
# sha256 (first 16 hex digits) of the LiteLLM functions ``_UsageReads`` reproduces or calls once
# where LiteLLM calls them up to three times, in LiteLLM 1.110.2.
_PINNED = {
    "litellm.litellm_core_utils.llm_cost_calc.utils.parse_prompt_tokens_details": "e9f39e3c192c9924",
    "litellm.litellm_core_utils.llm_cost_calc.utils.parse_completion_tokens_details": "1f030823aec7cb6a",
    "litellm.litellm_core_utils.llm_cost_calc.utils._cache_token_counts": "076ae8545aff0741",
    "litellm.litellm_core_utils.llm_cost_calc.utils._reasoning_token_count": "8f831e2b1fb36161",
    "litellm.litellm_core_utils.llm_cost_calc.utils._coerce_token_count": "293300a5c575f2c1",
}
# Parameter names the fast path passes to LiteLLM functions (checked by the contract).
_SIGNATURES = {
    "response_cost_calculator": (
        "response_object",
        "model",
        "custom_llm_provider",
        "call_type",
        "optional_params",
        "cache_hit",
        "base_model",
        "custom_pricing",
        "prompt",
        "standard_built_in_tools_params",
        "litellm_model_name",
        "router_model_id",
        "litellm_logging_obj",
        "pricing_provider",
        "service_tier",
        "data_residency",
        "vertex_location",
        "region_name",
        "custom_cost_per_token",
        "custom_cost_per_second",
        "requested_model_info_override",
    ),
    "completion_cost": tuple(_COMPLETION_COST_ARGS),
    "select_model_name_for_cost_calc": (
        "model",
        "completion_response",
        "base_model",
        "custom_pricing",
        "custom_llm_provider",
        "router_model_id",
        "region_name",
        "invoked_model_id",
    ),
    "_get_token_base_cost": ("model_info", "usage", "service_tier", "current_time", "threshold_is_inclusive"),
    "_cost_map_billed_rates": (
        "model_info",
        "usage",
        "custom_llm_provider",
        "service_tier",
        "data_residency",
        "vertex_location",
        "current_time",
    ),
    "_calculate_input_cost": (
        "prompt_tokens_details",
        "model_info",
        "prompt_base_cost",
        "cache_read_cost",
        "cache_creation_cost",
        "cache_creation_cost_by_ttl",
        "service_tier",
        "prompt_tokens",
        "threshold_is_inclusive",
    ),
    "_store_cost_breakdown_in_logging_obj": (
        "litellm_logging_obj",
        "prompt_tokens_cost_usd_dollar",
        "completion_tokens_cost_usd_dollar",
        "cost_for_built_in_tools_cost_usd_dollar",
        "total_cost_usd_dollar",
        "additional_costs",
        "original_cost",
        "discount_percent",
        "discount_amount",
        "margin_percent",
        "margin_fixed_amount",
        "margin_total_amount",
        "cache_read_cost",
        "cache_creation_cost",
        "reasoning_cost",
        "service_tier",
        "data_residency",
        "vertex_location",
        "billed_token_rates",
    ),
}

_lock = threading.Lock()
_tally = Tally()
_saved: dict[str, tuple[bool, Any]] = {}


@dataclass(frozen=True)
class _Rates:
    """One price entry's usage-independent rates, as generic_cost_per_token resolves them."""

    info: Mapping[str, Any]
    base: Any  # TokenRates
    inclusive: bool
    reasoning: float
    audio_out: float | None
    image_out: float | None
    video_out: float | None


@dataclass(frozen=True)
class _Plan:
    model: str  # the candidate completion_cost prices (breakdown key)
    provider: str  # the provider it passes to cost_per_token / the breakdown
    current_provider: str  # completion_cost's custom_llm_provider for the built-in tools
    cost: _Rates | None  # None: cost_per_token prices 0.0, 0.0
    billed: Any  # BilledTokenRates before geo/speed multipliers, or None (breakdown zeros)
    billed_info: Mapping[str, Any] | None


# (model, provider, response model, hidden strings) -> plan, or None / _UNPLANNABLE: LiteLLM's own function.
_plans: dict[tuple[Any, ...], Any] = {}
_UNPLANNABLE = object()


class Unpriced:
    """``_fast_completion_cost``'s answer for a stream start whose plan LiteLLM's helpers could not
    resolve (an unpriced model): LiteLLM's function runs, through ``failed_prices``."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key


_watch = ModelCostWatch()  # plans are dropped when the cost map changes


def _usage_independent(info: Mapping[str, Any]) -> bool:
    if any(info.get(k) is not None for k in _USAGE_DEPENDENT_FIELDS):
        return False
    return not any("_above_" in k and v is not None for k, v in info.items())


def _rates(model: str, provider: str) -> _Rates | None:
    f = _F
    info = f["apply_provider_cache_read_default"](
        f["get_model_info"](model=model, custom_llm_provider=provider), provider
    )
    if not _usage_independent(info):
        return None
    from litellm.types.utils import Usage

    probe = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    inclusive = f["_uses_inclusive_token_thresholds"](provider)
    base = f["_get_token_base_cost"](
        model_info=info, usage=probe, service_tier=None, current_time=None, threshold_is_inclusive=inclusive
    )
    unit = f["get_cost_per_unit"]
    return _Rates(
        info=info,
        base=base,
        inclusive=inclusive,
        reasoning=f["_resolve_billed_reasoning_rate"](
            model_info=info, usage=probe, service_tier=None, completion_base_cost=base.output_rate, current_time=None
        ),
        audio_out=unit(info, "output_cost_per_audio_token", None),
        image_out=unit(info, "output_cost_per_image_token", None),
        video_out=unit(info, "output_cost_per_video_token", None),
    )


def _cost_map_name(model: str, provider: str) -> str:
    """cost_per_token's model-name normalisation for a caller-supplied provider, no region."""
    import litellm

    model_cost = litellm.model_cost
    dup = f"{provider}/"
    while model.startswith(dup):
        rest = model[len(dup) :]
        if rest.startswith(dup):
            model = rest
        else:
            break
    with_provider = model if model.startswith(dup) else f"{provider}/{model}"
    parts = model.split("/", 1)
    relative = with_provider == f"{provider}/{model}" and with_provider in model_cost
    without_prefix = model if len(parts) == 1 or relative else parts[1]
    if with_provider in model_cost:
        return with_provider
    if model in model_cost:
        return model
    if without_prefix in model_cost:
        return without_prefix
    return model


def _build_plan(
    model: str, provider: str, response: Any, hidden: Mapping[str, Any], stream_start: bool = False
) -> _Plan | None:
    """completion_cost's resolution for its first candidate, with LiteLLM's own helpers; None
    wherever it would take a branch the fast path does not reproduce. ``stream_start``: the
    response is a ``CustomStreamWrapper`` (not a pydantic model): completion_cost then has no
    response model among its candidates and keeps the request's provider."""
    import litellm

    f = _F
    if provider in _OWN_PRICING:
        return None
    selected = f["select_model_name_for_cost_calc"](
        model=model,
        completion_response=response,
        custom_llm_provider=provider,
        custom_pricing=None,
        base_model=None,
        router_model_id=None,
        region_name=None,
        invoked_model_id=None,
    )
    response_model = None if stream_start else getattr(response, "model", None)
    candidates = f["_priced_candidates_before_unpriced_rules"](
        ((selected, provider), (response_model, provider), (model, provider))
    )
    cand_model, cand_provider = candidates[0]
    current = provider if stream_start else hidden.get("custom_llm_provider", provider or None)
    if not isinstance(cand_model, str) or not isinstance(current, str) or current in _OWN_PRICING:
        return None
    if "togethercomputer" in cand_model or "together_ai" in cand_model:
        return None
    if cand_model in litellm.replicate_models or "replicate" in cand_model:
        return None
    pricing = f["_pricing_provider_for_cost_candidate"](
        candidate_provider=cand_provider, request_provider=provider, current_provider=current
    )
    if not isinstance(pricing, str) or pricing in _OWN_PRICING:
        return None
    name = _cost_map_name(cand_model, pricing)
    if f["_per_second_pricing_cost"](model=name, custom_llm_provider=pricing, response_time_ms=0.0) is not None:
        return None
    if pricing == "openai":
        cost = _rates(name, "openai")
        if cost is None:
            return None
    elif f["_has_token_or_tiered_pricing"](f["cached_get_model_info_helper"](model=name, custom_llm_provider=pricing)):
        cost = _rates(name, pricing)
        if cost is None:
            return None
    else:
        cost = None  # cost_per_token prices 0.0, 0.0
    try:
        billed_info = f["apply_provider_cache_read_default"](
            f["get_model_info"](model=cand_model, custom_llm_provider=pricing), pricing
        )
    except Exception:  # noqa: BLE001 - an unmapped model: the breakdown is zeros
        billed_info = None
    billed = None
    if billed_info is not None:
        if not _usage_independent(billed_info):
            return None
        from litellm.types.utils import Usage

        billed = f["_cost_map_billed_rates"](
            model_info=billed_info,
            usage=Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
            custom_llm_provider=pricing,
            service_tier=None,
            data_residency=None,
            vertex_location=None,
            current_time=None,
        )
    return _Plan(cand_model, pricing, current, cost, billed, billed_info)


def _plan_key(
    model: str, provider: str, response: Any, hidden: Mapping[str, Any], stream_start: bool
) -> tuple[Any, ...]:
    return (
        stream_start,
        model,
        provider,
        getattr(response, "model", None),
        hidden.get("custom_llm_provider", _MISS),
        hidden.get("provider_response_model"),
        hidden.get("litellm_model_name"),
        hidden.get("model"),
    )


def _plan(key: tuple[Any, ...], model: str, provider: str, response: Any, hidden: Mapping[str, Any]) -> Any:
    """The key's plan; None where LiteLLM takes a branch the fast path does not reproduce, and
    ``_UNPLANNABLE`` where LiteLLM's helpers raised while resolving it (an unpriced model)."""
    now = _watch.current()
    with _lock:
        if _watch.changed(now):
            _plans.clear()
        elif key in _plans:
            return _plans[key]
    try:
        plan: Any = _build_plan(model, provider, response, hidden, key[0])
    except Exception:  # noqa: BLE001 - LiteLLM's own function handles (and reports) it
        plan = _UNPLANNABLE
    with _lock:
        if _watch.still(now):
            _plans[key] = plan
    return plan


class _UsageReads:
    """One priced call's reads of its ``Usage`` details. LiteLLM parses the prompt details up to
    three times per call (the totals, ``_cache_token_counts``, the cached image tokens) and the
    completion details twice. The fast path only sees details of LiteLLM's own classes, whose
    reads have no side effect, and both parsers only read the usage, which nothing in between
    writes (the pricing helpers take rates and the parsed dict): so each is parsed once, by
    LiteLLM's own function."""

    __slots__ = ("usage", "_prompt", "_completion")

    def __init__(self, usage: Any) -> None:
        self.usage = usage
        self._prompt: Any = None
        self._completion: Any = None

    def prompt(self) -> Any:
        """``parse_prompt_tokens_details(usage)``; never mutate the result."""
        if self._prompt is None:
            self._prompt = _F["parse_prompt_tokens_details"](_prompt_details_read(self.usage))
        return self._prompt

    def completion(self) -> Any:
        """``parse_completion_tokens_details(usage)``; never mutate the result."""
        if self._completion is None:
            self._completion = _F["parse_completion_tokens_details"](self.usage)
        return self._completion

    def cache_token_counts(self) -> tuple[Any, Any, Any, Any]:
        """LiteLLM's ``_cache_token_counts(usage)``."""
        usage = self.usage
        parsed = self.prompt() if usage.prompt_tokens_details is not None else None
        parsed_read = parsed["cache_hit_tokens"] if parsed is not None else 0
        parsed_creation = parsed["cache_creation_tokens"] if parsed is not None else 0
        coerce = _F["_coerce_token_count"]
        return (
            parsed_read or coerce(getattr(usage, "_cache_read_input_tokens", 0)),
            parsed["cache_hit_audio_tokens"] if parsed is not None else 0,
            parsed_creation or coerce(getattr(usage, "_cache_creation_input_tokens", 0)),
            parsed["cache_creation_token_details"] if parsed is not None else None,
        )

    def reasoning_token_count(self) -> Any:
        """LiteLLM's ``_reasoning_token_count(usage)``."""
        usage = self.usage
        parsed = self.completion()["reasoning_tokens"] if usage.completion_tokens_details is not None else 0
        return parsed or _F["_coerce_token_count"](getattr(usage, "reasoning_tokens", 0))


# Details types whose attribute reads are LiteLLM's/pydantic's own (filled in at install).
_PLAIN_DETAILS: tuple[type, ...] = ()

# Every name ``parse_prompt_tokens_details`` reads off ``usage.prompt_tokens_details`` (its source
# is pinned; tests/test_accel_cost.py reads the names from it). None starts with "_", so none can
# be a pydantic private attribute.
_PROMPT_DETAIL_READS = frozenset(
    {
        "cached_tokens",
        "cache_write_tokens",
        "cache_creation_tokens",
        "cache_creation_token_details",
        "cached_tokens_details",
        "text_tokens",
        "audio_tokens",
        "image_tokens",
        "video_tokens",
        "character_count",
        "image_count",
        "video_length_seconds",
        "audio_length_seconds",
        "query_count",
    }
)


# pydantic's ``BaseModel.__getattr__``, whose answers ``_prompt_details_read`` reproduces, set at
# install if its source is the one reasoned about (pydantic 2.14.4; else the stand-in is not used).
_PYDANTIC_GETATTR: list[Any] = [None]
_PYDANTIC_GETATTR_DIGEST = "f5d7141bbf8d48f0"


class _PromptDetailsRead:
    """A usage as ``parse_prompt_tokens_details`` reads it: its ``prompt_tokens_details`` only."""

    __slots__ = ("prompt_tokens_details",)

    def __init__(self, details: types.SimpleNamespace) -> None:
        self.prompt_tokens_details = details


def _prompt_details_read(usage: Any) -> Any:
    """``usage``, or for prompt details of LiteLLM's own class, a stand-in whose details answer
    each name the parser reads as pydantic does: the field, else the extra, else the parser's
    default. Pydantic answers a name it lacks by raising from its ``__getattr__`` (~2 µs, for
    most of the 14 names on every priced call). That order holds only while no class on the
    lookup path (the details' classes and their metaclass's) defines one of the names: checked
    on every call, so a double set on a class sees LiteLLM's reads."""
    details = usage.prompt_tokens_details
    cls = type(details)
    if cls is not _F["PromptTokensDetailsWrapper"]:
        return usage
    hook = _PYDANTIC_GETATTR[0]
    if (
        hook is None
        or cls.__getattribute__ is not object.__getattribute__
        or getattr(cls, "__getattr__", None) is not hook
    ):
        return usage  # another pydantic, or a double on the lookup itself
    for klass in (*cls.__mro__, *type(cls).__mro__):
        # object's and type's attributes cannot be set, and name none of these
        if klass is not object and klass is not type and not _PROMPT_DETAIL_READS.isdisjoint(vars(klass)):
            return usage
    own = details.__dict__
    found = {name: own[name] for name in _PROMPT_DETAIL_READS.intersection(own)}
    extra = getattr(details, "__pydantic_extra__", None)
    if extra:  # pydantic's __getattr__ reads the extras only when there are some
        for name in _PROMPT_DETAIL_READS.intersection(extra):
            found.setdefault(name, extra[name])
    return _PromptDetailsRead(types.SimpleNamespace(**found))


def _generic_cost(r: _Rates, reads: _UsageReads) -> tuple[float, float]:
    """generic_cost_per_token for a usage-independent price entry and no tier/residency/location:
    LiteLLM's statements in LiteLLM's order, its helpers for every usage-dependent step."""
    f = _F
    usage = reads.usage
    prompt_tokens_details: Any = {
        "cache_hit_tokens": 0,
        "cache_hit_audio_tokens": 0,
        "cached_text_tokens": 0,
        "cached_audio_tokens": 0,
        "cached_image_tokens": 0,
        "has_cached_tokens_details": False,
        "cache_creation_tokens": 0,
        "cache_creation_token_details": None,
        "text_tokens": usage.prompt_tokens,
        "audio_tokens": 0,
        "image_tokens": 0,
        "video_tokens": 0,
        "character_count": 0,
        "image_count": 0,
        "video_length_seconds": 0.0,
        "audio_length_seconds": 0.0,
        "query_count": 0,
    }
    if usage.prompt_tokens_details:
        prompt_tokens_details = dict(reads.prompt())  # a copy: the statements below write to it
    cache_hit = prompt_tokens_details["cache_hit_tokens"]
    text_tokens = prompt_tokens_details["text_tokens"]
    audio_tokens = prompt_tokens_details["audio_tokens"]
    cache_creation = prompt_tokens_details["cache_creation_tokens"]
    image_tokens = prompt_tokens_details["image_tokens"]
    video_tokens = prompt_tokens_details["video_tokens"]
    total_details = text_tokens + cache_hit + audio_tokens + cache_creation + image_tokens + video_tokens
    if (cache_hit > 0 or cache_creation > 0) and total_details > usage.prompt_tokens:
        uncached_budget = max(usage.prompt_tokens - cache_hit - cache_creation, 0)
        billable_audio = min(audio_tokens, uncached_budget)
        billable_image = min(image_tokens, uncached_budget - billable_audio)
        billable_video = min(video_tokens, uncached_budget - billable_audio - billable_image)
        prompt_tokens_details["audio_tokens"] = billable_audio
        prompt_tokens_details["image_tokens"] = billable_image
        prompt_tokens_details["video_tokens"] = billable_video
        prompt_tokens_details["text_tokens"] = uncached_budget - billable_audio - billable_image - billable_video
    elif text_tokens == 0 and prompt_tokens_details["image_count"] == 0:
        prompt_tokens_details["text_tokens"] = max(
            usage.prompt_tokens - cache_hit - audio_tokens - cache_creation - image_tokens - video_tokens, 0
        )
    base = r.base
    completion_base_cost = base.output_rate
    prompt_cost = f["_calculate_input_cost"](
        prompt_tokens_details=prompt_tokens_details,
        model_info=r.info,
        prompt_base_cost=base.input_rate,
        cache_read_cost=base.cache_read_rate,
        cache_creation_cost=base.cache_creation_rate,
        cache_creation_cost_by_ttl=base.cache_creation_rates_by_ttl,
        service_tier=None,
        prompt_tokens=usage.prompt_tokens,
        threshold_is_inclusive=r.inclusive,
    )
    text_tokens = audio_tokens = reasoning_tokens = image_tokens = video_tokens = 0
    is_text_tokens_total = False
    if usage.completion_tokens_details is not None:
        details = reads.completion()
        audio_tokens = details["audio_tokens"]
        text_tokens = details["text_tokens"]
        reasoning_tokens = details["reasoning_tokens"]
        image_tokens = details["image_tokens"]
        video_tokens = details["video_tokens"]
    has_breakdown = image_tokens > 0 or audio_tokens > 0 or reasoning_tokens > 0 or video_tokens > 0
    if text_tokens == 0:
        if has_breakdown:
            text_tokens = max(
                0, usage.completion_tokens - reasoning_tokens - audio_tokens - image_tokens - video_tokens
            )
        else:
            text_tokens = usage.completion_tokens
            is_text_tokens_total = True
    completion_cost = float(text_tokens) * completion_base_cost
    if not is_text_tokens_total and audio_tokens is not None and audio_tokens > 0:
        rate = r.audio_out if r.audio_out is not None else completion_base_cost
        completion_cost += float(audio_tokens) * rate
    if not is_text_tokens_total and reasoning_tokens and reasoning_tokens > 0:
        completion_cost += float(reasoning_tokens) * r.reasoning
    if not is_text_tokens_total and image_tokens and image_tokens > 0:
        completion_cost += float(image_tokens) * (completion_base_cost if r.image_out is None else r.image_out)
    if not is_text_tokens_total and video_tokens and video_tokens > 0:
        rate = r.video_out if r.video_out is not None else completion_base_cost
        completion_cost += float(video_tokens) * rate
    return prompt_cost, completion_cost


def _breakdown(plan: _Plan, reads: _UsageReads) -> Any:
    """get_token_type_cost_breakdown on the plan's pre-resolved rates."""
    f = _F
    usage = reads.usage
    if plan.billed is None:
        return f["TokenTypeCostBreakdown"](0.0, 0.0, 0.0)
    info = plan.billed_info
    multiplier = (
        f["get_regional_uplift_multiplier"](info, None)
        * f["get_fedramp_uplift_multiplier"](info, None)
        * f["get_vertex_regional_endpoint_uplift"](info, None)
        * f["get_provider_specific_geo_multiplier"](model_info=info, usage=usage)
        * f["get_provider_specific_speed_multiplier"](model_info=info, usage=usage)
    )
    rates = plan.billed.scaled(multiplier)
    cache_read_tokens, cached_audio_tokens, cache_creation_tokens, creation_details = reads.cache_token_counts()
    cached_image_tokens = reads.prompt()["cached_image_tokens"]
    image_cache_read_rate = (
        rates.cache_read_input_image_token_cost
        if rates.cache_read_input_image_token_cost is not None
        else rates.cache_read_input_token_cost
    )
    cache_creation_cost = f["calculate_cache_writing_cost"](
        cache_creation_tokens=cache_creation_tokens,
        cache_creation_token_details=creation_details,
        cache_creation_cost=rates.cache_creation_input_token_cost,
        cache_creation_cost_by_ttl=rates.cache_creation_input_token_cost_by_ttl,
    )
    return f["TokenTypeCostBreakdown"](
        reasoning_cost=float(reads.reasoning_token_count()) * rates.output_cost_per_reasoning_token,
        cache_read_cost=(
            float(cache_read_tokens - cached_audio_tokens - cached_image_tokens) * rates.cache_read_input_token_cost
            + float(cached_audio_tokens) * rates.cache_read_input_audio_token_cost
            + float(cached_image_tokens) * image_cache_read_rate
        ),
        cache_creation_cost=cache_creation_cost,
        rates=rates,
    )


def _fast_completion_cost(
    response: Any,
    model: Any,
    provider: Any,
    call_type: Any,
    optional_params: Any,
    logging_obj: Any,
    tools_params: Any,
    prompt: Any = "",
) -> Any:
    """completion_cost for the covered shapes, or _MISS (with the reason counted). A
    ``CustomStreamWrapper`` (LiteLLM prices every stream when it starts, ``update_response_metadata``)
    is not a pydantic model: completion_cost then counts the empty completion text with
    ``token_counter``, prices that with no usage object (no cache, reasoning or rates breakdown)
    and keeps the request's provider."""
    import litellm
    from litellm.types.utils import ModelResponse, Usage

    f = _F
    stream_start = type(response) is f["CustomStreamWrapper"]
    if not stream_start and type(response) is not ModelResponse:
        return _miss("response-type")
    if stream_start and (type(prompt) is not str or prompt):
        return _miss("stream-start-prompt")  # completion_cost would count the prompt's tokens
    if not isinstance(model, str) or not isinstance(provider, str):
        return _miss("model-or-provider-unset")
    if litellm.cost_discount_config or litellm.cost_margin_config:
        return _miss("discount-or-margin")
    if optional_params is not None and not isinstance(optional_params, dict):
        return _miss("optional-params-type")
    if f["infer_call_type"](call_type, response) not in _COMPLETION:
        return _miss("call-type")
    usage = f["get_usage_object"](completion_response=response)
    if stream_start:
        if usage is not None:
            return _miss("usage-shape")
    else:
        if type(usage) is not Usage or getattr(usage, "cost", None) is not None:
            return _miss("usage-shape")
        if usage.prompt_tokens is None or usage.completion_tokens is None:
            return _miss("usage-shape")
        # Other details classes (a subclass, a double) may observe reads: LiteLLM's reads them its way.
        if type(usage.prompt_tokens_details) not in _PLAIN_DETAILS or (
            type(usage.completion_tokens_details) not in _PLAIN_DETAILS
        ):
            return _miss("usage-details-type")
    hidden = getattr(response, "_hidden_params", None)
    if not isinstance(hidden, dict):
        return _miss("hidden-params")
    if hidden.get("region_name") is not None:
        return _miss("region")
    requested_tier = optional_params.get("service_tier") if optional_params is not None else None
    tier = f["_resolve_billable_service_tier"](
        requested=requested_tier, served=f["_served_service_tier"](response, usage)
    )
    if tier is not None:  # "" too: LiteLLM would store it in the breakdown
        return _miss("service-tier")
    key = _plan_key(model, provider, response, hidden, stream_start)
    plan = _plan(key, model, provider, response, hidden)
    if plan is None or plan is _UNPLANNABLE:
        _miss("not-covered")
        return Unpriced(key) if stream_start and plan is _UNPLANNABLE else _MISS
    # Both only read; checked before token_counter (which may log) so a fallback never counts twice.
    if f["billed_usage_cost"](response, plan.current_provider) is not None:
        return _miss("provider-billed-cost")
    f["_response_time_ms_for_cost"](completion_response=response, litellm_logging_obj=logging_obj, total_time=0.0)
    if stream_start:
        counted = f["token_counter"](model=plan.model, text="") or 0
        # cost_per_token's usage block for no prompt tokens and the counted completion
        priced = Usage(
            prompt_tokens=0,
            completion_tokens=counted,
            total_tokens=0 + counted,
            cache_creation_input_tokens=None,
            cache_read_input_tokens=None,
        )
    else:
        priced = usage
    reads = _UsageReads(priced)
    prompt_cost, completion_cost = (0.0, 0.0) if plan.cost is None else _generic_cost(plan.cost, reads)
    final = prompt_cost + completion_cost
    tools = f["StandardBuiltInToolCostTracking"].get_cost_for_built_in_tools(
        model=plan.model,
        response_object=response,
        usage=usage,
        standard_built_in_tools_params=tools_params,
        custom_llm_provider=plan.current_provider,
    )
    final += tools
    if logging_obj is not None:
        breakdown = None if stream_start else _breakdown(plan, reads)
        f["_store_cost_breakdown_in_logging_obj"](
            litellm_logging_obj=logging_obj,
            prompt_tokens_cost_usd_dollar=prompt_cost,
            completion_tokens_cost_usd_dollar=completion_cost,
            cost_for_built_in_tools_cost_usd_dollar=tools,
            total_cost_usd_dollar=final,
            original_cost=final,
            additional_costs=None,
            discount_percent=0.0,
            discount_amount=0.0,
            margin_percent=0.0,
            margin_fixed_amount=0.0,
            margin_total_amount=0.0,
            cache_read_cost=None if breakdown is None else breakdown.cache_read_cost,
            cache_creation_cost=None if breakdown is None else breakdown.cache_creation_cost,
            reasoning_cost=None if breakdown is None else breakdown.reasoning_cost,
            service_tier=tier,
            data_residency=None,
            vertex_location=None,
            billed_token_rates=None if breakdown is None else breakdown.rates,
        )
    _tally.fast()
    return final


def _guarded(*args: Any) -> Any:
    """The fast path, or _MISS if it fails: LiteLLM's own function then raises or answers."""
    try:
        return _fast_completion_cost(*args)
    except Exception:  # noqa: BLE001
        return _miss("error")


def _miss(reason: str) -> Any:
    _tally.fell_back(reason)
    return _MISS


def response_cost_calculator(
    response_object: Any,
    model: Any,
    custom_llm_provider: Any,
    call_type: Any,
    optional_params: Any,
    cache_hit: Any = None,
    base_model: Any = None,
    custom_pricing: Any = None,
    prompt: Any = "",
    standard_built_in_tools_params: Any = None,
    litellm_model_name: Any = None,
    router_model_id: Any = None,
    litellm_logging_obj: Any = None,
    pricing_provider: Any = None,
    service_tier: Any = None,
    data_residency: Any = None,
    vertex_location: Any = None,
    region_name: Any = None,
    custom_cost_per_token: Any = None,
    custom_cost_per_second: Any = None,
    requested_model_info_override: Any = None,
) -> Any:
    """LiteLLM's ``response_cost_calculator``, exact; the covered shape priced by the plan."""
    kw = locals()
    original = _F["response_cost_calculator"]
    if (
        cache_hit is True
        or base_model is not None
        or custom_pricing
        or pricing_provider is not None
        or service_tier is not None
        or data_residency is not None
        or vertex_location is not None
        or region_name is not None
        or custom_cost_per_token is not None
        or custom_cost_per_second is not None
        or requested_model_info_override is not None
    ):
        _miss("caller-pricing-or-location")
        return original(**kw)
    hidden = getattr(response_object, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    if isinstance(headers, Mapping) and _HEADER_COST in headers:
        _miss("provider-header-cost")
        return original(**kw)
    cost = _guarded(
        response_object,
        model,
        custom_llm_provider,
        call_type,
        optional_params,
        litellm_logging_obj,
        standard_built_in_tools_params,
        prompt,
    )
    if type(cost) is Unpriced:
        return failed_prices.price(original, kw, cost.key, sys._getframe(1).f_code)
    return original(**kw) if cost is _MISS else cost


def completion_cost(*args: Any, **kw: Any) -> Any:
    """LiteLLM's ``completion_cost``, exact; a response priced from the cost map by the plan."""
    original = _F["completion_cost"]
    if args or not kw.keys() <= _COMPLETION_COST_ARGS or kw.get("completion_response") is None:
        _miss("completion-cost-arguments")
        return original(*args, **kw)
    cost = _guarded(
        kw["completion_response"],
        kw.get("model"),
        kw.get("custom_llm_provider"),
        kw.get("call_type"),
        kw.get("optional_params"),
        kw.get("litellm_logging_obj"),
        None,
    )
    return original(*args, **kw) if cost is _MISS or type(cost) is Unpriced else cost


def _problems() -> list[str]:
    import importlib
    import inspect

    out: list[str] = []
    found: dict[str, Any] = {}
    for module, names in _FUNCTIONS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            out.append(f"{module} is missing")
            continue
        for name in names:
            if not hasattr(mod, name):
                out.append(f"{module}.{name} is missing")
            else:
                found[name] = getattr(mod, name)
    for name, params in _SIGNATURES.items():
        if name not in found:
            continue
        try:
            have = inspect.signature(found[name]).parameters
        except (TypeError, ValueError):
            out.append(f"{name} has no readable signature")
            continue
        missing = [p for p in params if p not in have]
        if missing:
            out.append(f"{name} lost parameters {missing}")
    import litellm
    import litellm.litellm_core_utils.litellm_logging as logging_mod

    source = inspect.getsource(logging_mod.Logging.response_cost_calculator)
    if "litellm.response_cost_calculator(" not in source:
        out.append("Logging.response_cost_calculator no longer calls litellm.response_cost_calculator")
    for attr in ("cost_discount_config", "cost_margin_config", "replicate_models", "model_cost"):
        if not hasattr(litellm, attr):
            out.append(f"litellm.{attr} is missing")
    return out + pin_problems(_PINNED) + tracebacks.problems()


def _install() -> None:
    import importlib

    import litellm

    for module, names in _FUNCTIONS.items():
        mod = importlib.import_module(module)
        for name in names:
            _F[name] = getattr(mod, name)
    global _PLAIN_DETAILS
    _PLAIN_DETAILS = (type(None), _F["PromptTokensDetailsWrapper"], _F["CompletionTokensDetailsWrapper"])
    hook = vars(importlib.import_module("pydantic").BaseModel).get("__getattr__")
    try:
        _PYDANTIC_GETATTR[0] = hook if source_digest(hook) == _PYDANTIC_GETATTR_DIGEST else None
    except (OSError, TypeError):
        _PYDANTIC_GETATTR[0] = None
    for attr, fn in (("response_cost_calculator", response_cost_calculator), ("completion_cost", completion_cost)):
        _saved[attr] = (attr in vars(litellm), vars(litellm).get(attr))
        setattr(litellm, attr, fn)
    # A price LiteLLM fails to find records the error's traceback: without these frames, its own.
    tracebacks.acquire("cost", (response_cost_calculator, completion_cost))
    with _lock:
        _plans.clear()
        _watch.reset()


def _uninstall() -> None:
    import litellm

    for attr, (had, value) in _saved.items():
        if had:
            setattr(litellm, attr, value)
        else:
            vars(litellm).pop(attr, None)
    _saved.clear()
    tracebacks.release("cost")
    with _lock:
        _plans.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="cost",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
