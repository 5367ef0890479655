"""``_sdk_shape.sdk_chunk`` renders a stream chunk as the OpenAI SDK does
(``construct_type(ChatCompletionChunk, chunk).model_dump()``), taking a direct path for the
common chunk. Both are compared over generated chunks (values of every type in every field,
extras, missing fields) and the recorded OpenAI chunks: equal, keys in the same order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk

from edgequake_litellm import _sdk_shape

RECORDED = Path(__file__).parent / "recorded"
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)


def _obj(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]], odd: bool
) -> st.SearchStrategy[dict[str, Any]]:
    """Required fields present and optional ones sometimes, each of its SDK type, with scalar
    extras; ``odd``: any field may be missing or hold anything, and extras anything."""

    def value(typical: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(typical, typical, values) if odd else typical

    fields = st.fixed_dictionaries(
        {k: value(v) for k, v in required.items()}, optional={k: value(v) for k, v in optional.items()}
    )
    drop = st.sets(st.sampled_from(sorted(required)), max_size=1) if odd and required else st.just(set())
    extras = st.dictionaries(
        st.sampled_from(["extra", "reasoning_content", "x"]), values if odd else scalars, max_size=2
    )
    return st.tuples(fields, drop, extras).map(lambda t: {**{k: v for k, v in t[0].items() if k not in t[1]}, **t[2]})


text = st.one_of(st.none(), st.text(max_size=4))
tool_calls = st.lists(st.fixed_dictionaries({"index": st.integers(0, 1)}, optional={"id": text}), max_size=1)


def _chunks(odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    deltas = _obj(
        {},
        {
            "role": text,
            "content": text,
            "refusal": text,
            "tool_calls": st.none() | tool_calls,
            "function_call": st.none(),
        },
        odd,
    )
    choices = _obj({"index": st.integers(0, 2), "delta": deltas}, {"finish_reason": text, "logprobs": st.none()}, odd)
    return _obj(
        {
            "id": st.text(max_size=4),
            "object": st.just("chat.completion.chunk"),
            "created": st.integers(0, 2**40),
            "model": st.text(max_size=4),
            "choices": st.lists(choices, max_size=2),
        },
        {"service_tier": text, "system_fingerprint": text, "obfuscation": text, "usage": st.none()},
        odd,
    )


def _sdk(chunk: dict[str, Any]) -> dict[str, Any]:
    return construct_type(type_=ChatCompletionChunk, value=chunk).model_dump()


def _ordered(v: Any) -> Any:
    """Dicts as lists of pairs, so key order is compared too."""
    if isinstance(v, dict):
        return [(k, _ordered(x)) for k, x in v.items()]
    if isinstance(v, list):
        return [_ordered(x) for x in v]
    return v


@settings(max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(_chunks(odd=False) | _chunks(odd=True))
def test_equal_to_the_sdk_on_generated_chunks(chunk: dict[str, Any]) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's dump warns on odd types; the value is what counts
        expected = _sdk(chunk)
        ours = _sdk_shape.sdk_chunk(chunk)
    event("direct" if _sdk_shape._fast(chunk) is not None else "the SDK's")
    assert _ordered(ours) == _ordered(expected)


def test_equal_to_the_sdk_on_recorded_chunks_and_fast_there() -> None:
    seen = 0
    for path in sorted(RECORDED.glob("*.json")):
        for chunk in _chunks_in(json.loads(path.read_text())):
            assert _ordered(_sdk_shape.sdk_chunk(chunk)) == _ordered(_sdk(chunk)), path.name
            seen += 1
    assert seen > 0
    common = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}],
        "obfuscation": "ab",
    }
    assert _sdk_shape._fast(common) == _sdk(common)  # the direct path serves the common chunk


def _chunks_in(doc: Any) -> list[dict[str, Any]]:
    """Every dict shaped like a chat.completion.chunk anywhere in a recorded example."""
    found: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        if doc.get("object") == "chat.completion.chunk":
            found.append(doc)
        for v in doc.values():
            found += _chunks_in(v)
    elif isinstance(doc, list):
        for v in doc:
            found += _chunks_in(v)
    elif isinstance(doc, str) and doc.startswith("data: {"):
        found += _chunks_in(json.loads(doc[6:]))
    return found
