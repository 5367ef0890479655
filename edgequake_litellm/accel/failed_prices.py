"""The ``failed_prices`` accelerator: a stream start LiteLLM cannot price fails again without the search.

LiteLLM prices every stream when it starts (``update_response_metadata`` runs
``Logging.response_cost_calculator`` on the ``CustomStreamWrapper``). For a model the cost map does
not price (every ``edgequake/`` model, whose provider LiteLLM does not know; any self-hosted
``openai/`` model), ``completion_cost`` tries each candidate name through the model-info lookups and
the generalization rules, and raises the last candidate's error. The logging object keeps only the
error's message and the traceback ``_get_traceback_str_for_error`` returns for that message (an
``lru_cache`` keyed on the message), and the stream's ``response_cost`` stays ``None``: about a
millisecond per stream start, spent again on every stream.

This accelerator remembers that error (its class and message) under the ``cost`` accelerator's plan
key (every string the resolution reads) and raises a copy of it instead of searching again, where:

- LiteLLM's function failed for that key on a stream start ``cost`` covers except for the price (no
  custom pricing, base model, tier, region, discount or margin; the key's plan could not be resolved),
  and that run changed nothing on the logging object, the stream, its hidden params or the optional
  params, and logged nothing;
- the caller is ``Logging.response_cost_calculator`` (which keeps only the message and the recorder's
  traceback), and LiteLLM's recorder still holds a traceback for the message (``tracebacks.cached``
  probes it without computing or storing one): the recorded traceback is then the one LiteLLM's own
  run would record;
- the cost map has not changed since (the watch ``cost`` uses); LiteLLM's debug logging is off (its
  failing path logs only at DEBUG) and its logger's level is the one the error was recorded at; and
  every function the failing path names (the globals of ``completion_cost``, ``cost_per_token`` and
  ``response_cost_calculator``, and of the model-info lookups and ``token_counter``) is the one the
  error was recorded with and no test double.

Everything else runs LiteLLM's function. It acts through ``cost``'s stand-in: with ``cost`` off it
never runs. The probe counts in the recorder's ``cache_info()`` (one more hit, or one more miss),
LiteLLM's private statistics, and nothing else.
"""

from __future__ import annotations

import copy
import functools
import logging
import operator
import sys
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import tracebacks
from .accelerator import Accelerator, Tally, genuine, pin_problems
from .model_cost_watch import ModelCostWatch

_LOGGING = "litellm.litellm_core_utils.litellm_logging"
_METHOD = f"{_LOGGING}.Logging.response_cost_calculator"
_REPLACES = ("litellm.response_cost_calculator (a stream start's failing price, through cost's stand-in)",)
# The caller whose handling of the error was read (LiteLLM 1.110.2): it records str(error) and the
# recorder's traceback for it, and the diagnostic of a failed calculation.
_PINNED = {_METHOD: "d680db2847106cf9"}
# Functions whose globals LiteLLM's failing path names (module -> functions).
_PATH = {
    "litellm.cost_calculator": ("response_cost_calculator", "completion_cost", "cost_per_token"),
    # _get_model_info_helper: LiteLLM's own, under the name ``lookups`` does not replace
    "litellm.utils": ("_get_model_info_helper", "cached_get_model_info_helper", "token_counter"),
}
_PACKAGES = ("litellm", "edgequake_litellm")

_lock = threading.Lock()
_tally = Tally()
_watch = ModelCostWatch()
_on: list[bool] = []
_caller: list[types.CodeType] = []
_globals: list[tuple[dict[str, Any], tuple[str, ...]]] = []  # (module globals, names the path reads)
_logger: list[logging.Logger] = []


@dataclass(frozen=True)
class _Failure:
    error: BaseException  # without traceback or context; copied for each replay
    message: str
    names: tuple[Any, ...]  # what the path's names were bound to when it failed
    levels: tuple[int, int]  # LiteLLM's logger's effective level and logging.disable's, then


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _levels(logger: logging.Logger) -> tuple[int, int]:
    """What decides which of LiteLLM's records exist: a replay needs the ones of the run it repeats."""
    return logger.getEffectiveLevel(), logger.manager.disable


_known: dict[tuple[Any, ...], _Failure] = {}


def _bindings() -> tuple[Any, ...]:
    return tuple(v for g, names in _globals for v in map(g.get, names))


def _double(value: Any) -> bool:
    """A binding a test double or a user's replacement could be: a mock, or a function that is
    neither LiteLLM's (or ours) nor the standard library's (``typing.cast``)."""
    if isinstance(value, functools._lru_cache_wrapper):
        value = value.__wrapped__
    if isinstance(value, types.FunctionType | types.MethodType):
        module = getattr(value, "__module__", None) or ""
        return not genuine(value, _PACKAGES) and module.split(".", 1)[0] not in sys.stdlib_module_names
    return type(value).__module__.startswith("unittest.mock")


def _state(kw: Mapping[str, Any]) -> tuple[tuple[Any, dict[Any, Any]], ...]:
    """Shallow copies of what LiteLLM's failing path could write to."""
    log, response = kw.get("litellm_logging_obj"), kw.get("response_object")
    seen = (
        getattr(log, "__dict__", None),
        getattr(log, "model_call_details", None),
        getattr(response, "__dict__", None),
        getattr(response, "_hidden_params", None),
        kw.get("optional_params"),
    )
    return tuple((d, dict(d)) for d in seen if type(d) is dict)


def _unchanged(state: tuple[tuple[Any, dict[Any, Any]], ...]) -> bool:
    for d, before in state:
        if d.keys() != before.keys() or any(d[k] is not v for k, v in before.items()):
            return False
    return True


class _Logged(logging.Filter):
    """Counts the records LiteLLM's logger emits while a failure is recorded (any thread: a record
    from elsewhere only keeps a failure from being remembered)."""

    def __init__(self) -> None:
        super().__init__()
        self.records = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.records += 1
        return True


def price(original: Any, kw: dict[str, Any], key: tuple[Any, ...], caller: types.CodeType) -> Any:
    """LiteLLM's ``response_cost_calculator`` for a stream start the ``cost`` plan could not resolve:
    a remembered failure raised again where that is exact (see the module's docstring)."""
    if not _on:
        return original(**kw)
    if caller is not _caller[0]:
        _tally.fell_back("caller")
        return original(**kw)
    logger = _logger[0]
    if logger.isEnabledFor(logging.DEBUG):
        _tally.fell_back("debug-logging")
        return original(**kw)
    now = _watch.current()
    names = _bindings()
    with _lock:
        if _watch.changed(now):
            _known.clear()
        known = _known.get(key)
    if known is not None and _same(known.names, names) and known.levels == _levels(logger):
        text = tracebacks.cached(known.message)
        if text is not None:
            error = copy.copy(known.error)
            tracebacks.replaying(error, text)
            _tally.fast()
            raise error
        _tally.fell_back("traceback-not-cached")
    else:
        _tally.fell_back("first" if known is None else "functions-or-logging-changed")
    state = _state(kw)
    logged = _Logged()
    logger.addFilter(logged)
    try:
        return original(**kw)
    except Exception as e:  # noqa: BLE001 - remembered if exact to replay, then raised unchanged
        logger.removeFilter(logged)
        _remember(key, e, state, logged.records, now, names, _levels(logger))
        raise
    finally:
        logger.removeFilter(logged)  # after a result or any other exception (a second remove is a no-op)


def _remember(
    key: tuple[Any, ...],
    error: Exception,
    state: tuple[tuple[Any, dict[Any, Any]], ...],
    records: int,
    now: tuple[Any, int, int],
    names: tuple[Any, ...],
    levels: tuple[int, int],
) -> None:
    if records or not _unchanged(state) or not _same(names, _bindings()) or any(map(_double, names)):
        return
    message = str(error)
    try:
        kept = copy.copy(error)
    except Exception:  # noqa: BLE001 - an error that cannot be copied is not replayed
        return
    kept.__traceback__ = kept.__context__ = kept.__cause__ = None
    if type(kept) is not type(error) or str(kept) != message or str(copy.copy(kept)) != message:
        return
    with _lock:
        if _watch.still(now):
            _known[key] = _Failure(kept, message, names, levels)


def _problems() -> list[str]:
    import importlib
    import inspect

    out: list[str] = []
    for module, functions in _PATH.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            out.append(f"{module} is missing")
            continue
        for name in functions:
            found = getattr(mod, name, None)
            if found is None or not inspect.isfunction(inspect.unwrap(found)):
                out.append(f"{module}.{name} is missing")
    recorder = getattr(importlib.import_module(_LOGGING), "_get_traceback_str_for_error", None)
    if not isinstance(recorder, functools._lru_cache_wrapper):
        out.append(f"{_LOGGING}._get_traceback_str_for_error is not an lru_cache")
    return out + pin_problems(_PINNED) + tracebacks.problems()


def _install() -> None:
    import importlib
    import inspect

    from litellm._logging import verbose_logger
    from litellm.litellm_core_utils.litellm_logging import Logging

    scopes = []
    for module, functions in _PATH.items():
        g = vars(importlib.import_module(module))
        names: set[str] = set()
        for name in functions:
            names.update(n for n in inspect.unwrap(g[name]).__code__.co_names if n in g)
        scopes.append((g, tuple(sorted(names))))
    _globals[:] = scopes
    _caller[:] = [vars(Logging)["response_cost_calculator"].__code__]
    _logger[:] = [verbose_logger]
    tracebacks.acquire("failed_prices", (price,))
    with _lock:
        _known.clear()
        _watch.reset()
    _on[:] = [True]


def _uninstall() -> None:
    _on.clear()
    tracebacks.release("failed_prices")
    with _lock:
        _known.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="failed_prices",
    replaces=(*_REPLACES, tracebacks.REPLACES),
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
