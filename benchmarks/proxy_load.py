"""A real LiteLLM proxy under load: LiteLLM's native route against ours, 1 then 2 workers.

Each route runs in a proxy process of its own (``litellm --config ... --num_workers N``), all
forwarding to the same nginx upstream; wrk and a small open-loop client drive them over 127.0.0.1:

* closed loop (wrk) at 1 to 32 connections: requests/s, p50, p99; from these, the
  highest requests/s whose p99 stays within ``P99_BUDGET``;
* open loop (evenly spaced requests at a fixed rate, ``upstream.open_loop``): p50 and p99 at ``FIXED_RATE`` requests/s.

Routes and connection levels are interleaved (each level runs every route in turn). A route is
one entry of ``ROUTES``: LiteLLM native, the ``edgequake/`` provider, and the transparent mode
(the same ``openai/`` model as native, with ``edgequake_litellm.transparent`` as the handler,
which patches LiteLLM in every proxy worker).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from upstream import KEY, MESSAGES, MODEL, Nginx, free_port, log, open_loop, wrk

CONNECTIONS = (1, 2, 4, 8, 16, 32)
P99_BUDGET = 0.250  # seconds: the proxy alone takes ~20 ms per request on this machine
FIXED_RATE = 20.0  # requests/s: well below what LiteLLM's native route sustains here
WORKERS = (1, 2)
READY_TIMEOUT = 120.0
# The proxy refuses to start without one; every load request carries it.
MASTER_KEY = f"sk-bench-{secrets.token_hex(16)}"
# Every load request's body: one short chat completion.
BODY = json.dumps({"model": MODEL, "messages": MESSAGES})
T = TypeVar("T")


@dataclass
class Route:
    name: str
    label: str
    model: str  # the deployment's litellm_params.model
    settings: dict[str, Any] = field(default_factory=dict)  # extra litellm_settings
    env: dict[str, str] = field(default_factory=dict)


ROUTES = [
    Route("native", "LiteLLM native `openai/`", f"openai/{MODEL}"),
    Route(
        "edgequake",
        "`edgequake/openai/` (custom_provider_map)",
        f"edgequake/openai/{MODEL}",
        {"custom_provider_map": [{"provider": "edgequake", "custom_handler": "edgequake_litellm.handler"}]},
    ),
    Route(
        "patch",
        "transparent `openai/` (`custom_handler: edgequake_litellm.transparent`)",
        f"openai/{MODEL}",
        {"custom_provider_map": [{"provider": "edgequake", "custom_handler": "edgequake_litellm.transparent"}]},
    ),
]


def config(route: Route, api_base: str) -> dict[str, Any]:
    params = {"model": route.model, "api_base": api_base, "api_key": KEY}
    return {
        "model_list": [{"model_name": MODEL, "litellm_params": params}],
        "litellm_settings": {"set_verbose": False, **route.settings},
        "general_settings": {"master_key": MASTER_KEY},
    }


class Proxy:
    def __init__(self, route: Route, workers: int, api_base: str, logdir: Path) -> None:
        self.route = route
        self.workers = workers
        workdir = logdir / f"proxy-{route.name}-{workers}"
        workdir.mkdir(parents=True, exist_ok=True)
        cfg = workdir / "config.yaml"
        cfg.write_text(json.dumps(config(route, api_base)))  # JSON is YAML
        self.log = workdir / "proxy.log"
        self.port = free_port()
        script = Path(sys.executable).with_name("litellm")
        argv = [sys.executable, str(script), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(self.port)]
        if workers > 1:
            argv += ["--num_workers", str(workers)]
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", **route.env}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends all of it
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health/liveliness", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        tail = self.log.read_text("utf-8", "replace")[-3000:]
        raise RuntimeError(f"proxy {self.route.name} ({self.workers} workers) did not start:\n{tail}")

    def check(self, expected: str) -> None:
        req = urllib.request.Request(
            f"{self.url}/chat/completions",
            data=BODY.encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {MASTER_KEY}"},
        )
        for _ in range(2 * self.workers):  # every worker process answers correctly
            with urllib.request.urlopen(req, timeout=30) as r:
                got = json.loads(r.read())["choices"][0]["message"]["content"]
            if got != expected:
                raise RuntimeError(f"proxy {self.route.name} answered {got!r}, expected {expected!r}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the proxy's process group (all its workers)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp (fields[0] is the state, field 3 of stat)
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def load(self, conns: int, seconds: float, body: str) -> dict[str, float]:
        """wrk at ``conns`` connections, plus the proxy's CPU per answered request."""
        cpu0 = self.cpu_seconds()
        res = wrk(f"{self.url}/chat/completions", connections=conns, seconds=seconds, body=body, key=MASTER_KEY)
        res["cpu_per_request"] = (self.cpu_seconds() - cpu0) / max(res["rps"] * seconds, 1)
        res["connections"] = conns
        return res

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def started(routes: Sequence[Route], workers: int, nginx: Nginx, logdir: Path) -> Iterator[list[Proxy]]:
    """A proxy per route, each ready, checked against nginx's answer and warmed up (every worker
    process); all stopped on exit."""
    expected = json.loads(nginx.body("json/v1/chat/completions"))["choices"][0]["message"]["content"]
    proxies = [Proxy(r, workers, nginx.base_url("json"), logdir) for r in routes]
    try:
        for p in proxies:
            p.wait_ready()
            p.check(expected)
        for p in proxies:
            wrk(f"{p.url}/chat/completions", connections=8, seconds=2, body=BODY, key=MASTER_KEY)
        yield proxies
    finally:
        for p in proxies:
            p.stop()


def rotated(items: list[T], i: int) -> list[T]:
    """``items`` started at the ``i``-th: each round or level runs the routes in another order."""
    k = i % len(items)
    return items[k:] + items[:k]


def run_proxy_load(
    nginx: Nginx,
    *,
    seconds: float,
    logdir: Path,
    workers_list: tuple[int, ...] = WORKERS,
    connections: tuple[int, ...] = CONNECTIONS,
) -> dict[str, Any]:
    out: dict[str, Any] = {"routes": {r.name: r.label for r in ROUTES}, "by_workers": {}}
    for workers in workers_list:
        log(f"LiteLLM proxy, {workers} worker(s): starting {len(ROUTES)} proxies ...")
        with started(ROUTES, workers, nginx, logdir) as proxies:
            sweep: dict[str, list[dict[str, float]]] = {p.route.name: [] for p in proxies}
            for i, conns in enumerate(connections):
                for p in rotated(proxies, i):
                    res = p.load(conns, seconds, BODY)
                    sweep[p.route.name].append(res)
                    log(
                        f"  {p.route.name} x{workers}, {conns} conns: {res['rps']:,.0f} req/s, "
                        f"p50 {res['p50'] * 1e3:.1f} ms, p99 {res['p99'] * 1e3:.1f} ms, {res['errors']:.0f} errors, "
                        f"proxy CPU {res['cpu_per_request'] * 1e3:.1f} ms/request"
                    )
            fixed: dict[str, dict[str, float]] = {}
            for p in proxies:
                fixed[p.route.name] = open_loop(
                    f"{p.url}/chat/completions", rate=FIXED_RATE, seconds=max(seconds * 2, 4), body=BODY, key=MASTER_KEY
                )
                f = fixed[p.route.name]
                log(
                    f"  {p.route.name} x{workers} at {FIXED_RATE:.0f} req/s: p50 {f['p50'] * 1e3:.1f} ms, "
                    f"p99 {f['p99'] * 1e3:.1f} ms, {f['errors']:.0f} errors"
                )
            out["by_workers"][workers] = {"sweep": sweep, "fixed": fixed}
    return out


def best_within(sweep: list[dict[str, float]], budget: float = P99_BUDGET) -> dict[str, float] | None:
    """The sweep point with the highest requests/s whose p99 is within ``budget``."""
    ok = [r for r in sweep if r["p99"] <= budget and not r["errors"]]
    return max(ok, key=lambda r: r["rps"]) if ok else None
