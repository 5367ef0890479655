"""Real LiteLLM proxies in interleaved rounds, against native, on nginx: our routes as shipped,
and optionally with one accelerator off.

    .venv/bin/python benchmarks/proxy_accel.py [ACCELERATOR] [--rounds 5] [--seconds 8]
        [--connections 8] [--workers 1] [--routes native,edgequake,patch[,free,free+accel,io+accel]]

Without ACCELERATOR each route runs once, as shipped (every accelerator on): this is the repeated
measurement of the proxy targets (one sweep of ``proxy_load.py`` is too short to decide them).
With it, each of our routes runs twice, as shipped and with ``EDGEQUAKE_ACCEL_DISABLE=ACCELERATOR``.
The ``free`` route (``free_provider.py``) is a provider whose call costs almost nothing: the
ceiling any provider implementation could reach in the proxy; ``free+accel`` is the same with
this plugin's accelerators; ``io+accel`` adds one real request to nginx through the core, and
nothing else: the ceiling for a provider that waits on the network.
wrk drives each proxy in turn at a fixed connection count, rounds interleaved with the order
rotated. Printed: the median requests/s, the proxies' CPU per request and p99, and the ratio to
native (of requests/s, and of CPU per request inverted), as the median and range of the per-round
ratios (each round pairs routes measured minutes apart at most, so a drift of the machine moves both).
"""

from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import replace
from pathlib import Path
from tempfile import mkdtemp

from proxy_load import BODY, ROUTES, Route, rotated, started
from upstream import MODEL, Nginx, log

FREE = Route(
    "free",
    "a provider call that costs almost nothing (`free_provider.py`)",
    f"free/{MODEL}",
    {"custom_provider_map": [{"provider": "free", "custom_handler": "free_provider.handler"}]},
)


def routes_for(wanted: list[str], accelerator: str | None, nginx: Nginx) -> list[Route]:
    free = replace(
        FREE,
        env={
            "PYTHONPATH": os.pathsep.join(filter(None, (str(Path(__file__).parent), os.environ.get("PYTHONPATH")))),
            "FREE_PROVIDER_BODY": str(nginx.dir / "www" / "json/v1/chat/completions"),
        },
    )
    free_accel = replace(free, name="free+accel", env={**free.env, "FREE_PROVIDER_ACCEL": "1"})
    io_accel = replace(free, name="io+accel", env={**free_accel.env, "FREE_PROVIDER_IO": "1"})
    ceilings = (free, free_accel, io_accel)  # not ours: no accelerator switch of their own
    out: list[Route] = []
    for r in (*ROUTES, *ceilings):
        if r.name not in wanted:
            continue
        if r.name == "native" or r in ceilings or accelerator is None:
            out.append(r)
            continue
        out.append(replace(r, name=f"{r.name} on"))
        out.append(replace(r, name=f"{r.name} off", env={**r.env, "EDGEQUAKE_ACCEL_DISABLE": accelerator}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("accelerator", nargs="?", help="also run each route with this accelerator off")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--routes", default="native,edgequake,patch")
    args = parser.parse_args()

    logdir = Path(mkdtemp(prefix="eq-proxy-accel-"))
    with Nginx() as nginx:
        routes = routes_for(args.routes.split(","), args.accelerator, nginx)
        samples = measure(routes, args, nginx, logdir)
    report(samples, args)


def measure(
    routes: list[Route], args: argparse.Namespace, nginx: Nginx, logdir: Path
) -> dict[str, list[dict[str, float]]]:
    samples: dict[str, list[dict[str, float]]] = {r.name: [] for r in routes}
    with started(routes, args.workers, nginx, logdir) as proxies:
        for i in range(args.rounds):
            for p in rotated(proxies, i):
                samples[p.route.name].append(p.load(args.connections, args.seconds, BODY))
            log(f"round {i + 1}/{args.rounds} done")
    return samples


def report(samples: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    native = samples.get("native")
    shape = f"{args.workers} worker(s), {args.connections} connections, {args.rounds} rounds of {args.seconds:g} s"
    print(f"{shape}, medians:")
    for name, xs in samples.items():
        rps = statistics.median(x["rps"] for x in xs)
        cpu = statistics.median(x["cpu_per_request"] for x in xs) * 1e3
        p99 = statistics.median(x["p99"] for x in xs) * 1e3
        line = f"  {name:14s} {rps:7.1f} req/s, {cpu:6.2f} ms CPU per request, p99 {p99:6.0f} ms"
        if native is not None and name != "native":
            ratios = sorted(x["rps"] / n["rps"] for x, n in zip(xs, native))
            line += f"; {statistics.median(ratios):.3f}x native (rounds {ratios[0]:.3f}-{ratios[-1]:.3f})"
            # the same rounds by CPU per request, inverted: the req/s ratio if only CPU limited it
            by_cpu = sorted(n["cpu_per_request"] / x["cpu_per_request"] for x, n in zip(xs, native))
            line += f", by CPU per request {statistics.median(by_cpu):.3f}x ({by_cpu[0]:.3f}-{by_cpu[-1]:.3f})"
        print(line)


if __name__ == "__main__":
    main()
