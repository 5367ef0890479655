"""Registering the ``edgequake`` provider in LiteLLM, reversibly and idempotently."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

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
    from . import _cache_price, accel

    _cache_price.install()
    accel.install(accelerate)


def proxy_handler(*, transparent: bool) -> Any:
    """The handler a LiteLLM proxy config names: ``custom_handler: edgequake_litellm.handler``,
    or ``edgequake_litellm.transparent`` to serve plain model names too (docs/proxy.md). The
    proxy's config loader only resolves that attribute in each worker, with no other hook, so
    resolving it is what switches the plugin on there: the default accelerators, as
    ``install()`` installs them, and for ``transparent`` (or ``EDGEQUAKE_LITELLM_PATCH=1``)
    transparent mode."""
    import os

    from . import _cache_price, accel
    from ._handler import handler

    _cache_price.install()
    if transparent or os.environ.get("EDGEQUAKE_LITELLM_PATCH", "").lower() in ("1", "true", "yes"):
        from . import _patch

        _patch.install()
    accel.install_default()  # all, unless EDGEQUAKE_ACCEL=0 / _DISABLE
    return handler


def uninstall() -> None:
    """Remove the ``edgequake`` provider and any transparent-mode patch from LiteLLM, leaving
    everything else exactly as it was."""
    import sys

    litellm = sys.modules.get("litellm")
    if litellm is None:
        return
    from . import _cache_price, _patch, accel

    _patch.uninstall()
    accel.uninstall()
    _cache_price.uninstall()
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


def status() -> dict[str, Any]:
    """What transparent mode patched, why it refused if it did, and the route calls took.

    ``calls`` lists ``{"route", "provider", "served_by": "rust" | "litellm", "reason", "count"}``
    (``reason`` is None for calls served by the core), most frequent first. A call counts as
    served when the core sent its request (once, whatever LiteLLM retries inside the call); a
    call LiteLLM's own code failed before sending anything is counted nowhere. ``accelerators``
    has each accelerator's state and its fast/fallback counts (``edgequake_litellm.accel``).
    ``logging_pace`` counts the chunks of sync core streams held back for LiteLLM's logging pool
    to catch up (``edgequake_litellm._logging_pace``). ``uncached_price`` says whether the
    ``edgequake/`` route's cache hits are priced as their upstream model
    (``edgequake_litellm._cache_price``)."""
    from . import _cache_price, _logging_pace, _patch, _status, accel

    calls, refused = _status.calls()
    return {
        "patched": _patch.is_patched(),
        "patch_points": _patch.patch_points(),
        "refused": refused,
        "calls": calls,
        "served_by_rust": sum(c["count"] for c in calls if c["served_by"] == "rust"),
        "fell_back": sum(c["count"] for c in calls if c["served_by"] == "litellm"),
        "accelerators": accel.status(),
        "logging_pace": _logging_pace.status(),
        "uncached_price": _cache_price.status(),
    }
