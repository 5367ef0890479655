"""``_sdk_shape.chunk_object`` is ``construct_type(type_=ChatCompletionChunk, value=chunk)``: the
same objects (classes, ``__dict__`` values and key order, ``__pydantic_fields_set__``,
``__pydantic_extra__``, ``__pydantic_private__``), so the same ``model_dump()``,
``model_dump_json()``, ``repr()`` and ``str()``, or the same exception. Compared over generated
chunks (every declared field present, absent, None or of any JSON type; extras at every level,
including the keyword names ``construct`` takes; tool calls, logprobs, usage, audio,
moderation, several choices) and the recorded OpenAI chunks."""

from __future__ import annotations

import json
import warnings
from typing import Any
from unittest import mock

import pydantic
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta

from edgequake_litellm import _sdk_shape

from .test_sdk_shape import RECORDED, _chunks_in, _obj, values

text = st.one_of(st.none(), st.text(max_size=4))
role = st.sampled_from([None, "assistant", "user", "tool", "developer", "system", "robot", ""])
finish = st.sampled_from([None, "stop", "length", "tool_calls", "content_filter", "function_call", "other"])
tier = st.sampled_from([None, "default", "auto", "flex", "scale", "priority", "fast", "other"])
count = st.one_of(st.integers(0, 2**31), st.none())
floats = st.floats(allow_nan=False, width=32)


def _chunks(odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    def o(req: dict, opt: dict) -> st.SearchStrategy[dict[str, Any]]:
        return _obj(req, opt, odd)

    function = o({}, {"name": text, "arguments": text})
    tool_call = o(
        {"index": st.integers(0, 3)},
        {"id": text, "type": st.sampled_from([None, "function", "x"]), "function": function},
    )
    top = o(
        {"token": st.text(max_size=3), "logprob": floats},
        {"bytes": st.none() | st.lists(st.integers(0, 255), max_size=2)},
    )
    token = o(
        {"token": st.text(max_size=3), "logprob": floats, "top_logprobs": st.lists(top, max_size=2)},
        {"bytes": st.none() | st.lists(st.integers(0, 255), max_size=2)},
    )
    logprobs = o(
        {}, {"content": st.none() | st.lists(token, max_size=2), "refusal": st.none() | st.lists(token, max_size=1)}
    )
    details = o({}, {"reasoning_tokens": count, "audio_tokens": count, "cached_tokens": count})
    usage = o(
        {"prompt_tokens": count, "completion_tokens": count, "total_tokens": count},
        {"completion_tokens_details": st.none() | details, "prompt_tokens_details": st.none() | details},
    )
    delta = o(
        {},
        {
            "role": role,
            "content": text,
            "refusal": text,
            "tool_calls": st.none() | st.lists(tool_call, max_size=2),
            "function_call": st.none() | function,
            "audio": st.none() | o({}, {"id": text, "data": text, "transcript": text, "expires_at": count}),
        },
    )
    choice = o(
        {"index": st.integers(0, 3), "delta": delta}, {"finish_reason": finish, "logprobs": st.none() | logprobs}
    )
    return o(
        {
            "id": st.text(max_size=4),
            "object": st.sampled_from(["chat.completion.chunk", "other"]),
            "created": st.integers(0, 2**40),
            "model": st.text(max_size=4),
            "choices": st.lists(choice, max_size=3),
        },
        {
            "service_tier": tier,
            "system_fingerprint": text,
            "obfuscation": text,
            "usage": st.none() | usage,
            "moderation": st.none() | values,
        },
    )


# Keys ``BaseModel.construct(__cls, _fields_set=None, **values)`` treats specially, and others.
odd_keys = st.sampled_from(["_fields_set", "_BaseModel__cls", "__cls", "model_config", "reasoning_content", "_x"])


@st.composite
def _with_odd_keys(draw: st.DrawFn, chunk: dict[str, Any]) -> dict[str, Any]:
    """``chunk`` with an odd key (any value) added to it, a choice or a delta."""
    targets = [chunk] + [c for c in chunk.get("choices") or () if isinstance(c, dict)]
    targets += [c["delta"] for c in targets[1:] if isinstance(c.get("delta"), dict)]
    target = draw(st.sampled_from(targets))
    target[draw(odd_keys)] = draw(st.one_of(values, st.sets(st.text(max_size=2), max_size=2)))
    return chunk


def _sdk(chunk: Any) -> Any:
    return construct_type(type_=ChatCompletionChunk, value=chunk)


def _same(ours: Any, sdk: Any, at: str = "chunk") -> None:
    """Equal values of the same types, all the way down; models compared by their state."""
    assert type(ours) is type(sdk), at
    if isinstance(sdk, pydantic.BaseModel):
        _same(ours.__dict__, sdk.__dict__, at + ".__dict__")
        _same(ours.__pydantic_fields_set__, sdk.__pydantic_fields_set__, at + ".__pydantic_fields_set__")
        _same(ours.__pydantic_extra__, sdk.__pydantic_extra__, at + ".__pydantic_extra__")
        _same(ours.__pydantic_private__, sdk.__pydantic_private__, at + ".__pydantic_private__")
    elif isinstance(sdk, dict):
        assert list(ours) == list(sdk), at  # the same keys in the same order
        for k in sdk:
            _same(ours[k], sdk[k], f"{at}[{k!r}]")
    elif isinstance(sdk, (set, frozenset)):
        assert ours == sdk, at
    elif isinstance(sdk, (list, tuple)):
        assert len(ours) == len(sdk), at
        for i, (a, b) in enumerate(zip(ours, sdk, strict=True)):
            _same(a, b, f"{at}[{i}]")
    else:
        assert ours == sdk, at


def _outcome(make: Any, chunk: Any) -> Any:
    try:
        return make(chunk)
    except Exception as e:  # the SDK's own failure (a construct keyword of the wrong type)
        return e


def _compare(chunk: Any) -> None:
    ours = _outcome(_sdk_shape.chunk_object, chunk)
    sdk = _outcome(_sdk, chunk)
    if isinstance(sdk, Exception):
        assert type(ours) is type(sdk) and str(ours) == str(sdk)
        return
    _same(ours, sdk)
    renderings = {
        "model_dump": lambda m: json.dumps(m.model_dump(), default=repr),
        "model_dump_json": lambda m: m.model_dump_json(),
        "model_dump(exclude_unset)": lambda m: json.dumps(m.model_dump(exclude_unset=True), default=repr),
        "repr": repr,
        "str": str,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's dump warns on odd types; equal is what counts
        for name, render in renderings.items():
            a, b = _outcome(render, ours), _outcome(render, sdk)
            if isinstance(b, Exception):  # e.g. a fields set the chunk itself gave as a list
                assert (type(a), str(a)) == (type(b), str(b)), name
            else:
                assert a == b, name


def _built(chunk: dict[str, Any]) -> bool:
    """Whether the builder served ``chunk`` without handing it all to the SDK."""
    with mock.patch.object(_sdk_shape, "construct_type", side_effect=AssertionError):
        try:
            _sdk_shape.chunk_object(chunk)
        except AssertionError:
            return False
        except Exception:
            return True
    return True


@settings(max_examples=600, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(_chunks(odd=False), _chunks(odd=True), _chunks(odd=False).flatmap(_with_odd_keys)))
def test_the_sdks_objects_on_generated_chunks(chunk: dict[str, Any]) -> None:
    event("built" if _built(chunk) else "the SDK's")
    _compare(chunk)


def test_the_sdks_objects_on_recorded_chunks_and_built_there() -> None:
    seen = 0
    for path in sorted(RECORDED.glob("*.json")):
        for chunk in _chunks_in(json.loads(path.read_text())):
            _compare(chunk)
            assert _built(chunk), path.name
            seen += 1
    assert seen > 0


@pytest.mark.parametrize(
    "chunk",
    [
        {"id": "a", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}], "created": 1},
        {"id": "a", "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}], "model": "m"},
        {"id": "a", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}}]},
        {"id": "a", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
        {
            "id": "a",
            "choices": [{"index": 0, "delta": {"reasoning_content": "r", "provider_specific_fields": {"a": [1]}}}],
        },
        {"id": "a", "choices": [{"index": 0, "delta": {}, "logprobs": {"content": [{"token": "a", "logprob": -1}]}}]},
        {
            "id": "a",
            "choices": [{"index": 0, "delta": {"refusal": "no"}, "extra": {"nested": {"x": 1}}}],
            "citations": [],
        },
        {
            "id": "a",
            "choices": [{"index": 0, "delta": {"content": 5, "role": ["x"]}, "finish_reason": 1}],
            "created": "1",
        },
        {"id": "a", "choices": [{"index": 0, "delta": {"content": "x"}, "_fields_set": {"index"}}]},
        {"id": "a", "choices": [{"index": 0, "delta": {"content": "x"}}], "_fields_set": ["id"]},
        {"id": "a", "choices": ["x", None, [{"index": 1}]], "service_tier": 3},
        {"id": "a", "choices": {"index": 0}},
        {"id": None, "choices": None, "object": None, "created": None},
    ],
)
def test_the_sdks_objects_on_shapes_named(chunk: dict[str, Any]) -> None:
    _compare(chunk)


def test_common_chunks_are_built_and_fields_of_other_shapes_go_to_the_sdk() -> None:
    assert _sdk_shape._make_plan() is not None  # the installed SDK is the one the builder was read against
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
    assert _built(common)
    tool = {"id": "a", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c"}]}}]}
    with mock.patch.object(_sdk_shape, "_construct_field", wraps=_sdk_shape._construct_field) as field:
        _compare(tool)
    assert [c.kwargs["key"] for c in field.call_args_list] == ["tool_calls"]


def test_another_sdk_or_a_double_gets_construct_type() -> None:
    chunk = {"id": "a", "choices": [{"index": 0, "delta": {"content": "x"}}]}
    for cls in (ChatCompletionChunk, Choice, ChoiceDelta):
        with mock.patch.object(cls, "construct", side_effect=RuntimeError(cls.__name__)):
            with pytest.raises(RuntimeError, match=cls.__name__):
                _sdk_shape.chunk_object(chunk)
    with mock.patch.dict(_sdk_shape._PINNED, {"construct_type": "0" * 16}):
        assert _sdk_shape._make_plan() is None
    with mock.patch.dict(_sdk_shape._KINDS[ChoiceDelta], {"content": _sdk_shape._LIST}):
        plan = _sdk_shape._make_plan()  # a field whose annotation is not the kind named: the SDK's
        delta = plan.fields[1][3].fields[0][3]
        assert {name: kind for name, kind, *_ in delta.fields}["content"] == _sdk_shape._SDK


TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("get_weather", "f2")]
SHAPES = {
    "text": ("chunks=5", {}),
    "logprobs": ("chunks=3", {"logprobs": True, "top_logprobs": 2}),
    "tool_calls": ("parallel", {"tools": TOOLS}),
    "choices": ("reasoning", {"n": 2}),
    "obfuscated": ("chunks=2", {"stream_options": {"include_usage": True}}),
}


def _sdk_and_core(mock: Any, scenario: str, extra: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The chunks of one stream as the SDK's ``Stream`` yields them, and as ``_ChunkStream``
    over the core yields them for the same request."""
    import openai

    from edgequake_litellm import _core
    from edgequake_litellm._patch_openai import _ChunkStream, _request

    client = openai.OpenAI(api_key="sk-test", base_url=mock.base_url(scenario), max_retries=0)
    data = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True, "include_obfuscation": False},
        **extra,
    }
    sdk = list(client.chat.completions.create(**data))
    req = _request(client, data, None, "/chat/completions")
    assert req is not None
    where, kw = req
    ours = list(_ChunkStream(_core.request("chat_stream", "openai", data["model"], (), **kw), client, where["url"]))
    return sdk, ours


@pytest.mark.parametrize("shape", SHAPES)
def test_the_sdk_tier_streams_the_sdks_objects(mock: Any, shape: str) -> None:
    """Real streams from the mock upstream: the objects the SDK's own ``Stream`` yields, and
    the ones transparent mode's SDK tier hands LiteLLM for the same request."""
    scenario, extra = SHAPES[shape]
    sdk, ours = _sdk_and_core(mock, scenario, extra)
    assert len(sdk) > 2
    if shape != "obfuscated":  # the mock pads each chunk with random obfuscation
        for a, b in zip(ours, sdk, strict=True):
            _same(a, b)
            assert str(a) == str(b)
    for chunk in ours:
        _compare(chunk.model_dump(exclude_unset=True))
