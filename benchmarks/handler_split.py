"""Where the ``edgequake/`` handler's CPU goes: each piece of an async call, on nginx.

    .venv/bin/python benchmarks/handler_split.py [--calls 3000]

One call in flight at a time, on the calling thread's CPU clock (``time.thread_time``). Each
piece is timed by a wrapper around the function that does it, in the module that calls it, so
LiteLLM's path around the handler is untouched. A piece that awaits (the core's request) also
counts what the event loop runs meanwhile: LiteLLM's logging tasks of the previous call.
Printed: CPU per call of the whole ``litellm.acompletion``, of the handler, and of each piece.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import os
import time
from collections.abc import Callable
from typing import Any

from upstream import KEY, MESSAGES, MODEL, Nginx

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

WARMUP = 200


def timed(owner: Any, name: str, label: str, spent: collections.Counter[str]) -> None:
    """Replace ``owner.name`` with a wrapper adding its CPU time to ``spent[label]``."""
    fn: Callable[..., Any] = getattr(owner, name)
    if inspect.iscoroutinefunction(fn):

        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - start

        setattr(owner, name, awrapper)
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - start

    setattr(owner, name, wrapper)


async def run(base: str, calls: int, spent: collections.Counter[str]) -> tuple[float, float]:
    import litellm

    kw = {"model": f"edgequake/openai/{MODEL}", "messages": MESSAGES, "api_key": KEY, "api_base": base}
    for _ in range(WARMUP):
        await litellm.acompletion(**kw)
    spent.clear()
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        await litellm.acompletion(**kw)
    return time.thread_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()

    import edgequake_litellm
    from edgequake_litellm import _handler, _responses, _serve

    edgequake_litellm.install()
    spent: collections.Counter[str] = collections.Counter()
    pieces = [
        (_handler.EdgequakeLLM, "acompletion", "the handler, in all"),
        (_handler, "_call", "  reading the call (Call.build, check_served)"),
        (_serve, "_chat_request", "  the request's parameters and LiteLLM's pre-call log"),
        (_serve, "asend", "  the core's request (and the event loop while it waits)"),
        (_serve, "_log_reply", "  LiteLLM's post-call log"),
        (_serve, "_filled", "  the answer as LiteLLM's ModelResponse, priced"),
        (_responses, "convert_to_model_response_object", "    convert_to_model_response_object"),
        (_responses, "_stamp_cost", "    the cost stamp (completion_cost)"),
    ]
    for owner, name, label in pieces:
        timed(owner, name, label, spent)
    with Nginx() as nginx:
        cpu, wall = asyncio.run(run(nginx.base_url("json"), args.calls, spent))
    print(f"{args.calls} calls, one in flight; CPU per call on the calling thread:")
    print(f"{cpu / args.calls * 1e3:8.3f} ms  litellm.acompletion, in all (wall {wall / args.calls * 1e3:.3f} ms)")
    for _, _, label in pieces:
        print(f"{spent[label] / args.calls * 1e3:8.3f} ms  {label}")


if __name__ == "__main__":
    main()
