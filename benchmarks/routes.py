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
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MSGS = [{"role": "user", "content": "hello"}]
KEY = "sk-bench"


@dataclass
class Route:
    name: str
    # (litellm, upstream base) -> the call's keyword arguments and the function to call
    call: Callable[[Any, str], tuple[Callable[..., Any], dict[str, Any]]]
    acall: Callable[[Any, str], tuple[Callable[..., Any], dict[str, Any]]] | None = None
    streams: bool = True


def _openai(base: str) -> dict[str, Any]:
    return {"api_base": base + "/v1", "api_key": KEY}


def _azure(base: str) -> dict[str, Any]:
    return {"api_base": base, "api_key": KEY, "api_version": "2024-10-21"}


ROUTES: dict[str, Route] = {
    "openai-chat": Route(
        "`openai/` chat (reference: the SDK tier)",
        lambda litellm, base: (litellm.completion, {"model": "openai/gpt-4o-mini", "messages": MSGS, **_openai(base)}),
        lambda litellm, base: (litellm.acompletion, {"model": "openai/gpt-4o-mini", "messages": MSGS, **_openai(base)}),
    ),
    "azure-chat": Route(
        "`azure/` chat",
        lambda litellm, base: (litellm.completion, {"model": "azure/my-deployment", "messages": MSGS, **_azure(base)}),
        lambda litellm, base: (litellm.acompletion, {"model": "azure/my-deployment", "messages": MSGS, **_azure(base)}),
    ),
    "azure-embedding": Route(
        "`azure/` embeddings",
        lambda litellm, base: (litellm.embedding, {"model": "azure/my-embedding", "input": ["hello"], **_azure(base)}),
        lambda litellm, base: (litellm.aembedding, {"model": "azure/my-embedding", "input": ["hello"], **_azure(base)}),
        streams=False,
    ),
    "text-completion": Route(
        "`text_completion` (`openai/gpt-3.5-turbo-instruct`)",
        lambda litellm, base: (
            litellm.text_completion,
            {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "hello", **_openai(base)},
        ),
        lambda litellm, base: (
            litellm.atext_completion,
            {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "hello", **_openai(base)},
        ),
    ),
    "responses": Route(
        "`responses` (`openai/gpt-4o-mini`)",
        lambda litellm, base: (litellm.responses, {"model": "openai/gpt-4o-mini", "input": "hello", **_openai(base)}),
        lambda litellm, base: (litellm.aresponses, {"model": "openai/gpt-4o-mini", "input": "hello", **_openai(base)}),
    ),
}


def _upstream() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgequake_litellm.mock_upstream", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip().removeprefix("listening on ")


def _drain() -> None:
    time.sleep(0.2)  # LiteLLM's success logging finishes in its thread pool; sleeping costs no CPU


def _consume(out: Any) -> None:
    if hasattr(out, "__iter__") and not isinstance(out, (dict, list)) and hasattr(out, "__next__"):
        for _ in out:
            pass


async def _aconsume(out: Any) -> None:
    if hasattr(out, "__anext__"):
        async for _ in out:
            pass


def sync_block(litellm: Any, route: Route, base: str, n: int, stream: bool = False) -> tuple[float, float]:
    """(CPU ms per call, wall ms per call)."""
    fn, kw = route.call(litellm, base)
    if stream:
        kw = {**kw, "stream": True}
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        _consume(fn(**kw))
    wall = time.perf_counter() - wall
    _drain()
    return (time.process_time() - cpu) / n * 1e3, wall / n * 1e3


def async_block(litellm: Any, route: Route, base: str, n: int) -> float:
    """Wall ms per sequential awaited call."""
    assert route.acall is not None
    fn, kw = route.acall(litellm, base)

    async def run() -> float:
        t = time.perf_counter()
        for _ in range(n):
            await _aconsume(await fn(**kw))
        return (time.perf_counter() - t) / n * 1e3

    out = asyncio.run(run())
    _drain()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--streams", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--route", action="append", choices=sorted(ROUTES), help="routes to measure (default: all)")
    args = ap.parse_args()
    names = args.route or list(ROUTES)
    proc, base = _upstream()
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
                sync_block(litellm, route, base, 10)
                if route.acall is not None:
                    async_block(litellm, route, base, 10)
                if route.streams:
                    sync_block(litellm, route, base, 5, stream=True)
        for r in range(args.rounds):
            for name in names:
                route = ROUTES[name]
                for on in (r % 2 == 0, r % 2 == 1):
                    if on:
                        edgequake_litellm.install(patch=True)
                        before = edgequake_litellm.status()["served_by_rust"]
                    else:
                        edgequake_litellm.uninstall()
                    cpu, wall = sync_block(litellm, route, base, args.calls)
                    samples.setdefault((name, "cpu", on), []).append(cpu)
                    samples.setdefault((name, "sync", on), []).append(wall)
                    if route.acall is not None:
                        samples.setdefault((name, "async", on), []).append(
                            async_block(litellm, route, base, args.calls)
                        )
                    if route.streams:
                        samples.setdefault((name, "stream", on), []).append(
                            sync_block(litellm, route, base, args.streams, stream=True)[1]
                        )
                    if on:
                        served[name] = served.get(name, 0) + edgequake_litellm.status()["served_by_rust"] - before
        edgequake_litellm.uninstall()
    finally:
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
