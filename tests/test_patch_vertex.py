"""Vertex AI Gemini (``vertex_ai/gemini-*``) in transparent mode: LiteLLM's own ``VertexLLM``
handler gets its credentials and access token from google-auth as always (a test service account
whose token endpoint is a local server), and the request and stream go through the core (the
client handed to it), counted as ``gemini.chat`` for ``vertex_ai``.

Each scenario runs unpatched and patched against the mock upstream's Gemini API at Vertex AI's
paths: the same token exchange, the same request upstream (bearer token included), the same
response or chunks, usage, cost and exception. LiteLLM caches credentials on its handler
instance, which both runs share: the cache is emptied before each run so each run makes its own
token exchange. Nothing leaves 127.0.0.1: the credentials are given, and google-auth's metadata
server is pointed at a closed local port.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from .google_token_server import PROJECT, TOKEN, TokenServer
from .test_patch import count_delta, hidden, patched, route_counts

MODEL = "gemini-2.0-flash"
LOCATION = "us-central1"
MSGS = [{"role": "user", "content": "hi there"}]
# Headers of the connection, not of the request (docs/providers.md, known differences).
_TRANSPORT = {"accept-encoding", "connection"}


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    with TokenServer() as t:
        yield t


@pytest.fixture(autouse=True)
def _google_offline(monkeypatch):
    """google-auth never looks for ambient credentials or a metadata server on the network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("GCE_METADATA_HOST", closed)
    monkeypatch.setenv("GCE_METADATA_IP", closed)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    for var in ("GOOGLE_APPLICATION_CREDENTIALS", "VERTEXAI_CREDENTIALS", "VERTEX_AI_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)


def _kw(mock, tokens: TokenServer, scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    prefix = f"/s/{scenario}" if scenario else ""
    base = f"{mock.url}{prefix}/v1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}"
    return {
        "model": f"vertex_ai/{MODEL}",
        "messages": MSGS,
        "vertex_credentials": json.dumps(tokens.service_account),
        "vertex_project": PROJECT,
        "vertex_location": LOCATION,
        "api_base": base,
        **extra,
    }


def _error(e: BaseException) -> tuple[str, Any, str]:
    text = re.sub(r"req-mock-\d+", "req", str(e))
    # LiteLLM words a timeout with the time it measured: not part of the outcome.
    text = re.sub(r"time taken=[\d.]+ seconds", "time taken=<t> seconds", text)
    return (type(e).__name__, getattr(e, "status_code", None), text)


def _chunks(chunks: list) -> list[dict]:
    out = []
    for c in chunks:
        d = c.model_dump()
        d.pop("created", None)
        out.append(d)
    return out


def _call(litellm, kw: dict, mode: str) -> Any:
    async def acall() -> Any:
        if mode == "async":
            r = await litellm.acompletion(**kw)
            return ("response", _dump(r), hidden(r))
        got: list = []
        try:
            async for c in await litellm.acompletion(stream=True, **kw):
                got.append(c)
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            return ("chunks", _chunks(got), _error(e))
        return ("chunks", _chunks(got), None)

    try:
        if mode.startswith("async"):
            return asyncio.run(acall())
        if mode == "sync":
            r = litellm.completion(**kw)
            return ("response", _dump(r), hidden(r))
        got = []
        try:
            for c in litellm.completion(stream=True, **kw):
                got.append(c)
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            return ("chunks", _chunks(got), _error(e))
        return ("chunks", _chunks(got), None)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", _error(e))


def _dump(r: Any) -> dict:
    d = r.model_dump()
    d.pop("created", None)
    return d


def _run(litellm, mock, tokens: TokenServer, kw: dict, mode: str) -> tuple[Any, list, list]:
    litellm.main.vertex_chat_completion._credentials_project_mapping.clear()
    tokens.take()
    mock.reset()
    out = _call(litellm, kw, mode)
    sent = [
        (q["method"], q["path"], {k: v for k, v in q["headers"].items() if k not in _TRANSPORT}, q["raw_body"])
        for q in mock.requests()
    ]
    exchanges = [{k: v for k, v in c.items() if k not in ("iat", "exp")} for c in tokens.take()]
    return out, sent, exchanges


def _both(litellm, mock, tokens: TokenServer, kw: dict, mode: str) -> tuple[Any, Any, dict]:
    native, native_sent, native_tokens = _run(litellm, mock, tokens, kw, mode)
    with patched():
        before = route_counts()
        ours, our_sent, our_tokens = _run(litellm, mock, tokens, kw, mode)
        counted = count_delta(before, route_counts())
    assert len(native_tokens) == 1 and our_tokens == native_tokens  # google-auth's own exchange, both ways
    assert our_sent == native_sent
    assert ours == native
    return native, ours, counted


MODES = ["sync", "async", "stream", "async-stream"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("scenario", "extra"),
    [
        pytest.param(None, {}, id="plain"),
        pytest.param(None, {"temperature": 0.2, "max_tokens": 20, "stop": ["x"]}, id="params"),
        pytest.param("thinking", {}, id="thinking"),
        pytest.param("gzip=0", {}, id="identity"),
    ],
)
def test_vertex_served_exactly(litellm, mock, tokens, mode, scenario, extra):
    native, ours, counted = _both(litellm, mock, tokens, _kw(mock, tokens, scenario, **extra), mode)
    assert counted == {("gemini.chat", None): 1}
    assert mock.requests()[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    if mode in ("sync", "async"):
        assert ours[0] == "response" and ours[2]["response_cost"] is not None
    else:
        assert ours[0] == "chunks" and ours[2] is None and len(ours[1]) > 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", ["status=400", "status=403", "status=429", "status=500", "error=context_length"])
def test_vertex_errors_equal(litellm, mock, tokens, mode, scenario):
    native, ours, counted = _both(litellm, mock, tokens, _kw(mock, tokens, scenario, max_retries=0), mode)
    assert counted == {("gemini.chat", None): 1}
    assert ours[0] == "error" or ours[2] is not None, ours


@pytest.mark.parametrize("mode", ["stream", "async-stream"])
def test_vertex_stream_error_equal(litellm, mock, tokens, mode):
    native, ours, counted = _both(litellm, mock, tokens, _kw(mock, tokens, "stream_error", max_retries=0), mode)
    assert counted == {("gemini.chat", None): 1}
    assert ours[1] and ours[2] is not None, ours


def test_vertex_timeout_is_the_calls(litellm, mock, tokens):
    """LiteLLM's Vertex handler posts with no per-request timeout (its client carries the
    call's): the client handed to it carries it too."""
    kw = _kw(mock, tokens, "delay=3", timeout=0.5, max_retries=0)
    native, ours, counted = _both(litellm, mock, tokens, kw, "sync")
    assert ours[0] == "error" and ours[1][0] == "Timeout", ours
    assert counted == {("gemini.chat", None): 1}
