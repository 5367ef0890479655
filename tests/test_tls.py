"""TLS: certificates are checked as LiteLLM checks them. Each case runs the same call through
LiteLLM's native ``openai/`` path and through ``edgequake/openai/`` against a local HTTPS
server whose certificates the test generated, with the same ``litellm.ssl_verify`` and
environment, and requires the same outcome (success, or the same exception class).

LiteLLM 1.110.2 (``get_ssl_verify``/``get_ssl_configuration``) trusts certifi's bundle by
default, or exclusively ``litellm.ssl_verify``/``SSL_VERIFY`` when it is a bundle path, or
``SSL_CERT_FILE``; ``False`` (also ``SSL_VERIFY=False``) turns checks off;
``REQUESTS_CA_BUNDLE`` is not read; an ``SSLContext`` as ``litellm.ssl_verify`` is not used
(``get_ssl_configuration`` only honours a context passed to it), so the default applies.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgequake_litellm import _core
from edgequake_litellm._tls import ssl_verify

from .conftest import KEY
from .netutil import LoopThread, Pki, TlsFront, make_pki
from .test_faults import NATIVE, OURS, Outcome, _acall, _assert_no_key, _assert_same_exception, _call, _cls

MSGS = [{"role": "user", "content": "over tls"}]


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _upstream_addr(upstream) -> tuple[str, int]:  # noqa: ANN001
    host, port = upstream.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


@pytest.fixture(scope="module")
def front(loop: LoopThread, pki: Pki, upstream) -> TlsFront:  # noqa: ANN001
    return TlsFront(loop, pki.cert, pki.key, _upstream_addr(upstream))


@pytest.fixture(scope="module")
def front_localhost_only(loop: LoopThread, pki: Pki, upstream) -> TlsFront:  # noqa: ANN001
    return TlsFront(loop, pki.cert_localhost_only, pki.key, _upstream_addr(upstream))


@pytest.fixture()
def tls_settings(litellm, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate: no TLS variables, ``litellm.ssl_verify`` at its default, and LiteLLM's
    cached clients dropped (they keep the SSL context they were built with)."""
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSL_VERIFY", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(litellm, "ssl_verify", True)
    litellm.in_memory_llm_clients_cache.flush_cache()
    yield monkeypatch
    litellm.in_memory_llm_clients_cache.flush_cache()


# (id, litellm.ssl_verify, environment, front, host, succeeds). "CA"/"OTHER" stand for the
# test CA's bundle and an unrelated CA's bundle.
CASES = [
    ("default_rejects_unknown_ca", True, {}, "both", "localhost", False),
    ("ssl_verify_bundle_path", "CA", {}, "both", "localhost", True),
    ("ssl_verify_bundle_path_ip_san", "CA", {}, "both", "127.0.0.1", True),
    ("ssl_verify_unrelated_bundle", "OTHER", {}, "both", "localhost", False),
    ("ssl_cert_file", True, {"SSL_CERT_FILE": "CA"}, "both", "localhost", True),
    ("ssl_cert_file_unrelated", True, {"SSL_CERT_FILE": "OTHER"}, "both", "localhost", False),
    ("ssl_verify_path_beats_ssl_cert_file", "CA", {"SSL_CERT_FILE": "OTHER"}, "both", "localhost", True),
    ("ssl_cert_file_missing_file_ignored", True, {"SSL_CERT_FILE": "/nonexistent/ca.pem"}, "both", "localhost", False),
    ("ssl_verify_false", False, {}, "both", "localhost", True),
    ("ssl_verify_env_false", True, {"SSL_VERIFY": "False"}, "both", "localhost", True),
    ("ssl_verify_env_bundle_path", True, {"SSL_VERIFY": "CA"}, "both", "localhost", True),
    ("ssl_verify_string_false", "false", {}, "both", "localhost", True),
    ("requests_ca_bundle_not_read", True, {"REQUESTS_CA_BUNDLE": "CA"}, "both", "localhost", False),
    # LiteLLM 1.110.2 does not use a global SSLContext: it verifies against the default.
    ("ssl_context_ignored", "CTX:CA", {}, "both", "localhost", False),
    ("ssl_context_cert_none_ignored", "CTX:NONE", {}, "both", "localhost", False),
    ("ssl_context_with_ssl_cert_file", "CTX:NONE", {"SSL_CERT_FILE": "CA"}, "both", "localhost", True),
    ("hostname_mismatch", "CA", {}, "localhost_only", "127.0.0.1", False),
    ("hostname_mismatch_unchecked_when_off", False, {}, "localhost_only", "127.0.0.1", True),
]


def _resolve(value: object, pki: Pki) -> object:
    if not isinstance(value, str):
        return value
    if value == "CTX:NONE":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if value.startswith("CTX:"):
        return ssl.create_default_context(cafile=str(_resolve(value[4:], pki)))
    return {"CA": str(pki.ca), "OTHER": str(pki.other_ca)}.get(value, value)


def _apply(monkeypatch: pytest.MonkeyPatch, litellm, pki: Pki, verify: object, env: dict[str, str]) -> None:  # noqa: ANN001
    monkeypatch.setattr(litellm, "ssl_verify", _resolve(verify, pki))
    for k, v in env.items():
        monkeypatch.setenv(k, str(_resolve(v, pki)))


def _assert_outcome(out: Outcome, ok: bool, what: str) -> None:
    if ok:
        assert out.exc is None, f"{what}: {_cls(out.exc)}: {out.exc}"
        assert out.result.choices[0].message.content == "Echo: over tls"
    else:
        assert out.exc is not None, f"{what}: succeeded, the certificate should have been refused"


@pytest.mark.parametrize(("verify", "env", "which", "host", "ok"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tls_like_litellm(litellm, tls_settings, pki, front, front_localhost_only, verify, env, which, host, ok):
    _apply(tls_settings, litellm, pki, verify, env)
    srv = front if which == "both" else front_localhost_only
    base = srv.base_url(host)
    native = _call(litellm, NATIVE, base, timeout=5, messages=MSGS)
    _assert_outcome(native, ok, "native")  # the case describes LiteLLM correctly
    ours = _call(litellm, OURS, base, timeout=5, messages=MSGS)
    _assert_outcome(ours, ok, "edgequake")
    if not ok:
        _assert_same_exception(native.exc, ours.exc)
        _assert_no_key(ours.exc)
    # Async and streamed calls use the same client for the same setting.
    aio = _acall(litellm, OURS, base, timeout=5)
    assert (aio.exc is None) == ok, _cls(aio.exc)
    streamed = _call(litellm, OURS, base, timeout=5, stream=True, messages=MSGS)
    assert (streamed.exc is None) == ok, _cls(streamed.exc)
    if ok:
        text = "".join(c.choices[0].delta.content or "" for c in streamed.chunks)
        assert text == "Echo: over tls"


def test_ssl_verify_follows_litellm_resolution(litellm, tls_settings, pki):
    """The core gets LiteLLM's decision: certifi by default, the bundle path, or False."""
    import certifi

    assert ssl_verify() == certifi.where()
    tls_settings.setattr(litellm, "ssl_verify", str(pki.ca))
    assert ssl_verify() == str(pki.ca)
    tls_settings.setattr(litellm, "ssl_verify", False)
    assert ssl_verify() is False
    tls_settings.setattr(litellm, "ssl_verify", "not a path and not a bool")
    assert ssl_verify() == certifi.where()  # get_ssl_configuration falls back to certifi


def test_unreadable_bundle_is_a_clear_error(tmp_path: Path, front):
    bad = tmp_path / "garbage.pem"
    bad.write_text("not a certificate")
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(_core.CoreError) as ei:
            _core.request("chat", "openai", "m", MSGS, api_key=KEY, api_base=front.base_url(), ssl_verify=str(path))
        assert ei.value.kind == "connection"
        assert str(path) in ei.value.message


_CORE_DEFAULT = textwrap.dedent(
    """
    import json, sys
    from edgequake_litellm import _core
    try:
        body, _, _ = _core.request("chat", "openai", "m", [{"role": "user", "content": "hi"}],
                                   api_key="k", api_base=sys.argv[1], timeout=5, max_retries=0)
        print(json.dumps(body["choices"][0]["message"]["content"]))
    except _core.CoreError as e:
        print(json.dumps(e.kind))
    """
)


def test_core_default_is_the_platform_store_with_ssl_cert_file(front, pki):
    """Without a setting from Python the core trusts the platform store, which honours
    ``SSL_CERT_FILE`` (read once, when the client is built: hence a fresh process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}

    def run(extra: dict[str, str]) -> str:
        out = subprocess.run(
            [sys.executable, "-c", _CORE_DEFAULT, front.base_url()],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert run({}) == "connection"
    assert run({"SSL_CERT_FILE": str(pki.ca)}) == "Echo: hi"
