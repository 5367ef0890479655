"""Transparent-mode streams with the SDK chunk builder on and off, interleaved in one process.

    .venv/bin/python benchmarks/stream_chunks.py [--streams 20] [--rounds 6] [--chunks 100]

``install(patch=True)``, then ``litellm.completion(model="openai/gpt-4o-mini", stream=True)``
against the mock upstream (its own process, ``chunks=N``), consumed to the end. Prints the median
over rounds of the CPU per stream: the whole process (``process_time``, LiteLLM's logging
threads included, after they drain) and the calling thread alone (``thread_time``), with
``_sdk_shape.chunk_object`` building the chunk objects and with every chunk left to the SDK's
``construct_type`` (the module's ``_BUILD`` switch, for this measure only); then the time of one
chunk object, built and by ``construct_type``, for a recorded chunk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import timeit
from pathlib import Path

from accel import _stream_base, _upstream  # sets LITELLM_LOCAL_MODEL_COST_MAP

MSGS = [{"role": "user", "content": "hello"}]
RECORDED = Path(__file__).resolve().parents[1] / "tests" / "recorded" / "openai_chat_chunk.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=20, help="streams per block")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--chunks", type=int, default=100)
    args = ap.parse_args()
    proc, base = _upstream()
    base = _stream_base(base, args.chunks)
    try:
        import litellm
        from openai._models import construct_type
        from openai.types.chat import ChatCompletionChunk

        import edgequake_litellm
        from edgequake_litellm import _sdk_shape

        litellm.suppress_debug_info = True
        edgequake_litellm.install(patch=True)

        def stream() -> None:
            for _ in litellm.completion(
                model="openai/gpt-4o-mini", messages=MSGS, api_base=base, api_key="sk-bench", stream=True
            ):
                pass

        stream()  # warm-up: imports, pools, tokenizer
        cpu: dict[bool, list[float]] = {True: [], False: []}
        thread: dict[bool, list[float]] = {True: [], False: []}
        for r in range(args.rounds):
            for on in (True, False) if r % 2 == 0 else (False, True):
                _sdk_shape._BUILD = on
                time.sleep(0.2)  # the previous block's logging threads finish off the clock
                p, t = time.process_time(), time.thread_time()
                for _ in range(args.streams):
                    stream()
                t = time.thread_time() - t
                time.sleep(0.2)
                cpu[on].append((time.process_time() - p) / args.streams * 1e3)
                thread[on].append(t / args.streams * 1e3)
        _sdk_shape._BUILD = True
        for on, label in ((False, "construct_type"), (True, "chunk_object")):
            print(
                f"{label:15s} CPU per {args.chunks}-chunk stream: process {statistics.median(cpu[on]):6.2f} ms,"
                f" calling thread {statistics.median(thread[on]):6.2f} ms"
            )
        chunk = json.loads(RECORDED.read_text())
        n = 20000
        built = timeit.timeit(lambda: _sdk_shape.chunk_object(chunk), number=n) / n * 1e6
        sdk = timeit.timeit(lambda: construct_type(type_=ChatCompletionChunk, value=chunk), number=n) / n * 1e6
        print(f"one recorded chunk: chunk_object {built:.1f} µs, construct_type {sdk:.1f} µs")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
