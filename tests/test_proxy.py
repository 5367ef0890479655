"""End to end through a real LiteLLM proxy server (``litellm --config ...``).

One proxy process serves two deployments of each model against the project's mock upstream:
``ours*`` through the ``edgequake/`` custom provider (registered with
``litellm_settings.custom_provider_map``) and ``native*`` through LiteLLM's own ``openai/`` path.
Every test calls both through the proxy, with the ``openai`` SDK and with raw HTTP, and the
client must not be able to tell them apart: bodies, streams, embeddings, upstream errors and
the ``x-litellm-response-cost`` header.

The proxy needs the packages of requirements-proxy.txt (``litellm[proxy]`` itself cannot be
installed from PyPI for 1.110.2). If they are missing or the proxy does not start, every test
here errors with the reason: these tests never skip.

Known bug (an xfail below): embeddings through the ``openai`` SDK fail on the edgequake route,
since the SDK always sends ``encoding_format`` and the route rejects it with HTTP 400.
Known differences that the assertions leave out (the edgequake route vs the native one):
streamed chunks keep the upstream ``created`` (native restamps all chunks with the proxy's
clock), the finish and usage chunks lack ``system_fingerprint``, the usage chunk lacks
``usage.cost``, streaming responses lack the ``llm_provider-*``/``x-ratelimit-*`` headers, and
non-streaming responses lack the ``x-litellm-response-cost-{original,input,output,...}`` headers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from edgequake_litellm.mock_upstream import MockUpstream

pytestmark = pytest.mark.proxy

MASTER_KEY = "sk-master"
UPSTREAM_KEY = "sk-edgequake-proxy-0123456789abcdef"
READY_TIMEOUT = 90.0  # seconds for the proxy to answer /health/liveliness
CALL_TIMEOUT = 30.0
MSGS = [{"role": "user", "content": "hello through the proxy"}]
# Import names of requirements-proxy.txt's direct packages (checked before starting).
PROXY_MODULES = (
    "fastapi",
    "uvicorn",
    "uvloop",
    "orjson",
    "python_multipart",
    "fastapi_sso",
    "apscheduler",
    "mcp",
    "semver",
    "expression",
    "jwt",
    "cryptography",
    "backoff",
    "websockets",
    "soundfile",
    "redis",
)
# Response headers that differ between any two calls.
VOLATILE_HEADERS = {"date", "content-length", "x-litellm-call-id", "x-litellm-model-id", "x-litellm-model-name"}


# ---------------------------------------------------------------------------------- proxy process


@dataclass
class Proxy:
    mock: MockUpstream
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _config(mock: MockUpstream) -> dict[str, Any]:
    def deployment(name: str, model: str, api_base: str, **extra: Any) -> dict[str, Any]:
        params = {"model": model, "api_base": api_base, "api_key": UPSTREAM_KEY, **extra}
        return {"model_name": name, "litellm_params": params}

    base = mock.base_url()
    slow = mock.base_url("chunk_delay=0.15")
    limited = mock.base_url("status=429,retry_after=3")
    # Inside the proxy the Router forces max_retries=0 into every provider call (the
    # deployment's max_retries never reaches the OpenAI client or the edgequake handler) and
    # retries by itself, num_retries times (default 2), sleeping for retry-after: num_retries=0
    # is what makes the 429 reach the client after one upstream request.
    no_retry = {"max_retries": 0, "num_retries": 0}
    model_list = []
    for prefix, route in (("ours", "edgequake/openai/"), ("native", "openai/")):
        model_list += [
            deployment(prefix, route + "gpt-4o-mini", base),
            deployment(f"{prefix}-emb", route + "text-embedding-3-small", base),
            deployment(f"{prefix}-slow", route + "gpt-4o-mini", slow),
            deployment(f"{prefix}-429", route + "gpt-4o-mini", limited, **no_retry),
            # The documented workaround for SDK embeddings on the edgequake route (docs/proxy.md).
            deployment(f"{prefix}-emb-drop", route + "text-embedding-3-small", base, drop_params=True),
        ]
    return {
        "model_list": model_list,
        "litellm_settings": {
            "custom_provider_map": [{"provider": "edgequake", "custom_handler": "edgequake_litellm.handler"}],
        },
        "general_settings": {"master_key": MASTER_KEY},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the proxy's whole process group, then kill it if it lingers."""
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, limit: int = 6000) -> str:
    text = path.read_text("utf-8", "replace") if path.exists() else ""
    return text[-limit:]


def _spawn(
    workdir: Path, config: Path, log: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start one proxy process on a free port (not waiting for it)."""
    script = Path(sys.executable).with_name("litellm")
    port = _free_port()
    env = dict(env or os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    argv = [sys.executable, str(script), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the teardown kills all of it
        )
    return proc, port


def _await_ready(proc: subprocess.Popen[bytes], port: int) -> str | None:
    """Wait until a spawned proxy is live; None, or why it is not."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the proxy exited with code {proc.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2.0).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return f"the proxy did not answer /health/liveliness within {READY_TIMEOUT:.0f} s"


Spawned = tuple[subprocess.Popen[bytes], int, Path]  # a proxy process, its port, its log


def _starter(
    workdir: Path, config: Path, env: dict[str, str] | None = None, name: str = "proxy"
) -> Callable[[int], Spawned]:
    """Starts the proxy ``name``; its argument numbers the attempt, and each attempt logs apart."""

    def spawn(attempt: int) -> Spawned:
        log = workdir / f"{name}-{attempt}.log"
        return (*_spawn(workdir, config, log, env), log)

    return spawn


def _live(started: Spawned, respawn: Callable[[int], Spawned], what: str = "LiteLLM proxy") -> Spawned:
    """``started`` once it answers. A free port can be taken by another process before the proxy
    binds it: such a proxy is started again with ``respawn(attempt)``, twice at most. Any other
    start-up failure fails the test. A proxy that is not returned has been stopped."""
    for attempt in range(1, 4):
        proc, port, log = started
        error = _await_ready(proc, port)
        if error is None:
            return started
        _stop(proc)
        if attempt == 3 or "address already in use" not in _tail(log).lower():
            pytest.fail(f"{what} failed to start: {error}; its log ({log}) ends with:\n{_tail(log)}", pytrace=False)
        started = respawn(attempt)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    missing = [m for m in PROXY_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(
            f"LiteLLM proxy dependencies are not installed ({', '.join(missing)}): "
            "run `pip install -r requirements-proxy.txt`",
            pytrace=False,
        )
    script = Path(sys.executable).with_name("litellm")
    if not script.exists():
        pytest.fail(f"no `litellm` console script next to {sys.executable}", pytrace=False)

    with MockUpstream() as mock:  # in this process (a thread); the proxy reaches it over TCP
        workdir = tmp_path_factory.mktemp("litellm-proxy")
        config = workdir / "config.yaml"
        config.write_text(yaml.safe_dump(_config(mock), sort_keys=False))

        spawn = _starter(workdir, config)
        proc, port, log = _live(spawn(0), spawn)
        try:
            yield Proxy(mock=mock, port=port, log=log)
        finally:
            _stop(proc)


@pytest.fixture(autouse=True)
def _fresh_mock(proxy: Proxy) -> None:
    proxy.mock.reset()


@pytest.fixture()
def sdk(proxy: Proxy) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=proxy.url, api_key=MASTER_KEY, max_retries=0, timeout=CALL_TIMEOUT)
    yield client
    client.close()


@pytest.fixture()
def http(proxy: Proxy) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=proxy.url, headers=headers, timeout=CALL_TIMEOUT) as client:
        yield client


# ---------------------------------------------------------------------------------- helpers


def _upstream_requests(proxy: Proxy) -> list[dict[str, Any]]:
    """The requests the mock upstream received since the last call of this function."""
    seen = proxy.mock.requests()
    proxy.mock.reset()
    return seen


def _assert_route(proxy: Proxy, route: str, path: str, count: int = 1) -> list[dict[str, Any]]:
    """The call reached the upstream ``count`` times, through the expected client stack."""
    seen = _upstream_requests(proxy)
    assert [r["path"] for r in seen] == [path] * count, seen
    for req in seen:
        assert req["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
        agent = req["headers"].get("user-agent", "")
        if route == "ours":
            assert agent.startswith("edgequake-litellm/"), req["headers"]
            assert not any(k.startswith("x-stainless-") for k in req["headers"]), req["headers"]
        else:  # LiteLLM's native path goes through the OpenAI SDK
            assert "OpenAI/Python" in agent, req["headers"]
            assert req["headers"].get("x-stainless-lang") == "python", req["headers"]
    return seen


def _cost(headers: Mapping[str, str]) -> float:
    assert "x-litellm-response-cost" in headers, dict(headers)
    return float(headers["x-litellm-response-cost"])


def _without_alias(obj: Any, alias: str) -> Any:
    """``obj`` with the proxy's model-group name (which differs per route) blanked out."""
    return json.loads(json.dumps(obj).replace(alias, "<model>"))


def _sse_events(lines: Iterator[str]) -> tuple[list[dict[str, Any]], bool]:
    events, done = [], False
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            done = True
        else:
            events.append(json.loads(data))
    return events, done


# ---------------------------------------------------------------------------------- chat


def test_chat_sdk_matches_native(proxy: Proxy, sdk: openai.OpenAI) -> None:
    results = {}
    for route in ("ours", "native"):
        raw = sdk.chat.completions.with_raw_response.create(model=route, messages=MSGS)
        resp = raw.parse()
        _assert_route(proxy, route, "/v1/chat/completions")
        assert resp.model == route
        results[route] = (resp, raw.headers)
    (ours, ours_headers), (native, native_headers) = results["ours"], results["native"]
    assert ours.choices[0].message.content == native.choices[0].message.content == "Echo: hello through the proxy"
    assert ours.id == native.id
    assert ours.usage is not None and native.usage is not None
    assert ours.usage.model_dump() == native.usage.model_dump()
    assert ours.choices[0].finish_reason == native.choices[0].finish_reason == "stop"
    assert (ours.created, ours.system_fingerprint) == (native.created, native.system_fingerprint)
    assert ours.model_dump(exclude={"model"}) == native.model_dump(exclude={"model"})
    assert _cost(ours_headers) == _cost(native_headers) > 0


def test_chat_http_matches_native(proxy: Proxy, http: httpx.Client) -> None:
    results = {}
    for route in ("ours", "native"):
        resp = http.post("/chat/completions", json={"model": route, "messages": MSGS})
        assert resp.status_code == 200, resp.text
        _assert_route(proxy, route, "/v1/chat/completions")
        results[route] = resp
    ours, native = results["ours"].json(), results["native"].json()
    assert (ours.pop("model"), native.pop("model")) == ("ours", "native")
    assert ours == native
    for name in ("x-litellm-model-api-base", "llm_provider-x-request-id", "x-ratelimit-remaining-requests"):
        assert results["ours"].headers.get(name) == results["native"].headers.get(name), name


# ---------------------------------------------------------------------------------- streaming


def test_stream_sdk_matches_native(proxy: Proxy, sdk: openai.OpenAI) -> None:
    runs = {}
    for route in ("ours", "native"):
        stream = sdk.chat.completions.create(
            model=route, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        _assert_route(proxy, route, "/v1/chat/completions")
        runs[route] = chunks
    ours, native = runs["ours"], runs["native"]
    assert len(ours) == len(native) >= 4

    def deltas(chunks: list[Any]) -> list[str | None]:
        return [c.choices[0].delta.content for c in chunks if c.choices]

    def finish(chunks: list[Any]) -> list[str]:
        return [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]

    assert deltas(ours) == deltas(native)
    assert "".join(d or "" for d in deltas(ours)) == "Echo: hello through the proxy"
    assert finish(ours) == finish(native) == ["stop"]
    assert {c.id for c in ours} == {c.id for c in native} and len({c.id for c in ours}) == 1
    assert {c.model for c in ours} == {"ours"} and {c.model for c in native} == {"native"}
    usage = [c.usage for c in ours if c.usage], [c.usage for c in native if c.usage]
    assert len(usage[0]) == len(usage[1]) == 1
    fields = {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    }
    assert usage[0][0].model_dump(include=fields) == usage[1][0].model_dump(include=fields)


def test_stream_http_matches_native(proxy: Proxy, http: httpx.Client) -> None:
    runs = {}
    for route in ("ours", "native"):
        body = {"model": route, "messages": MSGS, "stream": True}
        with http.stream("POST", "/chat/completions", json=body) as resp:
            assert resp.status_code == 200, resp.read()
            assert resp.headers["content-type"].startswith("text/event-stream")
            events, done = _sse_events(resp.iter_lines())
        assert done, f"{route}: no [DONE]"
        _assert_route(proxy, route, "/v1/chat/completions")
        runs[route] = events

    def content(events: list[dict[str, Any]]) -> list[Any]:
        return [e["choices"][0]["delta"].get("content") for e in events if e["choices"]]

    ours, native = runs["ours"], runs["native"]
    assert len(ours) == len(native)
    assert content(ours) == content(native)
    assert "".join(c or "" for c in content(ours)) == "Echo: hello through the proxy"
    assert [e["choices"][0].get("finish_reason") for e in ours] == [
        e["choices"][0].get("finish_reason") for e in native
    ]
    assert {e["id"] for e in ours} == {e["id"] for e in native}


def test_stream_chunks_arrive_incrementally(proxy: Proxy, http: httpx.Client) -> None:
    """With 0.15 s between upstream frames, content reaches the client while the stream runs."""
    spans = {}
    for route in ("ours", "native"):
        words = []  # arrival time of each non-empty content delta
        body = {"model": f"{route}-slow", "messages": MSGS, "stream": True}
        with http.stream("POST", "/chat/completions", json=body) as resp:
            assert resp.status_code == 200, resp.read()
            for line in resp.iter_lines():
                events, _ = _sse_events(iter([line]))
                if events and events[0]["choices"] and events[0]["choices"][0]["delta"].get("content"):
                    words.append(time.monotonic())
            end = time.monotonic()
        _assert_route(proxy, route, "/s/chunk_delay=0.15/v1/chat/completions")
        assert len(words) == 5, route  # "Echo:", " hello", " through", " the", " proxy"
        spans[route] = end - words[0]
    # Six more upstream frames follow the first word, 0.15 s apart (0.9 s): a proxy that
    # buffered the stream would deliver the first word at the end, a span near 0.
    assert spans["ours"] >= 0.45, spans
    assert spans["native"] >= 0.45, spans


# ---------------------------------------------------------------------------------- embeddings


@pytest.mark.xfail(
    raises=openai.BadRequestError,
    strict=True,
    reason="LiteLLM 1.110.2 rejects `encoding_format` for every custom provider before the handler runs "
    "(UnsupportedParamsError, HTTP 400), and the OpenAI SDK always sends it; docs/proxy.md gives the "
    "workaround (drop_params on the deployment), tested below",
)
def test_embeddings_sdk_matches_native(proxy: Proxy, sdk: openai.OpenAI) -> None:
    results = {}
    for route in ("ours", "native"):
        raw = sdk.embeddings.with_raw_response.create(model=f"{route}-emb", input=["first text", "second"])
        _assert_route(proxy, route, "/v1/embeddings")
        results[route] = (raw.parse(), raw.headers)
    (ours, ours_headers), (native, native_headers) = results["ours"], results["native"]
    assert len(ours.data) == len(native.data) == 2
    assert [d.embedding for d in ours.data] == [d.embedding for d in native.data]
    assert [d.index for d in ours.data] == [d.index for d in native.data] == [0, 1]
    assert ours.usage.model_dump() == native.usage.model_dump()
    assert (ours.model, native.model) == ("ours-emb", "native-emb")
    assert _cost(ours_headers) == _cost(native_headers) > 0


def test_embeddings_http_matches_native(proxy: Proxy, http: httpx.Client) -> None:
    results, bodies = {}, {}
    for route in ("ours", "native"):
        resp = http.post("/embeddings", json={"model": f"{route}-emb", "input": "a single input"})
        assert resp.status_code == 200, resp.text
        seen = _assert_route(proxy, route, "/v1/embeddings")
        results[route] = resp
        bodies[route] = seen[0]["body"]
    assert bodies["ours"] == bodies["native"], bodies
    ours, native = results["ours"].json(), results["native"].json()
    assert (ours.pop("model"), native.pop("model")) == ("ours-emb", "native-emb")
    assert ours == native


# ---------------------------------------------------------------------------------- cost header


@pytest.mark.parametrize(
    ("path", "suffix", "body"),
    [("/chat/completions", "", {"messages": MSGS}), ("/embeddings", "-emb", {"input": ["one two three"]})],
    ids=["chat", "embeddings"],
)
def test_response_cost_header_matches_native(
    proxy: Proxy, http: httpx.Client, path: str, suffix: str, body: dict[str, Any]
) -> None:
    costs = {}
    for route in ("ours", "native"):
        resp = http.post(path, json={"model": route + suffix, **body})
        assert resp.status_code == 200, resp.text
        _assert_route(proxy, route, "/v1" + path)
        costs[route] = _cost(resp.headers)
    assert costs["ours"] == costs["native"] > 0, costs


# ---------------------------------------------------------------------------------- upstream 429


def test_rate_limit_sdk_matches_native(proxy: Proxy, sdk: openai.OpenAI) -> None:
    errors = {}
    for route in ("ours", "native"):
        with pytest.raises(openai.RateLimitError) as info:
            sdk.chat.completions.create(model=f"{route}-429", messages=MSGS)
        _assert_route(proxy, route, "/s/status=429,retry_after=3/v1/chat/completions")  # no retry
        errors[route] = info.value
    ours, native = errors["ours"], errors["native"]
    assert ours.status_code == native.status_code == 429
    assert _without_alias(ours.body, "ours-429") == _without_alias(native.body, "native-429")
    assert (ours.type, ours.code) == (native.type, native.code)
    for name in ("retry-after", "llm_provider-retry-after"):
        assert ours.response.headers.get(name) == native.response.headers.get(name), name


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_rate_limit_http_matches_native(proxy: Proxy, http: httpx.Client, stream: bool) -> None:
    results = {}
    for route in ("ours", "native"):
        resp = http.post("/chat/completions", json={"model": f"{route}-429", "messages": MSGS, "stream": stream})
        _assert_route(proxy, route, "/s/status=429,retry_after=3/v1/chat/completions")  # no retry
        results[route] = resp
    ours, native = results["ours"], results["native"]
    assert ours.status_code == native.status_code == 429, (ours.text, native.text)
    ours_error, native_error = ours.json()["error"], native.json()["error"]
    assert _without_alias(ours_error, "ours-429") == _without_alias(native_error, "native-429")
    assert {"type", "code", "message", "param"} <= set(ours_error)
    # The proxy forwards upstream headers with an ``llm_provider-`` prefix (retry-after included);
    # every header the client sees, except per-call ids, is the same for both routes.
    assert ours.headers.get("llm_provider-retry-after") == native.headers.get("llm_provider-retry-after")
    assert ours.headers.get("retry-after") == native.headers.get("retry-after")

    def stable(headers: httpx.Headers) -> dict[str, str]:
        return {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS}

    assert stable(ours.headers) == stable(native.headers)


def test_embeddings_sdk_with_drop_params_workaround(proxy: Proxy, sdk: openai.OpenAI) -> None:
    """With `drop_params: true` on the deployment, SDK embeddings through the edgequake route
    give the same vectors as the native route."""
    ours = sdk.embeddings.create(model="ours-emb-drop", input=["first text", "second"])
    native = sdk.embeddings.create(model="native-emb-drop", input=["first text", "second"])
    assert len(ours.data) == len(native.data) == 2
    for a, b in zip(ours.data, native.data):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert ours.usage.prompt_tokens == native.usage.prompt_tokens
