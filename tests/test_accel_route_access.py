"""The ``route_access`` accelerator against LiteLLM's ``RouteChecks.check_route_access``: the same
answer, remembered, for every route list LiteLLM declares against a corpus of paths built from
them; LiteLLM's function for other shapes, for a list changed since, and while a double sits on
what it reads; errors never remembered; the memo bounded; restored by ``uninstall()``."""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import route_access

from .test_accel_failed_imports import with_default_accelerators

RC = "litellm.proxy.auth.route_checks"


@pytest.fixture()
def checks(litellm) -> Iterator[Any]:
    """``RouteChecks`` with the accelerator on (the proxy's auth module loaded, as a worker has it)."""
    pytest.importorskip("fastapi", reason="LiteLLM's proxy extra is not installed")
    rc = importlib.import_module(RC)
    accel.install({"route_access"})
    route_access.reset_counts()
    assert route_access._in_effect() == [route_access._ACCESS]
    yield rc.RouteChecks
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


def _lists() -> dict[str, Any]:
    from litellm.proxy._types import LiteLLMRoutes

    return {name: member.value for name, member in LiteLLMRoutes.__members__.items()}


def _instances(entry: str) -> list[str]:
    """Paths an entry may or may not match: itself, each template filled in several ways (a slash,
    a colon, a newline, empty), a wildcard's prefix with and without more, and near misses."""
    out = [entry, entry + "/", entry.rstrip("/"), entry.upper(), entry + "x", "/v1" + entry, entry[:-1]]
    if "{" in entry:
        for value in ("abc", "a/b", "a:b", "a\nb", "", "thread_49EIN5QF32s4mH20M7GFKdlZ"):
            out.append(re.sub(r"\{[^}]+\}", lambda _m, v=value: v, entry))  # type: ignore[misc]
    if entry.endswith("*"):
        out += [entry[:-1], entry[:-1] + "a/b/c", entry[:-2]]
    return out


def _corpus(lists: dict[str, Any]) -> list[str]:
    paths = {"", "/", "/chat/completions", "/v1/chat/completions", "/%0A", "/health", "//", "*"}
    for entries in lists.values():
        for entry in list(entries)[::8]:  # every eighth entry of each list keeps the run short
            paths.update(_instances(entry))
    return sorted(paths)


def _outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - the same error is part of the comparison
        return ("raised", type(e), str(e))


def test_every_route_list_against_a_corpus_of_paths(checks):
    """Each (path, list) asked twice: the second answer comes from the memo and equals LiteLLM's."""
    theirs = route_access._orig["theirs"]
    lists = _lists()
    paths = _corpus(lists)
    diffs, pairs = [], 0
    for name, entries in lists.items():
        for path in paths:
            expected = _outcome(theirs, path, entries)
            first = _outcome(checks.check_route_access, path, entries)
            again = _outcome(checks.check_route_access, path, entries)
            pairs += 1
            if not expected == first == again:
                diffs.append((name, path, expected, first, again))
    assert not diffs, diffs[:5]
    counts = route_access.counts()
    assert counts == {"litellm:first": pairs, "fast": pairs}, counts
    answers = [theirs(p, entries) for entries in lists.values() for p in paths]
    assert 0.005 < sum(answers) / len(answers) < 0.995  # the corpus has both answers


def test_other_collections_and_orders_get_their_own_answers(checks):
    entries = ["/threads/{thread_id}", "/bedrock/*", "/chat/completions"]
    theirs = route_access._orig["theirs"]
    for kind in (list, tuple, set, frozenset, lambda e: list(reversed(e))):
        for path in ("/threads/t1", "/bedrock/x", "/chat/completions", "/nowhere"):
            value = kind(entries)
            assert checks.check_route_access(path, value) == theirs(path, value)
            assert checks.check_route_access(path, value) == theirs(path, value)


def test_a_list_changed_since_gets_a_new_answer(checks):
    entries = ["/a", "/b/*"]
    assert checks.check_route_access("/c/d", entries) is False
    assert checks.check_route_access("/c/d", entries) is False  # remembered
    entries.append("/c/{x}")
    assert checks.check_route_access("/c/d", entries) is True
    entries[2] = "/c"
    assert checks.check_route_access("/c/d", entries) is False


class _Prefixed(str):
    """A path whose ``startswith`` says yes to everything: LiteLLM's wildcard test reads it."""

    def startswith(self, *args: Any) -> bool:  # type: ignore[override]
        return True


def test_other_shapes_run_litellms_function(checks):
    theirs = route_access._orig["theirs"]
    entries = ["/bedrock/*", "/threads/{thread_id}"]
    cases = (
        lambda: (_Prefixed("/nowhere"), entries),  # a str subclass path
        lambda: ("/bedrock/x", [_Prefixed("/bedrock/*")]),  # a str subclass entry
        lambda: (None, entries),
        lambda: (b"/bedrock/x", entries),
        lambda: ("/bedrock/x", {"/bedrock/*": 1}),  # another collection
        lambda: ("/bedrock/x", iter(["/bedrock/*"])),
        lambda: ("/bedrock/x", ["/bedrock/*", None]),
    )
    for case in cases:
        for _ in range(2):
            assert _outcome(checks.check_route_access, *case()) == _outcome(theirs, *case()), case()
    assert checks.check_route_access(_Prefixed("/nowhere"), entries) is True  # its startswith was read
    counts = route_access.counts()
    assert set(counts) == {"litellm:shape"}, counts


def test_errors_are_never_remembered(checks):
    """An entry that is not a valid pattern: LiteLLM's error every time, never a remembered answer."""
    entries = ["/ok", "/broken/(unclosed"]
    theirs = route_access._orig["theirs"]
    expected = _outcome(theirs, "/nowhere", entries)
    assert expected[0] == "raised" and expected[1] is re.error, expected
    for _ in range(3):
        assert _outcome(checks.check_route_access, "/nowhere", entries) == expected
    assert checks.check_route_access("/ok", entries) is True  # found before the broken entry
    assert not any(key[1] == tuple(entries) and key[0] == "/nowhere" for key in route_access._memo)


@pytest.mark.parametrize("helper", route_access._HELPERS)
def test_a_double_on_a_helper_sees_every_call(checks, helper):
    entries = ["/a/*", "/threads/{thread_id}"]
    assert checks.check_route_access("/nowhere", entries) is False  # remembered
    original = vars(checks)[helper].__func__
    with um.patch.object(checks, helper, side_effect=original) as double:
        assert checks.check_route_access("/nowhere", entries) is False
        assert double.call_count >= 1
    assert route_access.counts().get("litellm:double") == 1
    assert checks.check_route_access("/nowhere", entries) is False
    assert route_access.counts().get("fast") == 1  # the double gone, the memo answers again


def test_a_double_on_re_sees_every_call(checks, monkeypatch):
    entries = ["/threads/{thread_id}"]
    assert checks.check_route_access("/runs/1", entries) is False
    calls: list[tuple[str, str]] = []
    real_match = re.match

    def match(pattern: str, string: str, *args: Any) -> Any:
        calls.append((pattern, string))
        return real_match(pattern, string, *args)

    monkeypatch.setattr(re, "match", match)
    assert checks.check_route_access("/runs/1", entries) is False
    assert calls == [("^/threads/[^/]+$", "/runs/1")]
    monkeypatch.undo()
    module = sys.modules[RC]
    monkeypatch.setattr(module, "re", types.SimpleNamespace(sub=re.sub, match=lambda p, s: True, Match=re.Match))
    assert checks.check_route_access("/runs/1", entries) is True  # the double's answer


def test_the_memo_is_bounded(checks, monkeypatch):
    monkeypatch.setattr(route_access, "_LIMIT", 8)
    theirs = route_access._orig["theirs"]
    entries = ["/threads/{thread_id}", "/bedrock/*"]
    for i in range(50):
        path = f"/threads/t{i}" if i % 2 else f"/other/{i}"
        assert checks.check_route_access(path, entries) == theirs(path, entries)
        assert len(route_access._memo) <= 8 and len(route_access._lists) <= 8
    # every key of one list holds the same tuple of its entries, not a copy per path
    assert len({id(key[1]) for key in route_access._memo}) == 1


def test_uninstall_restores_litellms_function_and_a_caller_replacement_stays(checks):
    raw = route_access._orig["raw"]
    accel.install(False)
    assert vars(checks)["check_route_access"] is raw
    assert route_access._memo == {}
    accel.install({"route_access"})
    mine = staticmethod(lambda route, allowed: True)
    try:
        checks.check_route_access = mine  # a caller's replacement over ours
        assert accel.status()["route_access"]["in_effect"] == []
        accel.install(False)
        assert vars(checks)["check_route_access"] is mine
    finally:
        checks.check_route_access = raw


def test_refused_when_litellm_changed_a_helper(checks, monkeypatch):
    accel.install(False)
    monkeypatch.setattr(checks, "_route_matches_pattern", staticmethod(lambda route, pattern: False))
    found = accel.problems()["route_access"]
    assert any("_route_matches_pattern" in p for p in found), found
    with pytest.warns(RuntimeWarning, match="route_access"):
        assert "route_access" not in accel.install({"route_access"})


def test_installed_before_the_proxy_loads_it_replaces_once_the_handler_is_resolved():
    """A script that installs, then starts the proxy (a subprocess: this one has the module loaded)."""
    script = textwrap.dedent(
        f"""
        import importlib, sys
        import edgequake_litellm
        from edgequake_litellm import accel
        from edgequake_litellm.accel import route_access
        assert {RC!r} not in sys.modules
        edgequake_litellm.install()
        state = accel.status()["route_access"]
        print("installed", state["state"], state["in_effect"])
        rc = importlib.import_module({RC!r})
        print("loaded", accel.status()["route_access"]["in_effect"])
        edgequake_litellm.handler  # what the proxy's config loader resolves
        print("resolved", accel.status()["route_access"]["in_effect"])
        print("ours", rc.RouteChecks.__dict__["check_route_access"].__func__ is route_access.check_route_access)
        accel.uninstall()
        print("restored", rc.RouteChecks.__dict__["check_route_access"] is route_access._orig["raw"])
        """
    )
    assert with_default_accelerators(script) == [
        "installed installed []",
        "loaded []",
        f"resolved {[route_access._ACCESS]}",
        "ours True",
        "restored True",
    ]
