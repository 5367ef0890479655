"""The ``route_access`` accelerator: the LiteLLM proxy's route-list checks answered from a memo.

``RouteChecks.check_route_access(route, allowed_routes)`` decides whether a request path is one
of a list of routes, wildcards (``/bedrock/*``) and templates (``/threads/{thread_id}``). For a
path in none of them it tries every entry, a regex substitution and match per template: ~17-68 µs
per list here. The proxy's common auth checks test every LLM request against three lists it is in
none of (the pass-through, MCP and agent routes), ~0.11 ms of CPU per request.

Its answer is a function of the path and the entries alone when the path and every entry are
exact ``str`` in a ``list``, ``tuple``, ``set`` or ``frozenset``, the three ``RouteChecks``
helpers it calls are LiteLLM's (the class as the module binds it, its static methods by
identity), and the module's ``re`` is the ``re`` module with its own ``sub`` and ``match``. Then
an answer LiteLLM's function returned is remembered, keyed on the path and the entries in
iteration order (the order its ``any`` tries them in; a list changed since is another key). An
error is never remembered: the next call runs LiteLLM's function again. Anything else, and any
call while a double sits on what the function reads, runs LiteLLM's function. Paths come from
clients, so the memo holds at most ``_LIMIT`` answers and is emptied when full; the keys of one
list share one tuple of its entries (a few hundred entries each). Not honoured:
``re``'s own pattern cache sees fewer lookups.

On a process without LiteLLM's proxy loaded (the SDK) nothing is replaced; the proxy's handler
entry replaces once the auth module is loaded (``refresh``), as ``failed_imports`` does.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from .accelerator import Accelerator, Tally, pin_problems, resolve

_RC = "litellm.proxy.auth.route_checks"
_ACCESS = f"{_RC}.RouteChecks.check_route_access"
_HELPERS = ("is_wildcard_pattern", "route_matches_wildcard_pattern", "_route_matches_pattern")
# sha256 (first 16 hex digits) of the source of the function replaced and of the helpers it calls
# (LiteLLM 1.110.2).
_PINNED = {
    _ACCESS: "e5ab816039ad563c",
    f"{_RC}.RouteChecks.is_wildcard_pattern": "b88c0ab2468a10fe",
    f"{_RC}.RouteChecks.route_matches_wildcard_pattern": "3c0644f036e78868",
    f"{_RC}.RouteChecks._route_matches_pattern": "30e0a6226a15388a",
}
_LIMIT = 4096
_COLLECTIONS = (list, tuple, set, frozenset)
_ONLY_STR = {str}
_RE_SUB, _RE_MATCH = re.sub, re.match

_tally = Tally()
# "theirs": LiteLLM's function; "cls", "globals" and each helper name: what it reads, as installed.
_orig: dict[str, Any] = {}
_memo: dict[tuple[str, tuple[str, ...]], bool] = {}
_lists: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per list of entries the memo keys hold


def _unchanged(seen: dict[str, Any]) -> bool:
    """Whether what LiteLLM's function reads is what it read when the memo's answers were made."""
    cls = seen["cls"]
    g = seen["globals"]
    if g.get("RouteChecks") is not cls or g.get("re") is not re or re.sub is not _RE_SUB:
        return False
    if re.match is not _RE_MATCH:
        return False
    own = vars(cls)
    return all(own.get(name) is seen[name] for name in _HELPERS)


def check_route_access(route: str, allowed_routes: Any) -> bool:
    seen = _orig
    theirs = seen["theirs"]
    if type(route) is not str or type(allowed_routes) not in _COLLECTIONS:
        _tally.fell_back("shape")
        return theirs(route, allowed_routes)  # type: ignore[no-any-return]
    entries = tuple(allowed_routes)
    if not {*map(type, entries)} <= _ONLY_STR:
        _tally.fell_back("shape")
        return theirs(route, allowed_routes)  # type: ignore[no-any-return]
    if not _unchanged(seen):
        _tally.fell_back("double")
        return theirs(route, allowed_routes)  # type: ignore[no-any-return]
    key = (route, entries)
    answer = _memo.get(key)
    if answer is not None:
        _tally.fast()
        return answer
    answer = theirs(route, allowed_routes)
    if type(answer) is bool:
        if len(_memo) >= _LIMIT:
            _memo.clear()
            _lists.clear()
        _memo[(route, _lists.setdefault(entries, entries))] = answer
    _tally.fell_back("first")
    return answer


# -- contract, install, uninstall ----------------------------------------------------------------


def _installed() -> dict[str, tuple[Any, Any]]:
    """What is installed (dotted name -> (ours, LiteLLM's)), as ``pin_problems`` reads it."""
    if "ours" not in _orig:
        return {}
    return {_ACCESS: (_orig["ours"], _orig["raw"])}


def _problems() -> list[str]:
    if _RC not in sys.modules:
        return []  # nothing to replace until the proxy loads it (``refresh``)
    out = pin_problems(_PINNED, _installed())
    cls = getattr(sys.modules[_RC], "RouteChecks", None)
    if cls is not None and type(cls) is not type:
        out.append(f"{_RC}.RouteChecks has a metaclass")
    return out


def _install() -> None:
    """Replace in the proxy's route-checks module if it is loaded and not replaced yet."""
    module = sys.modules.get(_RC)
    if module is None or "ours" in _orig:
        return
    cls = module.RouteChecks
    raw = vars(cls)["check_route_access"]
    ours = staticmethod(check_route_access)
    _memo.clear()
    _lists.clear()
    _orig.update(
        theirs=raw.__func__,
        raw=raw,
        ours=ours,
        cls=cls,
        globals=vars(module),
        **{name: vars(cls)[name] for name in _HELPERS},
    )
    cls.check_route_access = ours


def _refresh() -> None:
    """Replace in the module if the proxy loaded it since, and its functions are those pinned."""
    if not _problems():
        _install()


def _in_effect() -> list[str]:
    try:
        return [_ACCESS] if "ours" in _orig and resolve(_ACCESS) is _orig["ours"] else []
    except (ImportError, AttributeError, KeyError):
        return []


def _uninstall() -> None:
    if "ours" in _orig and vars(_orig["cls"]).get("check_route_access") is _orig["ours"]:
        _orig["cls"].check_route_access = _orig["raw"]
    _orig.pop("ours", None)  # ``check_route_access`` in flight still reads the rest
    _memo.clear()
    _lists.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="route_access",
    replaces=(_ACCESS,),
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
    refresh=_refresh,
    in_effect=_in_effect,
)
