"""What each accelerator removes, in ms of CPU per call: every accelerator on against all but one.

    .venv/bin/python benchmarks/accel_every.py [--calls 300] [--rounds 6] [--only cost,lookups]

For each accelerator that serves library calls (the proxy-only ones have ``proxy_auth.py``), in
one process against the mock upstream (in its own process), on transparent mode (``openai/...``)
and the ``edgequake/`` route: CPU per sync call and per async call at 64 in flight (every thread
of this process, LiteLLM's logging threads drained before the clock stops), and for the
accelerators a stream reaches, CPU per stream chunk after the first (sync and async, as
``accel.py --stream`` measures it). Each round measures all-on and all-but-one in adjacent
blocks, their order alternating, so a round's difference is paired against the machine's drift;
the table prints the median of the rounds' differences and their range.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

from accel import _upstream, async_block, cpu_per_call, cpu_per_chunk

ROUTES = {"transparent": "openai/gpt-4o-mini", "edgequake/": "edgequake/openai/gpt-4o-mini"}
PROXY_ONLY = ("failed_imports", "route_access")  # the proxy's auth: benchmarks/proxy_auth.py
STREAMED = ("cost", "failed_prices", "stream_chunks", "stream_logging", "usage_scan")


def _paired(
    install: Callable[[set[str]], None], every: set[str], name: str, rounds: int, block: Callable[[], float]
) -> list[float]:
    """Per round: the block's figure with ``name`` off minus with every accelerator on."""
    out = []
    for r in range(rounds):
        figures = {}
        for off in (r % 2 == 0, r % 2 == 1):
            install(every - {name} if off else every)
            figures[off] = block()
        out.append(figures[True] - figures[False])
    return out


def _cell(diffs: list[float]) -> str:
    return f"{statistics.median(diffs):+.3f} ms ({min(diffs):+.3f} to {max(diffs):+.3f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--streams", type=int, default=30, help="streams of 100 and of 1 chunk per block")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--only", default="", help="comma-separated accelerators (default: every library one)")
    args = ap.parse_args()
    proc, base = _upstream()
    try:
        import litellm

        import edgequake_litellm
        from edgequake_litellm import accel

        litellm.suppress_debug_info = True
        every = set(accel.registry())
        names = [n for n in accel.registry() if n not in PROXY_ONLY]
        if args.only:
            names = [n for n in names if n in args.only.split(",")]

        def install(on: set[str]) -> None:
            edgequake_litellm.install(patch=True, accelerate=on)

        install(every)
        for model in ROUTES.values():  # warm-up: imports, pools, plans
            cpu_per_call(litellm, model, base, 30)
            async_block(litellm, model, base, 64)
            cpu_per_chunk(litellm, model, base, 3, False)
        base_cpu = {route: cpu_per_call(litellm, model, base, args.calls) for route, model in ROUTES.items()}
        rows: list[tuple[str, str, str, str]] = []
        for name in names:
            for route, model in ROUTES.items():
                sync = _paired(
                    install, every, name, args.rounds, lambda m=model: cpu_per_call(litellm, m, base, args.calls)
                )
                asyn = _paired(
                    install, every, name, args.rounds, lambda m=model: async_block(litellm, m, base, args.calls)[1]
                )
                chunk = "not reached"
                if name in STREAMED:
                    diffs: dict[bool, list[float]] = {}
                    for is_async in (False, True):
                        diffs[is_async] = _paired(
                            install,
                            every,
                            name,
                            args.rounds,
                            lambda m=model, a=is_async: cpu_per_chunk(litellm, m, base, args.streams, a)[0],
                        )
                    chunk = f"sync {_cell(diffs[False])}; async {_cell(diffs[True])}"
                rows.append((name, route, f"{_cell(sync)} | {_cell(asyn)}", chunk))
                print(f"{name} {route}: done", flush=True)
        install(every)
        counts: dict[str, Any] = {n: edgequake_litellm.status()["accelerators"][n]["counts"] for n in names}
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"\n{args.rounds} rounds, blocks of {args.calls} calls and of {args.streams} streams; every accelerator on: "
        + ", ".join(f"{route} {cpu:.3f} ms per sync call" for route, cpu in base_cpu.items())
    )
    print("\n| accelerator | route | removes per sync call | per async call (64 in flight) | per stream chunk |")
    print("|---|---|---:|---:|---|")
    for name, route, calls, chunk in rows:
        print(f"| `{name}` | {route} | {calls} | {chunk} |")
    print("\nfast-path counts (the whole run):", counts)


if __name__ == "__main__":
    main()
