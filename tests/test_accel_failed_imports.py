"""The ``failed_imports`` accelerator against the LiteLLM proxy's own per-request imports.

The proxy's auth imports ``litellm.integrations.otel.logger`` (needs ``opentelemetry-sdk``),
``litellm_enterprise`` and, without a database, ``prisma.errors`` (through the DB-metrics
wrapper's ``is_exception_related_to_db``) on every request, and swallows the failure. With the accelerator a failure
is not searched for again while nothing it read changed. Each test changes one thing the outcome
depends on (a package appearing on ``sys.path`` or in a searched directory, importlib's caches,
the current directory, a module the failing header imports, the header's file, an import hook,
DEBUG logging) and checks that the import runs again, with LiteLLM's result.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import failed_imports

UAKA = "litellm.proxy.auth.user_api_key_auth"
RC = "litellm.proxy.auth.route_checks"
DB = "litellm.proxy.db.log_db_metrics"
ENTERPRISE_ROUTE_CHECKS = """
from fastapi import HTTPException


class EnterpriseRouteChecks:
    @staticmethod
    def should_call_route(route):
        if route == "/blocked":
            raise HTTPException(status_code=403, detail="route disabled")
"""


@pytest.fixture()
def proxy_auth(litellm) -> tuple[Any, Any]:
    """LiteLLM's proxy auth modules, loaded as a proxy worker loads them."""
    pytest.importorskip("fastapi", reason="LiteLLM's proxy extra is not installed")
    uaka = importlib.import_module(UAKA)
    rc = importlib.import_module(RC)
    assert DB in sys.modules  # the auth loads it
    return uaka, rc


def _db_check(error: BaseException | None = None) -> tuple[Any, ...]:
    """``is_exception_related_to_db`` as the DB-metrics wrapper calls it (inside its ``except``):
    its answer, or its error's class, args, name, path, context and formatted traceback."""
    check = sys.modules[DB].is_exception_related_to_db
    try:
        raise error or RuntimeError("no database")
    except Exception as handled:
        try:
            return ("ok", check(handled))
        except Exception as e:  # noqa: BLE001 - the same error is part of the comparison
            context = (e.__context__ is handled, e.__cause__, e.__suppress_context__)
            return ("raised", type(e), e.args, e.name, e.path, context, traceback.format_exception(e))  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def proxy_import_system(monkeypatch) -> None:
    """The import system of a proxy worker: without pytest's assertion-rewriting import hook
    (the accelerator trusts no finder it does not know, so under pytest it would never skip)."""
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if "pytest" not in type(f).__module__])


@pytest.fixture()
def switch(proxy_auth) -> Iterator[Callable[[bool], None]]:
    def set_on(on: bool) -> None:
        # An earlier test may have installed it before the auth modules were loaded: installing
        # again replaces in them (``refresh``).
        accel.install({"failed_imports"} if on else False)
        failed_imports.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


@pytest.fixture()
def no_enterprise() -> Iterator[None]:
    """Forget any ``litellm_enterprise`` a test put in place, so the next test starts without it."""
    yield
    for name in [n for n in sys.modules if n == "litellm_enterprise" or n.startswith("litellm_enterprise.")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def _fast() -> int:
    return failed_imports.counts().get("fast", 0)


def _user() -> Any:
    from litellm.proxy._types import UserAPIKeyAuth

    return UserAPIKeyAuth(api_key="sk-test")


def _enterprise_package(root: Path) -> Path:
    pkg = root / "litellm_enterprise" / "proxy" / "auth"
    pkg.mkdir(parents=True)
    for d in (root / "litellm_enterprise", root / "litellm_enterprise" / "proxy", pkg):
        (d / "__init__.py").write_text("")
    (pkg / "route_checks.py").write_text(ENTERPRISE_ROUTE_CHECKS)
    return root / "litellm_enterprise"


def _bump_mtime(path: Path) -> None:
    """A directory entry added within the filesystem's timestamp granularity leaves the mtime as
    it was, for importlib as for us: give the change a distinct mtime, as a later install has."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_same_results_and_import_state_on_and_off(proxy_auth, switch):
    uaka, rc = proxy_auth
    if importlib.util.find_spec("opentelemetry.sdk") is not None:
        pytest.fail("opentelemetry-sdk is installed: this test needs the proxy's default environment")
    results: dict[bool, Any] = {}
    for on in (False, True, False):
        switch(on)
        got = []
        for _ in range(5):
            got.append(uaka._seed_request_destinations(_user(), None))
            got.append(rc.RouteChecks.check_route_enabled("/chat/completions"))
            got.append(rc.RouteChecks.should_call_route("/chat/completions", valid_token=_user()))
            got.append(_db_check())
        loaded = sorted(n for n in sys.modules if any(k in n for k in ("otel.logger", "enterprise", "prisma")))
        results[on] = (got, loaded)
        if on:
            # the first call of each import runs it; every later one (through LiteLLM's callers too) skips it
            assert _fast() >= 3 * 5 - 3 + 5, failed_imports.counts()
    assert results[True] == results[False]


def test_a_package_added_to_sys_path_is_imported(proxy_auth, switch, tmp_path, monkeypatch, no_enterprise):
    from fastapi import HTTPException

    _, rc = proxy_auth
    switch(True)
    for _ in range(3):
        rc.RouteChecks.check_route_enabled("/blocked")
    assert _fast() == 2
    _enterprise_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HTTPException) as caught:
        rc.RouteChecks.check_route_enabled("/blocked")
    assert caught.value.status_code == 403
    assert rc.RouteChecks.check_route_enabled("/chat/completions") is None


def test_a_package_installed_into_a_searched_directory_is_imported(
    proxy_auth, switch, tmp_path, monkeypatch, no_enterprise
):
    from fastapi import HTTPException

    _, rc = proxy_auth
    monkeypatch.syspath_prepend(str(tmp_path))  # searched, and empty for now
    switch(True)
    for _ in range(3):
        rc.RouteChecks.check_route_enabled("/blocked")
    assert _fast() == 2
    _enterprise_package(tmp_path)
    _bump_mtime(tmp_path)
    with pytest.raises(HTTPException):
        rc.RouteChecks.check_route_enabled("/blocked")


def test_a_setuptools_finder_that_learns_the_name_is_asked_again(
    proxy_auth, switch, tmp_path, monkeypatch, no_enterprise
):
    """setuptools' finder answers a top-level name through a ``spec_for_<name>`` method: one
    added after the failure was remembered must be asked, as the import system would ask it."""
    from fastapi import HTTPException

    hack = pytest.importorskip("_distutils_hack", reason="setuptools' distutils hack is not installed")
    finder = next((f for f in sys.meta_path if type(f) is hack.DistutilsMetaFinder), None)
    if finder is None:
        finder = hack.DistutilsMetaFinder()
        monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    _, rc = proxy_auth
    switch(True)
    for _ in range(3):
        rc.RouteChecks.check_route_enabled("/blocked")
    assert _fast() == 2, failed_imports.counts()
    pkg = _enterprise_package(tmp_path)  # not on sys.path: only the finder can find it
    spec = importlib.util.spec_from_file_location(
        "litellm_enterprise", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    monkeypatch.setattr(finder, "spec_for_litellm_enterprise", lambda: spec, raising=False)
    with pytest.raises(HTTPException) as caught:
        rc.RouteChecks.check_route_enabled("/blocked")
    assert caught.value.status_code == 403


def test_invalidate_caches_and_chdir_run_the_import_again(proxy_auth, switch, tmp_path, monkeypatch):
    _, rc = proxy_auth
    monkeypatch.syspath_prepend("")  # the current directory, as `python -m` and the REPL search it
    switch(True)
    for _ in range(2):
        rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 1
    importlib.invalidate_caches()
    rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 1 and failed_imports.counts()["litellm:import-attempted"] == 2
    monkeypatch.chdir(tmp_path)
    rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 1
    rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 2
    # one directory's finder forgets its listing (importlib.invalidate_caches does this to each)
    sys.path_importer_cache[str(tmp_path)].invalidate_caches()
    rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 2
    rc.RouteChecks.check_route_enabled("/chat/completions")
    assert _fast() == 3


def test_an_import_hook_sees_every_search(proxy_auth, switch, monkeypatch):
    """pytest's own hook is such a finder: the fixture above takes it out, this test adds one."""
    uaka, rc = proxy_auth

    class Watcher:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            self.asked.append(name)

    seen = {}
    for on in (False, True):
        switch(on)
        watcher = Watcher()
        with monkeypatch.context() as m:
            m.setattr(sys, "meta_path", [watcher, *sys.meta_path])
            for _ in range(4):
                rc.RouteChecks.check_route_enabled("/chat/completions")
                uaka._seed_request_destinations(_user(), None)
                _db_check()
        seen[on] = watcher.asked
        assert _fast() == 0
    assert seen[True] == seen[False]
    assert seen[True].count("litellm_enterprise") == 4 and seen[True].count("opentelemetry.sdk") == 4
    assert seen[True].count("prisma") == 4


def test_debug_logging_and_a_logger_double_get_litellms_message(proxy_auth, switch, caplog, monkeypatch):
    uaka, _ = proxy_auth
    messages = {}
    for on in (False, True):
        switch(on)
        uaka._seed_request_destinations(_user(), None)  # learned (on)
        with caplog.at_level(logging.DEBUG, logger=uaka.verbose_proxy_logger.name):
            caplog.clear()
            uaka._seed_request_destinations(_user(), None)
            messages[on] = [r.getMessage() for r in caplog.records if "OTel V2" in r.getMessage()]
        double = um.MagicMock(wraps=uaka.verbose_proxy_logger)
        with monkeypatch.context() as m:
            m.setattr(uaka, "verbose_proxy_logger", double)
            uaka._seed_request_destinations(_user(), None)
        assert double.debug.call_count == 1
        assert str(double.debug.call_args.args[1]) == "No module named 'opentelemetry.sdk'"
    expected = "OTel V2: tenant destination resolution failed: No module named 'opentelemetry.sdk'"
    assert messages[True] == messages[False] == [expected]
    assert failed_imports.counts()["litellm:debug-logging"] == 2
    uaka._seed_request_destinations(_user(), None)
    assert _fast() == 1  # remembered all along: only the logging made it run


def _fake_target(root: Path) -> Path:
    """A package whose module's header imports a helper, then a module that is not installed."""
    (root / "eqfake_pkg").mkdir()
    (root / "eqfake_pkg" / "__init__.py").write_text("")
    (root / "eqfake_helper.py").write_text("VALUE = 1\nRUNS = []\n")
    header = root / "eqfake_pkg" / "mod.py"
    header.write_text(
        textwrap.dedent(
            '''
            """A header that runs only imports before the one that fails."""
            import json
            import eqfake_helper
            from eqfake_helper import VALUE
            import eqfake_not_installed.sub
            '''
        )
    )
    return header


def test_a_header_that_would_run_something_new_is_run_again(tmp_path, monkeypatch):
    header = _fake_target(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    miss = failed_imports._Miss("eqfake_pkg.mod")

    def attempt() -> None:
        with pytest.raises(ModuleNotFoundError) as caught:
            importlib.import_module("eqfake_pkg.mod")
        miss.learn(caught.value)

    try:
        attempt()
        assert miss.holds()
        helper = sys.modules["eqfake_helper"]
        del helper.VALUE  # `from eqfake_helper import VALUE` would now fail another way
        assert not miss.holds()
        helper.VALUE = 1
        assert miss.holds()
        del sys.modules["eqfake_helper"]  # the header would import (run) it again
        assert not miss.holds()
        attempt()
        assert miss.holds()
        _bump_mtime(header)  # the header's file changed
        assert not miss.holds()
        attempt()
        assert miss.holds()
        sys.modules["eqfake_not_installed"] = type(sys)("eqfake_not_installed")  # now loaded
        assert not miss.holds()
    finally:
        for name in ("eqfake_helper", "eqfake_pkg", "eqfake_pkg.mod", "eqfake_not_installed"):
            sys.modules.pop(name, None)


def test_a_header_that_runs_code_is_not_remembered(tmp_path, monkeypatch):
    (tmp_path / "eqfake_code.py").write_text("print('side effect')\nimport eqfake_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    miss = failed_imports._Miss("eqfake_code")
    with pytest.raises(ModuleNotFoundError) as caught:
        importlib.import_module("eqfake_code")
    miss.learn(caught.value)
    assert not miss.holds()


def test_switch_and_uninstall_restore_litellm(proxy_auth, monkeypatch):
    uaka, rc = proxy_auth
    before = (uaka._seed_request_destinations, rc.RouteChecks.__dict__["check_route_enabled"])
    code_before = sys.modules[DB].is_exception_related_to_db.__code__
    try:
        assert "failed_imports" in accel.install({"failed_imports"})
        assert uaka._seed_request_destinations is failed_imports.seed_request_destinations
        assert accel.status()["failed_imports"]["state"] == "installed"
        assert accel.status()["failed_imports"]["in_effect"] == list(failed_imports._REPLACES)
        assert accel.problems()["failed_imports"] == []
        with um.patch.object(uaka, "_seed_request_destinations", lambda *a, **k: None):
            # a caller's double in its place: no longer replaced by the accelerator
            assert accel.status()["failed_imports"]["in_effect"] == [failed_imports._ROUTE, failed_imports._DB_CHECK]
        check = sys.modules[DB].is_exception_related_to_db
        guarded, check.__code__ = check.__code__, failed_imports._orig["db_code"][1]  # LiteLLM's code back
        try:
            assert accel.status()["failed_imports"]["in_effect"] == [failed_imports._SEED, failed_imports._ROUTE]
        finally:
            check.__code__ = guarded
        monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "failed_imports")
        assert "failed_imports" not in accel.install(True)
        assert accel.status()["failed_imports"]["state"] == "off"
        assert (uaka._seed_request_destinations, rc.RouteChecks.__dict__["check_route_enabled"]) == before
        assert check.__code__ is code_before
    finally:
        accel.install(False)


def test_installed_before_the_proxy_loads_it_replaces_once_the_handler_is_resolved():
    """A script that installs, then starts the proxy: the auth modules load after ``install()``.
    ``status()`` names nothing replaced until the proxy resolves ``custom_handler:
    edgequake_litellm.handler``, which replaces in them (a subprocess: this one has them loaded)."""
    script = textwrap.dedent(
        f"""
        import importlib, sys
        import edgequake_litellm
        from edgequake_litellm import accel
        from edgequake_litellm.accel import failed_imports
        assert {UAKA!r} not in sys.modules and {RC!r} not in sys.modules
        edgequake_litellm.install()
        state = accel.status()["failed_imports"]
        print("installed", state["state"], state["in_effect"])
        uaka, rc = importlib.import_module({UAKA!r}), importlib.import_module({RC!r})
        print("loaded", accel.status()["failed_imports"]["in_effect"])
        edgequake_litellm.handler  # what the proxy's config loader resolves
        print("resolved", accel.status()["failed_imports"]["in_effect"])
        check = sys.modules[{DB!r}].is_exception_related_to_db
        code = check.__code__
        print("ours", uaka._seed_request_destinations is failed_imports.seed_request_destinations,
              rc.RouteChecks.__dict__["check_route_enabled"].__func__ is failed_imports.check_route_enabled,
              code is failed_imports._orig["db_code"][2])
        accel.uninstall()
        print("restored", uaka._seed_request_destinations is failed_imports._orig["seed"],
              rc.RouteChecks.__dict__["check_route_enabled"].__func__ is failed_imports._orig["route"],
              check.__code__ is not code)
        """
    )
    assert with_default_accelerators(script) == [
        "installed installed []",
        "loaded []",
        f"resolved {list(failed_imports._REPLACES)}",
        "ours True True True",
        "restored True True True",
    ]


def with_default_accelerators(script: str) -> list[str]:
    """The lines ``script`` prints in a fresh interpreter with the default accelerators (the
    suite's ``EDGEQUAKE_ACCEL=0`` and any switch removed)."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("EDGEQUAKE_ACCEL", None)
    env.pop("EDGEQUAKE_ACCEL_DISABLE", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.splitlines()


def test_refused_when_litellm_changed_a_replaced_function(proxy_auth, monkeypatch):
    uaka, _ = proxy_auth

    def _seed_request_destinations(user_api_key_dict: Any, request: Any = None) -> None:
        return None

    monkeypatch.setattr(uaka, "_seed_request_destinations", _seed_request_destinations)
    found = accel.problems()["failed_imports"]
    assert any("_seed_request_destinations" in p for p in found), found
    with pytest.warns(RuntimeWarning, match="failed_imports"):
        assert "failed_imports" not in accel.install({"failed_imports"})
    accel.install(False)


def test_import_time_tracing_sees_every_attempt(proxy_auth):
    """``-X importtime`` prints a line per import attempt, failed ones too: with it on, every
    attempt runs (a subprocess: the option is the interpreter's, fixed at startup)."""
    script = textwrap.dedent(
        """
        import sys
        from litellm.proxy.auth.route_checks import RouteChecks
        from edgequake_litellm import accel
        from edgequake_litellm.accel import failed_imports
        for on in (False, True):
            accel.install({"failed_imports"} if on else False)
            print(f"-- {on}", file=sys.stderr, flush=True)
            for _ in range(3):
                RouteChecks.check_route_enabled("/chat/completions")
        print(f"-- counts {failed_imports.counts()}", file=sys.stderr, flush=True)
        """
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "EDGEQUAKE_ACCEL": "0"}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    sections = out.stderr.split("-- ")
    off = next(s for s in sections if s.startswith("False"))
    on = next(s for s in sections if s.startswith("True"))
    assert off.count("| litellm_enterprise") == on.count("| litellm_enterprise") == 3, out.stderr[-2000:]
    assert "'fast'" not in sections[-1], sections[-1]


def test_the_db_check_keeps_litellms_code_but_for_the_guarded_import(proxy_auth, switch):
    """The replaced code is LiteLLM's function compiled again: its file, lines and names, and a
    remembered failure raised in its frame at the import's line."""
    check = sys.modules[DB].is_exception_related_to_db
    theirs = check.__code__
    switch(True)
    ours = check.__code__
    assert ours is failed_imports._orig["db_code"][2] and ours is not theirs
    for attr in ("co_filename", "co_firstlineno", "co_name", "co_qualname", "co_argcount", "co_flags"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    lines = {line for *_, line in ours.co_lines()} - {None}  # None: the handler's cleanup, which raises nothing new
    assert lines == {line for *_, line in theirs.co_lines()}
    assert ours.co_varnames == theirs.co_varnames  # nothing new in its frame's locals
    first, again = _db_check(), _db_check()
    assert _fast() == 1 and first == again
    assert first[-1][-2:] == [
        f'  File "{theirs.co_filename}", line {theirs.co_firstlineno + 6}, in is_exception_related_to_db\n'
        "    from prisma.errors import PrismaError\n",
        "ModuleNotFoundError: No module named 'prisma'\n",
    ]


def test_a_prisma_package_added_to_sys_path_is_imported(proxy_auth, switch, tmp_path, monkeypatch):
    switch(True)
    for _ in range(3):
        assert _db_check()[0] == "raised"
    assert _fast() == 2
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "__init__.py").write_text("")
    (tmp_path / "prisma" / "errors.py").write_text("class PrismaError(Exception):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        from prisma.errors import PrismaError  # type: ignore[import-not-found]

        del sys.modules["prisma.errors"], sys.modules["prisma"]
        assert _db_check(PrismaError("down")) == ("ok", False)  # a fresh class: not the one imported above
        assert _db_check(sys.modules["prisma.errors"].PrismaError("down")) == ("ok", True)
        assert _db_check() == ("ok", False)
    finally:
        for name in ("prisma", "prisma.errors"):
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
    assert _fast() == 2


def test_only_a_single_top_level_prisma_import_is_guarded(tmp_path):
    source = textwrap.dedent(
        """
        def none(e):
            return False

        def twice(e):
            from prisma.errors import PrismaError
            from prisma.errors import PrismaError as Again
            return isinstance(e, (PrismaError, Again))

        def nested(e):
            if e:
                from prisma.errors import PrismaError
                return isinstance(e, PrismaError)
            return False

        def once(e):
            from prisma.errors import PrismaError
            return isinstance(e, PrismaError)
        """
    )
    (tmp_path / "eqfake_checks.py").write_text(source)
    spec = importlib.util.spec_from_file_location("eqfake_checks", tmp_path / "eqfake_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert [failed_imports._guarded_code(f) for f in (module.none, module.twice, module.nested)] == [None] * 3
    guarded = failed_imports._guarded_code(module.once)
    assert guarded is not None
    module.once.__code__ = guarded
    with pytest.raises(ModuleNotFoundError, match="No module named 'prisma'"):
        module.once(None)
