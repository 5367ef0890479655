"""The ``unread_payload`` accelerator: LiteLLM's standard logging payload is not built for a call
that nothing can read it from.

LiteLLM builds a ``StandardLoggingPayload`` (``Logging._build_standard_logging_payload``, ~10 % of
a transparent sync call's instructions) in the success handlers of every call. It is read by
callbacks (every logger, the Router's strategies, the proxy's spend tracking), printed when
``LITELLM_PRINT_STANDARD_LOGGING_PAYLOAD`` is set, redacted when message logging is off, and
stored in ``logging_obj.model_call_details``. The fast path returns ``None`` (what the builder
returns when it fails, a value every caller handles) when none of those readers exist:

- the logging object was created by LiteLLM's ``@client`` wrapper for this call (a logging object
  a caller passed as ``litellm_logging_obj`` stays readable by that caller), is LiteLLM's own
  ``Logging`` class, and the call is not a stream (the stream wrapper hands its logging object to
  the caller);
- no callback of any kind: LiteLLM's global lists and the call's dynamic ones are empty;
- ``LITELLM_PRINT_STANDARD_LOGGING_PAYLOAD`` unset, message redaction off, LiteLLM's loggers
  not enabled for INFO or below;
- nothing in the call that the builder could fail or warn on: no metadata beyond the hidden
  params LiteLLM files itself, no proxy request, a finite (or no) response cost;
- every binding the builder reaches (the logging module's globals it names, the payload setup's
  and ``Logging``'s methods it calls) is LiteLLM's own, so a test double on any of them sees
  its call.

Every other call builds the payload with LiteLLM's own function; ``status()`` counts both, by
reason. What LiteLLM does with the ``None`` (it stores it, skips the print and the payload's
redaction, hands it to no callback) is pinned by the sources this reasoning read.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import types
import weakref
from typing import Any

from .accelerator import Accelerator, Tally, genuine, pin_problems

_LOGGING = "litellm.litellm_core_utils.litellm_logging"
_UTILS = "litellm.utils"
_REDACT = "litellm.litellm_core_utils.redact_messages"
_BUILD = f"{_LOGGING}.Logging._build_standard_logging_payload"
_SETUP = f"{_UTILS}.function_setup"
_REPLACES = (_BUILD, _SETUP)
_PRINT_ENV = "LITELLM_PRINT_STANDARD_LOGGING_PAYLOAD"

# sha256 (first 16 hex digits) of the source of every function whose behaviour the fast path
# reasons about, in LiteLLM 1.110.2: who builds the payload and what they do with the result.
_PINNED: dict[str, str] = {
    f"{_LOGGING}.Logging._build_standard_logging_payload": "bda48cf39762a97a",
    f"{_LOGGING}.Logging.prepare_success_logging": "44f8ce8260c63fd3",
    f"{_LOGGING}.Logging._resolve_success_logging_payload": "d5866d7af0cb4863",
    f"{_LOGGING}.Logging._process_hidden_params_and_response_cost": "1600bdcac79362af",
    f"{_LOGGING}.Logging._transform_usage_objects": "6d091468e430aa91",
    f"{_LOGGING}.Logging._transform_usage_objects_for_payload": "0e8fa28f06f32284",
    f"{_LOGGING}.Logging._emit_stored_standard_logging_payload": "32426cef852a34e9",
    f"{_LOGGING}.Logging.success_handler": "4adda5121b3ad1ed",
    f"{_LOGGING}.Logging._success_handler_body": "f72b9d4e0f7bca80",
    f"{_LOGGING}.Logging._async_success_handler_body": "bd1427c28839f6e0",
    f"{_LOGGING}.Logging._failure_handler_helper_fn": "d9fa086a9ab574cc",
    f"{_LOGGING}.Logging.dispatch_attempt_failure_handlers": "b20a273ca90cdaea",
    f"{_LOGGING}.Logging._model_call_details_with_request_messages": "211b86ac7cf3d73f",
    f"{_LOGGING}.get_standard_logging_object_payload": "50faba9d3321676d",
    f"{_LOGGING}.emit_standard_logging_payload": "e81701c53cf67e83",
    f"{_REDACT}.redact_message_input_output_from_logging": "e92888b3eae9babf",
    f"{_REDACT}.should_redact_message_logging": "9ba78e4329e94581",
    f"{_UTILS}.client": "fa35edd1ba672a37",
    f"{_UTILS}.function_setup": "9545f8662682d94b",
}

# Global callback lists LiteLLM's handlers read; each must be empty for the fast path.
_GLOBAL_CALLBACKS = (
    "callbacks",
    "success_callback",
    "_async_success_callback",
    "failure_callback",
    "_async_failure_callback",
    "input_callback",
    "_async_input_callback",
    "service_callback",
)
_DYNAMIC_CALLBACKS = (
    "dynamic_success_callbacks",
    "dynamic_async_success_callbacks",
    "dynamic_failure_callbacks",
    "dynamic_async_failure_callbacks",
    "dynamic_input_callbacks",
)
# Keys LiteLLM files in litellm_params["metadata"] itself on a plain SDK call.
_OWN_METADATA = frozenset({"hidden_params"})
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
_OWN_CODE = ("litellm", "edgequake_litellm")

_tally = Tally()
_orig: dict[str, Any] = {}
_state: dict[str, Any] = {}
# Logging objects LiteLLM's @client wrapper created for its own call (no caller holds them).
_owned: weakref.WeakSet[Any] = weakref.WeakSet()


def _function_setup(*args: Any, **kwargs: Any) -> Any:
    out = _orig["function_setup"](*args, **kwargs)
    if sys._getframe(1).f_code in _state["client_codes"]:
        try:
            _owned.add(out[0])
        except TypeError:  # not weak-referenceable: never owned
            pass
    return out


def _bindings_intact() -> bool:
    """Each binding the builder reaches is the one snapshotted at install; a binding changed
    since is adopted when it is LiteLLM's or this package's own code (another accelerator put
    in or taken out), refused when it is a test double or a user's override."""
    snap = _state["bindings"]
    if all(tuple(map(d.get, names)) == seen for d, names, seen in snap):
        return True
    fresh = []
    for d, names, seen in snap:
        now = tuple(map(d.get, names))
        if not all(v is s or v is None or genuine(v, _OWN_CODE) for v, s in zip(now, seen, strict=True)):
            return False
        fresh.append((d, names, now))
    _state["bindings"] = fresh
    return True


def _why_read(self: Any) -> str | None:
    """Why the payload may be read for this call (a fall-back reason), or None when nothing can."""
    if type(self) is not _state["Logging"]:
        return "logging-class"
    if self not in _owned:
        return "caller-logging-object"
    if self.stream is True:
        return "stream"
    litellm = _state["litellm"]
    for name in _GLOBAL_CALLBACKS:
        if getattr(litellm, name, None):
            return "callbacks"
    for name in _DYNAMIC_CALLBACKS:
        if getattr(self, name, None):
            return "callbacks"
    if os.getenv(_PRINT_ENV):
        return "print-payload"
    for logger in _state["loggers"]:
        if logger.isEnabledFor(logging.INFO):
            return "verbose-logging"
    details = self.model_call_details
    params = details.get("litellm_params", {}) or {}
    metadata = params.get("metadata")
    if (metadata is not None and (type(metadata) is not dict or not metadata.keys() <= _OWN_METADATA)) or params.get(
        "litellm_metadata"
    ):
        return "metadata"
    if params.get("proxy_server_request"):
        return "proxy-request"
    cost = details.get("response_cost")
    if isinstance(cost, float) and not math.isfinite(cost):
        return "cost-not-finite"
    if not _bindings_intact():
        return "test-double"
    if _state["redact"].should_redact_message_logging(details):
        return "redaction"
    return None


def _build_standard_logging_payload(
    self: Any, init_response_obj: object, start_time: Any, end_time: Any, isolate_call_details: bool = False
) -> Any:
    reason = _why_read(self)
    if reason is None:
        _tally.fast()
        return None
    _tally.fell_back(reason)
    return _orig["build"](self, init_response_obj, start_time, end_time, isolate_call_details)


# ---- contract, install --------------------------------------------------------------------


def _import_all() -> str | None:
    import importlib

    for module in (_LOGGING, _UTILS, _REDACT):
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001
            return f"{module} cannot be imported ({type(e).__name__})"
    return None


def _problems() -> list[str]:
    missing = _import_all()
    if missing:
        return [missing]
    replaced = {
        _BUILD: (_build_standard_logging_payload, _orig.get("build")),
        _SETUP: (_function_setup, _orig.get("function_setup")),
    }
    out = pin_problems(_PINNED, replaced)
    client = sys.modules[_UTILS].client
    if {c.co_name for c in _client_codes(client)} != {"wrapper", "wrapper_async"}:
        out.append(f"{_UTILS}.client no longer defines wrapper and wrapper_async")
    return out


def _client_codes(client: Any) -> tuple[types.CodeType, ...]:
    code = client.__code__
    return tuple(c for c in code.co_consts if type(c) is types.CodeType and "function_setup" in c.co_names)


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if type(const) is types.CodeType:
            names |= _code_names(const)
    return names


def _install() -> None:
    import litellm

    logging_mod: Any = sys.modules[_LOGGING]
    utils: Any = sys.modules[_UTILS]
    Logging = logging_mod.Logging
    builder = logging_mod.get_standard_logging_object_payload
    reached = _code_names(builder.__code__) | {"get_standard_logging_object_payload", "emit_standard_logging_payload"}
    module_names = tuple(sorted(n for n in reached if n in logging_mod.__dict__))
    setup_cls = logging_mod.StandardLoggingPayloadSetup
    setup_names = tuple(sorted(n for n in vars(setup_cls) if not n.startswith("__")))
    logging_names = tuple(sorted(n for n in reached if n in vars(Logging)))
    redact = sys.modules[_REDACT]
    _orig.clear()
    _orig["build"] = vars(Logging)["_build_standard_logging_payload"]
    _orig["function_setup"] = utils.__dict__["function_setup"]
    _state.update(
        litellm=litellm,
        Logging=Logging,
        redact=redact,
        loggers=tuple(logging.getLogger(n) for n in _LOGGERS),
        client_codes=frozenset(_client_codes(utils.client)),
        bindings=[
            (logging_mod.__dict__, module_names, tuple(map(logging_mod.__dict__.get, module_names))),
            (setup_cls.__dict__, setup_names, tuple(map(setup_cls.__dict__.get, setup_names))),
            (Logging.__dict__, logging_names, tuple(map(Logging.__dict__.get, logging_names))),
            (redact.__dict__, ("should_redact_message_logging",), (redact.should_redact_message_logging,)),
        ],
    )
    utils.function_setup = _function_setup
    Logging._build_standard_logging_payload = _build_standard_logging_payload


def _uninstall() -> None:
    logging_mod: Any = sys.modules.get(_LOGGING)
    utils: Any = sys.modules.get(_UTILS)
    if logging_mod is None or utils is None or not _orig:
        return
    if vars(logging_mod.Logging).get("_build_standard_logging_payload") is _build_standard_logging_payload:
        logging_mod.Logging._build_standard_logging_payload = _orig["build"]
    if utils.__dict__.get("function_setup") is _function_setup:
        utils.function_setup = _orig["function_setup"]


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="unread_payload",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
