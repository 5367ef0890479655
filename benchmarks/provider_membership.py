"""The ``provider_membership`` accelerator in isolation: CPU per ``get_optional_params`` call (one
of the two functions whose known-provider test it answers; ``completion`` runs the same test).

    .venv/bin/python benchmarks/provider_membership.py [--calls 2000] [--rounds 9]

Interleaved blocks with the accelerator off and on, in one process (``time.process_time`` per
block); the median of the rounds is printed. A served call's difference is two such tests, well
under this shared machine's call-to-call noise (see ``benchmarks/accel.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    from litellm.utils import get_optional_params

    from edgequake_litellm import accel

    kw = {"model": "gpt-4o-mini", "custom_llm_provider": "openai", "temperature": 0.2, "max_tokens": 64}
    samples: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for on in (False, True):
            accel.install({"provider_membership"} if on else False)
            get_optional_params(**kw)
            t = time.process_time()
            for _ in range(args.calls):
                get_optional_params(**kw)
            samples[on].append((time.process_time() - t) / args.calls * 1e6)
    accel.install(False)
    off, on = statistics.median(samples[False]), statistics.median(samples[True])
    print(f"get_optional_params, CPU per call (median of {args.rounds} rounds of {args.calls}):")
    print(f"  off {off:.1f} µs, on {on:.1f} µs, removed {off - on:.1f} µs per known-provider test")


if __name__ == "__main__":
    main()
