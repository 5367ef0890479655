"""The ``failed_imports`` accelerator in isolation: CPU per call of the two proxy auth functions
whose imports of optional packages fail on every request (without ``opentelemetry-sdk`` and
``litellm_enterprise``, as the proxy extra installs it).

    .venv/bin/python benchmarks/failed_imports.py [--calls 1000] [--rounds 7]

Interleaved blocks with the accelerator off and on, in one process (``time.process_time`` per
block); the median of the rounds is printed. Both run once per proxy request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from litellm.proxy._types import UserAPIKeyAuth
    from litellm.proxy.auth import route_checks, user_api_key_auth

    from edgequake_litellm import accel

    user = UserAPIKeyAuth(api_key="sk-bench")
    calls: dict[str, Callable[[], Any]] = {
        "_seed_request_destinations": lambda: user_api_key_auth._seed_request_destinations(user, None),
        "RouteChecks.check_route_enabled": lambda: route_checks.RouteChecks.check_route_enabled("/chat/completions"),
    }
    samples: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in calls for on in (False, True)}
    for _ in range(args.rounds):
        for on in (False, True):
            accel.install({"failed_imports"} if on else False)
            for name, call in calls.items():
                call()  # on: the first attempt runs the import and remembers its failure
                t = time.process_time()
                for _ in range(args.calls):
                    call()
                samples[(name, on)].append((time.process_time() - t) / args.calls * 1e6)
    accel.install(False)
    print(f"CPU per call (median of {args.rounds} rounds of {args.calls}):")
    for name in calls:
        off, on = statistics.median(samples[(name, False)]), statistics.median(samples[(name, True)])
        print(f"  {name}: off {off:.1f} µs, on {on:.1f} µs, removed {off - on:.1f} µs per request")


if __name__ == "__main__":
    main()
