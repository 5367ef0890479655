"""The ``edgequake/`` route's cache hits, priced as their upstream model.

A cache hit logs what the answer would have cost uncached (``saved_cache_cost`` in the standard
logging payload): LiteLLM's ``Logging.uncached_price`` prices the call's model and provider
again. On the ``edgequake/`` route those are ``edgequake/openai/gpt-4o`` and ``edgequake``, which
no price matches, so the saving read 0 where LiteLLM's native ``openai/gpt-4o`` reports the
price. The core's own answers are priced as the upstream model (``_responses._stamp_cost``); this
does the same for their cache hits.

LiteLLM's own ``uncached_price`` runs, on a shallow twin of the call's logging object that
differs only in naming the upstream model and provider, as a native call's does. Every other
change it makes (to the object's attributes, its ``model_call_details``, its ``litellm_params``)
is applied to the real object afterwards, so the call's own state changes as it does natively and
is never seen half-renamed by another thread. Prices the caller set (custom prices, a
``base_model``) apply as they do natively: the twin is what a native call of the model would be.

Installed by ``install()`` over LiteLLM's own function only: a test double or a user's override
already there is left in place (``status()["uncached_price"]`` says so).
"""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

from ._call import split_model
from ._install import PROVIDER
from .accel.accelerator import genuine

_LOGGING = "litellm.litellm_core_utils.litellm_logging"
_PREFIX = f"{PROVIDER}/"
# What the twin renames: never copied back onto the real call.
_RENAMED_ATTRS = frozenset({"model", "custom_llm_provider", "litellm_params", "model_call_details"})
_RENAMED_DETAILS = frozenset({"model", "custom_llm_provider", "litellm_params"})
_RENAMED_PARAMS = frozenset({"custom_llm_provider"})

_lock = threading.Lock()
# LiteLLM's function, once ours has been installed over it: kept after uninstall(), so a caller
# still holding ours (a double wrapping it) never reaches a function that calls ours again.
_original: list[Any] = []
_state = {"status": "not installed"}


def uncached_price(self: Any, result: object) -> Any:
    original = _original[0] if _original else _litellm_function()
    upstream = _upstream(self)
    if upstream is None:
        return original(self, result)
    model, provider = upstream
    result = _priced_as(result, provider)
    details, params = self.model_call_details, self.litellm_params
    twin = copy.copy(self)
    twin_params = {**params, "custom_llm_provider": provider}
    twin_details = {**details, "model": model, "custom_llm_provider": provider}
    if details.get("litellm_params") is params:
        twin_details["litellm_params"] = twin_params
    twin.model, twin.custom_llm_provider = model, provider
    twin.litellm_params, twin.model_call_details = twin_params, twin_details
    before = (dict(vars(twin)), dict(twin_details), dict(twin_params))
    try:
        return original(twin, result)
    finally:
        _apply(vars(self), before[0], vars(twin), _RENAMED_ATTRS)
        _apply(details, before[1], twin_details, _RENAMED_DETAILS)
        _apply(params, before[2], twin_params, _RENAMED_PARAMS)


def _upstream(logging_obj: Any) -> tuple[str, str] | None:
    """(model, provider) as a native call of the upstream model names them, for a call on the
    ``edgequake/`` route that LiteLLM cannot price itself; else None."""
    details = getattr(logging_obj, "model_call_details", None)
    params = getattr(logging_obj, "litellm_params", None)
    model = getattr(logging_obj, "model", None)
    if type(details) is not dict or type(params) is not dict or type(model) is not str:
        return None
    if details.get("custom_llm_provider") != PROVIDER or getattr(logging_obj, "custom_llm_provider", None) != PROVIDER:
        return None
    # LiteLLM names a call by the model asked for (``edgequake/openai/gpt-4o``) or by what is left
    # once the provider is taken off (``openai/gpt-4o``); natively, ``openai/gpt-4o`` or ``gpt-4o``.
    try:
        if model.startswith(_PREFIX):
            named = model[len(_PREFIX) :]
            provider, _ = split_model(named)
        else:
            provider, named = split_model(model)
    except Exception:  # noqa: BLE001 - a provider the core does not serve: LiteLLM's answer stands
        return None
    return named, provider


def _priced_as(result: object, provider: str) -> object:
    """``result``, or a shallow copy whose hidden params name ``provider`` where they named the
    route (a cached stream's answer does, and LiteLLM prices by it), as a native answer's do."""
    hidden = getattr(result, "_hidden_params", None)
    if type(hidden) is not dict or hidden.get("custom_llm_provider") != PROVIDER:
        return result
    try:
        twin = copy.copy(result)
        twin._hidden_params = {**hidden, "custom_llm_provider": provider}  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - not copyable as a model is: priced as it is
        return result
    return twin


def _apply(real: MutableMapping[str, Any], before: dict[str, Any], after: dict[str, Any], skip: frozenset[str]) -> None:
    """Apply to ``real`` what changed from ``before`` to ``after``, but the keys in ``skip``."""
    for key in before.keys() - after.keys() - skip:
        real.pop(key, None)
    for key, value in after.items():
        if key not in skip and (key not in before or before[key] is not value):
            real[key] = value


def _litellm_function() -> Any:
    return vars(sys.modules[_LOGGING].Logging)["uncached_price"]


def install() -> None:
    """Put ``uncached_price`` over LiteLLM's own function (not over anyone else's)."""
    import litellm.litellm_core_utils.litellm_logging as logging_module

    logging_cls = logging_module.Logging
    with _lock:
        current = vars(logging_cls).get("uncached_price")
        if current is uncached_price:
            return
        if current is None:
            _state["status"] = "not installed: this LiteLLM has no Logging.uncached_price"
            return
        if not genuine(current):
            _state["status"] = "left alone: Logging.uncached_price is not LiteLLM's own (a test double or an override)"
            return
        _original[:] = [current]
        logging_cls.uncached_price = uncached_price  # type: ignore[method-assign]
        _state["status"] = "installed"


def uninstall() -> None:
    """Put LiteLLM's function back, unless someone replaced ours since."""
    logging_module = sys.modules.get(_LOGGING)
    with _lock:
        if logging_module is not None and _original:
            if vars(logging_module.Logging).get("uncached_price") is uncached_price:
                logging_module.Logging.uncached_price = _original[0]
        _state["status"] = "not installed"


def status() -> str:
    return _state["status"]
