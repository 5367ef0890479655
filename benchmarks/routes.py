"""Transparent mode route by route: each route patched and unpatched, interleaved in one process.

    .venv/bin/python benchmarks/routes.py [--calls 200] [--rounds 6] [--streams 40] [--route azure-chat ...]

For every route LiteLLM serves with a handler of its own (Azure, text completions, the Responses
API, Bedrock, Vertex AI, ...) the same calls run with ``install(patch=True)`` and after
``uninstall()`` in alternating blocks, against local upstreams in their own processes (the
project's mock upstream; the test Bedrock runtime and Google token endpoint where the route
needs them). Per route: CPU per sync call (``time.process_time`` over a block, every thread,
after LiteLLM's logging threads drained), wall time per sync call and per sequential async call,
and per stream where the route streams. The median of the rounds is printed, with the ratio
patched / native: below 1 is faster with the plugin.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accel import drain_logging

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MSGS = [{"role": "user", "content": "hello"}]
KEY = "sk-bench"


# What the routes read of their upstreams: "mock" (the mock upstream's root URL), "bedrock"
# (LiteLLM's AWS keyword arguments for the local Bedrock runtime), "vertex" (the service account
# JSON of the local token endpoint).
Up = dict[str, Any]


@dataclass
class Route:
    name: str
    # (litellm, upstreams) -> the function to call and its keyword arguments
    call: Callable[[Any, Up], tuple[Callable[..., Any], dict[str, Any]]]
    acall: Callable[[Any, Up], tuple[Callable[..., Any], dict[str, Any]]] | None = None
    streams: bool = True
    needs: str = "mock"  # the upstream it talks to: mock, bedrock or vertex


def _openai(up: Up) -> dict[str, Any]:
    return {"api_base": up["mock"] + "/v1", "api_key": KEY}


def _azure(up: Up) -> dict[str, Any]:
    return {"api_base": up["mock"], "api_key": KEY, "api_version": "2024-10-21"}


VERTEX_MODEL, VERTEX_PROJECT, VERTEX_LOCATION = "gemini-2.0-flash", "edgequake-test-project", "us-central1"


def _vertex(up: Up) -> dict[str, Any]:
    base = (
        f"{up['mock']}/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}/publishers/google/models/{VERTEX_MODEL}"
    )
    return {
        "model": f"vertex_ai/{VERTEX_MODEL}",
        "messages": MSGS,
        "vertex_credentials": up["vertex"],
        "vertex_project": VERTEX_PROJECT,
        "vertex_location": VERTEX_LOCATION,
        "api_base": base,
    }


CONVERSE = "bedrock/anthropic.claude-3-haiku-20240307-v1:0"


ROUTES: dict[str, Route] = {
    "openai-chat": Route(
        "`openai/` chat (reference: the SDK tier)",
        lambda litellm, up: (litellm.completion, {"model": "openai/gpt-4o-mini", "messages": MSGS, **_openai(up)}),
        lambda litellm, up: (litellm.acompletion, {"model": "openai/gpt-4o-mini", "messages": MSGS, **_openai(up)}),
    ),
    "azure-chat": Route(
        "`azure/` chat",
        lambda litellm, up: (litellm.completion, {"model": "azure/my-deployment", "messages": MSGS, **_azure(up)}),
        lambda litellm, up: (litellm.acompletion, {"model": "azure/my-deployment", "messages": MSGS, **_azure(up)}),
    ),
    "azure-embedding": Route(
        "`azure/` embeddings",
        lambda litellm, up: (litellm.embedding, {"model": "azure/my-embedding", "input": ["hello"], **_azure(up)}),
        lambda litellm, up: (litellm.aembedding, {"model": "azure/my-embedding", "input": ["hello"], **_azure(up)}),
        streams=False,
    ),
    "text-completion": Route(
        "`text_completion` (`openai/gpt-3.5-turbo-instruct`)",
        lambda litellm, up: (
            litellm.text_completion,
            {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "hello", **_openai(up)},
        ),
        lambda litellm, up: (
            litellm.atext_completion,
            {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "hello", **_openai(up)},
        ),
    ),
    "bedrock-converse": Route(
        "Bedrock Converse (`bedrock/anthropic.claude-3-haiku`)",
        lambda litellm, up: (litellm.completion, {"model": CONVERSE, "messages": MSGS, **up["bedrock"]}),
        lambda litellm, up: (litellm.acompletion, {"model": CONVERSE, "messages": MSGS, **up["bedrock"]}),
        needs="bedrock",
    ),
    "bedrock-embedding": Route(
        "Bedrock embeddings (`bedrock/amazon.titan-embed-text-v1`)",
        lambda litellm, up: (
            litellm.embedding,
            {"model": "bedrock/amazon.titan-embed-text-v1", "input": ["hello"], **up["bedrock"]},
        ),
        lambda litellm, up: (
            litellm.aembedding,
            {"model": "bedrock/amazon.titan-embed-text-v1", "input": ["hello"], **up["bedrock"]},
        ),
        streams=False,
        needs="bedrock",
    ),
    "vertex-gemini": Route(
        "Vertex AI Gemini (`vertex_ai/gemini-2.0-flash`)",
        lambda litellm, up: (litellm.completion, _vertex(up)),
        lambda litellm, up: (litellm.acompletion, _vertex(up)),
        needs="vertex",
    ),
    "responses": Route(
        "`responses` (`openai/gpt-4o-mini`)",
        lambda litellm, up: (litellm.responses, {"model": "openai/gpt-4o-mini", "input": "hello", **_openai(up)}),
        lambda litellm, up: (litellm.aresponses, {"model": "openai/gpt-4o-mini", "input": "hello", **_openai(up)}),
    ),
}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _serve(kind: str) -> None:
    """Run one local upstream in this process until stdin closes (``--serve``): the project's mock
    upstream with every wire format (``edgequake_litellm.testing``), or the test suite's Bedrock
    runtime or Google token endpoint; it prints what the routes need of it."""
    sys.path.insert(0, ROOT)
    if kind == "mock":
        from edgequake_litellm.testing import MockUpstream

        server = MockUpstream("127.0.0.1", 0).start()
        print(json.dumps(server.url), flush=True)
        sys.stdin.read()
        server.stop()
    elif kind == "bedrock":
        from tests.bedrock_upstream import BedrockUpstream, credentials

        with BedrockUpstream() as b:
            print(json.dumps(credentials(b.url)), flush=True)
            sys.stdin.read()
    else:
        from tests.google_token_server import TokenServer

        with TokenServer() as t:
            print(json.dumps(json.dumps(t.service_account)), flush=True)
            sys.stdin.read()


def _start(args: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def upstreams(needed: set[str]) -> tuple[list[subprocess.Popen], Up]:
    """The upstreams the routes need, each in its own process (their CPU is not the client's)."""
    procs, up = [], {}
    for kind in sorted(needed | {"mock"}):
        proc, line = _start([sys.executable, os.path.abspath(__file__), "--serve", kind])
        procs.append(proc)
        up[kind] = json.loads(line)
    return procs, up


def _consume(out: Any) -> None:
    if hasattr(out, "__iter__") and not isinstance(out, (dict, list)) and hasattr(out, "__next__"):
        for _ in out:
            pass


async def _aconsume(out: Any) -> None:
    if hasattr(out, "__anext__"):
        async for _ in out:
            pass


def sync_block(litellm: Any, route: Route, up: Up, n: int, stream: bool = False) -> tuple[float, float]:
    """(CPU ms per call, wall ms per call)."""
    fn, kw = route.call(litellm, up)
    if stream:
        kw = {**kw, "stream": True}
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        _consume(fn(**kw))
    wall = time.perf_counter() - wall
    drain_logging()
    return (time.process_time() - cpu) / n * 1e3, wall / n * 1e3


def async_block(litellm: Any, route: Route, up: Up, n: int) -> float:
    """Wall ms per sequential awaited call."""
    assert route.acall is not None
    fn, kw = route.acall(litellm, up)

    async def run() -> float:
        t = time.perf_counter()
        for _ in range(n):
            await _aconsume(await fn(**kw))
        return (time.perf_counter() - t) / n * 1e3

    out = asyncio.run(run())
    drain_logging()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--streams", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--route", action="append", choices=sorted(ROUTES), help="routes to measure (default: all)")
    ap.add_argument("--serve", choices=("mock", "bedrock", "vertex"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    names = args.route or list(ROUTES)
    # google-auth must find no ambient credentials or metadata server (no test reaches the network).
    os.environ.update({"NO_GCE_CHECK": "True", "GCE_METADATA_HOST": "127.0.0.1:9", "GCE_METADATA_IP": "127.0.0.1:9"})
    procs, up = upstreams({ROUTES[n].needs for n in names})
    samples: dict[tuple[str, str, bool], list[float]] = {}
    try:
        import litellm

        import edgequake_litellm

        litellm.suppress_debug_info = True
        served: dict[str, int] = {}
        for on in (False, True):  # warm-up: imports, pools, plans; and each route answers
            (edgequake_litellm.install if on else edgequake_litellm.uninstall)(**({"patch": True} if on else {}))
            for name in names:
                route = ROUTES[name]
                sync_block(litellm, route, up, 10)
                if route.acall is not None:
                    async_block(litellm, route, up, 10)
                if route.streams:
                    sync_block(litellm, route, up, 5, stream=True)
        for r in range(args.rounds):
            for name in names:
                route = ROUTES[name]
                for on in (r % 2 == 0, r % 2 == 1):
                    if on:
                        edgequake_litellm.install(patch=True)
                        before = edgequake_litellm.status()["served_by_rust"]
                    else:
                        edgequake_litellm.uninstall()
                    cpu, wall = sync_block(litellm, route, up, args.calls)
                    samples.setdefault((name, "cpu", on), []).append(cpu)
                    samples.setdefault((name, "sync", on), []).append(wall)
                    if route.acall is not None:
                        samples.setdefault((name, "async", on), []).append(async_block(litellm, route, up, args.calls))
                    if route.streams:
                        samples.setdefault((name, "stream", on), []).append(
                            sync_block(litellm, route, up, args.streams, stream=True)[1]
                        )
                    if on:
                        served[name] = served.get(name, 0) + edgequake_litellm.status()["served_by_rust"] - before
        edgequake_litellm.uninstall()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
    print(f"{args.rounds} interleaved rounds; {args.calls} calls, {args.streams} streams per block; medians")
    print("| route | measure | native | transparent | ratio | calls served by the core |")
    print("|---|---|---:|---:|---:|---:|")
    labels = {
        "cpu": "CPU per sync call",
        "sync": "sync per call",
        "async": "async per call (sequential)",
        "stream": "sync stream",
    }
    for name in names:
        for m, label in labels.items():
            if (name, m, False) not in samples:
                continue
            off = statistics.median(samples[(name, m, False)])
            on = statistics.median(samples[(name, m, True)])
            print(
                f"| {ROUTES[name].name} | {label} | {off:.3f} ms | {on:.3f} ms | {on / off:.2f}x | "
                f"{served.get(name, 0) if m == 'cpu' else ''} |"
            )


if __name__ == "__main__":
    main()
