"""Registering the ``edgequake`` provider in LiteLLM, reversibly and idempotently."""

from __future__ import annotations

import threading
from collections.abc import Iterable

PROVIDER = "edgequake"

_lock = threading.Lock()


def install(patch: bool = False, accelerate: bool | Iterable[str] | None = None) -> None:
    """Register the ``edgequake`` provider in ``litellm.custom_provider_map``; with
    ``patch=True`` also serve LiteLLM's own provider calls (``openai/gpt-4o``, ...) from the
    core where it can do so exactly (transparent mode, see ``status()``).

    ``accelerate`` picks the accelerators (exact, faster stand-ins for LiteLLM's per-call
    bookkeeping, see ``edgequake_litellm.accel``): None (default) installs all of them unless
    ``EDGEQUAKE_ACCEL=0``; False none; a set of names only those. ``EDGEQUAKE_ACCEL_DISABLE=cost``
    switches named ones off whatever the argument says.

    Idempotent and thread-safe; other custom providers are left as they are. If the installed
    LiteLLM does not match what transparent mode relies on, it warns and leaves LiteLLM's own
    calls untouched; the ``edgequake/`` provider works either way.
    """
    import litellm

    from ._handler import handler

    with _lock:
        entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
        entries.append({"provider": PROVIDER, "custom_handler": handler})
        litellm.custom_provider_map = entries
        # LiteLLM runs this on every call too; running it now makes the provider known to
        # helpers such as get_llm_provider before the first call.
        litellm.utils.custom_llm_setup()
    if patch:
        from . import _patch

        _patch.install()
    from . import accel

    accel.install(accelerate)


def uninstall() -> None:
    """Remove the ``edgequake`` provider and any transparent-mode patch from LiteLLM, leaving
    everything else exactly as it was."""
    import sys

    litellm = sys.modules.get("litellm")
    if litellm is None:
        return
    from . import _patch, accel

    _patch.uninstall()
    accel.uninstall()
    with _lock:
        litellm.custom_provider_map = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
        if PROVIDER in litellm._custom_providers:
            litellm._custom_providers.remove(PROVIDER)
        if PROVIDER in litellm.provider_list:
            litellm.provider_list.remove(PROVIDER)


def is_installed() -> bool:
    """Whether the ``edgequake`` provider is registered in the imported LiteLLM."""
    import sys

    litellm = sys.modules.get("litellm")
    if litellm is None:
        return False
    return any(e.get("provider") == PROVIDER for e in litellm.custom_provider_map)
