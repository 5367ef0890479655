"""The ``stream_chunks`` accelerator against LiteLLM's own ``CustomStreamWrapper`` methods.

A corpus of chunk sequences (OpenAI SDK chunks as the openai/azure path gets them, and
``ModelResponseStream`` chunks as a custom provider such as ``edgequake/`` yields them) runs
through real wrappers, made by real ``litellm.completion``/``acompletion`` calls against the mock
upstream whose chunk source is then swapped for the sequence, once with the accelerator and once
without: every yielded chunk (dump, type, hidden params), the wrapper's state after, the
exception raised, and every callback event with its ``standard_logging_object`` field by field
must be the same, ids and clocks aside. Then real streams through the mock upstream on both
routes, sync and async, including a mid-stream error and a cut stream; the contract, the
switch, ``uninstall()`` and the fallbacks for subclasses and test doubles.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock as um

import pytest
from litellm.integrations.custom_logger import CustomLogger

from edgequake_litellm import accel
from edgequake_litellm.accel import _stream_wrapper_code, stream_chunks

from .conftest import drain_litellm_logging
from .test_patch import MODEL, kwargs

EQ_MODEL = f"edgequake/{MODEL}"


@pytest.fixture()
def switch(litellm) -> Iterator[Callable[[bool], None]]:
    def set_on(on: bool) -> None:
        accel.install({"stream_chunks"} if on else False)
        stream_chunks.reset_counts()

    yield set_on
    accel.install(False)  # the suite's default (conftest: EDGEQUAKE_ACCEL=0)


# -- what is compared ----------------------------------------------------------------------------

_CLOCK_KEYS = {
    "created",
    "created_at",
    "startTime",
    "endTime",
    "completionStartTime",
    "start_time",
    "end_time",
    "completion_start_time",
    "api_call_start_time",
    "response_time",
    "llm_api_duration_ms",
    "litellm_overhead_time_ms",
    "queue_time_seconds",
    "_stream_created_time",
    "_response_ms",
    "timestamp",
    "date",
    "llm_provider-date",
}
_ID_KEYS = {"litellm_call_id", "trace_id", "litellm_trace_id", "call_id", "function_id", "request_id"}
_GENERATED = re.compile(
    r"chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{8}-[0-9a-f]{4}-"
)


def norm(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data, without clocks and the ids each real call draws."""
    if depth > 30:
        return "<deep>"
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return {"__type__": type(value).__name__, **norm(value.model_dump(), depth + 1)}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = str(k)
            if key in _CLOCK_KEYS or key.endswith("-date") or "request-id" in key or "request_id" in key:
                continue
            out[key] = "<id>" if key in _ID_KEYS else norm(v, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [norm(v, depth + 1) for v in value]
    if isinstance(value, str):
        return "<generated>" if _GENERATED.match(value) else value
    if isinstance(value, float):
        return value
    if value is None or isinstance(value, (int, bool)):
        return value
    return f"<{type(value).__name__}>"


class Recorder(CustomLogger):
    """Every callback event LiteLLM delivers, with its standard logging payload."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any, Any]] = []

    def _add(self, event: str, kwargs: dict, response: Any) -> None:
        self.events.append((event, norm(kwargs.get("standard_logging_object")), norm(response)))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("success", kwargs, response_obj)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("failure", kwargs, kwargs.get("exception"))

    def log_stream_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("stream", kwargs, response_obj)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("async_success", kwargs, response_obj)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("async_failure", kwargs, kwargs.get("exception"))

    async def async_log_stream_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("async_stream", kwargs, response_obj)


RECORDER = Recorder()

_STATE_SKIP = {
    "logging_obj",
    "completion_stream",
    "make_call",
    "_stream_iter",
    "rules",
    "_failure_logging",
    "_response_headers",
    "count_prompt_tokens",
}


def wrapper_state(w: Any) -> dict[str, Any]:
    state = {k: v for k, v in vars(w).items() if k not in _STATE_SKIP}
    state["_ollama_response_ids"] = vars(w._ollama_response_ids)
    return norm(state)


def chunk_view(c: Any) -> Any:
    return (type(c).__name__, norm(c), norm(getattr(c, "_hidden_params", None)))


def error_view(e: BaseException | None) -> Any:
    if e is None:
        return None
    inner = getattr(e, "original_exception", None)
    return (type(e).__name__, getattr(e, "status_code", None), _GENERATED.sub("<g>", str(e)), type(inner).__name__)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two observations differ (for readable failures)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only {'on' if k in b else 'off'}")
            else:
                out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            heads = [[x[0] if isinstance(x, tuple) else type(x).__name__ for x in v] for v in (a, b)]
            return [f"{path}: {len(a)} items off, {len(b)} on: {heads[0]} / {heads[1]}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: off {a!r} != on {b!r}"[:600]]


# -- running a sequence through a real wrapper ----------------------------------------------------


def observe(
    litellm: Any,
    mock: Any,
    model: str,
    make_chunks: Callable[[], list[Any]] | None,
    call_kw: dict[str, Any],
    is_async: bool,
    scenario: str = "chunks=1",
    adapt: Callable[[Any], None] = lambda w: None,
) -> dict[str, Any]:
    """One real call (against the mock upstream's ``scenario``) whose wrapper consumes the
    upstream's stream, or ``make_chunks()`` in its place: what a caller and every callback saw."""
    from litellm.litellm_core_utils import streaming_handler

    rec = RECORDER
    if rec not in litellm.callbacks:
        litellm.callbacks.append(rec)
    rec.events = []
    loop = asyncio.new_event_loop()
    out: dict[str, Any] = {}
    # LiteLLM logs each sync chunk on its thread pool, where handlers for successive chunks race
    # (how many stream events a callback gets varies run to run); one worker runs them in order.
    serial = ThreadPoolExecutor(max_workers=1)
    in_order = um.patch.object(streaming_handler, "executor", serial)
    in_order.start()
    try:
        kw = kwargs(mock, scenario, stream=True, **call_kw)
        seen: list[Any] = []
        error: BaseException | None = None
        before = set(threading.enumerate())
        if is_async:
            w = loop.run_until_complete(litellm.acompletion(model=model, **kw))
            adapt(w)
            if make_chunks is not None:
                real = w.completion_stream
                loop.run_until_complete((getattr(real, "aclose", None) or real.close)())
                chunks = make_chunks()

                async def source() -> Any:
                    for c in chunks:
                        if isinstance(c, BaseException):
                            raise c
                        yield c

                w.completion_stream = source()

            async def consume() -> None:
                async for c in w:
                    seen.append(chunk_view(c))

            try:
                loop.run_until_complete(consume())
            except Exception as e:
                error = e
            while pending := [t for t in asyncio.all_tasks(loop) if not t.done()]:  # success/failure logging
                loop.run_until_complete(asyncio.wait(pending, timeout=60))
        else:
            w = litellm.completion(model=model, **kw)
            adapt(w)
            if make_chunks is not None:
                w.completion_stream.close()
                chunks = make_chunks()

                def sync_source() -> Iterator[Any]:
                    for c in chunks:
                        if isinstance(c, BaseException):
                            raise c
                        yield c

                w.completion_stream = sync_source()
            try:
                for c in w:
                    seen.append(chunk_view(c))
                    serial.submit(lambda: None).result()  # this chunk's logging done first
            except Exception as e:
                error = e
        for t in set(threading.enumerate()) - before:  # the sync failure handler's thread
            if t.name.endswith("(failure_handler)"):
                t.join(timeout=60)
        serial.shutdown(wait=True)
        drain_litellm_logging()
        out["chunks"] = seen
        out["error"] = error_view(error)
        out["state"] = wrapper_state(w)
        out["events"] = sorted(rec.events, key=repr)
        out["call_details"] = norm(
            {
                k: v
                for k, v in w.logging_obj.model_call_details.items()
                if k in ("complete_streaming_response", "async_complete_streaming_response", "response_cost")
            }
        )
    finally:
        in_order.stop()
        serial.shutdown(wait=True)
        loop.close()
    return out


# -- the corpus ------------------------------------------------------------------------------------

_ID = "chatcmpl-corpus-1"


def _wire(choices: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_corpus",
        "choices": choices,
        **top,
    }


def _choice(delta: dict[str, Any], finish: str | None = None, index: int = 0, **extra: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None, **extra}


def _logprobs(token: str) -> dict[str, Any]:
    return {"content": [{"token": token, "logprob": -0.25, "bytes": list(token.encode()), "top_logprobs": []}]}


_USAGE = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}

# Bodies: the chunks between an optional role-only first chunk and the finishing chunk.
BODIES: dict[str, list[dict[str, Any]]] = {
    "content": [_wire([_choice({"content": t})]) for t in ("Hel", "lo", " there")],
    "empty-deltas": [
        _wire([_choice({"content": "a"})]),
        _wire([_choice({})]),
        _wire([_choice({"content": ""})]),
        _wire([_choice({"content": "b"})]),
    ],
    "tool-calls": [
        _wire(
            [
                _choice(
                    {
                        "tool_calls": [
                            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
                        ]
                    }
                )
            ]
        ),
        _wire([_choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]})]),
        _wire([_choice({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]})]),
    ],
    "reasoning": [
        _wire([_choice({"reasoning_content": "think "})]),
        _wire([_choice({"reasoning_content": "more"})]),
        _wire([_choice({"content": "answer"})]),
    ],
    "refusal": [_wire([_choice({"refusal": "I can't"})]), _wire([_choice({"refusal": " help."})])],
    "logprobs": [_wire([_choice({"content": t}, logprobs=_logprobs(t))]) for t in ("a", "b")],
    "special-tokens": [
        _wire([_choice({"content": "<s>"})]),
        _wire([_choice({"content": "hi"})]),
        _wire([_choice({"content": "<|im_end|>"})]),
    ],
    "two-choices": [
        _wire([_choice({"content": "x"}, index=0)]),
        _wire([_choice({"content": "y"}, index=1)]),
        _wire([_choice({"content": "z"}, index=0)]),
    ],
    "provider-fields": [
        _wire([_choice({"content": "cited"}, custom_choice_field=1)], citations=["https://example.invalid"]),
        _wire([_choice({"content": " text", "provider_specific_fields": {"k": "v"}})], obfuscation="pad"),
    ],
    "repeated": [_wire([_choice({"content": "same"})]) for _ in range(4)],
}
FINISHES = ("stop", "length", "tool_calls", "content_filter", None)
USAGE_SHAPES = ("none", "usage-chunk", "usage-on-finish")


def sequence(first_role: bool, body: str, finish: str | None, usage: str) -> list[dict[str, Any]]:
    out = [_wire([_choice({"role": "assistant", "content": ""})])] if first_role else []
    out += [dict(c) for c in BODIES[body]]
    if finish is not None:  # without a role-only first chunk, the finishing chunk carries content
        last = _wire([_choice({} if first_role else {"content": " end"}, finish)])
        if usage == "usage-on-finish":
            last["usage"] = _USAGE
        out.append(last)
    if usage == "usage-chunk":
        out.append(_wire([], usage=_USAGE))
    return out


def openai_chunks(wire: list[dict[str, Any]]) -> Callable[[], list[Any]]:
    """The OpenAI SDK's chunk objects, built as the SDK builds them (``construct_type``)."""
    import copy

    from openai._models import construct_type
    from openai.types.chat import ChatCompletionChunk

    return lambda: [construct_type(type_=ChatCompletionChunk, value=copy.deepcopy(c)) for c in wire]


def stream_chunks_of(wire: list[dict[str, Any]]) -> Callable[[], list[Any]]:
    """``ModelResponseStream`` chunks, as a custom provider yields them; chunks carrying a
    ``citations`` field also carry the hidden params LiteLLM reads off a provider's chunks."""
    import copy

    from litellm.types.utils import ModelResponseStream

    def make() -> list[Any]:
        out = []
        for c in wire:
            chunk = ModelResponseStream(**copy.deepcopy(c))
            if "citations" in c:
                chunk._hidden_params = {"upstream_provider": "up", "provider_specific_fields": {"region": "x"}}
            out.append(chunk)
        return out

    return make


CORPUS = [
    (first, body, finish, usage)
    for first, body, finish, usage in itertools.product((True, False), BODIES, FINISHES, USAGE_SHAPES)
    if not (finish is None and usage == "usage-on-finish")
]
STREAM_OPTIONS = ({}, {"stream_options": {"include_usage": True}})


@pytest.fixture(scope="module")
def warm(litellm: Any, upstream: Any) -> None:
    """LiteLLM sorts the callbacks into its lists on the first call after one is added: that
    call's events differ from every later one's, with or without the accelerator."""
    for model, make in ((MODEL, openai_chunks), (EQ_MODEL, stream_chunks_of)):
        for is_async in (False, True):
            observe(litellm, upstream, model, make(sequence(True, "content", "stop", "none")), {}, is_async)


def same_on_and_off(
    litellm: Any, mock: Any, model: str, make: Callable[[], list[Any]], call_kw: dict[str, Any], is_async: bool
) -> dict[str, Any]:
    accel.install(False)
    off = observe(litellm, mock, model, make, call_kw, is_async)
    accel.install({"stream_chunks"})
    on = observe(litellm, mock, model, make, call_kw, is_async)
    assert off == on, differences(off, on)
    return on


def _corpus(step: int, offset: int = 0) -> list[tuple[bool, str, str | None, str]]:
    return CORPUS[offset::step]


ROUTES = {"openai-chunks": (MODEL, openai_chunks), "custom-provider-chunks": (EQ_MODEL, stream_chunks_of)}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("options", [0, 1], ids=["no-stream-options", "include-usage"])
def test_corpus_same_on_and_off(litellm, mock, switch, warm, route, is_async, options) -> None:
    """Every generated sequence on the sync path without stream options (where the skipped
    messages are), a quarter of them (a different quarter each) elsewhere."""
    model, make = ROUTES[route]
    full = not is_async and options == 0
    cases = CORPUS if full else _corpus(4, (options * 2 + is_async) % 4)
    for case in cases:
        try:
            same_on_and_off(litellm, mock, model, make(sequence(*case)), STREAM_OPTIONS[options], is_async)
        except AssertionError as e:
            raise AssertionError(f"{route} {case}: {e}") from None
    counts = stream_chunks.counts()
    if route == "custom-provider-chunks":
        assert counts.get("fast", 0) > 0, counts
    assert not any(k.startswith("litellm:message") for k in counts), counts


# -- the copy of __next__ ----------------------------------------------------------------------------


def _transformed(original: list[str]) -> list[str]:
    """LiteLLM's ``__next__`` with its two ``print_verbose`` calls under ``message_observable``."""
    out = []
    for line in original:
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip() == "print_verbose(":
            line = f"{indent}if message_observable(chunk, self.custom_llm_provider): print_verbose("
        elif line.strip().startswith('print_verbose(f"PROCESSED CHUNK POST'):
            line = f"{indent}if message_observable(response): {line.strip()}"
        out.append(line)
    return out


def test_next_is_litellms_but_for_the_messages(litellm, switch) -> None:
    """The copy runs LiteLLM's statements: its source is LiteLLM's, line for line (so its line
    numbers, given LiteLLM's file and first line, are LiteLLM's), but for the two guards."""
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    switch(False)
    original = inspect.getsource(CustomStreamWrapper.__next__).splitlines()
    code = inspect.getsource(_stream_wrapper_code.methods)
    ours = code[code.index("    def __next__") : code.index("    def chunk_creator")].rstrip().splitlines()
    assert ours == _transformed(original)
    switch(True)
    theirs, copy = stream_chunks._orig["__next__"].__code__, CustomStreamWrapper.__next__.__code__
    assert (copy.co_filename, copy.co_firstlineno) == (theirs.co_filename, theirs.co_firstlineno)
    lines = {line for _, _, line in copy.co_lines() if line is not None}
    assert lines <= set(range(theirs.co_firstlineno, theirs.co_firstlineno + len(original)))


# -- real streams through the mock upstream ------------------------------------------------------------


@pytest.mark.parametrize("route", ["transparent", "edgequake/"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    "scenario",
    ["chunks=12", "reasoning=1", "parallel=2", "stream_error", "no_finish", "truncate=400"],
)
def test_real_streams_same_on_and_off(litellm, mock, warm, route, is_async, scenario) -> None:
    """Streams served by the core through both routes, a mid-stream error event, a stream
    that never finishes, one cut mid-body and one refused: the same on and off."""
    from edgequake_litellm import _patch

    model = MODEL if route == "transparent" else EQ_MODEL
    if route == "transparent":
        _patch.install()
    try:
        accel.install(False)
        off = observe(litellm, mock, model, None, {}, is_async, scenario)
        accel.install({"stream_chunks"})
        stream_chunks.reset_counts()
        on = observe(litellm, mock, model, None, {}, is_async, scenario)
    finally:
        accel.install(False)
        if route == "transparent":
            _patch.uninstall()
    assert off == on, differences(off, on)
    if route == "edgequake/" and scenario == "chunks=12":
        assert stream_chunks.counts().get("fast", 0) >= 12


# -- what a user installed keeps working as without the accelerator --------------------------------


class _Boom:
    """A provider field whose repr raises: LiteLLM's message about the chunk raises it too."""

    def __repr__(self) -> str:
        raise ValueError("no repr")


def test_values_without_a_proven_repr_build_the_message(litellm, mock, switch, warm) -> None:
    """A chunk holding a value whose ``repr`` is not known to be inert gets its message built,
    and raises where LiteLLM raises."""
    wire = sequence(False, "content", "stop", "none")

    def make() -> list[Any]:
        chunks = stream_chunks_of(wire)()
        chunks[1].provider_specific_fields = {"odd": _Boom()}
        return chunks

    on = same_on_and_off(litellm, mock, EQ_MODEL, make, {}, False)
    assert on["error"] is not None and "no repr" in on["error"][2]
    assert stream_chunks.counts().get("litellm:message:value", 0) >= 1


def test_verbose_messages_printed_alike(litellm, mock, switch, warm, capsys) -> None:
    """With ``litellm.set_verbose`` the messages are printed, the same on and off."""
    wire = sequence(True, "tool-calls", "tool_calls", "usage-chunk")
    printed = {}
    for on in (False, True):
        switch(on)
        capsys.readouterr()
        litellm.set_verbose = True
        try:
            observe(litellm, mock, MODEL, openai_chunks(wire), {}, False)
        finally:
            litellm.set_verbose = False
        lines = [x for x in capsys.readouterr().out.splitlines() if "PROCESSED CHUNK" in x]
        # Each chunk's ``created`` is read from the clock: two runs may straddle a second.
        printed[on] = [re.sub(r"created=\d+|chatcmpl-[0-9a-f-]{36}", "<clock/id>", x) for x in lines]
        assert any("<clock/id>" in x for x in printed[on])  # the mask applied,
        assert not any(re.search(r"created=\d", x) for x in printed[on])  # to every clock value
    assert printed[True] == printed[False] and len(printed[True]) == 2 * len(wire)
    assert stream_chunks.counts().get("litellm:message:verbose", 0) >= len(printed[True])


def test_test_doubles_and_subclasses_see_litellms_calls(litellm, mock, switch, warm) -> None:
    """A test double on anything the fast paths skip or reimplement, and a subclass overriding a
    method they skip, see the same calls as without the accelerator."""
    from litellm.litellm_core_utils import streaming_handler as sh
    from litellm.types.utils import Delta

    wire = sequence(True, "provider-fields", "stop", "none")
    calls: dict[tuple[str, bool], Any] = {}
    for on in (False, True):
        switch(on)
        with (
            um.patch.object(sh, "print_verbose", wraps=sh.print_verbose) as pv,
            um.patch.object(sh, "_provider_hidden_params", wraps=sh._provider_hidden_params) as hp,
            um.patch.object(Delta, "get", autospec=True, side_effect=Delta.get) as get,
        ):
            observe(litellm, mock, EQ_MODEL, stream_chunks_of(wire), {}, False)
            calls[("print_verbose", on)] = [norm(c.args) for c in pv.call_args_list if "CHUNK" in str(c.args)]
            calls[("hidden", on)] = len(hp.call_args_list)
            calls[("get", on)] = [c.args[1] for c in get.call_args_list]
    for what in ("print_verbose", "hidden", "get"):
        assert calls[(what, True)] == calls[(what, False)], what
        assert calls[(what, True)], what
    counts = stream_chunks.counts()
    assert counts.get("litellm:message:print_verbose-replaced") and counts.get("litellm:delta:shape"), counts

    class Counting(sh.CustomStreamWrapper):
        made = 0

        def model_response_creator(self, *a: Any, **kw: Any) -> Any:
            type(self).made += 1
            return super().model_response_creator(*a, **kw)

    made = {}
    for on in (False, True):
        switch(on)
        Counting.made = 0
        observe(
            litellm,
            mock,
            EQ_MODEL,
            stream_chunks_of(wire),
            {},
            False,
            adapt=lambda w: setattr(w, "__class__", Counting),
        )
        made[on] = Counting.made
    assert made[True] == made[False] > len(wire)
    assert stream_chunks.counts().get("litellm:chunk:wrapper-overridden"), stream_chunks.counts()


# -- switch, uninstall, contract ---------------------------------------------------------------------


def test_switch_and_uninstall_restore_litellms_methods(litellm, monkeypatch) -> None:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    accel.install(False)
    originals = {name: CustomStreamWrapper.__dict__[name] for name in stream_chunks._REPLACED}
    assert accel.install({"stream_chunks"}) == ["stream_chunks"]
    assert all(CustomStreamWrapper.__dict__[n] is not originals[n] for n in originals)
    assert accel.status()["stream_chunks"]["state"] == "installed"
    accel.uninstall()
    assert all(CustomStreamWrapper.__dict__[n] is originals[n] for n in originals)
    monkeypatch.setenv("EDGEQUAKE_ACCEL_DISABLE", "stream_chunks")
    assert "stream_chunks" not in accel.install(None)
    assert all(CustomStreamWrapper.__dict__[n] is originals[n] for n in originals)
    assert accel.status()["stream_chunks"]["disabled"]
    monkeypatch.delenv("EDGEQUAKE_ACCEL_DISABLE")
    accel.install(False)


def test_contract(litellm, monkeypatch) -> None:
    """The pinned sources hold; a LiteLLM whose method differs keeps its own, with a warning."""
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    accel.install(False)
    assert stream_chunks.ACCELERATOR.problems() == []
    accel.install({"stream_chunks"})
    assert stream_chunks.ACCELERATOR.problems() == []  # installed: its originals are checked
    accel.install(False)

    def model_response_creator(self: Any, chunk: Any = None, hidden_params: Any = None, delta: Any = None) -> Any:
        return None

    monkeypatch.setattr(CustomStreamWrapper, "model_response_creator", model_response_creator)
    found = stream_chunks.ACCELERATOR.problems()
    assert any("model_response_creator differs" in p for p in found), found
    with pytest.warns(RuntimeWarning, match="stream_chunks"):
        assert "stream_chunks" not in accel.install({"stream_chunks"})
    assert CustomStreamWrapper.__dict__["__next__"] is not stream_chunks._orig.get("installed", {}).get("__next__")
    accel.install(False)
