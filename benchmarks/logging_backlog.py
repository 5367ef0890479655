"""Sync streams read back to back: does LiteLLM's logging pool keep up, or drop tasks?

    .venv/bin/python benchmarks/logging_backlog.py [--streams 300] [--routes native,transparent,edgequake]

LiteLLM's stream wrapper queues a logging task per chunk of a sync stream on its bounded thread
pool, which drops new tasks once 10,000 are pending (the last task of a stream runs its success
callbacks and cache write). Each route runs in a process of its own, reading ``--streams``
100-chunk streams from nginx (a recorded answer served in one write) back to back, with no
callback registered; the core routes run twice, with ``_logging_pace`` as shipped and with its
mark out of reach (``unpaced``). Printed per run: streams per second, the pool's peak of pending
tasks (queued or running, sampled every 10 ms), the tasks it dropped, and the chunks the reader
held back for it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROUTES = {
    "native": "openai/gpt-4o-mini",
    "transparent": "openai/gpt-4o-mini",
    "edgequake": "edgequake/openai/gpt-4o-mini",
}


def child(route: str, paced: bool, streams: int, base: str) -> dict:
    import litellm
    from litellm.litellm_core_utils import streaming_handler

    import edgequake_litellm
    from edgequake_litellm import _logging_pace
    from edgequake_litellm.testing import drain_litellm_logging

    litellm.suppress_debug_info = True
    if route == "transparent":
        edgequake_litellm.install(patch=True)
    elif route == "edgequake":
        edgequake_litellm.install()
    if not paced:
        _logging_pace.high_water = lambda pool: 10**9
    pool = streaming_handler.executor
    drops = [0]
    pool._record_drop = lambda: drops.__setitem__(0, drops[0] + 1)
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _logging_pace._pending(pool))

    threading.Thread(target=watch, daemon=True).start()
    msgs = [{"role": "user", "content": "hi"}]
    for _ in range(3):  # warm-up: imports, pools
        for _chunk in litellm.completion(model=ROUTES[route], messages=msgs, stream=True, api_base=base, api_key="k"):
            pass
    drain_litellm_logging()
    held = _logging_pace.status()["held"]
    t0 = time.perf_counter()
    for _ in range(streams):
        for _chunk in litellm.completion(model=ROUTES[route], messages=msgs, stream=True, api_base=base, api_key="k"):
            pass
    wall = time.perf_counter() - t0
    done.set()
    drain_litellm_logging()
    return {
        "streams_per_s": streams / wall,
        "peak_pending": peak[0],
        "dropped": drops[0],
        "held": _logging_pace.status()["held"] - held,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=300)
    ap.add_argument("--routes", default="native,transparent,edgequake")
    ap.add_argument("--child", nargs=3, metavar=("ROUTE", "PACED", "BASE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        route, paced, base = args.child
        print(json.dumps(child(route, paced == "1", args.streams, base)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from upstream import Nginx

    nginx = Nginx()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    try:
        print(f"{args.streams} back-to-back sync streams of 100 chunks per run, no callback registered")
        print("| route | pacing | streams/s | peak pending tasks | tasks dropped | chunks held |")
        print("|---|---|---:|---:|---:|---:|")
        for route in args.routes.split(","):
            for paced in ("1",) if route == "native" else ("1", "0"):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--streams",
                        str(args.streams),
                        "--child",
                        route,
                        paced,
                        nginx.base_url("stream"),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                label = "-" if route == "native" else ("as shipped" if paced == "1" else "unpaced")
                cells = [f"{r['streams_per_s']:.1f}", *(f"{r[k]:,}" for k in ("peak_pending", "dropped", "held"))]
                print(f"| {route} | {label} | {' | '.join(cells)} |", flush=True)
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
