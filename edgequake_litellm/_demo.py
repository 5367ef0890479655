"""The README demo: LiteLLM with the plugin, against the local OpenAI-compatible mock upstream."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def _label(name: str) -> str:
    """The label column every result line starts with, so the values line up."""
    return f"{name + ':':<14}"


def _per_call_ms(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(20):  # warm up pools and caches
        fn()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def run(calls: int = 200) -> int:
    import litellm

    import edgequake_litellm
    from edgequake_litellm.mock_upstream import MockUpstream

    litellm.suppress_debug_info = True
    edgequake_litellm.install()
    with MockUpstream() as upstream:
        common = {"api_key": "sk-demo", "api_base": upstream.base_url()}
        print(f"mock upstream: {upstream.url} (OpenAI-compatible, on 127.0.0.1)\n")

        r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, **common)
        print(_label("completion"), r.choices[0].message.content, sep="")
        print(
            _label("   usage"),
            f"{r.usage.prompt_tokens} prompt + {r.usage.completion_tokens} completion tokens, ",
            f"cost ${r._hidden_params['response_cost']:.8f}",
            sep="",
        )

        print(_label("streaming"), end="", flush=True)
        for chunk in litellm.completion(
            model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, stream=True, **common
        ):
            print(chunk.choices[0].delta.content or "", end="", flush=True)
        print()

        r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, tools=_TOOLS, **common)
        call = r.choices[0].message.tool_calls[0]
        print(
            _label("tool call"),
            f"{call.function.name} {call.function.arguments} (finish_reason={r.choices[0].finish_reason})",
            sep="",
        )

        e = litellm.embedding(model="edgequake/openai/text-embedding-3-small", input=["a", "b"], **common)
        print(_label("embedding"), f"{len(e.data)} vectors of {len(e.data[0]['embedding'])} floats", sep="")

        print(f"\nper-call time, {calls} sequential litellm.completion calls (median):")
        native = _per_call_ms(
            lambda: litellm.completion(model="openai/gpt-4o-mini", messages=_MESSAGES, **common), calls
        )
        ours = _per_call_ms(
            lambda: litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, **common), calls
        )
        print(f"   LiteLLM native  openai/gpt-4o-mini:            {native:6.2f} ms")
        print(f"   LiteLLM + Rust  edgequake/openai/gpt-4o-mini:  {ours:6.2f} ms  ({ours / native:.2f}x)")
        print("   (the mock upstream is a Python server in this process; see docs/performance.md for the method)")
    return 0
