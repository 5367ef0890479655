"""The ``logging_payload`` accelerator: three pieces of LiteLLM's standard logging payload
(``get_standard_logging_object_payload``, built for every call's success and failure callbacks),
answered without the work whose result is already known.

- ``_autorouter_savings_for_payload``: LiteLLM rebuilds a pydantic ``Usage`` from the logged usage
  dict before it looks at the request's routing decision, and returns ``None`` when there is no
  decision naming a baseline model (every request that did not go through the auto-router). The
  fast path returns that ``None`` without the ``Usage`` when the metadata has no internal-call
  marker, no such decision, and the usage dict is of a shape ``Usage(**usage)`` provably builds
  without an exception, a warning or a change to any object it is given (plain ints, flat detail
  dicts of declared fields). A routing decision, an internal-call marker, any other usage shape:
  LiteLLM's own function.
- ``StandardLoggingPayloadSetup.get_error_information_for_logging_payload`` on a success (no
  exception, no ``client_disconnected`` marker): LiteLLM's ``get_error_information(None)`` is the
  same record every time (empty strings through ``redact_string``, ``None`` elsewhere). It is
  computed once by LiteLLM's own function and copied per call.
- ``overlay_served_output_texts`` (as ``litellm_logging`` binds it) with no served texts: LiteLLM
  validates the response dict, then fails to validate ``None`` as a tuple of texts and returns
  the response it was given; the fast path returns it directly.

Every function whose behaviour this reasons about is pinned by the sha256 of its source; every
LiteLLM binding those functions call is checked per call against the one installed, so a test
double (``unittest.mock.patch``) or a user's override on any of them runs LiteLLM's original.
"""

from __future__ import annotations

import math
import sys
import typing
from typing import Any

from .accelerator import Accelerator, Tally, genuine, pin_problems

_LOGGING = "litellm.litellm_core_utils.litellm_logging"
_SAVINGS = "litellm.proxy.spend_tracking.savings"
_SERVED = "litellm.litellm_core_utils.served_output_texts"
_TYPES = "litellm.types.utils"
_SECRETS = "litellm.litellm_core_utils.secret_redaction"

_REPLACES = (
    f"{_LOGGING}._autorouter_savings_for_payload",
    f"{_LOGGING}.StandardLoggingPayloadSetup.get_error_information_for_logging_payload",
    f"{_LOGGING}.overlay_served_output_texts",
)

# sha256 (first 16 hex digits) of the source of every function the fast paths reproduce or reason
# about, in LiteLLM 1.110.2. (module, qualified name) -> digest.
_PINNED: dict[tuple[str, str], str] = {
    (_LOGGING, "_autorouter_savings_for_payload"): "d91dbcbee262b9bb",
    (_SAVINGS, "autorouter_savings_for_logging_payload"): "eb1946a6ee69b821",
    (_SAVINGS, "autorouter_savings_for_request"): "2f1e7e7c52b208dd",
    (_SAVINGS, "_usage_from_spend_log"): "d388b7367d020ecb",
    (_TYPES, "Usage.__init__"): "220c6d780b254eec",
    (_TYPES, "PromptTokensDetailsWrapper.__init__"): "3c8a4cade983b7a8",
    (_TYPES, "PromptTokensDetailsWrapper.__setattr__"): "2a09e6c936663f09",
    (_TYPES, "PromptTokensDetailsWrapper._drop_non_string_cache_type"): "717e8f6e6f343540",
    (_TYPES, "SafeAttributeModel.__delattr__"): "abfeeb3c44febf01",
    (_TYPES, "_carries_non_finite_number"): "772b60657e3c71a2",
    (_LOGGING, "StandardLoggingPayloadSetup.get_error_information_for_logging_payload"): "07e805062f2b7699",
    (_LOGGING, "StandardLoggingPayloadSetup.get_error_information"): "f17b2d43fce40478",
    ("litellm._logging", "redact_string"): "1cc94a7daf5d23d9",
    (_SECRETS, "redact_string"): "6e16938480a4285f",
    (_SECRETS, "python_redact_string"): "28506ab6328728ea",
    ("litellm.rust_bridge.diagnostics", "run"): "7671a32bae9be534",
    ("litellm.litellm_core_utils.error_normalization", "normalize_error"): "fa627991ccf9e626",
    ("litellm.exceptions", "validate_rate_limit_category"): "b8cee1a278e01f94",
    ("litellm.exceptions", "validate_rate_limit_type"): "d5712d4a6cf6fef4",
    (_SERVED, "overlay_served_output_texts"): "255657c47a0fec7b",
    (_SERVED, "_as_json_object"): "50cfe434fc2ce7ac",
}

# Module-level bindings the originals call, checked per call to be the ones seen at install
# (a test double or an override on any of them sends the call to LiteLLM's original).
_SAVINGS_BINDINGS = (
    (_SAVINGS, "autorouter_savings_for_logging_payload"),
    (_SAVINGS, "autorouter_savings_for_request"),
    (_SAVINGS, "_usage_from_spend_log"),
    (_SAVINGS, "Usage"),
    (_SAVINGS, "INTERNAL_CALL_ORIGIN_METADATA_KEY"),
    (_TYPES, "CompletionTokensDetailsWrapper"),
    (_TYPES, "PromptTokensDetailsWrapper"),
    (_TYPES, "ServerToolUse"),
    (_TYPES, "_carries_non_finite_number"),
)
_ERROR_BINDINGS = (
    (_LOGGING, "redact_string"),
    (_LOGGING, "normalize_error"),
    (_LOGGING, "validate_rate_limit_category"),
    (_LOGGING, "validate_rate_limit_type"),
    (_LOGGING, "_get_provider_request_id"),
    ("litellm._logging", "redact_secret_string"),
    ("litellm._logging", "_ENABLE_SECRET_REDACTION"),
    (_SECRETS, "diagnostics"),
    (_SECRETS, "python_redact_string"),
    ("litellm.rust_bridge.diagnostics", "run"),
)
_SERVED_BINDINGS = ((_SERVED, "_as_json_object"), (_SERVED, "_TEXTS"), (_SERVED, "_JSON_OBJECT"))
# Class members the Usage build runs (checked by identity per call).
_USAGE_MEMBERS = (
    ("Usage", "__init__"),
    ("PromptTokensDetailsWrapper", "__init__"),
    ("PromptTokensDetailsWrapper", "__setattr__"),
    ("CompletionTokensDetailsWrapper", "__init__"),
    ("SafeAttributeModel", "__delattr__"),
)

_tally = Tally()
_orig: dict[str, Any] = {}  # originals of the replaced attributes
_seen: dict[str, Any] = {}
_error_record: list[dict[str, Any]] = []  # get_error_information(None), once computed
_ABSENT = object()


# Per group of bindings: (namespace, name, value as installed) triples. A module's or class's
# namespace is live (``importlib.reload`` and ``mock.patch`` rebind names in it), so holding it
# spares a ``sys.modules`` lookup per name on every call.
_checks: dict[str, tuple[tuple[Any, str, Any], ...]] = {}


def _intact(group: str) -> bool:
    for namespace, name, value in _checks[group]:
        if namespace.get(name, _ABSENT) is not value:
            return False
    return True


# ---- autorouter savings -------------------------------------------------------------------

_TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens")
_DETAILS = ("prompt_tokens_details", "completion_tokens_details")
# Extra usage keys Usage.__init__ maps and then sets as attributes (LiteLLM's own Usage dumps carry them).
_MAPPED_EXTRAS = ("cache_creation_input_tokens", "cache_read_input_tokens", "prompt_cache_hit_tokens")
# Per details model: field -> the value kinds accepted as they are ("int", "number", "str").
_detail_fields: dict[str, dict[str, str]] = {}


def _plain_int(v: Any) -> bool:
    return type(v) is int


def _detail_kinds(cls: Any) -> dict[str, str]:
    """Declared fields of a details model whose annotation is a plain ``int | None``,
    ``float | None`` or ``str | None`` (nested models and anything else: not covered)."""
    out: dict[str, str] = {}
    kinds = {int: "int", float: "number", str: "str"}
    for name, info in cls.model_fields.items():
        args = set(typing.get_args(info.annotation))
        if len(args) == 2 and type(None) in args:
            (plain,) = args - {type(None)}
            if plain in kinds and not info.metadata:
                out[name] = kinds[plain]
    return out


def _plain_details(value: Any, kinds: dict[str, str]) -> bool:
    if value is None:
        return True
    if type(value) is not dict:
        return False
    for k, v in value.items():
        kind = kinds.get(k) if type(k) is str else None
        if kind is None:
            return False
        if v is None or type(v) is int:
            continue
        if kind == "number" and type(v) is float and math.isfinite(v):
            continue
        if kind == "str" and type(v) is str:
            continue
        return False
    return True


def usage_builds_plainly(usage: Any) -> bool:
    """Whether ``Usage(**usage)`` provably returns without raising, logging or touching any
    object it is given: a dict of token counts (plain ints), flat detail dicts of declared plain
    fields, no server-tool record, a finite float cost and no other keys than the cache counts
    ``Usage`` maps."""
    if type(usage) is not dict:
        return False
    for k, v in usage.items():
        if k in _TOKENS or k in _MAPPED_EXTRAS:
            if v is not None and type(v) is not int:
                return False
        elif k == "prompt_tokens_details":
            if not _plain_details(v, _detail_fields["prompt"]):
                return False
        elif k == "completion_tokens_details":
            if not _plain_details(v, _detail_fields["completion"]):
                return False
        elif k == "server_tool_use":
            if v is not None:
                return False
        elif k == "cost":
            if v is not None and not (type(v) is float and math.isfinite(v)):
                return False
        else:
            return False
    return True


def _no_savings_reason(
    request_metadata: Any, model: Any, usage_object: Any, baseline_usage: Any, baseline_provenance: Any
) -> str | None:
    """``None`` when LiteLLM's function provably returns ``None`` with no effect but the Usage build."""
    if type(request_metadata) is not dict:
        return "metadata-type"
    if sys.modules.get(_SAVINGS) is not _seen["savings_module"] or not _intact("savings"):
        return "replaced"
    if request_metadata.get(_seen["internal_key"]) is not None:
        return "internal-call"
    if usage_object is None or (type(usage_object) is dict and not usage_object):
        return None  # no usage: no Usage built, no figure
    decision = request_metadata.get("routing_decision")
    if decision is not None:
        if type(decision) is not dict:
            return "routing-decision"
        baseline = decision.get("savings_baseline_model")
        if decision and isinstance(baseline, str) and baseline:
            return "routing-decision"
    if not usage_builds_plainly(usage_object):
        return "usage-shape"
    return None


def _autorouter_savings_for_payload(
    request_metadata: Any,
    model: Any,
    custom_llm_provider: Any,
    model_id: Any,
    usage_object: Any,
    cost_breakdown: Any,
    baseline_usage: Any = None,
    baseline_provenance: Any = None,
) -> Any:
    reason = _no_savings_reason(request_metadata, model, usage_object, baseline_usage, baseline_provenance)
    if reason is None:
        _tally.fast()
        return None
    _tally.fell_back(f"savings-{reason}")
    return _orig["_autorouter_savings_for_payload"](
        request_metadata=request_metadata,
        model=model,
        custom_llm_provider=custom_llm_provider,
        model_id=model_id,
        usage_object=usage_object,
        cost_breakdown=cost_breakdown,
        baseline_usage=baseline_usage,
        baseline_provenance=baseline_provenance,
    )


# ---- error information on a success --------------------------------------------------------


def _setup_cls() -> Any:
    return sys.modules[_LOGGING].StandardLoggingPayloadSetup


def get_error_information_for_logging_payload(metadata: Any, original_exception: Any, error_str: Any) -> Any:
    reason: str | None = None
    if original_exception is not None:
        reason = "error-exception"
    elif type(metadata) is not dict or metadata.get("client_disconnected") not in (None, False):
        reason = "error-metadata"
    elif not _intact("error"):
        reason = "error-replaced"
    if reason is None:
        if not _error_record:
            # LiteLLM's own record for "no exception", once: it reads nothing that can change.
            _error_record.append(_setup_cls().get_error_information(original_exception=None))
        _tally.fast()
        return dict(_error_record[0]), error_str
    _tally.fell_back(reason)
    return _orig["get_error_information_for_logging_payload"](
        metadata=metadata, original_exception=original_exception, error_str=error_str
    )


# ---- served output texts ---------------------------------------------------------------------


def overlay_served_output_texts(response_obj: Any, served_texts: Any) -> Any:
    if served_texts is None and type(response_obj) is dict and _intact("served"):
        _tally.fast()
        return response_obj
    _tally.fell_back("overlay")
    return _orig["overlay_served_output_texts"](response_obj, served_texts)


# ---- contract, install --------------------------------------------------------------------


def _import_all() -> str | None:
    import importlib

    for module in {m for m, _ in _PINNED} | {m for m, _ in _SAVINGS_BINDINGS + _ERROR_BINDINGS + _SERVED_BINDINGS}:
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001  # an SDK-only install without the proxy package
            return f"{module} cannot be imported ({type(e).__name__})"
    return None


def _problems() -> list[str]:
    missing = _import_all()
    if missing:
        return [missing]
    pins = {f"{module}.{qualname}": digest for (module, qualname), digest in _PINNED.items()}
    error = f"{_LOGGING}.StandardLoggingPayloadSetup.get_error_information_for_logging_payload"
    replaced = {  # already installed: the original is what was pinned
        f"{_LOGGING}._autorouter_savings_for_payload": (
            _autorouter_savings_for_payload,
            _orig.get("_autorouter_savings_for_payload"),
        ),
        error: (_orig.get("installed_error"), _orig.get("error_staticmethod")),
    }
    out = pin_problems(pins, replaced)
    for module, name in _SAVINGS_BINDINGS + _ERROR_BINDINGS + _SERVED_BINDINGS:
        if name not in sys.modules[module].__dict__:
            out.append(f"{module}.{name} is missing")
        elif not genuine(sys.modules[module].__dict__[name]):
            # Recorded at install as the binding to keep: a double in place then would be skipped.
            out.append(f"{module}.{name} is not LiteLLM's own (a test double or an override)")
    return out


def _install() -> None:
    logging_mod: Any = sys.modules[_LOGGING]
    types = sys.modules[_TYPES]
    setup = logging_mod.StandardLoggingPayloadSetup
    _orig.clear()
    _orig["_autorouter_savings_for_payload"] = logging_mod.__dict__["_autorouter_savings_for_payload"]
    _orig["overlay_served_output_texts"] = logging_mod.__dict__["overlay_served_output_texts"]
    _orig["error_staticmethod"] = setup.__dict__["get_error_information_for_logging_payload"]
    _orig["get_error_information_for_logging_payload"] = _orig["error_staticmethod"].__func__

    def bound(pairs: tuple[tuple[str, str], ...]) -> list[tuple[Any, str, Any]]:
        return [(sys.modules[m].__dict__, n, sys.modules[m].__dict__[n]) for m, n in pairs]

    usage_members = [
        (types.__dict__[c].__dict__, m, types.__dict__[c].__dict__.get(m, _ABSENT)) for c, m in _USAGE_MEMBERS
    ]
    _checks["savings"] = (*bound(_SAVINGS_BINDINGS), *usage_members)
    _checks["error"] = (
        (setup.__dict__, "get_error_information", setup.__dict__["get_error_information"]),
        *bound(_ERROR_BINDINGS),
    )
    _checks["served"] = tuple(bound(_SERVED_BINDINGS))
    _seen["internal_key"] = sys.modules[_SAVINGS].INTERNAL_CALL_ORIGIN_METADATA_KEY
    _seen["savings_module"] = sys.modules[_SAVINGS]  # what the original's lazy import finds
    _detail_fields["prompt"] = _detail_kinds(types.PromptTokensDetailsWrapper)
    _detail_fields["completion"] = _detail_kinds(types.CompletionTokensDetailsWrapper)
    _error_record.clear()
    logging_mod._autorouter_savings_for_payload = _autorouter_savings_for_payload
    logging_mod.overlay_served_output_texts = overlay_served_output_texts
    _orig["installed_error"] = staticmethod(get_error_information_for_logging_payload)
    setup.get_error_information_for_logging_payload = _orig["installed_error"]


def _uninstall() -> None:
    logging_mod: Any = sys.modules.get(_LOGGING)
    if logging_mod is None or not _orig:
        return
    if logging_mod.__dict__.get("_autorouter_savings_for_payload") is _autorouter_savings_for_payload:
        logging_mod._autorouter_savings_for_payload = _orig["_autorouter_savings_for_payload"]
    if logging_mod.__dict__.get("overlay_served_output_texts") is overlay_served_output_texts:
        logging_mod.overlay_served_output_texts = _orig["overlay_served_output_texts"]
    setup = logging_mod.StandardLoggingPayloadSetup
    current = setup.__dict__.get("get_error_information_for_logging_payload")
    if isinstance(current, staticmethod) and current.__func__ is get_error_information_for_logging_payload:
        setup.get_error_information_for_logging_payload = _orig["error_staticmethod"]


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="logging_payload",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
