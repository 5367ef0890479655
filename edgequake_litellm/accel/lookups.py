"""The ``lookups`` accelerator: LiteLLM's model-info lookup, memoized, re-validated per call.

``get_model_info_helper`` (read by ``responses_api_bridge_check`` on every chat call, and by
LiteLLM's capability checks) rebuilds a ~200-key ``ModelInfoBase`` from the cost map each call:
it derives the candidate names, instantiates the provider's model-info config, resolves the
candidates against ``litellm.model_cost``, merges fill-missing rules and copies every field.
All of it depends only on the strings it is given and on LiteLLM's tables.

A memo entry keeps the candidates, the resolved key and the cost-map entry it was built from
(with every value, by identity), and the result. A hit re-runs LiteLLM's own candidate
resolution (``_first_registered_match``) on the current map and returns a copy of the result
only if it resolves to the same entry object with the same values: an entry edited in place,
replaced, shadowed by a new earlier candidate or removed, or a map replaced, rebuilds it. Entries
are also dropped when the map's identity, size or LiteLLM's model-cost generation changes
(``register_model``, reloads: ``model_cost_watch``) or the generalization rules are replaced. While
any LiteLLM function the lookup reads by name is not the one installed (a test double, a reload),
LiteLLM's own function runs and nothing is memoized.

Covered: a provider given as a string, other than those whose lookup reads more than strings and
the cost map (the model-info config's own ``get_model_info``, which may call the network; vertex,
bedrock and huggingface name rewrites), no ``api_key``, a model that is not an Azure alias, and
LiteLLM's debug logging off (the original logs while it resolves). A model no candidate name of
which is priced for the provider and no generalization rule matches gets a fresh
``ModelNotMappedError`` with LiteLLM's message (re-validated as above), raised by LiteLLM's own
``raise`` statement compiled at its file and line, so the traceback LiteLLM records for a missing
price reads as its own (``tracebacks`` drops this module's frames); models resolved by rules,
and every other error, are not memoized: LiteLLM's function runs. The result is a fresh dict per
call, as LiteLLM's is; its nested values are the cost map's (or the rules') own objects in both.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import operator
import threading
import types
from collections.abc import Callable, Mapping
from typing import Any

from . import tracebacks
from .accelerator import Accelerator, Tally, source_digest
from .model_cost_watch import ModelCostWatch

_REPLACES = (
    "litellm.utils.get_model_info_helper",
    "litellm.responses.bridge_check.get_model_info_helper",
    tracebacks.REPLACES,
)
# Modules whose binding of get_model_info_helper the hot path reads (replaced and restored).
_BINDINGS = ("litellm.utils", "litellm.responses.bridge_check")

# sha256 (first 16 hex digits) of the source of each LiteLLM function whose behaviour the memo
# reasons about, in LiteLLM 1.110.2.
_PINNED = {
    "get_model_info_helper": "a697970bd4b67e8b",
    "get_potential_model_names": "11d9f51727244b55",
    "_first_registered_match": "61ec8b85ef5d9a29",
    "_model_cost_lookup_order": "6865d83483033828",
    "mapped_model_fill_missing": "f397aea9da77bd7e",
    "get_model_cost_key": "c24d127a7ee3e2e8",
    "_check_provider_match": "b4ea9fdcda9fd791",
    "_strip_model_name": "d1decdcec3f82291",
    "_get_model_info_from_model_cost": "d8f30c1f1f6d7d7c",
    "ProviderConfigManager.get_provider_model_info": "f2a1b412fa2b1805",
}
# Names in litellm.utils the original reads at call time: a different object (a test double, a
# reload) means LiteLLM's own function runs.
_UTILS_NAMES = (
    "get_potential_model_names",
    "_first_registered_match",
    "_model_cost_lookup_order",
    "mapped_model_fill_missing",
    "_get_model_info_from_generalization",
    "get_model_cost_key",
    "_get_model_info_from_model_cost",
    "_check_provider_match",
    "_strip_model_name",
    "_strip_dated_snapshot_suffix",
    "_strip_openai_finetune_model_name",
    "_strip_stable_vertex_version",
    "match_fill_missing_generalizations",
    "match_capability_generalizations",
    "ProviderConfigManager",
    "LlmProviders",
    "LlmProvidersSet",
    "ModelInfoBase",
    "verbose_logger",
    "ModelNotMappedError",
    "_model_not_mapped_message",
    "litellm",
)
# Providers whose lookup reads more than the strings and the cost map (vertex model lists,
# bedrock model tables, a HuggingFace config fetched over the network).
_NOT_COVERED = frozenset(
    {"vertex_ai", "vertex_ai_beta", "bedrock", "bedrock_converse", "bedrock_mantle", "huggingface"}
)
_MAX_ENTRIES = 4096
_MISS = object()
_IMMUTABLE = (str, int, float, bool, type(None), bytes, complex)

_tally = Tally()
_watch = ModelCostWatch()
_lock = threading.Lock()
_orig: dict[str, Any] = {}
_saved: dict[str, Any] = {}


class _Entry:
    """One memoized lookup: what it was built from, and the result to copy."""

    __slots__ = ("candidates", "provider", "key", "source", "keys", "values", "config", "result", "token")

    def __init__(
        self,
        candidates: tuple[str, ...],
        provider: str,
        key: str | None,
        source: Mapping[str, Any] | None,
        config: tuple[Any, ...],
        result: dict[str, Any] | str,
        token: tuple[Any, ...],
    ) -> None:
        self.candidates = candidates
        self.provider = provider
        self.key = key
        self.source = source  # the cost-map entry object
        self.keys = tuple(source or ())
        self.values = tuple((source or {}).values())  # compared by identity on every hit
        self.config = config  # (config class, its get_model_cost_key, its get_model_info)
        self.result = result
        self.token = token


# (model, provider, api_base, catalog_only, preserve_unset_costs) -> entry, or None: not memoizable.
_memo: dict[tuple[Any, ...], _Entry | None] = {}


def _functions() -> tuple[Any, ...]:
    """The identity of every LiteLLM name the lookup reads at call time."""
    return (
        *map(vars(_orig["utils"]).get, _UTILS_NAMES),
        vars(_orig["ProviderConfigManager"]).get("get_provider_model_info"),
    )


def _rules() -> tuple[Any, ...]:
    """The generalization rules in force (``set_fallback_generalizations`` replaces the tuples)."""
    rules = _orig["rules"]
    return (rules.capability_rules, rules.fill_missing_rules)


def _config_of(model: str, provider: str) -> tuple[Any, ...] | None:
    """The provider's model-info config class and the two methods the lookup reads from it;
    None when that config computes model info itself (LiteLLM's function runs)."""
    utils = _orig["utils"]
    if provider not in utils.LlmProvidersSet:
        return (None, None, None)
    config = utils.ProviderConfigManager.get_provider_model_info(model=model, provider=utils.LlmProviders(provider))
    if config is None:
        return (None, None, None)
    if callable(getattr(config, "get_model_info", None)):
        return None
    cls = type(config)
    return (cls, getattr(cls, "get_model_cost_key", None), getattr(cls, "get_model_info", None))


def _config_unchanged(config: tuple[Any, ...]) -> bool:
    cls = config[0]
    return cls is None or (
        getattr(cls, "get_model_cost_key", None) is config[1] and getattr(cls, "get_model_info", None) is config[2]
    )


def _mutable_values_shared(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two results of the original share every mutable value (so a copy of one is exact)."""
    return all(isinstance(v, _IMMUTABLE) or b.get(k, _MISS) is v for k, v in a.items())


def _unmapped(kw: dict[str, Any]) -> str | None:
    """The message of the ModelNotMappedError LiteLLM's function raises for ``kw``, or None."""
    try:
        _orig["get_model_info_helper"](**kw)
    except Exception as e:  # noqa: BLE001 - only its own "not mapped" error is memoized
        if type(e) is _orig["utils"].ModelNotMappedError and len(e.args) == 1 and isinstance(e.args[0], str):
            return e.args[0]
    return None


def _build(model: str, provider: str, kw: dict[str, Any], token: tuple[Any, ...]) -> _Entry | None:
    """Run LiteLLM's function twice and memoize its answer when it came from a cost-map entry, or
    its "not mapped" error when no candidate name is priced for the provider and no rule matches."""
    utils = _orig["utils"]
    config = _config_of(model, provider)
    if config is None:
        return None
    potential = utils.get_potential_model_names(model=model, custom_llm_provider=provider)
    if potential["custom_llm_provider"] != provider:
        return None
    candidates = tuple(utils._model_cost_lookup_order(model, potential))
    key, source = utils._first_registered_match(candidates, provider)
    if key is None:
        # Unmapped: the error stands while no candidate resolves and the rules (frozen, replaced
        # only as a whole) match none of the candidates, whichever of them is priced elsewhere.
        if any(utils.match_capability_generalizations(c) is not None for c in candidates):
            return None
        message = _unmapped(kw)
        if message is None or _unmapped(kw) != message:
            return None
        if utils._first_registered_match(candidates, provider)[0] is not None:
            return None
        return _Entry(candidates, provider, None, None, config, message, token)
    if not isinstance(source, dict):
        return None
    first = _orig["get_model_info_helper"](**kw)
    second = _orig["get_model_info_helper"](**kw)
    if type(first) is not dict or first != second or first.get("key") != key:
        return None
    if not _mutable_values_shared(first, second):
        return None
    again = utils._first_registered_match(candidates, provider)
    if again[0] != key or again[1] is not source:
        return None  # the map changed while this ran
    return _Entry(candidates, provider, key, source, config, first, token)


def _valid(entry: _Entry, utils: Any) -> bool:
    source = entry.source
    key, now_source = utils._first_registered_match(entry.candidates, entry.provider)
    if key != entry.key or now_source is not source:
        return False
    if source is None:
        return True
    if len(source) != len(entry.keys):
        return False
    now = map(source.get, entry.keys, itertools.repeat(_MISS))
    return all(map(operator.is_, now, entry.values))


_RAISE_UNMAPPED = "raise ModelNotMappedError(_model_not_mapped_message(model, custom_llm_provider))"


def _unmapped_raiser(fn: Any, utils: Any) -> Callable[[str, str], Any] | None:
    """LiteLLM's "not mapped" ``raise`` statement of ``fn`` (``get_model_info_helper``), compiled at
    its own file and line in a function of its name over ``litellm.utils``' globals: the error's
    last traceback frame, and what it evaluates, are LiteLLM's. None if the statement is not found once."""
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    hits = [(start + i, line) for i, line in enumerate(lines) if line.strip() == _RAISE_UNMAPPED]
    if len(hits) != 1 or hits[0][0] < 2:
        return None
    lineno, line = hits[0]
    source = "\n" * (lineno - 2) + "def get_model_info_helper(model, custom_llm_provider):\n" + line
    module = compile(source, fn.__code__.co_filename, "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(code, vars(utils), fn.__name__)


def _answer(entry: _Entry, model: str, provider: str) -> Any:
    """A fresh copy of the memoized answer, or a fresh "not mapped" error, as LiteLLM's function gives
    (the memo holds its message for these arguments; LiteLLM's statement raises it)."""
    result = entry.result
    if isinstance(result, str):
        _orig["raise_unmapped"](model, provider)  # raises
        raise AssertionError("LiteLLM's raise statement returned")
    return result.copy()


def _why_not(model: Any, provider: Any, api_key: Any, catalog_only: Any, preserve: Any, api_base: Any) -> str | None:
    if type(model) is not str or type(provider) is not str or not provider:
        return "arguments"
    if provider in _NOT_COVERED:
        return "provider"
    if api_key is not None:
        return "api-key"
    if type(catalog_only) is not bool or type(preserve) is not bool:
        return "arguments"
    if api_base is not None and type(api_base) is not str:
        return "arguments"
    litellm = _orig["litellm"]
    if model in litellm.azure_llms or model in litellm.azure_embedding_models:
        return "azure-alias"
    if _functions() != _orig["functions"]:
        return "replaced-function"
    if _orig["utils"].verbose_logger.isEnabledFor(logging.DEBUG):
        return "debug-logging"
    return None


def get_model_info_helper(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    *,
    catalog_only: bool = False,
    preserve_unset_costs: bool = False,
) -> Any:
    """LiteLLM's ``get_model_info_helper``, exact; a cost-map lookup answered from the memo."""
    kw = {
        "model": model,
        "custom_llm_provider": custom_llm_provider,
        "api_base": api_base,
        "api_key": api_key,
        "catalog_only": catalog_only,
        "preserve_unset_costs": preserve_unset_costs,
    }
    original = _orig["get_model_info_helper"]
    reason = _why_not(model, custom_llm_provider, api_key, catalog_only, preserve_unset_costs, api_base)
    if reason is not None:
        _tally.fell_back(reason)
        return original(**kw)
    assert custom_llm_provider is not None
    now = _watch.current()
    token = _rules()
    key = (model, custom_llm_provider, api_base, catalog_only, preserve_unset_costs)
    with _lock:
        if _watch.changed(now):
            _memo.clear()
        entry = _memo.get(key, _MISS)
    utils = _orig["utils"]
    if entry is not _MISS:
        if entry is None:
            _tally.fell_back("not-memoized")
            return original(**kw)
        assert isinstance(entry, _Entry)
        if not _config_unchanged(entry.config):
            _tally.fell_back("replaced-function")  # a double on the provider's config class
            return original(**kw)
        if all(map(operator.is_, entry.token, token)) and _valid(entry, utils):
            _tally.fast()
            return _answer(entry, model, custom_llm_provider)
    _tally.fell_back("memo-miss")
    try:
        built = _build(model, custom_llm_provider, kw, token)
    except Exception:  # noqa: BLE001 - LiteLLM's own function raises it, below
        built = None
    with _lock:
        if _watch.still(now) and all(map(operator.is_, _rules(), token)):
            if len(_memo) >= _MAX_ENTRIES:
                _memo.clear()
            _memo[key] = built
    if built is None:
        return original(**kw)
    return _answer(built, model, custom_llm_provider)


def _targets() -> dict[str, Any]:
    import litellm.utils as utils

    return {
        "get_model_info_helper": utils.get_model_info_helper,
        "get_potential_model_names": utils.get_potential_model_names,
        "_first_registered_match": utils._first_registered_match,
        "_model_cost_lookup_order": utils._model_cost_lookup_order,
        "mapped_model_fill_missing": utils.mapped_model_fill_missing,
        "get_model_cost_key": utils.get_model_cost_key,
        "_check_provider_match": utils._check_provider_match,
        "_strip_model_name": utils._strip_model_name,
        "_get_model_info_from_model_cost": utils._get_model_info_from_model_cost,
        "ProviderConfigManager.get_provider_model_info": utils.ProviderConfigManager.get_provider_model_info,
    }


def _problems() -> list[str]:
    import importlib

    out: list[str] = []
    try:
        import litellm.utils as utils
        from litellm.litellm_core_utils import fallback_generalizations

        targets = _targets()
    except (ImportError, AttributeError) as e:
        return [f"a LiteLLM internal the lookup memo reads is missing ({e})"]
    for module in _BINDINGS:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            out.append(f"{module} is missing")
            continue
        bound = vars(mod).get("get_model_info_helper")
        if bound is not get_model_info_helper and bound is not targets["get_model_info_helper"]:
            out.append(f"{module}.get_model_info_helper is not litellm.utils.get_model_info_helper")
    if targets["get_model_info_helper"] is get_model_info_helper:
        targets["get_model_info_helper"] = _orig.get("get_model_info_helper")
    for name, digest in _PINNED.items():
        fn = targets.get(name)
        try:
            if fn is None or source_digest(fn) != digest:
                out.append(f"{name} differs from the source this accelerator was proven against")
        except (OSError, TypeError):
            out.append(f"{name} has no readable source")
    missing = [n for n in _UTILS_NAMES if n not in vars(utils)]
    if missing:
        out.append(f"litellm.utils lost {missing}")
    rules = getattr(fallback_generalizations, "_registry", None)
    if not all(hasattr(rules, a) for a in ("capability_rules", "fill_missing_rules")):
        out.append("fallback_generalizations._registry lost its rule tuples")
    import litellm

    for attr in ("azure_llms", "azure_embedding_models", "model_cost"):
        if not hasattr(litellm, attr):
            out.append(f"litellm.{attr} is missing")
    if _unmapped_raiser(targets.get("get_model_info_helper"), utils) is None:
        out.append("get_model_info_helper's 'not mapped' raise statement is not found once")
    return out + tracebacks.problems()


def _install() -> None:
    import importlib

    import litellm.utils as utils
    from litellm.litellm_core_utils import fallback_generalizations

    _orig.clear()
    _orig.update(
        {
            "get_model_info_helper": utils.get_model_info_helper,
            "utils": utils,
            "litellm": utils.litellm,
            "rules": fallback_generalizations._registry,
            "ProviderConfigManager": utils.ProviderConfigManager,
        }
    )
    _orig["functions"] = _functions()
    _orig["raise_unmapped"] = _unmapped_raiser(utils.get_model_info_helper, utils)
    tracebacks.acquire("lookups", (get_model_info_helper, _answer))
    for module in _BINDINGS:
        mod = importlib.import_module(module)
        _saved[module] = vars(mod)["get_model_info_helper"]
        mod.get_model_info_helper = get_model_info_helper  # type: ignore[attr-defined]
    with _lock:
        _memo.clear()
        _watch.reset()


def _uninstall() -> None:
    import importlib

    for module, fn in _saved.items():
        mod = importlib.import_module(module)
        if vars(mod).get("get_model_info_helper") is get_model_info_helper:
            mod.get_model_info_helper = fn  # type: ignore[attr-defined]
    _saved.clear()
    tracebacks.release("lookups")
    with _lock:
        _memo.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="lookups",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
