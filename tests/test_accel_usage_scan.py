"""The ``usage_scan`` accelerator against LiteLLM's own end-of-stream usage scan.

A corpus of chunk sequences (every way a chunk carries usage: the attribute, a dict, the hidden
params, ``UnreportedUsage``, none at all; pricing fields; cache, reasoning and server-tool counts;
``ModelResponseStream``, ``ModelResponse`` and dict chunks; Anthropic's cursor placeholder) runs
through ``_calculate_usage_per_chunk`` and ``stream_chunk_builder`` with the accelerator off and
on, each on a fresh copy: the results must be the same. Then the count of LiteLLM's reads it saves,
a test double that must see every call, real streams on both routes, and the switch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock as um

import pytest

from edgequake_litellm import accel
from edgequake_litellm.accel import usage_scan

from .test_patch import MODEL, kwargs

UTILS = "litellm.litellm_core_utils.streaming_chunk_builder_utils"


@pytest.fixture()
def switch(litellm) -> Iterator[Callable[[bool], None]]:
    def set_on(on: bool) -> None:
        accel.install({"usage_scan"} if on else False)
        usage_scan.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


# -- the corpus ----------------------------------------------------------------------------------


def _types() -> Any:
    import litellm.types.utils as t

    return t


def _usage(kind: str) -> Any:
    t = _types()
    base = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    if kind == "plain":
        return t.Usage(**base)
    if kind == "zero":
        return t.Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    if kind == "cached":
        return t.Usage(**base, prompt_tokens_details={"cached_tokens": 5}, cache_read_input_tokens=5)
    if kind == "anthropic_cache":
        return t.Usage(**base, cache_creation_input_tokens=3, cache_read_input_tokens=2)
    if kind == "reasoning":
        return t.Usage(**base, completion_tokens_details={"reasoning_tokens": 4})
    if kind == "server_tool":
        return t.Usage(**base, server_tool_use={"web_search_requests": 2})
    if kind == "priced":
        u = t.Usage(**base)
        u.speed = "fast"
        u.inference_geo = "us"
        return u
    if kind == "geo_only":
        u = t.Usage(**base)
        u.inference_geo = "eu"
        return u
    if kind == "cost":
        return t.Usage(**base, cost=0.0012)
    if kind == "cursor":  # Anthropic's message_start placeholder
        return t.Usage(prompt_tokens=11, completion_tokens=1, total_tokens=12)
    raise AssertionError(kind)


def _chunk(i: int, carry: str, content: str | None = "tok", finish: str | None = None, provider: str = "openai") -> Any:
    t = _types()
    choice = t.StreamingChoices(index=0, delta=t.Delta(content=content, role="assistant" if i == 0 else None))
    if finish is not None:
        choice.finish_reason = finish
    if carry.startswith("response"):
        chunk: Any = t.ModelResponse(id="chatcmpl-x", created=1700000000, model="gpt-4o-mini", choices=[])
        chunk.choices = []
    else:
        chunk = t.ModelResponseStream(id="chatcmpl-x", created=1700000000, model="gpt-4o-mini", choices=[choice])
    chunk._hidden_params["custom_llm_provider"] = provider
    kind = carry.partition(":")[2]
    if carry.startswith("attr:"):
        chunk.usage = _usage(kind)
    elif carry.startswith("dict:"):
        chunk.usage = _usage(kind).model_dump()
    elif carry.startswith("hidden:"):
        chunk._hidden_params["usage"] = _usage(kind)
    elif carry == "unreported":
        chunk._hidden_params["usage"] = t.UnreportedUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    elif carry == "attr_none":
        chunk.usage = None
    elif carry.startswith("response:"):
        chunk.usage = _usage(kind)
    elif carry.startswith("plaindict:"):
        return {"choices": [{"index": 0, "delta": {"content": content}}], "usage": _usage(kind).model_dump()}
    return chunk


_KINDS = (
    "plain",
    "zero",
    "cached",
    "anthropic_cache",
    "reasoning",
    "server_tool",
    "priced",
    "geo_only",
    "cost",
    "cursor",
)
_CARRIERS = ("attr", "dict", "hidden", "response", "plaindict")


def _sequences() -> Iterator[tuple[str, Callable[[], list[Any]]]]:
    """(name, a factory of fresh chunk lists): every carrier x usage kind at the end, in the middle,
    twice with different kinds, and sequences without any usage."""
    for n in (1, 3, 12):
        yield f"none-{n}", lambda n=n: [_chunk(i, "") for i in range(n)]
        yield f"attr_none-{n}", lambda n=n: [_chunk(i, "attr_none") for i in range(n)]
        yield (
            f"unreported-{n}",
            lambda n=n: [*(_chunk(i, "") for i in range(n)), _chunk(n, "unreported", finish="stop")],
        )
    for carrier, kind in itertools.product(_CARRIERS, _KINDS):
        c = f"{carrier}:{kind}"
        yield f"last {c}", lambda c=c: [*(_chunk(i, "") for i in range(6)), _chunk(6, c, finish="stop")]
        yield f"middle {c}", lambda c=c: [_chunk(0, ""), _chunk(1, c), _chunk(2, ""), _chunk(3, "", finish="stop")]
    for a, b in itertools.product(_KINDS[:6], ("priced", "geo_only", "zero", "cursor")):
        yield (
            f"twice attr:{a} hidden:{b}",
            lambda a=a, b=b: [_chunk(0, f"attr:{a}"), _chunk(1, ""), _chunk(2, f"hidden:{b}", finish="stop")],
        )
    for finish in (None, "stop"):  # Anthropic's cursor alone, with and without a finish reason
        yield (
            f"anthropic cursor finish={finish}",
            lambda f=finish: [
                _chunk(0, "attr:cursor", provider="anthropic"),
                _chunk(1, "", finish=f, provider="anthropic"),
            ],
        )


SEQUENCES = list(_sequences())


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return (type(value).__name__, _dump(value.model_dump()), _dump(getattr(value, "_hidden_params", None)))
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _scan(chunks: list[Any]) -> Any:
    import litellm.litellm_core_utils.streaming_chunk_builder_utils as u

    try:
        return _dump(u.ChunkProcessor(chunks=chunks, messages=[])._calculate_usage_per_chunk(chunks=chunks))
    except Exception as e:  # noqa: BLE001  # the same exception either way
        return ("raised", type(e).__name__, str(e))


def _built(litellm: Any, chunks: list[Any]) -> Any:
    try:
        return _dump(litellm.stream_chunk_builder(chunks=chunks, messages=[{"role": "user", "content": "hi"}]))
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e).__name__, str(e))


def test_corpus_same_scan_and_built_response_on_and_off(litellm, switch):
    assert len(SEQUENCES) > 100
    results: dict[bool, list[Any]] = {}
    for on in (False, True):
        switch(on)
        results[on] = [(name, _scan(make()), _built(litellm, make())) for name, make in SEQUENCES]
        if on:
            assert usage_scan.counts().get("fast", 0) >= 2 * len(SEQUENCES), usage_scan.counts()
    for off, on in zip(results[False], results[True], strict=True):
        assert on == off, off[0]
    # The corpus reaches what the reads decide: usage found, pricing fields found, a dict chunk.
    scans = [scan for _, scan, _ in results[False]]
    assert any(isinstance(s, dict) and s.get("speed") == "fast" for s in scans)
    assert any(isinstance(s, dict) and s.get("inference_geo") == "eu" for s in scans)
    assert any(isinstance(s, dict) and s.get("prompt_tokens") is None for s in scans)


def _counting(original: Callable[[Any], Any], calls: list[Any]) -> Callable[[Any], Any]:
    def count(chunk: Any) -> Any:
        calls.append(chunk)
        return original(chunk)

    return count


def test_litellm_reads_a_chunk_without_usage_once_per_scan(litellm, switch, monkeypatch):
    """Off, LiteLLM reads every chunk three times; on, a chunk without usage once and the
    chunk with usage three times (a fresh ``Usage`` each time, as LiteLLM builds it)."""
    chunks = [*(_chunk(i, "") for i in range(9)), _chunk(9, "dict:priced", finish="stop")]
    switch(True)
    calls: list[Any] = []
    monkeypatch.setitem(usage_scan._orig, "extract", _counting(usage_scan._orig["extract"], calls))
    out = _scan(chunks)
    assert len(calls) == 10 + 2, len(calls)
    assert [c for c in calls if c is chunks[9]] == [chunks[9]] * 3
    assert out["speed"] == "fast" and out["prompt_tokens"] == 11
    # Outside a scan, every read is LiteLLM's.
    calls.clear()
    import litellm.litellm_core_utils.streaming_chunk_builder_utils as u

    for _ in range(3):
        assert u.ChunkProcessor.extract_usage_chunk(chunks[0]) is None
    assert len(calls) == 3


def test_a_double_on_what_the_reads_call_sees_every_call(litellm, switch):
    t = _types()
    seen: dict[bool, int] = {}
    for on in (False, True):
        switch(on)
        chunks = [*(_chunk(i, "") for i in range(5)), _chunk(5, "attr:plain", finish="stop")]
        original = t.ModelResponseStream.__contains__
        with um.patch.object(t.ModelResponseStream, "__contains__", autospec=True, side_effect=original) as double:
            _scan(chunks)
        seen[on] = double.call_count
        if on:
            assert usage_scan.counts() == {"litellm:replaced": 1}
    assert seen[True] == seen[False] == 15


def test_a_nested_scan_keeps_its_own_memory(litellm, switch):
    """A scan that runs inside another (a callback reading usage from the outer scan's reads)
    neither sees nor clears the outer one's remembered chunks."""
    import litellm.litellm_core_utils.streaming_chunk_builder_utils as u

    switch(True)
    inner = [_chunk(0, ""), _chunk(1, "attr:plain")]
    outer = [_chunk(0, ""), _chunk(1, "attr:priced")]
    original = usage_scan._orig["extract"]
    ran: list[Any] = []

    def extract(chunk: Any) -> Any:
        if not ran:
            ran.append(None)
            ran[0] = _scan(inner)
        return original(chunk)

    with um.patch.dict(usage_scan._orig, {"extract": extract}):
        got = _dump(u.ChunkProcessor(chunks=outer, messages=[])._calculate_usage_per_chunk(chunks=outer))
    assert ran[0]["prompt_tokens"] == 11 and ran[0]["speed"] is None
    assert got["speed"] == "fast"
    assert getattr(usage_scan._local, "none", None) is None


@pytest.mark.parametrize("route", ["transparent", "edgequake"])
@pytest.mark.parametrize("include_usage", [False, True])
def test_real_streams_same_chunks_and_usage_on_and_off(litellm, mock, switch, route, include_usage):
    from edgequake_litellm import _patch

    model = MODEL if route == "transparent" else f"edgequake/{MODEL}"
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    if route == "transparent":
        _patch.install()
    try:
        got: dict[bool, Any] = {}
        for on in (False, True):
            switch(on)
            stream = litellm.completion(model=model, **kwargs(mock), stream=True, **extra)
            chunks = list(stream)
            got[on] = (
                [_dump(c) for c in chunks],
                _dump(litellm.stream_chunk_builder(chunks=stream.chunks, messages=[{"role": "user", "content": "hi"}])),
            )
            assert usage_scan.counts().get("fast", 0) >= (1 if on else 0), usage_scan.counts()
    finally:
        if route == "transparent":
            _patch.uninstall()
    strip = _strip_ids
    diffs = _differences(strip(got[True]), strip(got[False]))
    assert not diffs, diffs[:10]


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in a.keys() | b.keys() for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


# Ids, clocks and the mock's per-request values: different between any two streams.
_VOLATILE = {
    "id",
    "created",
    "created_at",
    "response_id",
    "obfuscation",
    "_response_ms",
    "response_ms",
    "request-id",
    "llm_provider-x-request-id",
    "x-request-id",
    "llm_provider-request-id",
    "litellm_call_id",
}


def _strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list | tuple):
        return [_strip_ids(v) for v in value]
    return value


def test_switch_and_uninstall_restore_litellm(litellm, monkeypatch):
    import litellm.litellm_core_utils.streaming_chunk_builder_utils as u

    before = (u.ChunkProcessor.__dict__["extract_usage_chunk"], u.ChunkProcessor.__dict__["_calculate_usage_per_chunk"])
    try:
        assert "usage_scan" in accel.install({"usage_scan"})
        assert u.ChunkProcessor.__dict__["_calculate_usage_per_chunk"] is usage_scan._calculate_usage_per_chunk
        assert accel.status()["usage_scan"]["state"] == "installed"
        assert accel.problems()["usage_scan"] == []
        monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "usage_scan")
        assert "usage_scan" not in accel.install(True)
        assert accel.status()["usage_scan"]["state"] == "off"
        after = (
            u.ChunkProcessor.__dict__["extract_usage_chunk"],
            u.ChunkProcessor.__dict__["_calculate_usage_per_chunk"],
        )
        assert after == before
    finally:
        accel.install(False)


def test_refused_when_litellm_moved_what_it_reasons_about(litellm, monkeypatch):
    import litellm.litellm_core_utils.streaming_chunk_builder_utils as u

    def _last_provider_pricing_field(self: Any, chunks: Any, field: str) -> Any:
        return None

    monkeypatch.setattr(u.ChunkProcessor, "_last_provider_pricing_field", _last_provider_pricing_field)
    found = accel.problems()["usage_scan"]
    assert any("_last_provider_pricing_field" in p for p in found), found
    with pytest.warns(RuntimeWarning, match="usage_scan"):
        assert "usage_scan" not in accel.install({"usage_scan"})
    accel.install(False)
