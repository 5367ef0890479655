"""The ``params_models`` accelerator: LiteLLM's per-call validations of its ~290-field params
models, answered without building the model when the fields given are plain values.

Every chat call validates LiteLLM's params models twice, each a pydantic model of ~290 fields
(``GenericLiteLLMParams``, ``LiteLLM_Params``): ~60-150 µs each.

- ``completion`` parses its supplemental kwargs (``_parse_supplemental_provider_params``): the
  request's keys among ``SUPPLEMENTAL_KWARGS_KEYS``, validated strictly into a
  ``GenericLiteLLMParams`` that ``get_llm_provider`` reads.
- ``get_api_base`` (``ResponseMetadata.set_hidden_params`` on every response, and the stream
  wrapper on every stream) validates the whole call's kwargs into a ``LiteLLM_Params`` only to
  read back its ``api_base``.

Both are deterministic functions of the values given. The model's validation is per field: the
one model validator (``preprocess_input_data``, before) drops reserved keys (none is a field) and
converts a ``str`` ``max_retries``; each field's validators read only that field; extra keys are kept as given.

**Supplemental params.** When every supplemental value is ``None`` or an exact ``str``, ``int``,
``float`` or ``bool``, the result of LiteLLM's function for those values is kept (a copy made
before the caller sees it) and later calls with the same values get a fresh ``model_copy()`` of
it. That copy is what a new validation gives: every field default is immutable, and the copy has
the same field values, fields set and extras (in the same order). Only a run that succeeded
without dropping keys is kept. No supplemental key's validator logs (``drop_params``, whose
validator warns, is not one; checked at install). Floats are keyed by their bits, so ``-0.0`` and
``0.0`` differ.

**``get_api_base``.** When the kwargs are a ``dict`` whose ``api_base`` is an exact ``str``,
LiteLLM's function returns that ``api_base`` if the model validates, and ``None`` otherwise. A field
is known to validate when its value is an exact instance of a plain annotation (``str``, ``int``,
``float``, ``bool``, ``dict``, optional or not) with no validator or constraint, or when a plain
value (as above) was validated by LiteLLM's own model alone (``{"model": ..., field: value}``);
a ``drop_params`` value its validator would warn about is never probed (the probe would add a
record). If every field given is known to validate, the ``api_base`` is
returned. Anything else (an unknown value, a failing one, a key that is not a ``str``, no ``api_base``) runs
LiteLLM's function.

The sources of both functions, the validator functions and ``LiteLLMBaseModel``'s hooks are
pinned, and the models' shape (validators, aliases, defaults, extra policy) is checked at install.
A test double on anything the originals reach on the way to a validation (the module bindings of
the models and of ``validate_litellm_params_strictly``, the models' and pydantic's construction,
validation and copy methods) sends every call to LiteLLM's function.
"""

from __future__ import annotations

import threading
import types
import typing
from collections.abc import Mapping
from typing import Any

from .accelerator import Accelerator, Tally, pin_problems

_MAIN = "litellm.main"
_ROUTER = "litellm.types.router"
_API_BASE = "litellm.litellm_core_utils.llm_response_utils.get_api_base"
# The modules whose binding of get_api_base the hot path reads (the response's hidden params, the
# stream wrapper's).
_API_BASE_BINDINGS = (
    "litellm.litellm_core_utils.llm_response_utils.response_metadata",
    "litellm.litellm_core_utils.streaming_handler",
)
_REPLACES = (
    f"{_MAIN}._parse_supplemental_provider_params",
    *(f"{module}.get_api_base" for module in _API_BASE_BINDINGS),
)
# sha256 (first 16 hex digits) of each source the reasoning above read, in LiteLLM 1.110.2.
_PINNED = {
    f"{_MAIN}._parse_supplemental_provider_params": "233fc6be9e805780",
    f"{_API_BASE}.get_api_base": "7dc9b1c168931fbb",
    f"{_ROUTER}.validate_litellm_params_strictly": "6369e15de7118ee6",
    f"{_ROUTER}._none_when_malformed_outside_strict_validation": "a7751858ce2dfb9c",
    f"{_ROUTER}.GenericLiteLLMParams.preprocess_input_data": "ecf6122609af6033",
    f"{_ROUTER}.GenericLiteLLMParams._daily_reset_time_is_utc_hh_mm": "361bddd8ff9125ea",
    f"{_ROUTER}.GenericLiteLLMParams.normalize_timeout": "2a288e42af91ac6f",
    f"{_ROUTER}.GenericLiteLLMParams.validate_provider_affinity_header": "f76a210ba4e9e039",
    f"{_ROUTER}.GenericLiteLLMParams.coerce_drop_params": "aa98a01a47e7b410",
    "litellm.types.llms.base_model.LiteLLMBaseModel.model_post_init": "d371ac3009805fa9",
    f"{_ROUTER}.parse_daily_reset_time": "77a73e43f48aaf64",
    "litellm.litellm_core_utils.provider_affinity.validate_provider_affinity_header_name": "d5401fdf158847f3",
    "litellm.litellm_core_utils.core_helpers.normalize_drop_params": "57dded20d85c9b5a",
    "litellm.litellm_core_utils.core_helpers.lax_bool": "8c61e682ccef2e38",
}
# What the models' validation is expected to consist of (checked at install).
_MODEL_VALIDATORS = {"preprocess_input_data": "before"}
_FIELD_VALIDATORS = {
    "_daily_reset_time_is_utc_hh_mm": ("daily_reset_time",),
    "normalize_timeout": ("timeout",),
    "validate_provider_affinity_header": ("provider_affinity_header",),
    "coerce_drop_params": ("drop_params",),
}
_WRAPPED_FIELDS = {"thought_signature_in_tool_call_id"}  # the one field with Annotated metadata
# Fields whose validator logs, and the value types it takes without a record: a probe of any other
# value could add a record LiteLLM's call would not have made, so those are left to LiteLLM.
_QUIET = {"drop_params": frozenset({type(None), bool, str})}
_PLAIN_TYPES = (str, int, float, bool, dict)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MEMO_LIMIT = 4096  # entries per memo; cleared when full (values such as per-user keys churn)

_tally = Tally()
_lock = threading.Lock()
_on: list[bool] = []
_orig: dict[str, Any] = {}
# supplemental key -> the kept GenericLiteLLMParams
_supplemental: dict[frozenset[tuple[Any, ...]], Any] = {}
# (field, type, value key) -> whether LiteLLM_Params accepts it
_fields: dict[tuple[Any, ...], bool] = {}
# field name -> the exact types whose every value validates unchanged (None included if optional)
_plain: dict[str, frozenset[type]] = {}


def _value_key(value: Any) -> Any:
    """A hashable key equal only for values a validation cannot tell apart (floats by their bits)."""
    return value.hex() if type(value) is float else value


def _intact() -> bool:
    """Whether every name the originals read on the way to a validation is still what it was at
    install: a test double on any of them (``mock.patch`` on the models, their pydantic methods or
    the module bindings) must see every call, so LiteLLM's function runs."""
    return all(scope.get(name) is value for scope, name, value in _orig["bindings"])


def _parse_supplemental_provider_params(kwargs: Any) -> Any:
    """LiteLLM's ``_parse_supplemental_provider_params``, exact; plain values answered from a kept copy."""
    original = _orig["parse"]
    if not _on or type(kwargs) is not dict:
        _tally.fell_back("kwargs-type")
        return original(kwargs)
    if not _intact():
        _tally.fell_back("double")
        return original(kwargs)
    keys = _orig["supplemental_keys"]
    items = []
    for k, v in kwargs.items():
        if k in keys:
            if type(v) not in _SCALARS:
                _tally.fell_back("supplemental-value-type")
                return original(kwargs)
            items.append((k, type(v), _value_key(v)))
    key = frozenset(items)
    kept = _supplemental.get(key)
    if kept is not None:
        _tally.fast()
        return _orig["result"](params=kept.model_copy())
    _tally.fell_back("first")
    result = original(kwargs)
    if type(result) is _orig["result"] and not result.dropped_keys:
        template = result.params.model_copy()  # before the caller can change the result
        with _lock:
            if len(_supplemental) >= _MEMO_LIMIT:
                _supplemental.clear()
            _supplemental[key] = template
    return result


def _validates(name: str, value: Any) -> bool | None:
    """Whether LiteLLM's ``LiteLLM_Params`` accepts ``value`` for field ``name``; None when unknown."""
    if type(value) in _plain[name]:
        return True
    if type(value) not in _QUIET.get(name, _SCALARS):
        return None
    key = (name, type(value), _value_key(value))
    known = _fields.get(key)
    if known is not None:
        return known
    data = {name: value} if name == "model" else {"model": "m", name: value}
    try:
        _orig["LiteLLM_Params"].model_validate(data)
        valid = True
    except Exception:  # noqa: BLE001 - a failing value is known to fail (pydantic's ValidationError)
        valid = False
    with _lock:
        if len(_fields) >= _MEMO_LIMIT:
            _fields.clear()
        _fields[key] = valid
    return valid


def get_api_base(model: Any, optional_params: Any) -> Any:
    """LiteLLM's ``get_api_base``, exact; a given ``api_base`` returned without building the model."""
    original = _orig["get_api_base"]
    reason = _why_not(model, optional_params)
    if reason is None:
        _tally.fast()
        return optional_params["api_base"]
    _tally.fell_back(reason)
    return original(model=model, optional_params=optional_params)


def _why_not(model: Any, optional_params: Any) -> str | None:
    if not _on or type(optional_params) is not dict:
        return "params-type"
    if not _intact():
        return "double"
    if type(optional_params.get("api_base")) is not str:
        return "no-api-base"
    if "model" not in optional_params and type(model) is not str:
        return "model-type"
    fields = _orig["fields"]
    for name, value in optional_params.items():
        if type(name) is not str:  # LiteLLM's ``**`` raises, and it returns None
            return "key"
        if name in fields and _validates(name, value) is not True:
            return "field-value"
    return None


def _plain_types(annotation: Any) -> frozenset[type]:
    """The exact types every value of which ``annotation`` accepts unchanged (lax mode)."""
    if annotation in _PLAIN_TYPES:
        return frozenset({annotation})
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = typing.get_args(annotation)
        if len(args) == 2 and type(None) in args:
            (inner,) = (a for a in args if a is not type(None))
            if inner in _PLAIN_TYPES:
                return frozenset({inner, type(None)})
    return frozenset()


def _shape_problems() -> list[str]:
    from litellm.types.router import _RESERVED_INIT_KEYS, GenericLiteLLMParams, LiteLLM_Params

    out: list[str] = []
    if _RESERVED_INIT_KEYS & LiteLLM_Params.model_fields.keys():
        out.append("a key preprocess_input_data drops is a field")
    for cls in (GenericLiteLLMParams, LiteLLM_Params):
        name = cls.__name__
        decorators = cls.__pydantic_decorators__
        if {k: v.info.mode for k, v in decorators.model_validators.items()} != _MODEL_VALIDATORS:
            out.append(f"{name}'s model validators differ")
        if {k: tuple(v.info.fields) for k, v in decorators.field_validators.items()} != _FIELD_VALIDATORS:
            out.append(f"{name}'s field validators differ")
        if decorators.root_validators or decorators.field_serializers or decorators.model_serializers:
            out.append(f"{name} has root validators or serializers")
        if cls.__private_attributes__ or cls.model_config.get("extra") != "allow":
            out.append(f"{name} has private attributes or does not keep extra keys")
        if "__pydantic_extra__" in getattr(cls, "__annotations__", {}):
            out.append(f"{name} validates its extra keys")
        for attr in ("model_copy", "__copy__", "__init__", "model_validate"):
            owner = next(c for c in cls.__mro__ if attr in vars(c))
            if owner.__module__.split(".", 1)[0] != "pydantic":
                out.append(f"{name}.{attr} is not pydantic's")
        for field_name, info in cls.model_fields.items():
            if info.alias or info.validation_alias:
                out.append(f"{name}.{field_name} has an alias")
            if info.metadata and field_name not in _WRAPPED_FIELDS:
                out.append(f"{name}.{field_name} has constraints or validators")
            if field_name != "model" and (info.default_factory is not None or type(info.default) not in _SCALARS):
                out.append(f"{name}.{field_name} has a mutable default")
    return out


def _problems() -> list[str]:
    try:
        import litellm.main  # the modules the pins resolve in
        from litellm.types.router import LiteLLM_Params  # noqa: F401
    except ImportError as e:
        return [f"LiteLLM's params models are missing ({e})"]
    try:
        out = _shape_problems()
    except (ImportError, AttributeError, TypeError) as e:
        return [f"LiteLLM's params models are not the shape this accelerator reads ({e})"]
    keys = getattr(litellm.main, "SUPPLEMENTAL_KWARGS_KEYS", None)
    if not isinstance(keys, frozenset) or keys & _QUIET.keys():
        out.append("SUPPLEMENTAL_KWARGS_KEYS is missing or holds a field whose validator logs")
    parse = f"{_MAIN}._parse_supplemental_provider_params"
    replaced = {parse: (_parse_supplemental_provider_params, _orig.get("parse"))}
    return out + pin_problems(_PINNED, replaced)


def _install() -> None:
    import importlib

    import litellm.main as main
    from litellm.types.router import GenericLiteLLMParams, LiteLLM_Params
    from pydantic import BaseModel

    api_base_module = importlib.import_module(_API_BASE)
    bindings: list[tuple[Mapping[str, Any], str, Any]] = [
        (vars(main), name, vars(main)[name])
        for name in ("validate_litellm_params_strictly", "GenericLiteLLMParams", "_SupplementalProviderParams")
    ]
    bindings.append((vars(api_base_module), "LiteLLM_Params", LiteLLM_Params))
    bindings += [
        (vars(cls), attr, vars(cls).get(attr))
        for cls in (BaseModel, GenericLiteLLMParams, LiteLLM_Params)
        for attr in ("__new__", "__init__", "model_validate", "model_copy", "__copy__")
    ]
    _orig.clear()
    _orig.update(
        parse=main._parse_supplemental_provider_params,
        result=main._SupplementalProviderParams,
        supplemental_keys=main.SUPPLEMENTAL_KWARGS_KEYS,
        get_api_base=api_base_module.get_api_base,
        LiteLLM_Params=LiteLLM_Params,
        fields=frozenset(LiteLLM_Params.model_fields),
        bindings=tuple(bindings),
    )
    fields = LiteLLM_Params.model_fields
    validated = {f for v in LiteLLM_Params.__pydantic_decorators__.field_validators.values() for f in v.info.fields}
    _plain.clear()
    _plain.update(
        {
            name: frozenset() if name in validated or info.metadata else _plain_types(info.annotation)
            for name, info in fields.items()
        }
    )
    with _lock:
        _supplemental.clear()
        _fields.clear()
    main._parse_supplemental_provider_params = _parse_supplemental_provider_params  # type: ignore[assignment]
    for module in _API_BASE_BINDINGS:
        importlib.import_module(module).get_api_base = get_api_base  # type: ignore[attr-defined]
    _on[:] = [True]


def _uninstall() -> None:
    import importlib
    import sys

    _on.clear()
    main = sys.modules.get(_MAIN)
    if main is not None and getattr(main, "_parse_supplemental_provider_params", None) is (
        _parse_supplemental_provider_params
    ):
        main._parse_supplemental_provider_params = _orig["parse"]  # type: ignore[attr-defined]
    for module in _API_BASE_BINDINGS:
        mod = importlib.import_module(module)
        if getattr(mod, "get_api_base", None) is get_api_base:
            mod.get_api_base = _orig["get_api_base"]  # type: ignore[attr-defined]
    with _lock:
        _supplemental.clear()
        _fields.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="params_models",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
