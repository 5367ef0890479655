"""Which route each call took in transparent mode: counts a user can read with ``status()``."""

from __future__ import annotations

import inspect
import threading
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

RUST = "rust"

_lock = threading.Lock()
_counts: Counter[tuple[str, str, str]] = Counter()
_refused: list[str] = []


def record(route: str, provider: str | None, outcome: str) -> None:
    """Count one call of ``route`` (e.g. ``openai.chat``) for ``provider``: served by the
    core (``outcome == "rust"``) or handed to LiteLLM's own code, ``outcome`` naming why."""
    key = (route, provider or "?", outcome)
    with _lock:
        _counts[key] += 1


class _Call:
    """One routed call: counted as served once, when the core first sends for it."""

    __slots__ = ("provider", "route", "sent")

    def __init__(self, route: str, provider: str | None) -> None:
        self.route = route
        self.provider = provider
        self.sent = False


_call: ContextVar[_Call | None] = ContextVar("edgequake_call", default=None)


def serving(route: str, provider: str | None, serve: Callable[[dict[str, Any]], Any], kw: dict[str, Any]) -> Any:
    """Run ``serve(kw)`` as the routed call whose sends ``sent()`` counts: also the coroutine it
    returns for an async call, and the deferred first request of a stream LiteLLM opens on
    first read (Gemini)."""
    call = _Call(route, provider)
    token = _call.set(call)
    try:
        result = serve(kw)
    finally:
        _call.reset(token)
    if inspect.iscoroutine(result):
        return _awaiting(call, result)
    return _deferred(call, result)


async def _awaiting(call: _Call, coro: Any) -> Any:
    token = _call.set(call)
    try:
        result = await coro
    finally:
        _call.reset(token)
    return _deferred(call, result)


def _deferred(call: _Call, result: Any) -> Any:
    if type(result).__name__ != "CustomStreamWrapper" or result.completion_stream is not None:
        return result
    make_call = result.make_call
    if make_call is None:
        return result
    if inspect.iscoroutinefunction(make_call):

        async def opening(*args: Any, **kw: Any) -> Any:
            token = _call.set(call)
            try:
                return await make_call(*args, **kw)
            finally:
                _call.reset(token)

    else:

        def opening(*args: Any, **kw: Any) -> Any:  # type: ignore[misc]
            token = _call.set(call)
            try:
                return make_call(*args, **kw)
            finally:
                _call.reset(token)

    result.make_call = opening
    return result


def sent() -> None:
    """The core is sending a request for the current routed call: count it as served (once)."""
    call = _call.get()
    if call is not None and not call.sent:
        call.sent = True
        record(call.route, call.provider, RUST)


def fell_back(route: str, reason: str) -> None:
    """The current routed call went back to LiteLLM's own send after routing (``reason``)."""
    call = _call.get()
    if call is None or not call.sent:
        record(route, call.provider if call is not None else None, reason)


def set_refused(problems: list[str]) -> None:
    with _lock:
        _refused[:] = problems


def reset() -> None:
    """Forget the counts (for tests and benchmarks)."""
    with _lock:
        _counts.clear()


def status() -> dict[str, Any]:
    """What transparent mode patched, why it refused if it did, and the route calls took.

    ``calls`` lists ``{"route", "provider", "served_by": "rust" | "litellm", "reason", "count"}``
    (``reason`` is None for calls served by the core), most frequent first. A call counts as
    served when the core sent its request (once, whatever LiteLLM retries inside the call); a
    call LiteLLM's own code failed before sending anything is counted nowhere. ``accelerators``
    has each accelerator's state and its fast/fallback counts (``edgequake_litellm.accel``)."""
    from . import _patch, accel

    with _lock:
        counts = sorted(_counts.items(), key=lambda kv: -kv[1])
        refused = list(_refused)
    calls = [
        {
            "route": route,
            "provider": provider,
            "served_by": "rust" if outcome == RUST else "litellm",
            "reason": None if outcome == RUST else outcome,
            "count": n,
        }
        for (route, provider, outcome), n in counts
    ]
    return {
        "patched": _patch.is_patched(),
        "patch_points": _patch.patch_points(),
        "refused": refused,
        "calls": calls,
        "served_by_rust": sum(c["count"] for c in calls if c["served_by"] == "rust"),
        "fell_back": sum(c["count"] for c in calls if c["served_by"] == "litellm"),
        "accelerators": accel.status(),
    }
