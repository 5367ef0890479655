"""CPU of one ``StandardLoggingPayload`` build, an accelerator on and off, interleaved in one process.

    .venv/bin/python benchmarks/payload_build.py [--accel logging_payload] [--builds 2000] [--rounds 10]

Records the arguments LiteLLM passes to ``get_standard_logging_object_payload`` for one transparent
``openai/`` call against the mock upstream, then times rebuilding that payload (``time.process_time``,
median of the rounds). For accelerators whose gain per served call is below a shared machine's noise
in ``benchmarks/accel.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from accel import MSGS, _upstream  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="logging_payload")
    ap.add_argument("--builds", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    proc, base = _upstream()
    try:
        import litellm
        from litellm.litellm_core_utils import litellm_logging

        import edgequake_litellm
        from edgequake_litellm import accel

        litellm.suppress_debug_info = True
        edgequake_litellm.install(patch=True, accelerate=False)
        build = litellm_logging.get_standard_logging_object_payload
        seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

        def recording(*a: Any, **k: Any) -> Any:
            if not seen:
                seen.append((a, k))
            return build(*a, **k)

        litellm_logging.get_standard_logging_object_payload = recording
        litellm.completion(model="openai/gpt-4o-mini", messages=MSGS, api_base=base, api_key="sk-bench")
        time.sleep(0.5)  # the success handler runs on LiteLLM's logging thread
        litellm_logging.get_standard_logging_object_payload = build
        a, k = seen[0]
        samples: dict[bool, list[float]] = {False: [], True: []}
        for r in range(args.rounds):
            for on in (r % 2 == 0, r % 2 == 1):
                accel.install({args.accel} if on else False)
                t = time.process_time()
                for _ in range(args.builds):
                    build(*a, **k)
                samples[on].append((time.process_time() - t) / args.builds * 1e3)
    finally:
        proc.terminate()
        proc.wait()
    off, on = statistics.median(samples[False]), statistics.median(samples[True])
    print(f"payload build, accelerator {args.accel!r}: off {off:.4f} ms, on {on:.4f} ms, {on - off:+.4f} ms")


if __name__ == "__main__":
    main()
