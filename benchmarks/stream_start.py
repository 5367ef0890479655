"""A stream's start with every accelerator on, and with all but one, interleaved in one process.

    .venv/bin/python benchmarks/stream_start.py [--streams 100] [--rounds 6] [--accel failed_prices]

Per route, the wall time and the consuming thread's CPU from ``litellm.completion(stream=True)``
to the first chunk (what a caller waits for before it sees anything), then the stream read to its
end untimed and LiteLLM's logging threads drained. The routes are the ``edgequake/`` route for a
priced model (LiteLLM cannot price any ``edgequake/`` model when the stream starts: its provider
name is not in the cost map) and transparent mode for a self-hosted model (``openai/`` with a
name the cost map does not price). The upstream is the project's mock in its own process. Blocks
alternate which side goes first; the median over rounds is printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from accel import MSGS, _upstream, drain_logging

ROUTES = {
    "edgequake/ (gpt-4o-mini)": "edgequake/openai/gpt-4o-mini",
    "transparent (self-hosted name)": "openai/my-local-model",
}


def first_chunk(litellm: Any, model: str, base: str, n: int) -> tuple[float, float]:
    """Median ms of wall time and of the consuming thread's CPU to the first chunk, over ``n`` streams."""
    walls, cpus = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.thread_time()
        stream = litellm.completion(model=model, messages=MSGS, api_base=base, api_key="sk-bench", stream=True)
        it = iter(stream)
        next(it)
        walls.append(time.perf_counter() - w)
        cpus.append(time.thread_time() - c)
        for _chunk in it:
            pass
    drain_logging()
    return statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--accel", default="failed_prices", help="the accelerator left out on the 'without' side")
    args = ap.parse_args()
    proc, base = _upstream()
    base = base.replace("/v1", "/s/chunks=20/v1")
    try:
        import litellm

        import edgequake_litellm
        from edgequake_litellm import accel

        litellm.suppress_debug_info = True
        every = set(accel.registry())
        sides = {"all on": every, f"without {args.accel}": every - {args.accel}}
        for model in ROUTES.values():  # warm-up: imports, pools, plans, tokenizers
            for names in sides.values():
                edgequake_litellm.install(patch=True, accelerate=names)
                first_chunk(litellm, model, base, 5)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for route, model in ROUTES.items():
                order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
                for side, names in order:
                    edgequake_litellm.install(patch=True, accelerate=names)
                    samples.setdefault((route, side), []).append(first_chunk(litellm, model, base, args.streams))
        edgequake_litellm.install(patch=True, accelerate=every)
        counts = edgequake_litellm.status()["accelerators"][args.accel]["counts"]
    finally:
        proc.terminate()
        proc.wait()
    print(f"{args.rounds} interleaved rounds of {args.streams} streams per side; {args.accel} counts: {counts}")
    off, on = f"without {args.accel}", "all on"
    print(f"| route | measure | {off} | {on} | difference |")
    print("|---|---|---:|---:|---:|")
    for route in ROUTES:
        for i, what in enumerate(("wall time to first chunk", "consuming thread's CPU to first chunk")):
            a, b = (statistics.median(x[i] for x in samples[(route, side)]) for side in (off, on))
            print(f"| {route} | {what} | {a:.3f} ms | {b:.3f} ms | {b - a:+.3f} ms ({(b - a) / a:+.0%}) |")


if __name__ == "__main__":
    main()
