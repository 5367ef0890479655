"""Proxies from the environment, honoured as httpx (LiteLLM's client) honours them.

Each case starts a fresh process (both clients read the variables when they are built) with
the proxy variables set, makes the same call through LiteLLM's native ``openai/`` path and
through ``edgequake/openai/``, and asks the local recording proxy what each one sent it:
a ``CONNECT host:port`` tunnel for an https:// upstream, an absolute-form request for an
http:// one, or nothing when ``NO_PROXY`` (or the scheme) says to go direct. Both paths must
reach the upstream and leave the same records. ``NO_PROXY`` follows httpx's patterns, not
curl's: ``.example.com`` is subdomains only, ``scheme://host:port`` entries count, a CIDR
block is not a range.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from .conftest import KEY
from .netutil import LoopThread, Pki, RecordingProxy, TlsFront, make_pki

_SCRIPT = textwrap.dedent(
    """
    import json, os, shutil, sys
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm, edgequake_litellm
    from tests.netutil import fetch_records
    edgequake_litellm.install()
    proxy, ca, key = sys.argv[1:4]
    results = {}
    for i, case in enumerate(json.loads(sys.stdin.read())):
        for var in list(os.environ):
            if var.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
                del os.environ[var]
        os.environ.update(case["env"])
        # Both clients read the proxy variables when they are built: a CA bundle path of
        # its own per case makes each side build a fresh client (LiteLLM's cache dropped too).
        litellm.ssl_verify = shutil.copy(ca, f"{ca}.{i}.pem")
        litellm.in_memory_llm_clients_cache.flush_cache()
        out = {}
        for name, model in (("native", "openai/gpt-4o-mini"), ("ours", "edgequake/openai/gpt-4o-mini")):
            before = len(fetch_records(proxy))
            try:
                r = litellm.completion(model=model, messages=[{"role": "user", "content": "via proxy"}],
                                       api_key=key, api_base=case["base"], max_retries=0, timeout=10)
                result = r.choices[0].message.content
            except Exception as e:
                result = f"{type(e).__name__}: {e}"
            out[name] = {"result": result, "records": fetch_records(proxy)[before:]}
        results[case["id"]] = out
    print(json.dumps(results))
    """
)

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, upstream) -> Iterator[dict]:  # noqa: ANN001
    loop = LoopThread()
    pki: Pki = make_pki(tmp_path_factory.mktemp("pki"))
    host, port = upstream.url.removeprefix("http://").rsplit(":", 1)
    front = TlsFront(loop, pki.cert, pki.key, (host, int(port)))
    proxy = RecordingProxy(loop)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens: using it fails the call
    s.close()
    yield {"pki": pki, "front": front, "proxy": proxy, "upstream": upstream, "dead": dead}
    loop.stop()


# (id, environment with {proxy}/{dead} placeholders, upstream scheme, expected record kind or None)
CASES = [
    ("https_proxy_upper", {"HTTPS_PROXY": "{proxy}"}, "https", "CONNECT"),
    ("https_proxy_lower", {"https_proxy": "{proxy}"}, "https", "CONNECT"),
    ("https_proxy_without_scheme", {"HTTPS_PROXY": "{proxy_noscheme}"}, "https", "CONNECT"),
    ("lower_case_wins_over_upper", {"HTTPS_PROXY": "{dead}", "https_proxy": "{proxy}"}, "https", "CONNECT"),
    ("all_proxy", {"ALL_PROXY": "{proxy}"}, "https", "CONNECT"),
    ("no_proxy_host", {"HTTPS_PROXY": "{dead}", "NO_PROXY": "example.com, localhost"}, "https", None),
    ("no_proxy_lower", {"https_proxy": "{dead}", "no_proxy": "localhost"}, "https", None),
    ("no_proxy_star", {"HTTPS_PROXY": "{dead}", "NO_PROXY": "*"}, "https", None),
    ("no_proxy_other_host", {"HTTPS_PROXY": "{proxy}", "NO_PROXY": "example.com,notlocalhost"}, "https", "CONNECT"),
    (
        "no_proxy_leading_dot_is_subdomains_only",
        {"HTTPS_PROXY": "{proxy}", "NO_PROXY": ".localhost"},
        "https",
        "CONNECT",
    ),
    ("no_proxy_scheme_host_port", {"HTTPS_PROXY": "{dead}", "NO_PROXY": "https://localhost:{tls_port}"}, "https", None),
    ("no_proxy_other_port", {"HTTPS_PROXY": "{proxy}", "NO_PROXY": "localhost:1"}, "https", "CONNECT"),
    ("http_proxy_not_for_https", {"HTTP_PROXY": "{dead}"}, "https", None),
    ("http_proxy_forwards_http", {"HTTP_PROXY": "{proxy}"}, "http", "FORWARD"),
    ("no_proxy_ip", {"HTTP_PROXY": "{dead}", "NO_PROXY": "127.0.0.1"}, "http", None),
    ("no_proxy_cidr_is_not_a_range", {"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.0/8"}, "http", "FORWARD"),
    ("https_proxy_not_for_http", {"HTTPS_PROXY": "{dead}"}, "http", None),
]


def _case(net: dict, env: dict[str, str], scheme: str) -> tuple[dict[str, str], str, str]:
    fill = {
        "proxy": net["proxy"].url,
        "proxy_noscheme": net["proxy"].url.removeprefix("http://"),
        "dead": net["dead"],
        "tls_port": net["front"].port,
    }
    env = {k: v.format(**fill) for k, v in env.items()}
    if scheme == "https":
        return env, net["front"].base_url("localhost"), f"localhost:{net['front'].port}"
    base = net["upstream"].base_url()
    return env, base, base + "/chat/completions"


@pytest.fixture(scope="module")
def results(net: dict) -> dict:
    """Every case, run once in one fresh process."""
    cases = []
    for cid, env, scheme, _ in CASES:
        env, base, _target = _case(net, env, scheme)
        cases.append({"id": cid, "env": env, "base": base})
    clean = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS and k != "REQUEST_METHOD"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, net["proxy"].url, str(net["pki"].ca), KEY],
        input=json.dumps(cases),
        env={**clean, "PYTHONPATH": root},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("env", "scheme", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_proxy_env_like_httpx(net, results, request, env, scheme, kind):
    _, _, target = _case(net, env, scheme)
    out = results[request.node.callspec.id]
    for name in ("native", "ours"):
        assert out[name]["result"] == "Echo: via proxy", (name, out[name])
    expected = [] if kind is None else [[kind, target]]
    assert out["native"]["records"] == expected, out  # the case describes httpx correctly
    assert out["ours"]["records"] == expected, out
