"""Transport faults: each one is injected by the mock upstream (or a closed port) and
served through LiteLLM's native ``openai/`` path and through ``edgequake/openai/``; the
exception LiteLLM raises must be the same class (and status) both ways.

Every call uses ``max_retries=0`` and a short ``timeout=`` and runs under a hard deadline,
so a fault that makes a client hang fails the test instead of blocking CI. Status errors
(5xx, 429) are covered by test_differential.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from edgequake_litellm import _core
from edgequake_litellm._call import Call

from .conftest import KEY
from .test_differential import assert_same_chunks

NATIVE = "openai/gpt-4o-mini"
OURS = "edgequake/openai/gpt-4o-mini"
MSGS = [{"role": "user", "content": "hello there"}]


@dataclass
class Outcome:
    exc: BaseException | None
    elapsed: float
    chunks: list = field(default_factory=list)  # stream chunks received before the error
    result: Any = None


def _bounded(fn, limit: float):  # noqa: ANN001, ANN202
    """Run ``fn`` in a daemon thread; fail (instead of hanging) if it runs past ``limit``."""
    box: list = []

    def run() -> None:
        try:
            box.append(("ok", fn()))
        except BaseException as e:  # noqa: BLE001
            box.append(("err", e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    if t.is_alive():
        pytest.fail(f"call still running after {limit} s (hang)")
    kind, value = box[0]
    if kind == "err":
        raise value
    return value


def _call(
    litellm, model: str, api_base: str, *, stream: bool = False, timeout: float = 0.5, limit: float = 20, **kw: Any
) -> Outcome:
    chunks: list = []

    def go() -> Any:
        resp = litellm.completion(
            model=model,
            messages=kw.pop("messages", MSGS),
            api_key=KEY,
            api_base=api_base,
            max_retries=0,
            timeout=timeout,
            stream=stream,
            **kw,
        )
        if stream:
            for c in resp:
                chunks.append(c)
        return resp

    start = time.perf_counter()
    try:
        result = _bounded(go, limit)
    except Exception as e:  # noqa: BLE001
        return Outcome(e, time.perf_counter() - start, chunks)
    return Outcome(None, time.perf_counter() - start, chunks, result)


def _acall(
    litellm, model: str, api_base: str, *, stream: bool = False, timeout: float = 0.5, limit: float = 20
) -> Outcome:
    chunks: list = []

    async def go() -> Any:
        resp = await litellm.acompletion(
            model=model, messages=MSGS, api_key=KEY, api_base=api_base, max_retries=0, timeout=timeout, stream=stream
        )
        if stream:
            async for c in resp:
                chunks.append(c)
        return resp

    start = time.perf_counter()
    try:
        result = asyncio.run(asyncio.wait_for(go(), limit))
    except asyncio.TimeoutError:
        pytest.fail(f"async call still running after {limit} s (hang)")
    except Exception as e:  # noqa: BLE001
        return Outcome(e, time.perf_counter() - start, chunks)
    return Outcome(None, time.perf_counter() - start, chunks, result)


def _both(litellm, api_base: str, *, aio: bool = False, **kw: Any) -> tuple[Outcome, Outcome]:
    run = _acall if aio else _call
    native = run(litellm, NATIVE, api_base, **kw)
    ours = run(litellm, OURS, api_base, **kw)
    assert native.exc is not None, "native did not fail: the fault was not injected"
    assert ours.exc is not None, f"ours did not fail (got {ours.result!r})"
    return native, ours


def _cls(e: BaseException | None) -> str:
    return "-" if e is None else f"{type(e).__module__}.{type(e).__qualname__}"


def _text(e: BaseException) -> str:
    """The exception's text, with what differs between any two runs normalized by exact pattern:
    the port of a closed or unanswering local socket, and the time a timeout took."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", str(e))
    return re.sub(r"time taken=\d+(\.\d+)? seconds", "time taken=<t> seconds", text)


def _assert_same_exception(native: BaseException, ours: BaseException, *, text: bool = True) -> None:
    """Same class, status and text (llm_provider is compared separately, where it can match)."""
    assert type(ours) is type(native), f"native {_cls(native)} != ours {_cls(ours)}: {ours}"
    assert getattr(ours, "status_code", None) == getattr(native, "status_code", None)
    if text:
        assert _text(ours) == _text(native)


def _exception_chain(e: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[Any] = [e]
    while todo:
        x = todo.pop()
        if not isinstance(x, BaseException) or any(x is y for y in out):
            continue
        out.append(x)
        todo += [x.__cause__, x.__context__, getattr(x, "original_exception", None)]
    return out


def _assert_no_key(e: BaseException) -> None:
    for x in _exception_chain(e):
        assert KEY not in str(x) and KEY not in repr(x), _cls(x)
        for attr in ("message", "body", "litellm_debug_info"):
            assert KEY not in str(getattr(x, attr, "") or ""), (_cls(x), attr)
        response = getattr(x, "response", None)
        request = getattr(response, "_request", None)
        if request is not None:
            assert KEY not in str(request.url) and KEY not in str(dict(request.headers)), _cls(x)


def _assert_healthy(litellm, mock, text: str = "still fine") -> None:
    """The process-wide pool still serves a normal call after a fault."""
    out = _call(litellm, OURS, mock.base_url(), timeout=5, messages=[{"role": "user", "content": text}])
    assert out.exc is None, out.exc
    assert out.result.choices[0].message.content == f"Echo: {text}"


@pytest.fixture()
def closed_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- connection refused ----------------------------------------------------------------


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_connection_refused(litellm, mock, closed_port, aio):
    native, ours = _both(litellm, f"http://127.0.0.1:{closed_port}/v1", aio=aio)
    _assert_no_key(ours.exc)
    assert ours.exc.llm_provider == native.exc.llm_provider == "openai"
    _assert_same_exception(native.exc, ours.exc)
    _assert_healthy(litellm, mock)


def test_connection_refused_stream(litellm, mock, closed_port):
    native, ours = _both(litellm, f"http://127.0.0.1:{closed_port}/v1", stream=True)
    assert ours.chunks == []
    _assert_same_exception(native.exc, ours.exc)
    _assert_healthy(litellm, mock)


# ---- DNS failure and connect timeout ----------------------------------------------------


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_dns_failure(litellm, mock, aio):
    """A name that cannot resolve (RFC 6761 reserves ``.invalid``): no network needed."""
    native, ours = _both(litellm, "http://api.edgequake-test.invalid/v1", aio=aio, timeout=5)
    _assert_no_key(ours.exc)
    _assert_same_exception(native.exc, ours.exc)
    _assert_healthy(litellm, mock)


@pytest.fixture()
def unanswered_port() -> Any:
    """A port whose accept queue is full: SYNs to it are dropped, so connecting hangs until
    the client's timeout (loopback-only; a non-routable address would need a network)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    held = []
    for _ in range(2):  # backlog 0 still queues one connection; the next ones wait
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        held.append(c)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
    except (TimeoutError, socket.timeout):
        pass
    else:
        pytest.skip("this kernel completes connections beyond a full accept queue; no local connect timeout")
    finally:
        probe.close()
    yield port
    for c in held:
        c.close()
    srv.close()


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_connect_timeout(litellm, mock, unanswered_port, aio):
    native, ours = _both(litellm, f"http://127.0.0.1:{unanswered_port}/v1", aio=aio, timeout=0.5)
    assert isinstance(ours.exc, litellm.Timeout), _cls(ours.exc)
    _assert_same_exception(native.exc, ours.exc)
    # Ended by the timeout: the kernel gives up after minutes, and every call is bounded by `limit`.
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


def test_connect_timeout_stream(litellm, mock, unanswered_port):
    native, ours = _both(litellm, f"http://127.0.0.1:{unanswered_port}/v1", stream=True, timeout=0.5)
    assert ours.chunks == []
    _assert_same_exception(native.exc, ours.exc)


# ---- timeouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_read_timeout(litellm, mock, aio):
    native, ours = _both(litellm, mock.base_url("delay=3"), aio=aio, timeout=0.5)
    assert isinstance(native.exc, litellm.Timeout), _cls(native.exc)
    assert isinstance(ours.exc, litellm.Timeout), _cls(ours.exc)
    _assert_same_exception(native.exc, ours.exc)
    assert ours.exc.status_code == 408
    assert ours.elapsed > 0.4, ours.elapsed  # not before the timeout; the answer would have come at 3 s
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_stream_stall_after_first_chunks(litellm, mock, aio):
    native, ours = _both(litellm, mock.base_url("stall_after=2"), aio=aio, stream=True, timeout=0.5)
    assert ours.chunks, "the chunks sent before the stall were not delivered"
    assert ours.chunks[0].choices[0].delta.role == "assistant"
    _assert_same_exception(native.exc, ours.exc)
    assert isinstance(ours.exc, litellm.Timeout), _cls(ours.exc)
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


def test_timeout_as_httpx_timeout_object(litellm, mock):
    import httpx

    ours = _call(litellm, OURS, mock.base_url("delay=3"), timeout=httpx.Timeout(0.5))
    assert isinstance(ours.exc, litellm.Timeout), _cls(ours.exc)


# ---- resets ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_reset_before_response(litellm, mock, stream):
    native, ours = _both(litellm, mock.base_url("reset"), stream=stream)
    _assert_no_key(ours.exc)
    _assert_same_exception(native.exc, ours.exc)
    _assert_healthy(litellm, mock)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_reset_mid_stream(litellm, mock, aio):
    native, ours = _both(litellm, mock.base_url("reset_after=2"), aio=aio, stream=True)
    _assert_same_exception(native.exc, ours.exc)
    orig_native = getattr(native.exc, "original_exception", None)
    orig_ours = getattr(ours.exc, "original_exception", None)
    assert type(orig_ours) is type(orig_native), (_cls(orig_native), _cls(orig_ours))
    assert len(ours.chunks) == len(native.chunks)
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


# ---- truncation --------------------------------------------------------------------------


def test_truncated_json_body(litellm, mock):
    native, ours = _both(litellm, mock.base_url("truncate"))
    _assert_no_key(ours.exc)
    _assert_same_exception(native.exc, ours.exc)
    _assert_healthy(litellm, mock)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_truncated_chunked_stream(litellm, mock, aio):
    native, ours = _both(litellm, mock.base_url("truncate"), aio=aio, stream=True)
    _assert_same_exception(native.exc, ours.exc)
    orig_native = getattr(native.exc, "original_exception", None)
    orig_ours = getattr(ours.exc, "original_exception", None)
    assert type(orig_ours) is type(orig_native), (_cls(orig_native), _cls(orig_ours))
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


# ---- malformed payloads ------------------------------------------------------------------


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_malformed_sse(litellm, mock, aio):
    native, ours = _both(litellm, mock.base_url("malformed_sse"), aio=aio, stream=True)
    _assert_same_exception(native.exc, ours.exc)
    _assert_no_key(ours.exc)
    _assert_healthy(litellm, mock)


def test_malformed_sse_delivers_chunks_before_the_bad_event(litellm, mock):
    """The upstream sends one good chunk, then a broken one: the good chunk reaches the
    caller before the error, as natively (even when both arrive in one read)."""
    native, ours = _both(litellm, mock.base_url("malformed_sse"), stream=True)
    assert len(native.chunks) == 1
    assert len(ours.chunks) == len(native.chunks)


def test_core_stream_yields_good_events_before_decode_error(mock):
    def go() -> tuple[list, BaseException | None]:
        stream = _core.request(
            "chat_stream",
            "openai",
            "gpt-4o-mini",
            MSGS,
            api_key=KEY,
            api_base=mock.base_url("malformed_sse"),
            max_retries=0,
            timeout=2,
        )
        got: list = []
        try:
            for batch in stream:
                got.extend(batch)
        except _core.CoreError as e:
            return got, e
        return got, None

    for _ in range(10):  # whether both events arrive in one read varies: try several times
        got, err = _bounded(go, 20)
        assert err is not None and err.kind == "decode"
        assert [c["choices"][0]["delta"] for c in got] == [{"role": "assistant", "content": ""}]


def test_malformed_sse_wrapped_exception(litellm, mock):
    """LiteLLM wraps a mid-stream failure in MidStreamFallbackError; the wrapped exception
    (what fallbacks and callers inspect) must match too."""
    native, ours = _both(litellm, mock.base_url("malformed_sse"), stream=True)
    orig_native = getattr(native.exc, "original_exception", None)
    orig_ours = getattr(ours.exc, "original_exception", None)
    assert orig_native is not None
    _assert_same_exception(orig_native, orig_ours)


@pytest.mark.parametrize("scenario", ["reset_after=2", "truncate", "malformed_sse"])
def test_mid_stream_error_provider_name_known_difference(litellm, mock, scenario):
    """Known difference (docs/providers.md): LiteLLM's CustomStreamWrapper wraps mid-stream
    errors with the name of the provider it wraps, so the edgequake route reports "edgequake"
    where the native route reports "openai"; the exception classes are the same."""
    native, ours = _both(litellm, mock.base_url(scenario), stream=True)
    assert native.exc.llm_provider == "openai"
    assert ours.exc.llm_provider == "edgequake"
    assert type(ours.exc) is type(native.exc)


# The OpenAI SDK dispatches an SSE block that has ``event:``, ``id:`` or ``retry:`` but no
# ``data:`` and fails to parse its empty data, so LiteLLM's native path ends the stream with a
# MidStreamFallbackError; the core reads such a stream as the SDK does (rust/sse.rs).
NOISY = ["comments,crlf", "garbage_lines", "garbage_lines,comments,crlf"]


@pytest.mark.parametrize("scenario", NOISY)
def test_noisy_stream_equals_native(litellm, mock, scenario):
    native = _call(litellm, NATIVE, mock.base_url(scenario), stream=True, timeout=5)
    ours = _call(litellm, OURS, mock.base_url(scenario), stream=True, timeout=5)
    assert (ours.exc is None) == (native.exc is None), (native.exc, ours.exc)
    if native.exc is not None:
        assert type(ours.exc) is type(native.exc) and str(ours.exc) == str(native.exc)
        assert type(ours.exc.original_exception) is type(native.exc.original_exception)
    assert_same_chunks(ours.chunks, native.chunks)


def _sdk_events(base: str) -> list[Any]:
    """The chunks as the OpenAI SDK (LiteLLM's native client) parses them from the stream,
    then json's error for an event whose data it cannot parse, if any."""
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=base, max_retries=0, timeout=5)
    got: list[Any] = []
    try:
        with client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True) as stream:
            got.extend(c.model_dump(exclude_unset=True) for c in stream)
    except ValueError as e:
        got.append(f"JSON error: {e}")
    return got


@pytest.mark.parametrize("scenario", [None, "chunks=5,comments,crlf", *NOISY])
def test_core_stream_equals_sdk(mock, scenario):
    def go() -> list:
        stream = _core.request(
            "chat_stream",
            "openai",
            "gpt-4o-mini",
            MSGS,
            api_key=KEY,
            api_base=mock.base_url(scenario),
            max_retries=0,
            timeout=5,
        )
        got: list[Any] = []
        try:
            for batch in stream:
                got.extend(batch)
        except _core.CoreError as e:
            assert e.kind == "decode", e
            try:
                json.loads(e.body or "")
            except ValueError as je:
                got.append(f"JSON error: {je}")
        return got

    assert _bounded(go, 20) == _sdk_events(mock.base_url(scenario))


# ---- keep-alive refused by the server ----------------------------------------------------


def test_server_closing_each_connection(litellm, mock):
    mock.reset()
    for i in range(5):
        out = _call(
            litellm, OURS, mock.base_url("close=1"), timeout=5, messages=[{"role": "user", "content": f"call {i}"}]
        )
        assert out.exc is None, out.exc
        assert out.result.choices[0].message.content == f"Echo: call {i}"
    stats = mock.stats()
    assert stats["requests"] == 5
    assert stats["connections_opened"] == 5, stats  # never reused a connection the server closed


def test_server_closing_each_connection_async(mock):
    mock.reset()

    async def main() -> list[str]:
        out = []
        for i in range(5):
            body, _, _ = await _core.arequest(
                "chat",
                "openai",
                "gpt-4o-mini",
                [{"role": "user", "content": f"a{i}"}],
                api_key=KEY,
                api_base=mock.base_url("close=1"),
                max_retries=0,
                timeout=5,
            )
            out.append(body["choices"][0]["message"]["content"])
        return out

    assert asyncio.run(asyncio.wait_for(main(), 30)) == [f"Echo: a{i}" for i in range(5)]
    assert mock.stats()["requests"] == 5


# ---- the pool survives every fault -------------------------------------------------------

FAULTS = [
    ("delay=2", False),
    ("stall", False),
    ("stall_after=2", True),
    ("reset", False),
    ("reset", True),
    ("reset_after=2", True),
    ("truncate", False),
    ("truncate", True),
    ("malformed_json", False),
    ("malformed_sse", True),
]


def test_pool_healthy_after_all_faults(litellm, mock, closed_port):
    kinds = []
    for scenario, stream in FAULTS:
        out = _call(litellm, OURS, mock.base_url(scenario), stream=stream, timeout=0.5)
        assert out.exc is not None, scenario
        kinds.append(type(out.exc).__name__)
    out = _call(litellm, OURS, f"http://127.0.0.1:{closed_port}/v1")
    assert out.exc is not None
    mock.reset()
    for i in range(3):
        _assert_healthy(litellm, mock, f"after faults {i}")
    assert mock.stats()["requests"] == 3
    assert mock.stats()["connections_opened"] == 1  # one healthy pooled connection serves them


# ---- the API key never leaks -------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "stream"), FAULTS, ids=[f"{s}-{'stream' if st else 'json'}" for s, st in FAULTS])
def test_key_not_in_fault_exceptions(litellm, mock, scenario, stream):
    out = _call(litellm, OURS, mock.base_url(scenario), stream=stream, timeout=0.5)
    assert out.exc is not None
    _assert_no_key(out.exc)


def test_key_not_in_refused_or_bad_url_exceptions(litellm, closed_port):
    for base in (
        f"http://127.0.0.1:{closed_port}/v1",
        f"http://127.0.0.1:{closed_port}/v1?api_key={KEY}",
        "not a url",
        "ftp://x",
    ):
        out = _call(litellm, OURS, base)
        assert out.exc is not None, base
        _assert_no_key(out.exc)


def test_key_not_in_core_errors(mock, closed_port):
    for base in (mock.base_url("reset"), mock.base_url("truncate"), f"http://127.0.0.1:{closed_port}/v1"):
        with pytest.raises(_core.CoreError) as info:
            _bounded(
                lambda b=base: _core.request(
                    "chat", "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=b, max_retries=0, timeout=0.5
                ),
                20,
            )
        e = info.value
        assert KEY not in str(e) and KEY not in repr(e)
        assert KEY not in str(e.headers) and KEY not in str(e.body or "")


def test_key_not_in_call_repr(mock):
    call = Call.build(
        "openai/gpt-4o-mini",
        KEY,
        mock.base_url(),
        {"Authorization": f"Bearer {KEY}", "x-api-key": KEY},
        5.0,
        {"api_key": KEY, "api_version": None},
    )
    assert (call.provider, call.model, call.api_base) == ("openai", "gpt-4o-mini", mock.base_url())
    assert call.kw["api_key"] == KEY  # it is there, only hidden
    assert KEY not in repr(call) and KEY not in str(call)


# ---- caller mistakes: bad base URL, unserialisable input ---------------------------------

# LiteLLM's native openai/ path reports all of these as InternalServerError (500, the
# OpenAI SDK's error wrapped by LiteLLM's handler); ours rejects them before any I/O, with
# the same class and status and a message that names the problem.
BAD_URLS = ["not a url", "ftp://x", "file:///etc/passwd", "http://127.0.0.1:99999/v1"]


@pytest.mark.parametrize("base", BAD_URLS)
def test_bad_base_url(litellm, base):
    native = _call(litellm, NATIVE, base, limit=10)
    ours = _call(litellm, OURS, base, limit=10)
    assert type(ours.exc) is type(native.exc), (_cls(native.exc), _cls(ours.exc))
    assert ours.exc.status_code == native.exc.status_code
    assert "api_base" in str(ours.exc) or "URL" in str(ours.exc), str(ours.exc)
    _assert_no_key(ours.exc)


@pytest.mark.parametrize("base", BAD_URLS[:2])
def test_bad_base_url_core_error_kind(base):
    with pytest.raises(_core.CoreError) as info:
        _bounded(
            lambda: _core.request(
                "chat", "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=base, max_retries=0, timeout=1
            ),
            10,
        )
    assert info.value.kind == "invalid_request"
    assert info.value.status is None


@pytest.mark.parametrize("base", BAD_URLS[:2])
def test_bad_base_url_async_and_stream(litellm, base):
    a = _acall(litellm, OURS, base, limit=10)
    s = _call(litellm, OURS, base, stream=True, limit=10)
    assert isinstance(a.exc, litellm.exceptions.InternalServerError), _cls(a.exc)
    assert isinstance(s.exc, litellm.exceptions.InternalServerError), _cls(s.exc)


def test_unserialisable_message_content_same_class_as_native(litellm, mock):
    bad = [{"role": "user", "content": object()}]
    native = _call(litellm, NATIVE, mock.base_url(), messages=bad)
    ours = _call(litellm, OURS, mock.base_url(), messages=list(bad))
    assert native.exc is not None and ours.exc is not None
    # Known difference (docs/providers.md): LiteLLM fails on the message before it calls any
    # provider and words the error by provider: "OpenAIException - ..." natively, its generic
    # text (with the traceback) for a custom provider.
    _assert_same_exception(native.exc, ours.exc, text=False)
    assert str(native.exc) == "litellm.APIConnectionError: APIConnectionError: OpenAIException - " + (
        "'object' object is not iterable"
    )
    assert str(ours.exc).startswith("litellm.APIConnectionError: 'object' object is not iterable\nTraceback")
    _assert_healthy(litellm, mock)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra_body": {"x": object()}},
        {"messages": [{"role": "user", "content": "hi", "name": object()}]},
        {"temperature": float("nan")},
    ],
    ids=["extra_body_object", "message_field_object", "nan_float"],
)
def test_unserialisable_param_is_a_clear_litellm_error(litellm, mock, kwargs):
    # Native raises InternalServerError (500) for these; so do we, naming the problem,
    # and nothing is sent upstream by ours.
    native = _call(litellm, NATIVE, mock.base_url(), **kwargs)
    mock.reset()
    ours = _call(litellm, OURS, mock.base_url(), **kwargs)
    assert type(ours.exc) is type(native.exc), (_cls(native.exc), _cls(ours.exc))
    assert ours.exc.status_code == native.exc.status_code == 500
    assert "JSON" in str(ours.exc), str(ours.exc)
    assert mock.stats()["requests"] == 0
    _assert_healthy(litellm, mock)


def test_unserialisable_payload_core_error_kind(mock):
    with pytest.raises(_core.CoreError) as info:
        _core.request(
            "chat",
            "openai",
            "gpt-4o-mini",
            [{"role": "user", "content": {1, 2}}],
            api_key=KEY,
            api_base=mock.base_url(),
            max_retries=0,
            timeout=1,
        )
    assert info.value.kind == "invalid_request"
    with pytest.raises(_core.CoreError) as info:
        _core.request(
            "chat",
            "openai",
            "gpt-4o-mini",
            "not a list",
            api_key=KEY,
            api_base=mock.base_url(),
            max_retries=0,
            timeout=1,
        )
    assert info.value.kind == "invalid_request"


# ---- the core's error kinds for each fault -----------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "op", "kind"),
    [
        ("delay=3", "chat", "timeout"),
        ("reset", "chat", "connection"),
        ("truncate", "chat", "connection"),
        ("malformed_json", "chat", "decode"),
        ("reset", "chat_stream", "connection"),
        ("stall_after=2", "chat_stream", "timeout"),
        ("reset_after=2", "chat_stream", "connection"),
        ("truncate", "chat_stream", "connection"),
        ("malformed_sse", "chat_stream", "decode"),
    ],
)
def test_core_error_kind(mock, scenario, op, kind):
    def go() -> int:
        r = _core.request(
            op, "openai", "gpt-4o-mini", MSGS, api_key=KEY, api_base=mock.base_url(scenario), max_retries=0, timeout=0.5
        )
        return sum(len(b) for b in r) if op == "chat_stream" else 1

    with pytest.raises(_core.CoreError) as info:
        _bounded(go, 20)
    assert info.value.kind == kind, (info.value.kind, str(info.value))
    # A reply that arrived whole carries its status line.
    assert info.value.status == (200 if (op, kind) == ("chat", "decode") else None)
    assert KEY not in str(info.value)


def test_core_connection_refused_kind(closed_port):
    with pytest.raises(_core.CoreError) as info:
        _core.request(
            "chat",
            "openai",
            "gpt-4o-mini",
            MSGS,
            api_key=KEY,
            api_base=f"http://127.0.0.1:{closed_port}/v1",
            max_retries=0,
            timeout=60,
        )
    assert info.value.kind == "connection"  # refused, not ended by the timeout ("timeout")
