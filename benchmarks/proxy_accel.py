"""One accelerator on and off in real LiteLLM proxies (1 worker each), against native, on nginx.

    .venv/bin/python benchmarks/proxy_accel.py ACCELERATOR [--rounds 5] [--seconds 8] [--connections 8]
        [--routes native,edgequake,patch]

Each of our routes runs twice, as it does by default (every accelerator on) and with
``EDGEQUAKE_ACCEL_DISABLE=ACCELERATOR``; wrk drives each proxy in turn, rounds interleaved with
the order rotated. Printed: the median requests/s, the proxies' CPU per request and p99.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from pathlib import Path
from tempfile import mkdtemp

from proxy_load import BODY, ROUTES, rotated, started
from upstream import Nginx, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("accelerator")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--routes", default="native,edgequake,patch")
    args = parser.parse_args()

    wanted = args.routes.split(",")
    routes = []
    for r in ROUTES:
        if r.name not in wanted:
            continue
        if r.name == "native":
            routes.append(r)
            continue
        routes.append(replace(r, name=f"{r.name} on"))
        routes.append(replace(r, name=f"{r.name} off", env={**r.env, "EDGEQUAKE_ACCEL_DISABLE": args.accelerator}))
    logdir = Path(mkdtemp(prefix="eq-proxy-accel-"))
    samples: dict[str, list[dict[str, float]]] = {r.name: [] for r in routes}
    with Nginx() as nginx, started(routes, 1, nginx, logdir) as proxies:
        for i in range(args.rounds):
            for p in rotated(proxies, i):
                samples[p.route.name].append(p.load(args.connections, args.seconds, BODY))
            log(f"round {i + 1}/{args.rounds} done")
    native = statistics.median(x["rps"] for x in samples.get("native", [])) if "native" in samples else None
    print(f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s, medians:")
    for name, xs in samples.items():
        rps = statistics.median(x["rps"] for x in xs)
        cpu = statistics.median(x["cpu_per_request"] for x in xs) * 1e3
        p99 = statistics.median(x["p99"] for x in xs) * 1e3
        ratio = f", {rps / native:.3f}x native" if native else ""
        print(f"  {name:14s} {rps:7.1f} req/s{ratio}, {cpu:6.2f} ms CPU per request, p99 {p99:6.0f} ms")


if __name__ == "__main__":
    main()
