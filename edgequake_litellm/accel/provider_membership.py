"""The ``provider_membership`` accelerator: LiteLLM's "is this a known provider" test, without
a list of every provider built per call.

``completion`` (``litellm/main.py``) and ``get_optional_params`` (``litellm/utils.py``) each test
``custom_llm_provider in [provider.value for provider in LlmProviders]`` on every call: a list of
~190 values, each read through ``Enum.value`` (a Python-level descriptor on 3.11), ~45 µs per test
and two tests per chat call on every LiteLLM route (native, ``edgequake/``, transparent, the proxy).
The Anthropic ``/v1/messages`` route runs the same test to find its config
(``_native_messages_config``).

The list comprehension is a code object of its own, a constant of the function's code. Only that
constant is replaced (``code.replace(co_consts=...)``): the function's bytecode, line table and
exception table stay LiteLLM's, so tracebacks, line numbers and coverage read as its own. The
replacement receives the same iterator over ``LlmProviders`` (as the function's globals read it)
and returns a container whose ``in`` answers:

- for an exact ``str`` on LiteLLM's own ``LlmProviders`` (the function's global is that enum and
  its value map still holds one value per member): a lookup in the enum's ``_value2member_map_``,
  whose keys are exactly the members' values, so the answer is the list's (for a ``str``, list
  membership is ``==`` on ``str`` values, which a hash lookup of the same values reproduces);
- for anything else (``None`` is tested before, an enum member, a ``str`` subclass, a double on
  ``LlmProviders``): the list LiteLLM builds, from the same iterator, with ``==`` per item.

The three functions' sources are pinned; the comprehension must appear once in each.
"""

from __future__ import annotations

import inspect
import linecache
import types
from typing import Any

from .accelerator import Accelerator, Tally, source_digest

_EXPRESSION = "custom_llm_provider in [provider.value for provider in LlmProviders]"
# site -> (module, function name)
_SITES = {
    "completion": ("litellm.main", "completion"),
    "get_optional_params": ("litellm.utils", "get_optional_params"),
    # the Anthropic `/v1/messages` route's config lookup (LiteLLM's `anthropic_messages`)
    "_native_messages_config": ("litellm.llms.anthropic.messages.native.handler", "_native_messages_config"),
}
_REPLACES = tuple(f"{module}.{name}" for module, name in _SITES.values())
# sha256 (first 16 hex digits) of each function's source in LiteLLM 1.110.2 (the undecorated
# ``completion``: ``litellm.main.completion`` is its wrapper).
_PINNED = {
    "completion": "af08cb50ab331c3c",
    "get_optional_params": "e308610c122e4b77",
    "_native_messages_config": "29cd02405daf8f30",
}

_tally = Tally()
_orig: dict[str, Any] = {}  # site -> (function, LiteLLM's code, the installed code)


class _KnownProviders:
    """What the replaced comprehension returns: ``in`` as LiteLLM's list answers it. It carries
    what it compares against (not read from module state), so a call in flight while
    ``uninstall()`` runs still answers."""

    __slots__ = ("_iterator", "_globals", "_enum", "_members")

    def __init__(self, iterator: Any, module_globals: dict[str, Any], enum: Any, members: int) -> None:
        self._iterator = iterator
        self._globals = module_globals
        self._enum = enum
        self._members = members

    def __contains__(self, value: Any) -> bool:
        enum = self._enum
        values, names = enum._value2member_map_, enum._member_names_
        if (
            type(value) is str
            and self._globals.get("LlmProviders") is enum
            and type(values) is dict
            and len(values) == len(names) == self._members
        ):
            _tally.fast()
            return value in values
        _tally.fell_back("not-a-str-or-enum-changed")
        return value in [provider.value for provider in self._iterator]


def _comprehension(module_globals: dict[str, Any], enum: Any) -> types.CodeType:
    """A ``<listcomp>``-shaped code object (one argument, the iterator) returning
    ``_KnownProviders(iterator, ...)``."""

    def template(iterator: Any) -> Any:
        make: Any = ...  # replaced below by a constant: the function's globals are LiteLLM's module's
        return make(iterator)

    members = len(enum._member_names_)
    code = template.__code__
    make = lambda iterator: _KnownProviders(iterator, module_globals, enum, members)  # noqa: E731
    return code.replace(co_consts=tuple(make if c is Ellipsis else c for c in code.co_consts))


def _function(site: str) -> Any:
    import importlib

    module, name = _SITES[site]
    return inspect.unwrap(getattr(importlib.import_module(module), name))


def _target(code: types.CodeType) -> int | None:
    """The index in ``code.co_consts`` of the comprehension of ``_EXPRESSION``, or None."""
    found = [
        i
        for i, c in enumerate(code.co_consts)
        if isinstance(c, types.CodeType)
        and c.co_name == "<listcomp>"
        and c.co_argcount == 1
        and c.co_varnames[:2] == (".0", "provider")
        and _EXPRESSION in linecache.getline(code.co_filename, c.co_firstlineno)
    ]
    return found[0] if len(found) == 1 else None


def _problems() -> list[str]:
    out: list[str] = []
    try:
        from litellm.types.utils import LlmProviders
    except ImportError:
        return ["litellm.types.utils.LlmProviders is missing"]
    values = getattr(LlmProviders, "_value2member_map_", None)
    if not isinstance(values, dict) or set(values) != {p.value for p in LlmProviders}:
        out.append("LlmProviders' value map is not its members' values")
    if len(values or ()) != len(LlmProviders.__members__) or not all(type(v) is str for v in values or ()):
        out.append("LlmProviders has aliases or values other than str")
    for site in _SITES:
        try:
            fn = _function(site)
        except (ImportError, AttributeError):
            out.append(f"{'.'.join(_SITES[site])} is missing")
            continue
        code = _orig[site][1] if site in _orig else fn.__code__
        try:
            digest = source_digest(fn)
        except (OSError, TypeError):
            digest = None
        if digest != _PINNED[site]:
            out.append(f"{'.'.join(_SITES[site])} source differs from the pinned one")
        elif _target(code) is None:
            # Python 3.12 inlines comprehensions (PEP 709): there is no code object to replace.
            out.append(f"{'.'.join(_SITES[site])} has no single '{_EXPRESSION}' comprehension code object")
    return out


def _install() -> None:
    from litellm.types.utils import LlmProviders

    if _orig:
        return
    for site in _SITES:
        fn = _function(site)
        code = fn.__code__
        index = _target(code)
        assert index is not None
        consts = list(code.co_consts)
        consts[index] = _comprehension(fn.__globals__, LlmProviders)
        ours = code.replace(co_consts=tuple(consts))
        _orig[site] = (fn, code, ours)
        fn.__code__ = ours


def _uninstall() -> None:
    for site in _SITES:
        fn, code, ours = _orig.get(site, (None, None, None))
        if fn is not None and fn.__code__ is ours:  # not over whatever replaced ours since
            fn.__code__ = code
    _orig.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="provider_membership",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
