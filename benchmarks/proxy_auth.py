"""The proxy-auth accelerators in isolation: CPU per call of the LiteLLM proxy auth functions they
answer, each run once or more per proxy request.

- ``failed_imports``: three functions whose imports of optional packages fail on every request
  (without ``opentelemetry-sdk``, ``litellm_enterprise`` and, for a proxy without a database,
  ``prisma``, as the proxy extra installs it);
- ``route_access``: ``RouteChecks.check_route_access`` for an LLM request's path against the three
  route lists the common auth checks test it against (it is in none of them).

    .venv/bin/python benchmarks/proxy_auth.py [--calls 1000] [--rounds 7]

Interleaved blocks with the accelerator off and on, in one process (``time.process_time`` per
block); the median of the rounds is printed.
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

    from litellm.proxy._types import LiteLLMRoutes, UserAPIKeyAuth
    from litellm.proxy.auth import route_checks, user_api_key_auth
    from litellm.proxy.db import log_db_metrics

    from edgequake_litellm import accel

    user = UserAPIKeyAuth(api_key="sk-bench")
    checks = route_checks.RouteChecks
    lists = [r.value for r in (LiteLLMRoutes.passthrough_routes_wildcard, LiteLLMRoutes.mcp_inference_routes)]
    lists.append(LiteLLMRoutes.agent_inference_routes.value)

    def db_check() -> None:
        """As the DB-metrics wrapper asks it, after a lookup failed without a database."""
        try:
            raise RuntimeError("no database")
        except RuntimeError as e:
            try:
                log_db_metrics.is_exception_related_to_db(e)
            except ModuleNotFoundError:
                pass

    def route_lists() -> None:
        for allowed in lists:
            checks.check_route_access(route="/chat/completions", allowed_routes=allowed)

    calls: dict[str, tuple[str, Callable[[], Any]]] = {
        "_seed_request_destinations": (
            "failed_imports",
            lambda: user_api_key_auth._seed_request_destinations(user, None),
        ),
        "RouteChecks.check_route_enabled": (
            "failed_imports",
            lambda: checks.check_route_enabled("/chat/completions"),
        ),
        "is_exception_related_to_db": ("failed_imports", db_check),
        "RouteChecks.check_route_access x3": ("route_access", route_lists),
    }
    samples: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in calls for on in (False, True)}
    for _ in range(args.rounds):
        for on in (False, True):
            for name, (accelerator, call) in calls.items():
                accel.install({accelerator} if on else False)
                call()  # on: the first call runs LiteLLM's function and remembers its outcome
                t = time.process_time()
                for _ in range(args.calls):
                    call()
                samples[(name, on)].append((time.process_time() - t) / args.calls * 1e6)
    accel.install(False)
    print(f"CPU per call (median of {args.rounds} rounds of {args.calls}):")
    for name, (accelerator, _) in calls.items():
        off, on = statistics.median(samples[(name, False)]), statistics.median(samples[(name, True)])
        print(f"  {name} ({accelerator}): off {off:.1f} µs, on {on:.1f} µs, removed {off - on:.1f} µs per request")


if __name__ == "__main__":
    main()
