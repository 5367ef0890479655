"""Transparent mode in a real LiteLLM proxy, with unchanged model names.

Three proxy processes serve the same ``model_list`` (``openai/...`` and ``mistral/...``
deployments) against one mock upstream: ``plain`` has no plugin at all; ``config`` switches
transparent mode on with one config line (``custom_handler: edgequake_litellm.transparent``);
``env`` keeps the ``edgequake_litellm.handler`` line and sets ``EDGEQUAKE_LITELLM_PATCH=1``.
Clients (the ``openai`` SDK and raw HTTP) must get the same answers, streams, errors and cost
headers from all three, while the upstream sees the core's client for the patched ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
import yaml

from edgequake_litellm.mock_upstream import MockUpstream

from .test_proxy import (
    MASTER_KEY,
    MSGS,
    UPSTREAM_KEY,
    VOLATILE_HEADERS,
    Spawned,
    _live,
    _sse_events,
    _starter,
    _stop,
)

pytestmark = pytest.mark.proxy

MODES = ("plain", "config", "env")


def _config(mock: MockUpstream, mode: str) -> dict[str, Any]:
    def deployment(name: str, model: str, api_base: str, **extra: Any) -> dict[str, Any]:
        return {
            "model_name": name,
            "litellm_params": {"model": model, "api_base": api_base, "api_key": UPSTREAM_KEY, **extra},
        }

    base = mock.base_url()
    config: dict[str, Any] = {
        "model_list": [
            deployment("gpt", "openai/gpt-4o-mini", base),
            deployment("emb", "openai/text-embedding-3-small", base),
            deployment("mistral", "mistral/mistral-small-latest", base),
            deployment(
                "gpt-429", "openai/gpt-4o-mini", mock.base_url("status=429,retry_after=3"), max_retries=0, num_retries=0
            ),
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }
    handler = {"config": "edgequake_litellm.transparent", "env": "edgequake_litellm.handler"}.get(mode)
    if handler:
        config["litellm_settings"] = {"custom_provider_map": [{"provider": "edgequake", "custom_handler": handler}]}
    return config


@pytest.fixture(scope="module")
def proxies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockUpstream, dict[str, str]]]:
    with MockUpstream() as mock:
        spawns: dict[str, Callable[[int], Spawned]] = {}
        for mode in MODES:
            workdir = tmp_path_factory.mktemp(f"proxy-{mode}")
            cfg = workdir / "config.yaml"
            cfg.write_text(yaml.safe_dump(_config(mock, mode), sort_keys=False))
            env = dict(os.environ)
            env.pop("EDGEQUAKE_LITELLM_PATCH", None)
            if mode == "env":
                env["EDGEQUAKE_LITELLM_PATCH"] = "1"
            spawns[mode] = _starter(workdir, cfg, env)
        started: dict[str, Spawned] = {}
        try:
            for mode, spawn in spawns.items():  # start all three, then wait: their start-ups overlap
                started[mode] = spawn(0)
            for mode, spawn in spawns.items():
                started[mode] = _live(started[mode], spawn, f"proxy {mode}")  # in place: `finally` stops it
            yield mock, {mode: f"http://127.0.0.1:{port}" for mode, (_, port, _) in started.items()}
        finally:
            for proc, _, _ in started.values():
                _stop(proc)


def _agents(mock: MockUpstream) -> list[tuple[str, bool]]:
    """Each request's User-Agent, and whether the core's client sent it: the SDK tier sends the
    SDK's headers, but httpx (LiteLLM's client) puts ``Host`` first and the core's after them."""
    agents = [(r["headers"].get("user-agent", ""), next(iter(r["headers"]), "") != "host") for r in mock.requests()]
    mock.reset()
    return agents


def _each(proxies, fn) -> dict[str, Any]:
    """``fn(url)`` against every proxy; the patched ones must reach the upstream via the core."""
    mock, urls = proxies
    out = {}
    for mode in MODES:
        mock.reset()
        out[mode] = fn(urls[mode])
        agents = _agents(mock)
        assert agents, mode
        if mode == "plain":
            assert all("edgequake" not in a and not core for a, core in agents), (mode, agents)
        else:
            assert all(core for _, core in agents), (mode, agents)
    return out


def _http(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30)


def _stable(headers: httpx.Headers) -> dict[str, str]:
    # Ids and timings differ between any two calls.
    return {
        k: v
        for k, v in headers.items()
        if k not in VOLATILE_HEADERS and "request-id" not in k and "duration" not in k and not k.endswith("-ms")
    }


@pytest.mark.parametrize("model", ["gpt", "mistral"])
def test_chat_http_equal(proxies, model):
    def call(url):
        with _http(url) as c:
            r = c.post("/chat/completions", json={"model": model, "messages": MSGS})
        assert r.status_code == 200, r.text
        body = r.json()
        body.pop("id", None)
        body.pop("created", None)
        return body, _stable(r.headers)

    out = _each(proxies, call)
    assert out["config"] == out["plain"]
    assert out["env"] == out["plain"]
    assert float(out["plain"][1]["x-litellm-response-cost"]) > 0


def test_chat_sdk_equal(proxies):
    def call(url):
        with openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0) as c:
            r = c.chat.completions.create(model="gpt", messages=MSGS, temperature=0.2)
        return r.model_dump(exclude={"id", "created"})

    out = _each(proxies, call)
    assert out["config"] == out["plain"] == out["env"]


@pytest.mark.parametrize("model", ["gpt", "mistral"])
def test_stream_http_equal(proxies, model):
    def call(url):
        body = {"model": model, "messages": MSGS, "stream": True, "stream_options": {"include_usage": True}}
        with _http(url) as c, c.stream("POST", "/chat/completions", json=body) as r:
            assert r.status_code == 200
            events, done = _sse_events(r.iter_lines())
            headers = _stable(r.headers)
        assert done
        for e in events:
            e.pop("created", None)
            e.pop("id", None)
        return events, headers

    out = _each(proxies, call)
    assert out["config"] == out["plain"]
    assert out["env"] == out["plain"]


def test_embeddings_sdk_and_http_equal(proxies):
    def call(url):
        with openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0) as c:
            raw = c.embeddings.with_raw_response.create(model="emb", input=["first", "second"])
        with _http(url) as c:
            r = c.post("/embeddings", json={"model": "emb", "input": "one"})
        return raw.parse().model_dump(), raw.headers.get("x-litellm-response-cost"), r.json()

    out = _each(proxies, call)
    assert out["config"] == out["plain"] == out["env"]


def test_upstream_error_equal(proxies):
    def call(url):
        with _http(url) as c:
            r = c.post("/chat/completions", json={"model": "gpt-429", "messages": MSGS})
        return r.status_code, json.loads(r.text), _stable(r.headers)

    out = _each(proxies, call)
    assert out["plain"][0] == 429
    assert out["config"] == out["plain"] == out["env"]
