"""Each accelerator on and off, interleaved in one process against the mock upstream.

    .venv/bin/python benchmarks/accel.py [--calls 400] [--rounds 6] [--accel cost]
    .venv/bin/python benchmarks/accel.py --stream [--calls 40] [--rounds 6] [--accel stream_chunks]

For transparent mode (``openai/...``) and the ``edgequake/`` route: CPU per sync call
(``time.process_time`` over a block of calls, every thread of this process, after LiteLLM's
logging threads have drained; the upstream runs in its own process) and async throughput with
64 calls in flight. Blocks alternate on/off so drift on a shared machine hits both alike; the
median of the rounds is printed.

``--stream``: CPU per stream chunk instead, sync and async: a block of ``--calls`` streams of
100 chunks and one of 1-chunk streams, the difference divided by 99 (what each chunk after the
first costs), for every thread (LiteLLM's logging threads included) and for the consuming thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from edgequake_litellm.testing import drain_litellm_logging

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MSGS = [{"role": "user", "content": "hello"}]


def _upstream() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgequake_litellm.mock_upstream", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip().removeprefix("listening on ") + "/v1"


def drain_logging(settle: float = 0.2) -> None:
    """Wait until LiteLLM's logging pool has run every task submitted, then ``settle`` seconds for
    what those tasks started. A fixed sleep alone is not enough on a loaded machine: the last
    calls' logging then lands in the next block (under valgrind, 5 % of a call went uncounted).
    Waiting costs no CPU."""
    drain_litellm_logging()
    time.sleep(settle)


def cpu_per_call(litellm: Any, model: str, base: str, n: int) -> float:
    t = time.process_time()
    for _ in range(n):
        litellm.completion(model=model, messages=MSGS, api_base=base, api_key="sk-bench")
    drain_logging()
    return (time.process_time() - t) / n * 1e3


def async_block(litellm: Any, model: str, base: str, n: int, conc: int = 64) -> tuple[float, float]:
    """``n`` ``acompletion`` calls with ``conc`` in flight, in a fresh event loop: (calls/s, ms of
    process CPU per call, LiteLLM's logging threads included: they are drained before the clock
    stops)."""

    async def run() -> float:
        sem = asyncio.Semaphore(conc)

        async def one() -> None:
            async with sem:
                await litellm.acompletion(model=model, messages=MSGS, api_base=base, api_key="sk-bench")

        t = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t)

    cpu = time.process_time()
    rate = asyncio.run(run())
    drain_litellm_logging()
    cpu = (time.process_time() - cpu) / n * 1e3
    time.sleep(0.2)  # what the drained tasks started settles off the next block's clock
    return rate, cpu


def async_throughput(litellm: Any, model: str, base: str, n: int, conc: int = 64) -> float:
    return async_block(litellm, model, base, n, conc)[0]


STREAM_CHUNKS = 100


def _stream_base(base: str, chunks: int) -> str:
    return base.replace("/v1", f"/s/chunks={chunks}/v1")  # the mock upstream's stream length


def cpu_per_stream(litellm: Any, model: str, base: str, n: int, is_async: bool) -> tuple[float, float]:
    """ms of CPU per stream: every thread's, and the consuming (main) thread's alone."""

    async def consume_async() -> None:
        for _ in range(n):
            async for _chunk in await litellm.acompletion(
                model=model, messages=MSGS, api_base=base, api_key="sk-bench", stream=True
            ):
                pass

    t, main = time.process_time(), time.thread_time()
    if is_async:
        asyncio.run(consume_async())
    else:
        for _ in range(n):
            stream = litellm.completion(model=model, messages=MSGS, api_base=base, api_key="sk-bench", stream=True)
            for _chunk in stream:
                pass
    main = time.thread_time() - main
    drain_logging()
    return (time.process_time() - t) / n * 1e3, main / n * 1e3


def cpu_per_chunk(litellm: Any, model: str, base: str, n: int, is_async: bool) -> tuple[float, float]:
    long = cpu_per_stream(litellm, model, _stream_base(base, STREAM_CHUNKS), n, is_async)
    short = cpu_per_stream(litellm, model, _stream_base(base, 1), n, is_async)
    return (long[0] - short[0]) / (STREAM_CHUNKS - 1), (long[1] - short[1]) / (STREAM_CHUNKS - 1)


def stream_main(args: argparse.Namespace, routes: dict[str, str]) -> None:
    proc, base = _upstream()
    try:
        import litellm

        import edgequake_litellm

        litellm.suppress_debug_info = True
        for model in routes.values():  # warm-up: imports, pools, plans
            for on in (False, True):
                edgequake_litellm.install(patch=True, accelerate={args.accel} if on else False)
                for is_async in (False, True):
                    cpu_per_chunk(litellm, model, base, 3, is_async)
        samples: dict[tuple[str, bool, bool], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for route, model in routes.items():
                for is_async in (False, True):
                    for on in (r % 2 == 0, r % 2 == 1):
                        edgequake_litellm.install(patch=True, accelerate={args.accel} if on else False)
                        samples.setdefault((route, is_async, on), []).append(
                            cpu_per_chunk(litellm, model, base, args.calls, is_async)
                        )
        counts = edgequake_litellm.status()["accelerators"][args.accel]["counts"]
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"accelerator {args.accel!r}: {args.rounds} interleaved rounds of {args.calls} streams "
        f"({STREAM_CHUNKS} and 1 chunks); fast path {counts}"
    )
    print("| route | measure | off | on | on - off |")
    print("|---|---|---:|---:|---:|")
    for route in routes:
        for is_async in (False, True):
            kind = "async" if is_async else "sync"
            for i, what in enumerate(("CPU per chunk", "consuming thread's CPU per chunk")):
                off, on = (statistics.median(x[i] for x in samples[(route, is_async, o)]) for o in (False, True))
                print(f"| {route} | {what}, {kind} | {off:.3f} ms | {on:.3f} ms | {on - off:+.3f} ms |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--accel", default="cost", help="the accelerator to switch on and off")
    ap.add_argument("--stream", action="store_true", help="CPU per stream chunk instead of per call")
    args = ap.parse_args()
    if args.stream:
        stream_main(args, {"transparent": "openai/gpt-4o-mini", "edgequake/": "edgequake/openai/gpt-4o-mini"})
        return
    proc, base = _upstream()
    try:
        import litellm

        import edgequake_litellm

        litellm.suppress_debug_info = True
        edgequake_litellm.install(patch=True, accelerate=False)
        routes = {"transparent": "openai/gpt-4o-mini", "edgequake/": "edgequake/openai/gpt-4o-mini"}
        for model in routes.values():  # warm-up: imports, pools, plans
            for on in (False, True):
                edgequake_litellm.install(patch=True, accelerate={args.accel} if on else False)
                cpu_per_call(litellm, model, base, 30)
                async_throughput(litellm, model, base, 64)
        samples: dict[tuple[str, str, bool], list[float]] = {}
        for r in range(args.rounds):
            for route, model in routes.items():
                for on in (r % 2 == 0, r % 2 == 1):
                    edgequake_litellm.install(patch=True, accelerate={args.accel} if on else False)
                    samples.setdefault((route, "cpu", on), []).append(cpu_per_call(litellm, model, base, args.calls))
                    samples.setdefault((route, "async", on), []).append(
                        async_throughput(litellm, model, base, args.calls)
                    )
        counts = edgequake_litellm.status()["accelerators"][args.accel]["counts"]
    finally:
        proc.terminate()
        proc.wait()
    print(f"accelerator {args.accel!r}: {args.rounds} interleaved rounds of {args.calls} calls; fast path {counts}")
    print("| route | measure | off | on | on - off |")
    print("|---|---|---:|---:|---:|")
    for route in routes:
        off, on = statistics.median(samples[(route, "cpu", False)]), statistics.median(samples[(route, "cpu", True)])
        print(f"| {route} | CPU per sync call | {off:.3f} ms | {on:.3f} ms | {on - off:+.3f} ms |")
        off, on = (statistics.median(samples[(route, "async", o)]) for o in (False, True))
        print(f"| {route} | async calls/s, 64 in flight | {off:.0f} | {on:.0f} | {(on / off - 1) * 100:+.0f}% |")


if __name__ == "__main__":
    main()
