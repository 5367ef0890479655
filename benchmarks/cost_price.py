"""The ``cost`` accelerator in isolation: CPU per priced call, LiteLLM's ``response_cost_calculator``
against the accelerated one, as ``Logging.response_cost_calculator`` calls it on a chat response
(usage with prompt and completion token details, as OpenAI sends them; a logging object, so the
breakdown is priced and stored too).

    .venv/bin/python benchmarks/cost_price.py [--calls 2000] [--rounds 7]

Interleaved blocks in one process (``time.process_time`` per block over fresh response and
logging objects); the median of the rounds is printed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 9,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def _objects(n: int) -> list[tuple[Any, Any]]:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.utils import ModelResponse, Usage

    out = []
    for _ in range(n):
        response = ModelResponse(model="gpt-4o-mini-2024-07-18", usage=Usage(**USAGE))
        response._hidden_params["custom_llm_provider"] = "openai"
        log = Logging(
            model="gpt-4o-mini",
            messages=[],
            stream=False,
            call_type="completion",
            start_time=datetime.datetime.now(),
            litellm_call_id="id",
            function_id="f",
        )
        out.append((response, log))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from edgequake_litellm import accel
    from edgequake_litellm.accel import cost

    accel.install({"cost"})
    functions = {"LiteLLM": cost._F["response_cost_calculator"], "accelerated": cost.response_cost_calculator}
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(args.rounds):
        for name, fn in functions.items():
            objects = _objects(args.calls)
            t = time.process_time()
            for response, log in objects:
                fn(
                    response_object=response,
                    model="gpt-4o-mini",
                    custom_llm_provider="openai",
                    call_type="completion",
                    optional_params={},
                    litellm_logging_obj=log,
                )
            samples[name].append((time.process_time() - t) / args.calls * 1e6)
    # One piece of the fast path: the prompt-token details parse, on the usage as LiteLLM passes
    # it, and on the stand-in the fast path passes (its building included).
    parse = cost._F["parse_prompt_tokens_details"]
    parses: dict[str, list[float]] = {"parse on the usage": [], "parse on the stand-in": []}
    for _ in range(args.rounds):
        usages = [response.usage for response, _ in _objects(args.calls)]
        t = time.process_time()
        for usage in usages:
            parse(usage)
        parses["parse on the usage"].append((time.process_time() - t) / args.calls * 1e6)
        t = time.process_time()
        for usage in usages:
            parse(cost._prompt_details_read(usage))
        parses["parse on the stand-in"].append((time.process_time() - t) / args.calls * 1e6)
    counts = cost.counts()
    accel.install(False)
    print(f"CPU per priced call (median of {args.rounds} rounds of {args.calls}); fast path {counts}:")
    for name, values in samples.items():
        print(f"  {name}: {statistics.median(values):.1f} µs")
    print("Prompt-token details parse, once per priced call:")
    for name, values in parses.items():
        print(f"  {name}: {statistics.median(values):.1f} µs")


if __name__ == "__main__":
    main()
