"""Credentials go only to the origin the call targets, and never into logs.

Redirects: the mock upstream answers with a 3xx (``redirect=`` scenario) pointing at the same
origin, or at another one (another port, or ``localhost`` instead of ``127.0.0.1``). Both
paths follow it as httpx does (301/302/303 become GET, 307/308 resend the POST) and the
credentials (``Authorization``, Azure's ``api-key``) reach the next hop only when its origin
is the same; the outcome (answer or exception class) equals LiteLLM's native one.

Logs: with LiteLLM's verbose logging on, a call that succeeds and one that fails leave no
trace of a recognisable key in anything logged or printed.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from .conftest import KEY
from .test_faults import _assert_no_key, _assert_same_exception, _call, _cls

MSGS = [{"role": "user", "content": "redirected"}]
AZURE_VERSION = "2024-10-21"


def _targets(mock) -> dict[str, str]:  # noqa: ANN001
    port = mock.url.rsplit(":", 1)[1]
    other = quote(f"http://localhost:{port}", safe="")
    # A second mock would give another port; another host name is enough for a new origin.
    return {"same_origin": "", "other_host": f",to={other}"}


def _secrets(request: dict) -> dict[str, str]:
    return {k: v for k, v in request["headers"].items() if k.lower() in ("authorization", "api-key")}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("where", ["same_origin", "other_host"])
@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_redirects_like_httpx_without_leaking_credentials(litellm, mock, status, where, provider):
    scenario = f"redirect={status}{_targets(mock)[where]}"
    base = mock.url if provider == "azure" else mock.base_url()
    base = base.replace(mock.url, f"{mock.url}/s/{scenario}")
    extra = {"api_version": AZURE_VERSION} if provider == "azure" else {}
    seen = {}
    outs = {}
    for name, model in (("native", f"{provider}/gpt-4o-mini"), ("ours", f"edgequake/{provider}/gpt-4o-mini")):
        mock.reset()
        outs[name] = _call(litellm, model, base, timeout=5, messages=MSGS, **extra)
        seen[name] = mock.requests()
    # First hop: the redirect itself, with credentials (it is the call's own origin).
    for name in ("native", "ours"):
        first, *rest = seen[name]
        assert first["path"].startswith("/s/redirect"), seen[name]
        assert _secrets(first), (name, first["headers"])
        assert len(rest) == 1, (name, seen[name])
    hop = {name: seen[name][1] for name in seen}
    assert hop["ours"]["method"] == hop["native"]["method"] == ("POST" if status in (307, 308) else "GET")
    assert hop["ours"]["path"] == hop["native"]["path"]
    if where == "same_origin":
        assert _secrets(hop["ours"]) == _secrets(seen["ours"][0])
    else:
        assert _secrets(hop["ours"]) == {}, hop["ours"]["headers"]
        assert KEY not in str(hop["ours"]["headers"])
    native, ours = outs["native"], outs["ours"]
    if native.exc is None:
        assert ours.exc is None, _cls(ours.exc)
        assert ours.result.choices[0].message.content == native.result.choices[0].message.content
    else:
        assert ours.exc is not None, ours.result
        _assert_same_exception(native.exc, ours.exc)
        _assert_no_key(ours.exc)


def test_redirect_loop_ends_in_an_error(litellm, mock):
    """A redirect to itself stops after httpx's 20 hops, both ways."""
    base = mock.base_url("redirect=307,loop")
    mock.reset()
    native = _call(litellm, "openai/gpt-4o-mini", base, timeout=5)
    ours = _call(litellm, "edgequake/openai/gpt-4o-mini", base, timeout=5)
    assert native.exc is not None and ours.exc is not None
    _assert_same_exception(native.exc, ours.exc)
    assert len(mock.requests()) == 2 * 21  # the first request and 20 redirects, each


@pytest.mark.parametrize("scenario", [None, "status=401", "status=500", "malformed_json"])
@pytest.mark.parametrize("stream", [False, True])
def test_key_never_logged_with_verbose_logging(litellm, mock, caplog, capsys, monkeypatch, scenario, stream):
    monkeypatch.setattr(litellm, "set_verbose", True)
    loggers = [logging.getLogger(n) for n in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")]
    levels = [lg.level for lg in loggers]
    litellm._turn_on_debug()
    try:
        with caplog.at_level(logging.DEBUG):
            out = _call(litellm, "edgequake/openai/gpt-4o-mini", mock.base_url(scenario), timeout=5, stream=stream)
            logging.getLogger("LiteLLM").debug("control line %s", "CONTROL-MARK")
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    # The capture sees LiteLLM's logger (else this test could not fail).
    assert "CONTROL-MARK" in logged
    assert len(logged) > 200, "verbose logging produced nothing: the test would prove nothing"
    assert "gpt-4o-mini" in logged
    assert KEY not in logged
    assert KEY[-12:] not in logged  # not even a long tail of it
    if scenario is None:
        assert out.exc is None, out.exc
