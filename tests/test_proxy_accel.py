"""The LiteLLM proxy with the accelerators on against the same proxy with them off.

Two proxy processes serve the same config against one mock upstream, for each of two configs:
``prefix`` (``test_proxy``'s: ``ours*`` through ``edgequake/``, ``native*`` through LiteLLM's
``openai/``) and ``transparent`` (``test_proxy_transparent``'s with ``custom_handler:
edgequake_litellm.transparent``: ``openai/`` and ``mistral/`` names served by the core), each with
deployments whose usage has cached and reasoning tokens, asked for tool calls, ``n=2`` and JSON mode
too. One process loads the plugin's default accelerators, as a user's proxy does; the other runs
with ``EDGEQUAKE_ACCEL=0``. Every request goes to both, and the client must not be able to tell
them apart: status, body, stream events and response headers (cost headers included), for answers
and for upstream errors; and what a callback sees: each call's standard logging payload, field by
field (ids and clocks aside). The same callback records ``edgequake_litellm.status()``, so the test
also proves the accelerators were in effect on one side and off on the other (else the comparison
proves nothing).

The rest of the suite runs with the accelerators off (``conftest``); the accelerators' own tests
compare each one with LiteLLM's function in this process. This is where they meet a real proxy.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from edgequake_litellm.mock_upstream import MockUpstream

from .test_proxy import MASTER_KEY, MSGS, UPSTREAM_KEY, Spawned, _live, _starter, _stop
from .test_proxy import _config as prefix_config
from .test_proxy_transparent import _config as transparent_config

pytestmark = pytest.mark.proxy

# A success and failure callback: what the plugin reports about its accelerators after each call,
# and each call's standard logging payload (one JSON line per call).
PROBE = """
import json, os
import edgequake_litellm
from litellm.integrations.custom_logger import CustomLogger


class Probe(CustomLogger):
    seen = 0

    def _dump(self, kwargs):
        Probe.seen += 1
        with open(os.environ["EQ_PROBE_FILE"] + ".payloads", "a") as f:
            f.write(json.dumps(kwargs.get("standard_logging_object"), default=repr, sort_keys=True) + "\\n")
        state = {
            name: {"state": a["state"], "in_effect": a["in_effect"], "counts": a["counts"]}
            for name, a in edgequake_litellm.status()["accelerators"].items()
        }
        path = os.environ["EQ_PROBE_FILE"]
        with open(path + ".tmp", "w") as f:
            json.dump({"seen": Probe.seen, "accelerators": state}, f)
        os.replace(path + ".tmp", path)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._dump(kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._dump(kwargs)


probe = Probe()
"""
# Headers that differ between any two calls, or between two processes serving the same call.
VOLATILE = {
    "date",
    "content-length",  # follows the body's volatile fields
    "x-litellm-call-id",
    "x-litellm-response-duration-ms",
    "x-litellm-overhead-duration-ms",
    "x-litellm-callback-duration-ms",
    "llm_provider-date",
    # the mock upstream numbers its requests, and both proxies send to it
    "request-id",
    "llm_provider-request-id",
    "llm_provider-x-request-id",
}


# Standard logging payload fields that differ between any two calls (ids and clocks), or between
# the two proxies: the headers above (the payload keeps the upstream's), the proxy's own address.
VOLATILE_FIELDS = VOLATILE | {
    "id",
    "trace_id",
    "litellm_call_id",
    "startTime",
    "endTime",
    "completionStartTime",
    "response_time",
    "created",
    "session_id",  # the trace id's
    "litellm_overhead_time_ms",
    "host",
    "x-request-id",  # the mock's request counter, as request-id
    "error_provider_request_id",
}


@dataclass
class Pair:
    """The two proxies of one config."""

    config: str
    on: Side
    off: Side


@dataclass
class Side:
    name: str
    port: int
    log: Path
    probe: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _side_starter(workdir: Path, config: Path, name: str, accel: bool) -> Callable[[int], Spawned]:
    """Starts the proxy ``name`` (accelerators on or off)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EDGEQUAKE_ACCEL", "EDGEQUAKE_ACCEL_DISABLE")}
    if not accel:
        env["EDGEQUAKE_ACCEL"] = "0"
    env["EQ_PROBE_FILE"] = str(_probe_file(workdir, name))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(workdir), env.get("PYTHONPATH"))))
    return _starter(workdir, config, env, f"proxy-{name}")


def _probe_file(workdir: Path, name: str) -> Path:
    return workdir / f"probe-{name}.json"


# Usage with cached and reasoning tokens: the cost and usage paths' other shapes.
USAGE_SCENARIO = "cached=2,reasoning=1"


def _with_usage_deployments(config: dict[str, Any], mock: MockUpstream, routes: dict[str, str]) -> dict[str, Any]:
    for name, model in routes.items():
        params = {"model": model, "api_base": mock.base_url(USAGE_SCENARIO), "api_key": UPSTREAM_KEY}
        config["model_list"].append({"model_name": name, "litellm_params": params})
    return config


CONFIGS = {
    "prefix": lambda mock: _with_usage_deployments(
        prefix_config(mock),
        mock,
        {"ours-usage": "edgequake/openai/gpt-4o-mini", "native-usage": "openai/gpt-4o-mini"},
    ),
    "transparent": lambda mock: _with_usage_deployments(
        transparent_config(mock, "config"), mock, {"gpt-usage": "openai/gpt-4o"}
    ),
    "cached": lambda mock: _with_cache(prefix_config(mock)),
}


def _with_cache(config: dict[str, Any]) -> dict[str, Any]:
    """The proxy's response cache (in memory): every repeated request is a cache hit."""
    config["litellm_settings"].update(cache=True, cache_params={"type": "local"})
    return config


@pytest.fixture(scope="module", params=list(CONFIGS))
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with MockUpstream() as mock:
        workdir = tmp_path_factory.mktemp(f"litellm-proxy-accel-{request.param}")
        (workdir / "eq_probe.py").write_text(PROBE)
        config = CONFIGS[request.param](mock)
        config.setdefault("litellm_settings", {})["callbacks"] = ["eq_probe.probe"]
        path = workdir / "config.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        spawns = {name: _side_starter(workdir, path, name, name == "on") for name in ("on", "off")}
        started = {name: spawn(0) for name, spawn in spawns.items()}  # both first: their start-ups overlap
        try:
            for name, spawn in spawns.items():
                started[name] = _live(started[name], spawn, f"the {name} proxy")  # in place: `finally` stops it
            sides = {}
            for name, (_, port, log) in started.items():
                sides[name] = Side(name, port, log, _probe_file(workdir, name))
            yield Pair(request.param, sides["on"], sides["off"])
        finally:
            for proc, _, _ in started.values():
                _stop(proc)


def _post(side: Side, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=side.url, headers=headers, timeout=30.0) as client:
        resp = client.post(path, json=body)
        resp.read()
        return resp


def _seen(resp: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What a client sees: status, body (stream events parsed), headers but the volatile ones."""
    text = resp.text
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        body: Any = [line for line in text.splitlines() if line.startswith("data:")]
        body = [line if line.strip() == "data: [DONE]" else json.loads(line[5:]) for line in body]
    else:
        body = resp.json()
    headers = {k: v for k, v in resp.headers.items() if k not in VOLATILE}
    return resp.status_code, body, headers


def _restamped(seen: tuple[int, Any, dict[str, str]]) -> tuple[int, Any, dict[str, str]]:
    """LiteLLM's native stream stamps every chunk with the proxy's clock: that second may differ."""
    status, body, headers = seen
    if isinstance(body, list):
        body = [{**e, "created": "<clock>"} if isinstance(e, dict) else e for e in body]
    return status, body, headers


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}
# Answers of other shapes, from the deployments whose usage has cached and reasoning tokens.
SHAPES = [
    ("/chat/completions", {"messages": MSGS}),
    ("/chat/completions", {"messages": MSGS, "stream": True, "stream_options": {"include_usage": True}}),
    ("/chat/completions", {"messages": MSGS, "tools": [TOOL]}),
    ("/chat/completions", {"messages": MSGS, "n": 2}),
    ("/chat/completions", {"messages": MSGS, "response_format": {"type": "json_object"}}),
]
# (path, body, model) per config: every deployment kind each config serves.
REQUESTS: dict[str, list[tuple[str, dict[str, Any], list[str]]]] = {
    "prefix": [
        ("/chat/completions", {"messages": MSGS}, ["ours", "native"]),
        (
            "/chat/completions",
            {"messages": MSGS, "temperature": 0.2, "max_tokens": 20, "user": "u-1"},
            ["ours", "native"],
        ),
        ("/chat/completions", {"messages": MSGS, "stream": True}, ["ours", "native"]),
        (
            "/chat/completions",
            {"messages": MSGS, "stream": True, "stream_options": {"include_usage": True}},
            ["ours", "native"],
        ),
        ("/chat/completions", {"messages": MSGS}, ["ours-429", "native-429"]),
        ("/embeddings", {"input": ["one two three"]}, ["ours-emb-drop", "native-emb-drop"]),
        *((path, body, ["ours-usage", "native-usage"]) for path, body in SHAPES),
    ],
    "transparent": [
        ("/chat/completions", {"messages": MSGS}, ["gpt", "mistral"]),
        ("/chat/completions", {"messages": MSGS, "temperature": 0.2, "max_tokens": 20, "user": "u-1"}, ["gpt"]),
        ("/chat/completions", {"messages": MSGS, "stream": True}, ["gpt", "mistral"]),
        ("/chat/completions", {"messages": MSGS, "stream": True, "stream_options": {"include_usage": True}}, ["gpt"]),
        ("/chat/completions", {"messages": MSGS}, ["gpt-429"]),
        ("/embeddings", {"input": ["one two three"]}, ["emb"]),
        *((path, body, ["gpt-usage"]) for path, body in SHAPES),
    ],
    # Each request twice: the second is answered from the cache.
    "cached": [
        ("/chat/completions", {"messages": MSGS}, ["ours", "native"]),
        ("/chat/completions", {"messages": MSGS, "stream": True}, ["ours", "native"]),
        ("/embeddings", {"input": ["one two three"]}, ["ours-emb-drop", "native-emb-drop"]),
    ],
}


def test_same_answers_with_the_accelerators_on_and_off(pair: Pair) -> None:
    compared = 0
    for path, body, models in REQUESTS[pair.config]:
        for model in models:
            request = {"model": model, **body}
            for _ in range(2):  # the second request is answered from what the first one taught the memos
                on, off = (_restamped(_seen(_post(side, path, request))) for side in (pair.on, pair.off))
                assert on[:2] == off[:2], request
                assert {k: (v, off[2].get(k)) for k, v in on[2].items() if off[2].get(k) != v} == {}, request
                assert on[2].keys() == off[2].keys(), request
                compared += 1
    assert compared >= 12
    # What a callback sees: one payload per call on each side, equal field by field.
    on_logged, off_logged = (_payloads(side, compared) for side in (pair.on, pair.off))
    assert len(on_logged) == len(off_logged) == compared
    for on_payload, off_payload in zip(on_logged, off_logged):
        differences = _differences(on_payload, off_payload)
        assert differences == [], "\n".join(map(repr, differences))
    if pair.config == "cached":
        _cache_hits_save_alike(on_logged)


def _cache_hits_save_alike(logged: list[dict[str, Any]]) -> None:
    """The ``edgequake/`` deployments' cache hits save what the native ones' save (each request
    went to ``ours*`` then to ``native*``)."""
    hits = [p for p in logged if p["cache_hit"] is True]
    ours = [p for p in hits if p["model_group"].startswith("ours")]
    native = [p for p in hits if p["model_group"].startswith("native")]
    assert len(ours) == len(native) >= 3, [p["model_group"] for p in hits]
    for a, b in zip(ours, native):
        assert a["model_group"].removeprefix("ours") == b["model_group"].removeprefix("native")
        assert a["saved_cache_cost"] == b["saved_cache_cost"] > 0, (a["model_group"], a["stream"])


def _payloads(side: Side, calls: int) -> list[dict[str, Any]]:
    """The standard logging payloads the proxy's callback got, once it has seen ``calls`` calls, in
    the order the calls started, with what differs between any two calls replaced by its name."""
    _probe(side, calls)
    logged = [json.loads(line) for line in Path(f"{side.probe}.payloads").read_text().splitlines()]
    logged.sort(key=lambda p: p["startTime"])
    return [_stable(p) for p in logged]


def _stable(value: Any, key: str = "") -> Any:
    if key in VOLATILE_FIELDS:
        return f"<{key}>" if value is not None else None
    if isinstance(value, dict):
        return {k: _stable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v, key) for v in value]
    return value


def _differences(on: Any, off: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two payloads differ: (path, on, off) for every differing leaf."""
    if isinstance(on, dict) and isinstance(off, dict):
        return [d for k in sorted(on.keys() | off.keys()) for d in _differences(on.get(k), off.get(k), f"{path}.{k}")]
    if isinstance(on, list) and isinstance(off, list) and len(on) == len(off):
        return [d for i, (a, b) in enumerate(zip(on, off)) for d in _differences(a, b, f"{path}[{i}]")]
    return [] if on == off else [(path, on, off)]


def test_a_request_without_a_key_fails_alike(pair: Pair) -> None:
    got = []
    for side in (pair.on, pair.off):
        with httpx.Client(base_url=side.url, timeout=30.0) as client:
            resp = client.post("/chat/completions", json={"model": "ours", "messages": MSGS})
        got.append(_seen(resp))
    assert got[0] == got[1] and got[0][0] == 401


def _probe(side: Side, calls: int) -> dict[str, Any]:
    """The proxy's last report, once its callback has seen ``calls`` calls (logging runs after the
    response is sent)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            report = json.loads(side.probe.read_text())
        except (OSError, ValueError):
            report = {"seen": 0}
        if report["seen"] >= calls or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def test_the_accelerators_were_in_effect_on_one_side_only(pair: Pair) -> None:
    """Runs after the comparisons (file order): without this, equal answers could come from two
    proxies that both run LiteLLM's code alone."""
    model = "gpt" if pair.config == "transparent" else "ours"
    for _ in range(2):
        for side in (pair.on, pair.off):
            assert _post(side, "/chat/completions", {"model": model, "messages": MSGS}).status_code == 200
    on, off = _probe(pair.on, 2), _probe(pair.off, 2)
    assert on["seen"] >= 2 and off["seen"] >= 2, (on, off)
    assert {a["state"] for a in off["accelerators"].values()} == {"off"}, off
    accelerators = on["accelerators"]
    assert all(a["state"] == "installed" for a in accelerators.values()), accelerators
    for name in ("route_access", "cost", "failed_imports"):
        assert accelerators[name]["in_effect"], (name, accelerators[name])
    for name in ("route_access", "cost"):
        assert accelerators[name]["counts"].get("fast", 0) > 0, (name, accelerators[name])
