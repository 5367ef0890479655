"""The ``failed_imports`` accelerator: the LiteLLM proxy's per-request imports of optional packages
that are not installed, not searched for again while nothing that decided the failure changed.

On every request the proxy's auth makes three function-level imports of optional dependencies and
swallows their failure:

- ``user_api_key_auth._seed_request_destinations`` imports ``litellm.integrations.otel.logger``,
  which needs ``opentelemetry-sdk``. Without it, each request loads that module's code, runs its
  header until the failing import, and searches for ``opentelemetry.sdk`` (~0.6 ms here);
- ``RouteChecks.check_route_enabled`` imports ``litellm_enterprise``: without it, each request
  searches every ``sys.path`` entry;
- without a database, the auth's user lookup fails, and the DB-metrics wrapper asks
  ``is_exception_related_to_db``, which imports ``prisma.errors``: without ``prisma``, each request
  searches every ``sys.path`` entry. Its ``ModuleNotFoundError`` propagates (the auth's fetch
  swallows it), so this site is not replaced: its code is LiteLLM's compiled again with that one
  import guarded. A remembered failure is raised again by LiteLLM's frame at the import's line
  (the same class, message, ``name``, ``path``, context and traceback); the first attempt, and any
  attempt whose snapshot changed, runs the import itself.

An import that failed with ``ModuleNotFoundError`` is remembered with everything its outcome read;
a later call skips it only when a snapshot of all of that compares equal:

- ``sys.meta_path`` (the same finders, each one importlib's own or a known finder that answers
  nothing for these names, with the same ``find_spec`` and no ``spec_for_<name>`` hook),
  ``sys.path``, ``sys.path_hooks``, ``builtins.__import__``; neither ``python -v`` nor
  ``-X importtime`` (both print a line per attempt);
- each directory searched for the missing module: its cached ``FileFinder`` (none may be missing)
  with a listing that was current and did not hold the name, and the directory's mtime (a new
  package, ``importlib.invalidate_caches()`` or ``os.chdir`` changes it), as importlib checks it;
- each module whose header ran before the failure (``logger.py``): the file's stat, its
  directory's finder, and every import in the header, already loaded (nothing to run again);
- the missing module and the modules around it in ``sys.modules``.

The skipped attempt would have ended in the same swallowed error: the first two functions then
return ``None``, as LiteLLM's do. ``_seed_request_destinations`` logs the error at DEBUG; with that
enabled on ``verbose_proxy_logger`` (or a double on it), LiteLLM's function runs. Not honoured:
a Python audit hook (``sys.addaudithook``) sees the ``import`` event of the first attempt only.
On a process without LiteLLM's proxy loaded (the SDK), nothing is replaced.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import inspect
import logging
import os
import sys
import threading
import types
import warnings
from importlib import machinery
from typing import Any

from .accelerator import Accelerator, Tally, pin_problems, resolve, source_digest

_UAKA = "litellm.proxy.auth.user_api_key_auth"
_RC = "litellm.proxy.auth.route_checks"
_DB = "litellm.proxy.db.log_db_metrics"
_SEED = f"{_UAKA}._seed_request_destinations"
_ROUTE = f"{_RC}.RouteChecks.check_route_enabled"
_DB_CHECK = f"{_DB}.is_exception_related_to_db"  # its code is replaced, not the function
_REPLACES = (_SEED, _ROUTE, _DB_CHECK)
_SITE_MODULES = {_SEED: _UAKA, _ROUTE: _RC, _DB_CHECK: _DB}
# sha256 (first 16 hex digits) of the source of each function replaced (LiteLLM 1.110.2).
_PINNED = {_SEED: "c7685468c8f19b62", _ROUTE: "b62f18a11cb5b7da", _DB_CHECK: "5c5944dfd6ca0a21"}
# Finders other than importlib's own that may sit on sys.meta_path, with the source of the
# find_spec they were read as: both answer None for every module these imports search.
_KNOWN_FINDER_SPECS = {
    "_distutils_hack.DistutilsMetaFinder.find_spec": "ad50eb8087e50f13",  # None unless spec_for_<name> exists
    "importlib_metadata._compat.NullFinder.find_spec": "d2462f9abaf1e230",  # always None
}
_IMPORTLIB_FINDERS = (machinery.BuiltinImporter, machinery.FrozenImporter, machinery.PathFinder)
_BUILTIN_IMPORT = builtins.__import__
# `-X importtime` (or its variable, read at startup) prints a line per import attempt.
_IMPORT_TIME = bool(sys._xoptions.get("importtime") or os.environ.get("PYTHONPROFILEIMPORTTIME"))
_MISSING = object()

_tally = Tally()
_orig: dict[str, Any] = {}


_IMPORTLIB_IDS = frozenset(map(id, _IMPORTLIB_FINDERS))  # by identity: a finder's __eq__ is its own


def _importlibs(finder: Any) -> bool:
    return id(finder) in _IMPORTLIB_IDS


def _finder_known(finder: Any, missing: str) -> bool:
    if _importlibs(finder):
        return True
    spec = getattr(type(finder), "find_spec", None)
    if "find_spec" in getattr(finder, "__dict__", {}) or not isinstance(spec, types.FunctionType | staticmethod):
        return False
    fn = spec.__func__ if isinstance(spec, staticmethod) else spec
    digest = _KNOWN_FINDER_SPECS.get(f"{fn.__module__}.{fn.__qualname__}")
    try:
        if digest is None or source_digest(fn) != digest:
            return False
    except (OSError, TypeError):
        return False
    # DistutilsMetaFinder answers top-level names through a spec_for_<name> method.
    return not hasattr(finder, f"spec_for_{missing}")


def _finder_state(finder: Any, missing: str) -> tuple[Any, ...] | None:
    """What a vetted finder's answer for ``missing`` reads that could change later: its
    ``find_spec`` (on the class or the instance) and setuptools' ``spec_for_<name>`` hook."""
    if _importlibs(finder):
        return None
    own = getattr(finder, "__dict__", {})
    return (getattr(type(finder), "find_spec", None), "find_spec" in own, hasattr(finder, f"spec_for_{missing}"))


def _directory(entry: Any) -> tuple[Any, ...] | None:
    """What a ``FileFinder`` search of ``entry`` reads: the cached finder and its directory's mtime,
    when its listing is current (else the search would refill it); None when not vouchable."""
    if type(entry) is not str:
        return None
    try:
        key = entry or os.getcwd()  # PathFinder searches "" as the current directory
    except OSError:
        return None
    finder = sys.path_importer_cache.get(key, _MISSING)
    if finder is None:
        return (key, None)
    if type(finder) is not machinery.FileFinder:
        return None  # missing (a search would create it) or another finder type
    try:
        mtime = os.stat(finder.path or os.getcwd()).st_mtime
    except OSError:
        mtime = -1
    if mtime != finder._path_mtime:  # type: ignore[attr-defined]
        return None
    return (key, finder, mtime)


def _lacks(finder: Any, tail: str) -> bool:
    """Whether ``finder``'s listing holds nothing ``tail`` could be found as (then its answer
    depends on the listing alone)."""
    listings = (finder._path_cache, finder._relaxed_path_cache)
    return not any(_within(n, tail) or _within(n, tail.lower()) for listing in listings for n in listing)


def _imports(node: ast.stmt, missing: str) -> bool:
    """Whether ``node`` is a single absolute import whose first step that fails can be ``missing``."""
    if isinstance(node, ast.Import) and len(node.names) == 1:
        module = node.names[0].name
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        module = node.module
    else:
        return False
    return _within(module, missing)


def _header(filename: str, lineno: int, missing: str) -> _Needs | None:
    """The imports a module's header runs before the statement at ``lineno`` (module, names
    taken from it), when nothing but absolute imports and a docstring runs before it, and that
    statement imports the module found missing (or its package, a header further down)."""
    try:
        with open(filename, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return None
    needs: list[tuple[str, tuple[str, ...]]] = []
    for i, node in enumerate(tree.body):
        if node.lineno <= lineno <= (node.end_lineno or node.lineno):
            return tuple(needs) if _imports(node, missing) else None
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Import):
            needs.extend((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if any(alias.name == "*" for alias in node.names):
                return None
            needs.append((node.module, tuple(alias.name for alias in node.names)))
        else:
            return None
    return None


_Needs = tuple[tuple[str, tuple[str, ...]], ...]
_Requirements = tuple[tuple[str, ...], tuple[tuple[str, frozenset[str]], ...]]


def _requirements(needs: _Needs) -> _Requirements:
    """A header's imports as (every module they load, packages included; (module, names) each
    ``from`` statement reads from an already loaded module)."""
    modules = {p for module, _ in needs for p in (*_parents(module), module)}
    return tuple(sorted(modules)), tuple((module, frozenset(names)) for module, names in needs if names)


def _loaded(modules: tuple[str, ...], froms: tuple[tuple[str, frozenset[str]], ...]) -> bool:
    """Whether running the header's imports again would run nothing: every module loaded, and
    each name taken from one already in its namespace (no submodule import, no ``__getattr__``)."""
    loaded = sys.modules
    for name in modules:
        if name not in loaded:
            return False
    for module, names in froms:
        namespace = getattr(loaded[module], "__dict__", None)
        if namespace is None or not namespace.keys() >= names:
            return False
    return True


class _Miss:
    """One import statement whose failure is remembered, with the snapshot that decided it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._plan: tuple[Any, ...] | None = None  # what to snapshot, learned from the failure
        self._seen: tuple[Any, ...] | None = None  # the snapshot at the failure
        self.error: tuple[tuple[Any, ...], Any, Any] = ((), None, None)  # its args, name and path

    def clear(self) -> None:
        self._plan = self._seen = None

    def again(self) -> ModuleNotFoundError:
        """A fresh error equal to the remembered one, as the import system would raise it."""
        args, name, path = self.error
        return ModuleNotFoundError(*args, name=name, path=path)

    def _snapshot(self, plan: tuple[Any, ...]) -> tuple[Any, ...] | None:
        missing, search_in, headers, around = plan
        if builtins.__import__ is not _BUILTIN_IMPORT or sys.flags.verbose or _IMPORT_TIME:
            return None
        meta = tuple(sys.meta_path)
        finders = tuple(_finder_state(f, missing) for f in meta)
        parts: list[Any] = [meta, finders, tuple(sys.path), tuple(sys.path_hooks)]
        parts.append(tuple(sys.modules.get(name, _MISSING) for name in around))
        if missing in sys.modules or any(name in sys.modules for name, _, _ in headers):
            return None
        parent = sys.modules.get(search_in) if search_in else None
        entries = list(sys.path) if not search_in else list(getattr(parent, "__path__", None) or ())
        for entry in entries:
            found = _directory(entry)
            if found is None:
                return None
            parts.append(found)
        for name, filename, needs in headers:
            for entry in getattr(sys.modules.get(name.rpartition(".")[0]), "__path__", None) or ():
                found = _directory(entry)
                if found is None:
                    return None
                parts.append(found)
            try:
                st = os.stat(filename)
            except OSError:
                return None
            parts.append((st.st_mtime_ns, st.st_size, st.st_mode, st.st_ino))
            if not _loaded(*needs):
                return None
        return tuple(parts)

    def holds(self) -> bool:
        """Whether the remembered failure would recur, unchanged, if the import ran now."""
        plan, seen = self._plan, self._seen
        return plan is not None and seen is not None and self._snapshot(plan) == seen

    def learn(self, exc: ModuleNotFoundError) -> str:
        """Remember the failure ``exc`` of this import if everything that decided it is vouchable;
        returns why it was not remembered (``""`` when it was)."""
        self.clear()
        missing = exc.name
        if not missing or missing in sys.modules:
            return "state"
        headers: list[tuple[str, str, Any]] = []
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_name == "<module>":
                name, filename = frame.f_globals.get("__name__"), frame.f_code.co_filename
                spec = frame.f_globals.get("__spec__")
                needs = _header(filename, tb.tb_lineno, missing)
                if type(name) is not str or needs is None or getattr(spec, "origin", None) != filename:
                    return "header"
                headers.append((name, filename, _requirements(needs)))
            tb = tb.tb_next
        if headers[0][0] != self.target if headers else not _within(self.target, missing):
            return "header"
        if any(not _finder_known(f, missing) for f in sys.meta_path):
            return "import-hook"
        search_in = missing.rpartition(".")[0]
        entries = list(sys.path) if not search_in else list(getattr(sys.modules.get(search_in), "__path__", None) or ())
        tail = missing.rpartition(".")[2]
        for entry in entries:
            found = _directory(entry)
            if found is None or (found[1] is not None and not _lacks(found[1], tail)):
                return "search-path"
        chain = [self.target, *(name for name, _, _ in headers[1:]), missing]
        around = {p for name in chain for p in _parents(name)} - {missing} - {n for n, _, _ in headers}
        plan = (missing, search_in, tuple(headers), tuple(sorted(around)))
        seen = self._snapshot(plan)
        if seen is None:
            return "state"
        self.error = (exc.args, exc.name, exc.path)
        self._plan, self._seen = plan, seen
        return ""


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


_OTEL = _Miss("litellm.integrations.otel.logger")
_ENTERPRISE = _Miss("litellm_enterprise.proxy.auth.route_checks")
_PRISMA = _Miss("prisma.errors")
_MISSES = (_OTEL, _ENTERPRISE, _PRISMA)
_lock = threading.Lock()


def _logging_own(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename == logging.__file__


def _quiet(logger: Any) -> bool:
    """Whether ``logger.debug(...)`` would do nothing: a plain ``Logger`` with the logging module's
    own methods (no double) and DEBUG not enabled."""
    return (
        type(logger) is logging.Logger
        and "debug" not in vars(logger)
        and "isEnabledFor" not in vars(logger)
        and _logging_own(logging.Logger.debug)
        and _logging_own(logging.Logger.isEnabledFor)
        and not logger.isEnabledFor(logging.DEBUG)
    )


def _remember(miss: _Miss, exc: ModuleNotFoundError) -> None:
    with _lock:
        why = miss.learn(exc)
    _tally.fell_back("import-attempted" + (f":not-remembered:{why}" if why else ""))


def seed_request_destinations(user_api_key_dict: Any, request: Any = None) -> None:
    g = _orig["uaka_globals"]
    if not _quiet(g["verbose_proxy_logger"]):
        _tally.fell_back("debug-logging")
        return _orig["seed"](user_api_key_dict, request)  # type: ignore[no-any-return]
    if _OTEL.holds():
        _tally.fast()
        return None
    try:
        from litellm.integrations.otel.logger import fan_out_provider  # noqa: F401
    except ModuleNotFoundError as exc:
        _remember(_OTEL, exc)
        # LiteLLM's except branch, which then ends the function
        g["verbose_proxy_logger"].debug("OTel V2: tenant destination resolution failed: %s", exc)
        return None
    except Exception as exc:  # noqa: BLE001  # as LiteLLM's function: best-effort, never fails auth
        _tally.fell_back("import-error")
        g["verbose_proxy_logger"].debug("OTel V2: tenant destination resolution failed: %s", exc)
        return None
    _tally.fell_back("installed")
    return _orig["seed"](user_api_key_dict, request)  # type: ignore[no-any-return]


def check_route_enabled(route: str) -> None:
    if _ENTERPRISE.holds():
        _tally.fast()
        return None
    try:
        from litellm_enterprise.proxy.auth.route_checks import (  # type: ignore[import-not-found]  # noqa: F401
            EnterpriseRouteChecks,
        )
    except ModuleNotFoundError as exc:
        _remember(_ENTERPRISE, exc)
        return None  # LiteLLM's `except Exception: pass`
    except _orig["HTTPException"]:
        raise
    except Exception:  # noqa: BLE001  # as LiteLLM's function
        _tally.fell_back("import-error")
        return None
    _tally.fell_back("installed")
    return _orig["route"](route)  # type: ignore[no-any-return]


def _prisma_holds() -> bool:
    if _PRISMA.holds():
        _tally.fast()
        return True
    return False


def _prisma_failed() -> None:
    exc = sys.exc_info()[1]
    if isinstance(exc, ModuleNotFoundError):
        _remember(_PRISMA, exc)


# What the guarded import runs, at the import's own line and columns: placeholders (string
# constants) replaced by these objects once compiled.
_GUARD = """
if "holds"():
    raise "again"()
try:
    IMPORT
except "ModuleNotFoundError":
    "failed"()
    raise
"""
_FUTURE_FLAGS = sum(getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)
_GUARD_OBJECTS: dict[str, Any] = {
    "holds": _prisma_holds,
    "again": _PRISMA.again,
    "ModuleNotFoundError": ModuleNotFoundError,
    "failed": _prisma_failed,
}


def _guarded_code(fn: Any) -> types.CodeType | None:
    """``fn``'s code compiled again from its source with its one ``from prisma.errors import ...``
    guarded (``_GUARD``); the rest of its code, its lines and its positions are LiteLLM's. None
    when the source does not have that one import at the function's top level."""
    try:
        tree = ast.parse(inspect.getsource(fn))
    except (OSError, TypeError, SyntaxError):
        return None
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)
    fdef = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != fn.__name__ or fdef.decorator_list:
        return None
    hits = [
        i
        for i, node in enumerate(fdef.body)
        if isinstance(node, ast.ImportFrom) and node.module == "prisma.errors" and node.level == 0
    ]
    if len(hits) != 1:
        return None
    imported = fdef.body[hits[0]]
    guard = ast.parse(_GUARD).body
    for node in guard:
        for sub in ast.walk(node):
            if hasattr(sub, "lineno"):
                ast.copy_location(sub, imported)  # its line and columns, end included
    try_node = guard[1]
    assert isinstance(try_node, ast.Try)
    try_node.body = [imported]  # in place of IMPORT, its own positions kept
    fdef.body[hits[0] : hits[0] + 1] = guard
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable": replaced below
        module = compile(
            ast.Module(body=[fdef], type_ignores=[]),
            fn.__code__.co_filename,
            "exec",
            flags=fn.__code__.co_flags & _FUTURE_FLAGS,  # LiteLLM's module's futures, not ours
            dont_inherit=True,
        )
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == fn.__name__)
    consts = tuple(_GUARD_OBJECTS.get(c, c) if type(c) is str else c for c in code.co_consts)
    if sum(c is o for c in consts for o in _GUARD_OBJECTS.values()) != len(_GUARD_OBJECTS):
        return None  # a placeholder also appears in LiteLLM's source, or one was folded away
    return code.replace(co_consts=consts)


# -- contract, install, uninstall ----------------------------------------------------------------


def _loaded_sites() -> dict[str, Any]:
    """The proxy modules this replaces in, if the process has loaded them (never imported here)."""
    return {name: sys.modules[name] for name in (_UAKA, _RC, _DB) if name in sys.modules}


def _problems() -> list[str]:
    sites = _loaded_sites()
    installed = _orig.get("installed") or {}
    pins = {q: d for q, d in _PINNED.items() if _SITE_MODULES[q] in sites}
    out = pin_problems(pins, installed)
    if _DB in sites and _DB_CHECK not in installed and not out:
        if _guarded_code(sites[_DB].is_exception_related_to_db) is None:
            out.append(f"{_DB_CHECK} has no single top-level 'from prisma.errors import' to guard")
    for attr in ("_path_mtime", "_path_cache", "_relaxed_path_cache"):
        if not hasattr(machinery.FileFinder(os.getcwd()), attr):
            out.append(f"importlib's FileFinder has no {attr}")
    return out


def _install() -> None:
    """Replace in each proxy auth module loaded and not replaced yet: a script may install before
    it loads the proxy, whose handler entry then calls ``refresh``."""
    installed: dict[str, tuple[Any, Any]] | None = _orig.get("installed")
    if installed is None:
        _orig.clear()
        installed = {}  # dotted name -> (what was installed, what it replaced), as pin_problems reads it
        for miss in _MISSES:
            miss.clear()
    sites = _loaded_sites()
    if _UAKA in sites and _SEED not in installed:
        module = sites[_UAKA]
        _orig.update(seed=module._seed_request_destinations, uaka_globals=vars(module))
        module._seed_request_destinations = seed_request_destinations
        installed[_SEED] = (seed_request_destinations, _orig["seed"])
    if _RC in sites and _ROUTE not in installed:
        cls = sites[_RC].RouteChecks
        raw = cls.__dict__["check_route_enabled"]
        _orig.update(route=raw.__func__, HTTPException=sites[_RC].HTTPException)
        ours = staticmethod(check_route_enabled)
        cls.check_route_enabled = ours
        installed[_ROUTE] = (ours, raw)
    if _DB in sites and _DB_CHECK not in installed:
        fn = sites[_DB].is_exception_related_to_db
        guarded = _guarded_code(fn)
        if guarded is not None:
            _orig["db_code"] = (fn, fn.__code__, guarded)
            fn.__code__ = guarded
            installed[_DB_CHECK] = (fn, fn)  # the same function, with other code
    _orig["installed"] = installed


def _refresh() -> None:
    """Replace in the auth modules loaded since, if their functions are still those pinned (else
    they keep LiteLLM's, and ``in_effect`` says so)."""
    if not _problems():
        _install()


def _in_effect() -> list[str]:
    """The replaced functions still in place (a caller may have put something else there since)."""
    installed = _orig.get("installed") or {}
    out = []
    for name in _REPLACES:
        if name in installed:
            try:
                found = resolve(name)
            except (ImportError, AttributeError, KeyError):
                continue
            if found is installed[name][0] and (name != _DB_CHECK or found.__code__ is _orig["db_code"][2]):
                out.append(name)
    return out


def _uninstall() -> None:
    installed = _orig.pop("installed", None) or {}
    sites = _loaded_sites()
    if _SEED in installed and _UAKA in sites:
        ours, theirs = installed[_SEED]
        if sites[_UAKA]._seed_request_destinations is ours:
            sites[_UAKA]._seed_request_destinations = theirs
    if _ROUTE in installed and _RC in sites:
        ours, theirs = installed[_ROUTE]
        if sites[_RC].RouteChecks.__dict__.get("check_route_enabled") is ours:
            sites[_RC].RouteChecks.check_route_enabled = theirs
    fn, code, guarded = _orig.pop("db_code", (None, None, None))
    if fn is not None and fn.__code__ is guarded:  # not over whatever replaced ours since
        fn.__code__ = code
    for miss in _MISSES:
        miss.clear()


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="failed_imports",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
    refresh=_refresh,
    in_effect=_in_effect,
)
