"""Sync streams with ``reused_loop``'s quiet selector on and off, interleaved in one process.

    .venv/bin/python benchmarks/quiet_loop.py [--streams 10] [--rounds 8] [--chunks 200]

Every accelerator on; transparent mode (``openai/...``) and the ``edgequake/`` route, each
stream consumed to the end against the mock upstream (its own process, ``chunks=N``). The
per-chunk logging of a sync stream runs LiteLLM's ``async_success_handler`` on a reused event
loop (``stream_logging``); the quiet selector skips that loop's zero-timeout polls, which can only
find its own wake-up socket. Off, the loops are asyncio's own (``events.new_event_loop``), as the
reused loops were before. Prints the median over rounds, per chunk: wall time of the consuming
thread, CPU of the whole process (LiteLLM's logging threads included, after they drain) and of
the consuming thread.
"""

from __future__ import annotations

import argparse
import statistics
import time
from asyncio import events

from accel import _stream_base, _upstream, drain_logging  # sets LITELLM_LOCAL_MODEL_COST_MAP

MSGS = [{"role": "user", "content": "What is the weather in Paris?"}]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=10, help="streams per block")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--chunks", type=int, default=200)
    args = ap.parse_args()
    proc, base = _upstream()
    base = _stream_base(base, args.chunks)
    try:
        import litellm

        import edgequake_litellm
        from edgequake_litellm.accel import reused_loop

        litellm.suppress_debug_info = True
        edgequake_litellm.install(patch=True)
        quiet = reused_loop._new_loop

        def streams(model: str) -> None:
            for _ in range(args.streams):
                for _chunk in litellm.completion(
                    model=model, messages=MSGS, api_base=base, api_key="sk-bench", stream=True
                ):
                    pass

        per_chunk = args.streams * args.chunks / 1e3
        for route, model in (("transparent", "openai/gpt-4o-mini"), ("edgequake/", "edgequake/openai/gpt-4o-mini")):
            streams(model)  # warm-up: imports, pools, tokenizer
            seen: dict[bool, dict[str, list[float]]] = {
                on: {"wall": [], "process": [], "thread": []} for on in (True, False)
            }
            for r in range(args.rounds):
                for on in (True, False) if r % 2 == 0 else (False, True):
                    reused_loop._new_loop = quiet if on else events.new_event_loop
                    reused_loop._free.clear()
                    drain_logging()
                    p, t, w = time.process_time(), time.thread_time(), time.perf_counter()
                    streams(model)
                    w, t = time.perf_counter() - w, time.thread_time() - t
                    drain_logging()
                    seen[on]["process"].append((time.process_time() - p) / per_chunk)
                    seen[on]["thread"].append(t / per_chunk)
                    seen[on]["wall"].append(w / per_chunk)
            reused_loop._new_loop = quiet
            for on, label in ((False, "asyncio's loop"), (True, "quiet selector")):
                m = {k: statistics.median(v) for k, v in seen[on].items()}
                print(
                    f"{route:12s} {label:15s} per chunk: wall {m['wall']:.3f} ms, process CPU {m['process']:.3f} ms,"
                    f" consuming thread CPU {m['thread']:.3f} ms"
                )
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
