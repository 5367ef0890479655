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


def current() -> _Call | None:
    """The routed call running now, for a send deferred past the call (a lazy stream)."""
    return _call.get()


def resumed(call: _Call | None, fn: Callable[[], Any]) -> Any:
    """``fn()`` as part of ``call`` (from ``current()``): its sends count for it."""
    token = _call.set(call)
    try:
        return fn()
    finally:
        _call.reset(token)


async def aresumed(call: _Call | None, fn: Callable[[], Any]) -> Any:
    """``await fn()`` as part of ``call``."""
    token = _call.set(call)
    try:
        return await fn()
    finally:
        _call.reset(token)


def fell_back(route: str, reason: str) -> None:
    """The current routed call went back to LiteLLM's own send after routing (``reason``)."""
    call = _call.get()
    if call is None or not call.sent:
        record(route, call.provider if call is not None else None, reason)


def set_refused(problems: list[str]) -> None:
    with _lock:
        _refused[:] = problems


def calls() -> tuple[list[dict[str, Any]], list[str]]:
    """The counted calls (``{"route", "provider", "served_by", "reason", "count"}``, most
    frequent first) and why transparent mode refused to patch, if it did."""
    with _lock:
        counts = sorted(_counts.items(), key=lambda kv: -kv[1])
        refused = list(_refused)
    rows = [
        {
            "route": route,
            "provider": provider,
            "served_by": "rust" if outcome == RUST else "litellm",
            "reason": None if outcome == RUST else outcome,
            "count": n,
        }
        for (route, provider, outcome), n in counts
    ]
    return rows, refused
