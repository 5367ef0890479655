"""Accelerators: exact, faster stand-ins for LiteLLM's own per-call bookkeeping.

Each accelerator replaces named LiteLLM attributes with a function that computes the same
result faster for the shapes it covers and calls LiteLLM's original for every other shape.
Each one checks its own contract (the LiteLLM internals it relies on) before it installs,
can be switched off on its own, and is restored by ``uninstall()``:

- ``install(accelerate=False)`` or ``EDGEQUAKE_ACCEL=0``: none;
- ``install(accelerate={"cost"})``: only those named;
- ``EDGEQUAKE_ACCEL_DISABLE=cost,...``: never these, whatever the argument says, so a
  difference can be bisected without touching code.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable
from typing import Any

from .accelerator import Accelerator

ENV_ALL = "EDGEQUAKE_ACCEL"
ENV_DISABLE = "EDGEQUAKE_ACCEL_DISABLE"


_lock = threading.Lock()
_installed: list[str] = []
_refused: dict[str, list[str]] = {}
_disabled: list[str] = []
_decided: list[bool] = []  # whether install() has run: a later default must not undo a choice


def registry() -> dict[str, Accelerator]:
    from . import (
        cost,
        failed_imports,
        failed_prices,
        logging_payload,
        lookups,
        params_models,
        provider_membership,
        route_access,
        service_events,
        stream_chunks,
        stream_logging,
        unread_payload,
        usage_scan,
    )

    return {
        a.name: a
        for a in (
            cost.ACCELERATOR,
            failed_prices.ACCELERATOR,
            service_events.ACCELERATOR,
            logging_payload.ACCELERATOR,
            lookups.ACCELERATOR,
            params_models.ACCELERATOR,
            provider_membership.ACCELERATOR,
            stream_chunks.ACCELERATOR,
            stream_logging.ACCELERATOR,
            unread_payload.ACCELERATOR,
            usage_scan.ACCELERATOR,
            failed_imports.ACCELERATOR,
            route_access.ACCELERATOR,
        )
    }


def _env_off(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no", "off")


def selected(accelerate: bool | Iterable[str] | None) -> tuple[list[str], list[str]]:
    """(names to install, names switched off) for an ``accelerate`` argument and the environment."""
    names = list(registry())
    if accelerate is None:
        wanted = [] if _env_off(os.environ.get(ENV_ALL)) else names
    elif isinstance(accelerate, bool):
        wanted = names if accelerate else []
    else:
        asked = set(accelerate)
        unknown = asked - set(names)
        if unknown:
            raise ValueError(f"unknown accelerator(s) {sorted(unknown)}; known: {names}")
        wanted = [n for n in names if n in asked]
    disable = {n.strip() for n in os.environ.get(ENV_DISABLE, "").split(",") if n.strip()}
    return [n for n in wanted if n not in disable], [n for n in names if n not in wanted or n in disable]


def install(accelerate: bool | Iterable[str] | None = None) -> list[str]:
    """Install the selected accelerators whose contract holds; returns the names installed.
    Idempotent: an accelerator already in place stays; one no longer selected is removed."""
    wanted, off = selected(accelerate)
    table = registry()
    with _lock:
        _decided[:] = [True]
        for name in list(_installed):
            if name not in wanted:
                table[name].uninstall()
                _installed.remove(name)
        _disabled[:] = off
        for name in wanted:
            if name in _installed:
                table[name].refresh()
                continue
            acc = table[name]
            found = acc.problems()
            if found:
                _refused[name] = found
                warnings.warn(
                    f"edgequake_litellm: accelerator {name!r} not installed: {'; '.join(found)}. "
                    "LiteLLM's own function runs unchanged.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            _refused.pop(name, None)
            acc.install()
            _installed.append(name)
        return list(_installed)


def install_default() -> None:
    """The default set (``install(None)``) unless ``install`` already ran: for entry points such
    as the proxy's ``custom_handler: edgequake_litellm.handler``. When it did, the accelerators
    in place replace in the modules loaded since (the proxy loads its auth modules after a
    script that called ``install()`` may have run)."""
    if not _decided:
        install(None)
        return
    table = registry()
    with _lock:
        for name in _installed:
            table[name].refresh()


def uninstall() -> None:
    """Restore every function an accelerator replaced."""
    table = registry()
    with _lock:
        for name in reversed(_installed):
            table[name].uninstall()
        _installed.clear()


def problems() -> dict[str, list[str]]:
    """Each accelerator's contract mismatches with the installed LiteLLM (empty lists when none)."""
    return {name: acc.problems() for name, acc in registry().items()}


def status() -> dict[str, Any]:
    """Per accelerator: installed, switched off or refused (with why), what it replaces (and of
    that, what is replaced now), and how many calls took the fast path or fell back to LiteLLM's
    own function (by reason)."""
    with _lock:
        installed, refused, disabled = list(_installed), dict(_refused), list(_disabled)
    out: dict[str, Any] = {}
    for name, acc in registry().items():
        state = "installed" if name in installed else "refused" if name in refused else "off"
        in_effect = [] if state != "installed" else list(acc.replaces) if acc.in_effect is None else acc.in_effect()
        out[name] = {
            "state": state,
            "replaces": list(acc.replaces),
            "in_effect": in_effect,
            "refused": refused.get(name, []),
            "disabled": name in disabled,
            "counts": acc.counts(),
        }
    return out
