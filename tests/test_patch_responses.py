"""LiteLLM's Responses API in transparent mode: ``litellm.responses``/``aresponses`` run LiteLLM's
``response_api_handler`` with the core as its HTTP transport (route ``http.responses``).

Every scenario runs unpatched and patched against the mock upstream's ``/v1/responses`` (JSON and
its SSE events): the same request upstream (apart from the transport's own headers), the same
response or events (LiteLLM's encoded response ids included), usage, cost, ``_hidden_params``,
callback payloads and exception (class, status, message), and the patched call counted as served
by ``http.responses``. What the core does not reproduce falls back to LiteLLM's own client, and
``status()`` says why.
"""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

import httpx
import pytest

import edgequake_litellm

from .conftest import KEY, drain_litellm_logging
from .routes import CallbackEvents as _Seen
from .test_patch import count_delta, hidden, patched, route_counts

MODEL = "openai/gpt-4o-mini"
# LiteLLM's own ResponsesAPIResponse dump warns about its usage field, patched or not.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
# Headers of the connection, not of the request: the core's transport asks for gzip only and
# pools without announcing it (docs/providers.md, known differences).
_TRANSPORT = {"accept-encoding", "connection"}


def _error(e: BaseException) -> tuple[str, Any, str]:
    return (type(e).__name__, getattr(e, "status_code", None), re.sub(r"req-mock-\d+", "req", str(e)))


def _event(e: Any) -> dict:
    return e.model_dump() if hasattr(e, "model_dump") else dict(e)


def _result(r: Any) -> tuple[Any, ...]:
    return ("response", r.model_dump(), hidden(r), r._hidden_params.get("response_cost"))


async def _acall(litellm, kw: dict, stream: bool) -> Any:
    if not stream:
        return _result(await litellm.aresponses(**kw))
    events: list[dict] = []
    try:
        async for e in await litellm.aresponses(stream=True, **kw):
            events.append(_event(e))
    except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
        return ("events", events, _error(e))
    await asyncio.sleep(0)  # let LiteLLM's logging tasks for the finished stream start
    return ("events", events, None)


def _call(litellm, kw: dict, mode: str) -> Any:
    stream = "stream" in mode
    try:
        if mode.startswith("async"):
            return asyncio.run(_acall(litellm, kw, stream))
        if not stream:
            return _result(litellm.responses(**kw))
        events: list[dict] = []
        try:
            for e in litellm.responses(stream=True, **kw):
                events.append(_event(e))
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            return ("events", events, _error(e))
        return ("events", events, None)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", _error(e))


def _wire(mock) -> list[tuple[str, str, dict, str]]:
    return [
        (q["method"], q["path"], {k: v for k, v in q["headers"].items() if k not in _TRANSPORT}, q["raw_body"])
        for q in mock.requests()
    ]


# One instance: LiteLLM keeps the callbacks it has seen registered, and adds no second of a type.
_SEEN = _Seen()


def _run(litellm, mock, kw: dict, mode: str) -> tuple[Any, Any, list]:
    seen = _SEEN
    seen.events = []
    litellm.callbacks = [seen]
    try:
        mock.reset()
        out = _call(litellm, kw, mode)
        drain_litellm_logging()
    finally:
        litellm.callbacks = []
    return out, _wire(mock), sorted(seen.events, key=repr)


def _both(litellm, mock, kw: dict, mode: str) -> tuple[Any, Any, dict]:
    native, native_wire, native_cb = _run(litellm, mock, kw, mode)
    with patched():
        before = route_counts()
        ours, our_wire, our_cb = _run(litellm, mock, kw, mode)
        counted = count_delta(before, route_counts())
    assert our_wire == native_wire
    assert ours == native
    assert our_cb == native_cb
    return native, ours, counted


MODES = ["sync", "async", "stream", "async-stream"]
CASES = [
    pytest.param(None, {}, id="plain"),
    pytest.param(None, {"instructions": "Be brief.", "temperature": 0.5, "max_output_tokens": 2}, id="params"),
    pytest.param(None, {"input": [{"role": "user", "content": [{"type": "input_text", "text": "list"}]}]}, id="items"),
    pytest.param(None, {"extra_headers": {"x-custom": "1"}, "metadata": {"k": "v"}}, id="headers"),
    pytest.param("gzip=0", {}, id="identity"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("scenario", "extra"), CASES)
def test_responses_served_exactly(litellm, mock, mode, scenario, extra):
    kw = {"model": MODEL, "input": "hi there", "api_key": KEY, "api_base": mock.base_url(scenario), **extra}
    native, ours, counted = _both(litellm, mock, kw, mode)
    assert counted == {("http.responses", None): 1}
    if "stream" in mode:
        types = [e["type"] for e in ours[1]]
        assert types[0] == "response.created" and types[-1] in ("response.completed", "response.incomplete")
        assert "response.output_text.delta" in types and ours[2] is None
        # LiteLLM's encoded id on the final response, as natively.
        assert ours[1][-1]["response"]["id"].startswith("resp_")
    else:
        assert ours[0] == "response" and ours[3] is not None  # cost priced as natively
        assert ours[1]["id"] != "resp_mock" and ours[1]["id"].startswith("resp_")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "scenario", ["status=429,retry_after=1", "status=400", "status=401", "status=500", "error=context_length"]
)
def test_responses_errors_equal(litellm, mock, mode, scenario):
    kw = {"model": MODEL, "input": "hi", "api_key": KEY, "api_base": mock.base_url(scenario), "max_retries": 0}
    native, ours, counted = _both(litellm, mock, kw, mode)
    assert ours[0] == "error" or (ours[0] == "events" and ours[2] is not None), ours
    assert counted == {("http.responses", None): 1}


@pytest.mark.parametrize("mode", ["stream", "async-stream"])
@pytest.mark.parametrize("scenario", ["stream_error", "truncate", "split=7", "coalesce=all"])
def test_responses_stream_faults_equal(litellm, mock, mode, scenario):
    """A mid-stream ``error`` event and a stream cut short raise what LiteLLM raises natively,
    after the same events; odd write patterns change nothing."""
    kw = {"model": MODEL, "input": "hi", "api_key": KEY, "api_base": mock.base_url(scenario), "max_retries": 0}
    native, ours, counted = _both(litellm, mock, kw, mode)
    assert counted == {("http.responses", None): 1}
    if scenario in ("stream_error", "truncate"):
        assert ours[2] is not None and ours[1], ours


def test_refused_connection_equal(litellm):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    kw = {"model": MODEL, "input": "hi", "api_key": KEY, "api_base": f"http://127.0.0.1:{closed_port}/v1"}
    native = _call(litellm, kw, "sync")
    with patched():
        ours = _call(litellm, kw, "sync")
    assert ours == native and ours[0] == "error"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"ssl_verify": False}, "per-call ssl_verify"),
        ({"timeout": httpx.Timeout(10, connect=2)}, "phased-timeout"),
        ({"client": "caller"}, "caller-client"),
    ],
)
def test_fallbacks_keep_litellm_client(litellm, mock, extra, reason):
    """What the core does not reproduce runs LiteLLM's own client (its Accept-Encoding shows)."""
    from litellm.llms.custom_httpx.http_handler import HTTPHandler

    if extra.get("client") == "caller":
        extra = {"client": HTTPHandler()}
    kw = {"model": MODEL, "input": "hi", "api_key": KEY, "api_base": mock.base_url(), **extra}
    native = _call(litellm, kw, "sync")
    with patched():
        before = route_counts()
        mock.reset()
        ours = _call(litellm, kw, "sync")
        counted = count_delta(before, route_counts())
    assert counted == {("http.responses", reason): 1}
    assert ours == native
    assert mock.requests()[-1]["headers"].get("connection") == "keep-alive"  # httpx's, not the core's


def test_test_double_sees_the_call(litellm, mock, monkeypatch):
    """A test double over httpx's transport must see the call: LiteLLM's own path runs."""
    seen: list[str] = []
    original = httpx.HTTPTransport.handle_request

    def spy(self, request):  # noqa: ANN001, ANN202
        seen.append(str(request.url))
        return original(self, request)

    kw = {"model": MODEL, "input": "hi", "api_key": KEY, "api_base": mock.base_url()}
    with patched():
        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", spy)
        before = route_counts()
        _call(litellm, kw, "sync")
        counted = count_delta(before, route_counts())
    assert [s.rsplit("/", 1)[1] for s in seen] == ["responses"]
    assert list(counted) == [("http.responses", "test-double: httpx transport patched (pytest-httpx)")]


def test_status_names_the_patch_point(litellm):
    with patched():
        points = edgequake_litellm.status()["patch_points"]
    assert "litellm.responses.main.base_llm_http_handler.response_api_handler" in points
