"""Tests of the mock OpenAI upstream itself (edgequake_litellm/mock_upstream.py).

The module is loaded by file path so these tests do not need the compiled core.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

MODULE_PATH = Path(__file__).resolve().parent.parent / "edgequake_litellm" / "mock_upstream.py"


def _load_module() -> Any:
    spec = importlib.util.spec_from_file_location("_mock_upstream_under_test", MODULE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mu = _load_module()

KEY = {"Authorization": "Bearer sk-test"}
BASIC = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello world"},
    ],
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {}}},
]


# ---------------------------------------------------------------------- helpers


@pytest.fixture
def mock() -> Iterator[Any]:
    server = mu.MockUpstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(mock: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, headers=KEY, timeout=10) as c:
        yield c


def expected_id(body: dict[str, Any]) -> str:
    canon = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    dumped = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return "chatcmpl-mock-" + hashlib.sha256(dumped.encode()).hexdigest()[:12]


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Minimal WHATWG event-stream parser: dispatched (event type, data) pairs."""
    events: list[tuple[str | None, str]] = []
    data: list[str] = []
    event: str | None = None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data:
                events.append((event, "\n".join(data)))
            data, event = [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    return events


def stream_chunks(client: httpx.Client, path: str, body: dict[str, Any]) -> list[Any]:
    """POST a streaming request; JSON chunks plus the literal "[DONE]" marker."""
    with client.stream("POST", path, json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/event-stream"
        assert resp.headers["transfer-encoding"] == "chunked"
        text = resp.read().decode()
    out: list[Any] = []
    for _, data in sse_events(text):
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def raw_request(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    auth: str | None = "Bearer sk-test",
) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: mock"]
    lines += [f"Authorization: {auth}"] if auth is not None else []
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def connect(mock: Any, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", mock.port), timeout=timeout)


def read_until_close(sock: socket.socket) -> bytes:
    buf = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return buf
        buf += data


def recv_until(sock: socket.socket, marker: bytes) -> bytes:
    buf = b""
    while marker not in buf:
        data = sock.recv(65536)
        assert data, buf
        buf += data
    return buf


def split_head(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, rest


def dechunk(data: bytes) -> tuple[bytes, bool]:
    """Decode a chunked body; returns (payload, saw terminating zero chunk)."""
    out = b""
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return out, True
        out += data[:size]
        data = data[size + 2 :]
    return out, False


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


# ---------------------------------------------------------------------- import / lifecycle


def test_import_is_lazy_and_cheap() -> None:
    code = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(MODULE_PATH)!r})\n"
        "m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m)\n"
        "print(sorted(x for x in ('asyncio', 'json', 'socket', 'typing') if x in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_start_stop_context_manager_and_urls() -> None:
    with mu.MockUpstream() as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.base_url() == f"{server.url}/v1"
        assert server.base_url("status=500") == f"{server.url}/s/status=500/v1"
        thread = server._thread
        assert thread is not None and thread.is_alive() and thread.daemon
        r = httpx.get(f"{server.url}/_control/stats")
        assert r.json() == {"connections_opened": 0, "connections_closed": 0, "open": 0, "requests": 0}
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_control/stats", timeout=1)


def test_stop_closes_stalled_connections_quickly() -> None:
    server = mu.MockUpstream().start()
    sock = connect(server)
    sock.sendall(raw_request("POST", "/s/stall/v1/chat/completions", BASIC))
    assert wait_until(lambda: server.stats()["requests"] == 1)
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 5
    try:
        assert sock.recv(100) == b""
    except ConnectionResetError:
        pass
    sock.close()


# ---------------------------------------------------------------------- chat JSON


def test_chat_completion_exact_payload_and_headers(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json=BASIC)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    # httpx asks for gzip, as the real API compresses JSON for it.
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) == len(gzip.compress(r.content, mtime=0))
    assert r.headers["x-request-id"] == "req-mock-1"
    assert r.headers["x-ratelimit-remaining-requests"] == "99"
    assert r.headers["x-ratelimit-limit-requests"] == "100"
    assert r.headers["openai-processing-ms"] == "1"
    assert r.json() == {
        "id": expected_id(BASIC),
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_mock",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Echo: hello world",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 4,
            "completion_tokens": 3,
            "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }
    assert client.post("/v1/chat/completions", json=BASIC).headers["x-request-id"] == "req-mock-2"


def test_deterministic_across_clients(mock: Any) -> None:
    a = httpx.post(f"{mock.base_url()}/chat/completions", json=BASIC, headers=KEY).json()
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", json.dumps(BASIC), {**KEY})
    b = json.loads(conn.getresponse().read())
    conn.close()
    assert a == b
    other = dict(BASIC, temperature=0.5)
    c = httpx.post(f"{mock.base_url()}/chat/completions", json=other, headers=KEY).json()
    assert c["id"] == expected_id(other) != a["id"]


def test_last_user_message_with_content_parts(client: httpx.Client) -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "describe"},
                    {"type": "image_url", "image_url": {"url": "data:x"}},
                    {"type": "text", "text": "this image"},
                ],
            },
        ],
    }
    data = client.post("/v1/chat/completions", json=body).json()
    assert data["choices"][0]["message"]["content"] == "Echo: describe this image"
    assert data["usage"]["prompt_tokens"] == 7
    assert data["usage"]["completion_tokens"] == 4


@pytest.mark.parametrize("rf_type", ["json_object", "json_schema"])
def test_response_format_json(client: httpx.Client, rf_type: str) -> None:
    body = dict(BASIC, response_format={"type": rf_type})
    content = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert content == '{"echo": "hello world"}'
    assert json.loads(content) == {"echo": "hello world"}


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_truncates_with_length(client: httpx.Client, key: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "one two  three four"}], key: 3}
    choice = client.post("/v1/chat/completions", json=body).json()["choices"][0]
    assert choice["message"]["content"] == "Echo: one two"
    assert choice["finish_reason"] == "length"
    body[key] = 5
    choice = client.post("/v1/chat/completions", json=body).json()["choices"][0]
    assert choice["message"]["content"] == "Echo: one two  three four"
    assert choice["finish_reason"] == "stop"


def test_tool_calls_first_named_and_none(client: httpx.Client) -> None:
    data = client.post("/v1/chat/completions", json=dict(BASIC, tools=TOOLS)).json()
    msg = data["choices"][0]["message"]
    assert msg["content"] is None
    assert msg["tool_calls"] == [
        {
            "id": "call_mock_0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"arg": 0}'},
        }
    ]
    assert data["choices"][0]["finish_reason"] == "tool_calls"
    assert data["usage"]["completion_tokens"] == 5

    named = {"type": "function", "function": {"name": "get_time"}}
    body = dict(BASIC, tools=TOOLS, tool_choice=named)
    calls = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_time"]

    body = dict(BASIC, tools=TOOLS, tool_choice="none")
    choice = client.post("/v1/chat/completions", json=body).json()["choices"][0]
    assert choice["message"]["content"] == "Echo: hello world"
    assert "tool_calls" not in choice["message"]
    assert choice["finish_reason"] == "stop"


def test_parallel_tool_calls_scenario(client: httpx.Client) -> None:
    data = client.post("/s/parallel=1/v1/chat/completions", json=dict(BASIC, tools=TOOLS)).json()
    calls = data["choices"][0]["message"]["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_mock_0", "get_weather", '{"arg": 0}'),
        ("call_mock_1", "get_time", '{"arg": 1}'),
    ]
    assert data["usage"]["completion_tokens"] == 10
    body = dict(BASIC, tools=TOOLS, parallel_tool_calls=False)
    calls = client.post("/s/parallel/v1/chat/completions", json=body).json()["choices"][0]["message"]["tool_calls"]
    assert len(calls) == 1


def test_n_choices(client: httpx.Client) -> None:
    data = client.post("/v1/chat/completions", json=dict(BASIC, n=3)).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    assert [c["message"]["content"] for c in data["choices"]] == [
        "Echo: hello world",
        "Echo: hello world (choice 1)",
        "Echo: hello world (choice 2)",
    ]
    assert data["usage"]["completion_tokens"] == 3 + 5 + 5


def test_logprobs(client: httpx.Client) -> None:
    body = dict(BASIC, logprobs=True, top_logprobs=2)
    lp = client.post("/v1/chat/completions", json=body).json()["choices"][0]["logprobs"]
    assert lp["refusal"] is None
    assert [e["token"] for e in lp["content"]] == ["Echo:", " hello", " world"]
    assert [e["logprob"] for e in lp["content"]] == pytest.approx([-0.1, -0.2, -0.3])
    second = lp["content"][1]
    assert second["bytes"] == list(b" hello")
    assert len(second["top_logprobs"]) == 2
    assert [t["token"] for t in second["top_logprobs"]] == [" hello", " hello"]
    assert second["top_logprobs"][0]["bytes"] == list(b" hello")
    tops = [t["logprob"] for t in second["top_logprobs"]]
    assert tops[0] > tops[1]
    no_top = client.post("/v1/chat/completions", json=dict(BASIC, logprobs=True)).json()
    assert no_top["choices"][0]["logprobs"]["content"][0]["top_logprobs"] == []


def test_reasoning_cached_and_model_override(client: httpx.Client) -> None:
    data = client.post("/s/reasoning=1,cached=7,model=my-model/v1/chat/completions", json=BASIC).json()
    assert data["model"] == "my-model"
    assert data["choices"][0]["message"]["reasoning_content"] == "Thinking about it."
    assert data["usage"]["prompt_tokens_details"]["cached_tokens"] == 7
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    plain = client.post("/v1/chat/completions", json=BASIC).json()
    assert "reasoning_content" not in plain["choices"][0]["message"]


def test_chunks_scenario_non_stream(client: httpx.Client) -> None:
    data = client.post("/s/chunks=4/v1/chat/completions", json=BASIC).json()
    assert data["choices"][0]["message"]["content"] == "tok0 tok1 tok2 tok3 "
    assert data["usage"]["completion_tokens"] == 4


# ---------------------------------------------------------------------- streaming


def test_stream_basic_with_usage(client: httpx.Client) -> None:
    body = dict(BASIC, stream=True, stream_options={"include_usage": True})
    chunks = stream_chunks(client, "/v1/chat/completions", body)
    assert chunks[-1] == "[DONE]"
    events = chunks[:-1]
    assert len(events) == 6
    for ev in events:
        assert ev["id"] == expected_id(BASIC)
        assert ev["object"] == "chat.completion.chunk"
        assert ev["created"] == 1700000000
        assert ev["model"] == "gpt-4o-mini-2024-07-18"
        assert ev["system_fingerprint"] == "fp_mock"
        assert ev["service_tier"] == "default"
        assert isinstance(ev["obfuscation"], str) and ev["obfuscation"]
    assert [ev["choices"][0]["delta"] for ev in events[:5]] == [
        {"role": "assistant", "content": ""},
        {"content": "Echo:"},
        {"content": " hello"},
        {"content": " world"},
        {},
    ]
    for ev in events[:5]:
        assert ev["usage"] is None
        assert set(ev["choices"][0]) == {"index", "delta", "logprobs", "finish_reason"}
        assert ev["choices"][0]["logprobs"] is None
    assert [ev["choices"][0]["finish_reason"] for ev in events[:5]] == [None] * 4 + ["stop"]
    assert events[5]["choices"] == []
    non_stream = client.post("/v1/chat/completions", json=BASIC).json()
    assert events[5]["usage"] == non_stream["usage"]
    assert events[0]["id"] == non_stream["id"]


def test_stream_without_usage_has_no_usage_key(client: httpx.Client) -> None:
    chunks = stream_chunks(client, "/v1/chat/completions", dict(BASIC, stream=True))
    assert chunks[-1] == "[DONE]"
    assert len(chunks) == 6
    assert all("usage" not in c for c in chunks[:-1])
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == ("Echo: hello world")


def test_stream_tool_calls(client: httpx.Client) -> None:
    body = dict(BASIC, tools=TOOLS, stream=True)
    events = stream_chunks(client, "/s/parallel=1/v1/chat/completions", body)[:-1]
    deltas = [e["choices"][0]["delta"] for e in events]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_mock_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    assert deltas[2] == {"tool_calls": [{"index": 0, "function": {"arguments": '{"arg'}}]}
    assert deltas[3] == {"tool_calls": [{"index": 0, "function": {"arguments": '": 0}'}}]}
    assert deltas[4]["tool_calls"][0]["id"] == "call_mock_1"
    args = "".join(
        d["tool_calls"][0]["function"]["arguments"]
        for d in deltas
        if "tool_calls" in d and d["tool_calls"][0]["index"] == 1
    )
    assert args == '{"arg": 1}'
    assert deltas[-1] == {}
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert len(events) == 1 + 2 * 3 + 1


def test_stream_reasoning_logprobs_and_n(client: httpx.Client) -> None:
    body = dict(BASIC, stream=True, n=2, logprobs=True, top_logprobs=1)
    events = stream_chunks(client, "/s/reasoning=1/v1/chat/completions", body)[:-1]
    by_choice: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for e in events:
        by_choice[e["choices"][0]["index"]].append(e["choices"][0])
    # choices are streamed one after the other
    assert [e["choices"][0]["index"] for e in events] == [0] * 7 + [1] * 9
    first = by_choice[0]
    assert first[1]["delta"] == {"reasoning_content": "Thinking"}
    assert first[2]["delta"] == {"reasoning_content": " about it."}
    assert first[3]["delta"] == {"content": "Echo:"}
    assert first[3]["logprobs"]["content"][0]["token"] == "Echo:"
    assert first[3]["logprobs"]["content"][0]["logprob"] == pytest.approx(-0.1)
    assert len(first[3]["logprobs"]["content"][0]["top_logprobs"]) == 1
    assert first[5]["logprobs"]["content"][0]["logprob"] == pytest.approx(-0.3)
    text1 = "".join(c["delta"].get("content", "") for c in by_choice[1])
    assert text1 == "Echo: hello world (choice 1)"
    assert by_choice[1][-1]["finish_reason"] == "stop"


def test_stream_hundred_chunks(client: httpx.Client) -> None:
    body = dict(BASIC, stream=True)
    events = stream_chunks(client, "/s/chunks=100/v1/chat/completions", body)[:-1]
    contents = [e["choices"][0]["delta"]["content"] for e in events[1:-1]]
    assert contents == [f"tok{k} " for k in range(100)]


def test_stream_crlf_and_comments(mock: Any) -> None:
    sock = connect(mock)
    body = dict(BASIC, stream=True)
    sock.sendall(raw_request("POST", "/s/crlf=1,comments=1/v1/chat/completions", body, {"Connection": "close"}))
    status, headers, rest = split_head(read_until_close(sock))
    sock.close()
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == "chunked"
    payload, complete = dechunk(rest)
    assert complete
    text = payload.decode()
    assert text.startswith('data: {"id": ')
    assert text.endswith("data: [DONE]\r\n\r\n")
    assert re.search(r"[^\r]\n", text) is None  # every LF is part of a CRLF
    assert text.count(": keep-alive\r\n\r\n") == 5
    assert [d for _, d in sse_events(text)][-1] == "[DONE]"


def test_stream_events_are_flushed_incrementally(mock: Any) -> None:
    sock = connect(mock)
    body = dict(BASIC, stream=True)
    t0 = time.monotonic()
    sock.sendall(raw_request("POST", "/s/chunk_delay=0.15/v1/chat/completions", body))
    buf = recv_until(sock, b"data: ")
    first = time.monotonic() - t0
    buf += recv_until(sock, b"0\r\n\r\n")
    total = time.monotonic() - t0
    sock.close()
    # 6 events (role, 3 words, finish, [DONE]) -> 5 gaps of 0.15 s
    assert first < 0.4
    assert total >= 0.7


def test_malformed_sse(client: httpx.Client) -> None:
    body = dict(BASIC, stream=True)
    with client.stream("POST", "/s/malformed_sse/v1/chat/completions", json=body) as resp:
        datas = [d for _, d in sse_events(resp.read().decode())]
    assert len(datas) == 3
    assert json.loads(datas[0])["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert datas[1] == "{not json}"
    assert datas[2] == "[DONE]"


def test_garbage_lines_are_ignorable(client: httpx.Client) -> None:
    body = dict(BASIC, stream=True)
    with client.stream("POST", "/s/garbage_lines/v1/chat/completions", json=body) as resp:
        text = resp.read().decode()
    for line in ("event: ping", "id: 7", "retry: 100", ":comment", "random garbage without colon"):
        assert f"\n{line}\n" in text
    with client.stream("POST", "/v1/chat/completions", json=body) as resp:
        clean = resp.read().decode()
    assert sse_events(text) == sse_events(clean)
    assert all(event is None for event, _ in sse_events(text))


# ---------------------------------------------------------------------- embeddings


def expected_vector(text: str, dim: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(digest[k % 32] / 255.0 - 0.5, 6) for k in range(dim)]


def test_embeddings_float_and_list(client: httpx.Client) -> None:
    r = client.post("/v1/embeddings", json={"model": "emb", "input": ["a b", "c"]})
    assert r.status_code == 200
    assert r.json() == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": expected_vector("a b", 8)},
            {"object": "embedding", "index": 1, "embedding": expected_vector("c", 8)},
        ],
        "model": "emb",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    single = client.post("/embeddings", json={"model": "emb", "input": "hi", "dimensions": 40})
    vec = single.json()["data"][0]["embedding"]
    assert len(vec) == 40
    assert vec == expected_vector("hi", 40)
    assert vec[32] == vec[0]


def test_embeddings_base64_and_token_inputs(client: httpx.Client) -> None:
    body = {"model": "emb", "input": "hello", "encoding_format": "base64", "dimensions": 4}
    data = client.post("/v1/embeddings", json=body).json()
    decoded = struct.unpack("<4f", base64.b64decode(data["data"][0]["embedding"]))
    assert list(decoded) == pytest.approx(expected_vector("hello", 4), abs=1e-6)

    one = client.post("/v1/embeddings", json={"model": "e", "input": [1, 2, 3]}).json()
    assert len(one["data"]) == 1
    assert one["data"][0]["embedding"] == expected_vector(str([1, 2, 3]), 8)
    many = client.post("/v1/embeddings", json={"model": "e", "input": [[1, 2], [3]]}).json()
    assert [d["embedding"] for d in many["data"]] == [
        expected_vector("[1, 2]", 8),
        expected_vector("[3]", 8),
    ]


# ---------------------------------------------------------------------- routes & auth


def test_alternate_and_azure_routes(client: httpx.Client, mock: Any) -> None:
    assert client.post("/chat/completions", json=BASIC).status_code == 200
    az = "/openai/deployments/my-deploy/chat/completions?api-version=2024-06-01"
    no_model = {"messages": BASIC["messages"]}
    r = client.post(az, json=no_model, headers={"api-key": "k"})
    assert r.status_code == 200
    assert r.json()["model"] == "my-deploy"
    assert client.post(az, json=BASIC).json()["model"] == "gpt-4o-mini-2024-07-18"
    emb = "/s/close=0/openai/deployments/emb-deploy/embeddings?api-version=2024-06-01"
    assert client.post(emb, json={"input": "x"}).json()["model"] == "emb-deploy"
    rec = mock.requests()[1]
    assert rec["path"] == "/openai/deployments/my-deploy/chat/completions"
    assert rec["query"] == {"api-version": "2024-06-01"}
    assert rec["headers"]["api-key"] == "k"


def test_unknown_path_404_and_models(client: httpx.Client) -> None:
    r = client.post("/v1/nope", json={})
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "not_found"
    assert err["param"] is None
    assert isinstance(err["message"], str) and err["message"]
    assert r.headers["x-request-id"] == "req-mock-1"
    models = client.get("/v1/models")
    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert "gpt-4o-mini" in [m["id"] for m in models.json()["data"]]


def test_auth(mock: Any) -> None:
    url = f"{mock.url}/v1/chat/completions"
    r = httpx.post(url, json=BASIC)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"
    sock = connect(mock)  # httpx refuses to send an empty-looking header value
    sock.sendall(raw_request("POST", "/v1/chat/completions", BASIC, {"Connection": "close"}, "Bearer "))
    assert read_until_close(sock).startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    sock.close()
    assert httpx.post(url, json=BASIC, headers={"api-key": "x"}).status_code == 200
    scoped = f"{mock.url}/s/auth=key123/v1/chat/completions"
    bad = httpx.post(scoped, json=BASIC, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "invalid_api_key"
    assert httpx.post(scoped, json=BASIC, headers={"api-key": "key123"}).status_code == 200
    ok = httpx.post(scoped, json=BASIC, headers={"Authorization": "Bearer key123"})
    assert ok.status_code == 200


# ---------------------------------------------------------------------- error scenarios


def test_status_retry_after_and_message(client: httpx.Client) -> None:
    r = client.post("/s/status=429,retry_after=2/v1/chat/completions", json=BASIC)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert r.headers["x-request-id"] == "req-mock-1"
    err = r.json()["error"]
    assert err["message"] == "mock error 429"
    assert err["param"] is None
    assert err["code"] == "rate_limit_exceeded"
    r = client.post("/s/status=500,message=boom%2C%20really/v1/embeddings", json={"input": "x"})
    assert r.status_code == 500
    assert r.json()["error"]["message"] == "boom, really"
    assert r.json()["error"]["type"] == "server_error"


def test_fail_times_and_reset(client: httpx.Client, mock: Any) -> None:
    path = "/s/status=503,fail_times=2/v1/chat/completions"
    codes = [client.post(path, json=BASIC).status_code for _ in range(4)]
    assert codes == [503, 503, 200, 200]
    other = "/s/fail_times=1,status=503/v1/chat/completions"  # separate counter
    assert client.post(other, json=BASIC).status_code == 503
    assert client.post("/_control/reset").json() == {"ok": True}
    assert client.post(path, json=BASIC).status_code == 503
    mock.reset()
    assert [client.post(path, json=BASIC).status_code for _ in range(3)] == [503, 503, 200]


def test_named_errors(client: httpx.Client) -> None:
    r = client.post("/s/error=context_length/v1/chat/completions", json=BASIC)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_length_exceeded"
    assert r.json()["error"]["message"] == (
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 10000 tokens."
    )
    r = client.post("/s/error=content_filter/v1/chat/completions", json=BASIC)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "content_filter"
    assert r.json()["error"]["message"] == (
        "The response was filtered due to the prompt triggering content management policy."
    )
    r = client.post("/s/error=html/v1/chat/completions", json=BASIC)
    assert r.status_code == 502
    assert r.headers["content-type"] == "text/html"
    assert r.text == "<html><body>Bad Gateway</body></html>"
    r = client.post("/s/error=html,status=503/v1/chat/completions", json=BASIC)
    assert r.status_code == 503
    r = client.post("/s/error=empty,status=500/v1/chat/completions", json=BASIC)
    assert r.status_code == 500
    assert r.content == b""
    assert r.headers["content-length"] == "0"


def test_malformed_json_and_content_type_override(client: httpx.Client) -> None:
    r = client.post("/s/malformed_json/v1/chat/completions", json=BASIC)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.text == '{"id": "x", "choices": ['
    with pytest.raises(ValueError):
        r.json()
    r = client.post("/s/ct=text%2Fplain/v1/chat/completions", json=BASIC)
    assert r.headers["content-type"] == "text/plain"
    assert r.json()["choices"][0]["message"]["content"] == "Echo: hello world"


def test_delay(client: httpx.Client) -> None:
    t0 = time.monotonic()
    r = client.post("/s/delay=0.3/v1/chat/completions", json=BASIC)
    assert r.status_code == 200
    assert time.monotonic() - t0 >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.post("/s/delay=2/v1/chat/completions", json=BASIC, timeout=0.2)


def test_stall_does_not_block_other_connections(mock: Any) -> None:
    stalled = httpx.Client(base_url=mock.url, headers=KEY, timeout=0.5)
    with pytest.raises(httpx.ReadTimeout):
        stalled.post("/s/stall/v1/chat/completions", json=BASIC)
    t0 = time.monotonic()
    assert httpx.post(f"{mock.base_url()}/chat/completions", json=BASIC, headers=KEY).is_success
    assert time.monotonic() - t0 < 1
    stalled.close()
    assert wait_until(lambda: mock.stats()["open"] == 0)
    assert mock.stats()["connections_closed"] == 2


def test_stall_after_stream(mock: Any) -> None:
    client = httpx.Client(base_url=mock.url, headers=KEY, timeout=httpx.Timeout(5, read=0.5))
    body = dict(BASIC, stream=True)
    received = b""
    with pytest.raises(httpx.ReadTimeout):
        with client.stream("POST", "/s/stall_after=2/v1/chat/completions", json=body) as resp:
            assert resp.status_code == 200
            for part in resp.iter_raw():
                received += part
    assert received.count(b"data: ") == 2
    # the server loop is not blocked while the stream is stalled
    other = httpx.post(f"{mock.base_url()}/chat/completions", json=BASIC, headers=KEY, timeout=2)
    assert other.status_code == 200
    client.close()
    assert wait_until(lambda: mock.stats()["open"] == 0)


def test_truncate_json(mock: Any) -> None:
    sock = connect(mock)
    sock.sendall(raw_request("POST", "/s/truncate/v1/chat/completions", BASIC))
    status, headers, body = split_head(read_until_close(sock))
    sock.close()
    assert status == "HTTP/1.1 200 OK"
    assert 0 < len(body) < int(headers["content-length"])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{mock.url}/s/truncate/v1/chat/completions", json=BASIC, headers=KEY)


def test_truncate_stream(mock: Any) -> None:
    sock = connect(mock)
    body = dict(BASIC, stream=True)
    sock.sendall(raw_request("POST", "/s/truncate/v1/chat/completions", body))
    status, _, rest = split_head(read_until_close(sock))
    sock.close()
    assert status == "HTTP/1.1 200 OK"
    payload, complete = dechunk(rest)
    assert not complete
    assert payload.count(b"data: ") == 2
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", f"{mock.url}/s/truncate/v1/chat/completions", json=body, headers=KEY) as resp:
            resp.read()


def test_reset_sends_rst(mock: Any) -> None:
    sock = connect(mock)
    sock.sendall(raw_request("POST", "/s/reset/v1/chat/completions", BASIC))
    with pytest.raises(ConnectionResetError):
        sock.recv(100)
        sock.recv(100)
    sock.close()
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{mock.url}/s/reset/v1/chat/completions", json=BASIC, headers=KEY)
    assert httpx.post(f"{mock.url}/v1/chat/completions", json=BASIC, headers=KEY).is_success


def test_reset_after_stream(mock: Any) -> None:
    sock = connect(mock)
    body = dict(BASIC, stream=True)
    sock.sendall(raw_request("POST", "/s/reset_after=3/v1/chat/completions", body))
    buf = b""
    with pytest.raises(ConnectionResetError):
        while True:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
    sock.close()
    assert buf.count(b"data: ") <= 3
    received = b""
    with pytest.raises(httpx.TransportError):
        with httpx.stream("POST", f"{mock.url}/s/reset_after=3/v1/chat/completions", json=body, headers=KEY) as resp:
            for part in resp.iter_raw():
                received += part
    assert received.count(b"data: ") <= 3


def test_fail_times_applies_to_connection_faults(client: httpx.Client) -> None:
    path = "/s/reset,fail_times=1/v1/chat/completions"
    with pytest.raises(httpx.TransportError):
        client.post(path, json=BASIC)
    assert client.post(path, json=BASIC).status_code == 200


# ---------------------------------------------------------------------- connections & control


def test_keep_alive_and_per_connection_counts(mock: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for _ in range(5):
        conn.request("POST", "/v1/chat/completions", json.dumps(BASIC), KEY)
        resp = conn.getresponse()
        assert resp.getheader("connection") == "keep-alive"
        assert json.loads(resp.read())["choices"][0]["message"]["content"] == "Echo: hello world"
    assert mock.stats() == {"connections_opened": 1, "connections_closed": 0, "open": 1, "requests": 5}
    assert [c["requests"] for c in mock.connections()] == [5]
    conn.close()
    assert wait_until(lambda: mock.stats()["connections_closed"] == 1)
    assert mock.stats()["open"] == 0
    assert [c["closed_by"] for c in mock.connections()] == ["client"]


def test_a_connection_kept_across_a_reset_is_counted_and_marked(mock: Any) -> None:
    """A client's pool can carry a connection over a reset: it counts as opened in the new
    generation once it serves a request there, and says it was accepted before the reset."""
    kept = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    kept.request("POST", "/v1/chat/completions", json.dumps(BASIC), KEY)
    kept.getresponse().read()
    mock.reset()
    fresh = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for conn in (kept, fresh):
        conn.request("POST", "/v1/chat/completions", json.dumps(BASIC), KEY)
        conn.getresponse().read()
    assert mock.stats()["connections_opened"] == 2
    assert [c["accepted_before_reset"] for c in mock.connections()] == [True, False]
    kept.close()
    fresh.close()


def test_client_connection_close_is_honoured(mock: Any) -> None:
    sock = connect(mock)
    sock.sendall(raw_request("POST", "/v1/chat/completions", BASIC, {"Connection": "close"}))
    status, headers, body = split_head(read_until_close(sock))  # returns only on server EOF
    sock.close()
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert len(body) == int(headers["content-length"])
    assert mock.stats() == {"connections_opened": 1, "connections_closed": 1, "open": 0, "requests": 1}


def test_close_scenario(mock: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for _ in range(3):
        conn.request("POST", "/s/close=1/v1/chat/completions", json.dumps(BASIC), KEY)
        resp = conn.getresponse()
        assert resp.getheader("connection") == "close"
        resp.read()
    conn.close()
    assert wait_until(lambda: mock.stats()["connections_closed"] == 3)
    assert mock.stats()["connections_opened"] == 3
    assert [c["requests"] for c in mock.connections()] == [1, 1, 1]
    assert [c["closed_by"] for c in mock.connections()] == ["server"] * 3


def test_control_requests_not_counted(mock: Any) -> None:
    with httpx.Client(base_url=mock.url) as c:
        for _ in range(3):
            assert c.get("/_control/stats").json() == {
                "connections_opened": 0,
                "connections_closed": 0,
                "open": 0,
                "requests": 0,
            }
        assert c.get("/_control/requests").json() == []
        c.post("/v1/chat/completions", json=BASIC, headers=KEY)
        assert c.get("/_control/stats").json() == {
            "connections_opened": 1,
            "connections_closed": 0,
            "open": 1,
            "requests": 1,
        }
    assert wait_until(lambda: mock.stats()["open"] == 0)


def test_recorded_requests_and_reset(client: httpx.Client, mock: Any) -> None:
    client.post("/s/model=x/v1/chat/completions?foo=bar", json=BASIC, headers={"X-Custom": "Yes"})
    client.post("/v1/embeddings", content=b"not json")
    recs = client.get("/_control/requests").json()
    assert recs == mock.requests()
    assert len(recs) == 2
    first = recs[0]
    assert first["method"] == "POST"
    assert first["path"] == "/s/model=x/v1/chat/completions"
    assert first["query"] == {"foo": "bar"}
    assert first["headers"]["x-custom"] == "Yes"
    assert first["headers"]["authorization"] == "Bearer sk-test"
    assert all(k == k.lower() for k in first["headers"])
    assert first["body"] == BASIC
    assert json.loads(first["raw_body"]) == BASIC
    assert recs[1]["body"] is None
    assert recs[1]["raw_body"] == "not json"
    assert client.post("/v1/embeddings", content=b"not json").status_code == 400
    client.post("/_control/reset")
    assert mock.requests() == []
    assert mock.stats()["requests"] == 0
    assert client.post("/v1/chat/completions", json=BASIC).headers["x-request-id"] == "req-mock-1"
    # the reused connection is counted again after a reset
    assert mock.stats() == {"connections_opened": 1, "connections_closed": 0, "open": 1, "requests": 1}


def test_chunked_request_body(mock: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    raw = json.dumps(BASIC).encode()
    parts = iter([raw[:10], raw[10:25], raw[25:]])
    headers = {**KEY, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    conn.request("POST", "/v1/chat/completions", body=parts, headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read())["choices"][0]["message"]["content"] == "Echo: hello world"
    conn.close()
    assert mock.requests()[0]["body"] == BASIC


def test_many_concurrent_connections(mock: Any) -> None:
    count = 300
    socks = [connect(mock, timeout=10) for _ in range(count)]
    req = raw_request("POST", "/s/delay=0.3/v1/chat/completions", BASIC, {"Connection": "close"})
    for s in socks:
        s.sendall(req)
    assert wait_until(lambda: mock.stats()["open"] == count, timeout=10)
    statuses = []
    for s in socks:
        status, _, body = split_head(read_until_close(s))
        s.close()
        statuses.append((status, json.loads(body)["choices"][0]["message"]["content"]))
    assert statuses == [("HTTP/1.1 200 OK", "Echo: hello world")] * count
    assert wait_until(lambda: mock.stats()["connections_closed"] == count)
    assert mock.stats()["requests"] == count


def test_client_disconnect_mid_stream_is_harmless(mock: Any, capfd: Any) -> None:
    body = dict(BASIC, stream=True)
    for _ in range(5):
        sock = connect(mock)
        sock.sendall(raw_request("POST", "/s/chunk_delay=0.05,chunks=50/v1/chat/completions", body))
        recv_until(sock, b"data: ")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert wait_until(lambda: mock.stats()["open"] == 0)
    assert httpx.post(f"{mock.base_url()}/chat/completions", json=BASIC, headers=KEY).is_success
    out, err = capfd.readouterr()
    assert err == ""
    assert out == ""


# ---------------------------------------------------------------------- CLI


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_main(sig: int) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="0")
    proc = subprocess.Popen(
        [sys.executable, str(MODULE_PATH), "--port", "0", "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}"
        r = httpx.post(f"{url}/v1/chat/completions", json=BASIC, headers=KEY)
        assert r.json()["choices"][0]["message"]["content"] == "Echo: hello world"
        sock = socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=5)
        sock.sendall(raw_request("POST", "/s/stall_after=1/v1/chat/completions", dict(BASIC, stream=True)))
        recv_until(sock, b"data: ")
        sock.close()
        time.sleep(0.1)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == ""
    assert err == ""


# ---------------------------------------------------------------------- realism


def test_gzip_only_for_a_client_that_asks(mock: Any) -> None:
    url = f"{mock.base_url()}/chat/completions"
    plain = httpx.post(url, json=BASIC, headers={**KEY, "accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain.content)
    zipped = httpx.post(url, json=BASIC, headers={**KEY, "accept-encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == plain.json()
    off = httpx.post(f"{mock.base_url('gzip=0')}/chat/completions", json=BASIC, headers=KEY)
    assert "content-encoding" not in off.headers
    # Errors are JSON too; streams are not compressed.
    err = httpx.post(f"{mock.base_url('status=429')}/chat/completions", json=BASIC, headers=KEY)
    assert err.headers["content-encoding"] == "gzip"
    with httpx.stream("POST", url, json=dict(BASIC, stream=True), headers=KEY) as resp:
        assert "content-encoding" not in resp.headers


@pytest.mark.parametrize(
    ("scenario", "should_retry", "after_ms"),
    [
        ("status=429,retry_after=2", "true", "2000"),
        ("status=500", "true", None),
        ("status=408", "true", None),
        ("status=400", "false", None),
        ("status=401", "false", None),
        ("status=400,should_retry=true,retry_after_ms=15", "true", "15"),
        ("error=context_length", "false", None),
    ],
)
def test_error_retry_headers(mock: Any, scenario: str, should_retry: str, after_ms: str | None) -> None:
    r = httpx.post(f"{mock.base_url(scenario)}/chat/completions", json=BASIC, headers=KEY)
    assert r.headers["x-should-retry"] == should_retry
    assert r.headers.get("retry-after-ms") == after_ms


def _raw_chunks(mock: Any, scenario: str, body: dict[str, Any]) -> list[bytes]:
    """The chunks of a chunked body exactly as written (each write is one chunk)."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /s/{scenario}/v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\n"
        f"content-type: application/json\r\ncontent-length: {len(payload)}\r\nconnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((mock.host, mock.port), timeout=10) as sock:
        sock.sendall(head + payload)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    rest = raw.split(b"\r\n\r\n", 1)[1]
    out = []
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return out
        out.append(rest[:size])
        rest = rest[size + 2 :]


def test_sse_write_patterns(mock: Any) -> None:
    body = dict(BASIC, stream=True, messages=[{"role": "user", "content": "héllo 日本語 🎉"}])
    one = _raw_chunks(mock, "x=1", body)
    assert all(c.endswith(b"\n\n") and c.count(b"\n\n") == 1 for c in one)
    split = _raw_chunks(mock, "split=5", body)
    assert b"".join(split) == b"".join(one)
    assert max(len(c) for c in split) == 5
    # Some writes end inside a multi-byte UTF-8 character.
    assert any(not _decodes(c) for c in split)
    whole = _raw_chunks(mock, "coalesce=all", body)
    assert whole == [b"".join(one)]
    pairs = _raw_chunks(mock, "coalesce=2", body)
    assert b"".join(pairs) == b"".join(one) and len(pairs) == (len(one) + 1) // 2


def _decodes(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def test_stream_error_event_ends_the_stream(client: httpx.Client) -> None:
    chunks = stream_chunks(client, "/s/stream_error/v1/chat/completions", dict(BASIC, stream=True))
    assert chunks[-1] == {"error": {"message": mu._STREAM_ERROR, "type": "server_error", "param": None, "code": None}}
    assert "[DONE]" not in chunks and len(chunks) == 4


# ---------------------------------------------------------------------- recorded shapes

RECORDED = Path(__file__).resolve().parent / "recorded"


def _shape(value: Any) -> Any:
    """Keys and JSON types at every path (a list by its first item)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _recorded(name: str) -> Any:
    return _shape(json.loads((RECORDED / name).read_text()))


def _sse_data(text: str) -> list[Any]:
    return [json.loads(d) for _, d in sse_events(text) if d != "[DONE]"]


def test_openai_shapes_match_recorded_answers(upstream: Any) -> None:
    """The mock answers with the keys and value types of the API reference's examples."""
    base = upstream.base_url()
    with httpx.Client(headers=KEY, timeout=10) as c:
        assert _shape(c.post(f"{base}/chat/completions", json=BASIC).json()) == _recorded("openai_chat_completion.json")
        text = c.post(f"{base}/chat/completions", json=dict(BASIC, stream=True)).text
        assert _shape(_sse_data(text)[1]) == _recorded("openai_chat_chunk.json")
        opts = {"include_usage": True}
        text = c.post(f"{base}/chat/completions", json=dict(BASIC, stream=True, stream_options=opts)).text
        assert _shape(_sse_data(text)[-1]) == _recorded("openai_chat_usage_chunk.json")
        err = c.post(f"{upstream.base_url('status=401')}/chat/completions", json=BASIC).json()
        assert _shape(err) == _recorded("openai_error.json")
        text = c.post(f"{upstream.base_url('stream_error')}/chat/completions", json=dict(BASIC, stream=True)).text
        assert _shape(_sse_data(text)[-1]) == _recorded("openai_stream_error_event.json")
        emb = c.post(f"{base}/embeddings", json={"model": "text-embedding-3-small", "input": ["a b"]}).json()
        assert _shape(emb) == _recorded("openai_embedding.json")


def test_anthropic_shapes_match_recorded_answers(upstream: Any) -> None:
    body = {"model": "claude-sonnet-4-20250514", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with httpx.Client(headers=headers, timeout=10) as c:
        assert _shape(c.post(f"{upstream.url}/v1/messages", json=body).json()) == _recorded("anthropic_message.json")
        err = c.post(f"{upstream.url}/s/status=404/v1/messages", json=body)
        assert _shape(err.json()) == _recorded("anthropic_error.json")
        assert err.headers["x-should-retry"] == "false"
        text = c.post(f"{upstream.url}/s/stream_error/v1/messages", json=dict(body, stream=True)).text
        errors = [json.loads(d) for e, d in sse_events(text) if e == "error"]
        assert [_shape(e) for e in errors] == [_recorded("anthropic_stream_error_event.json")]


def test_gemini_shapes_match_recorded_answers(upstream: Any) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Explain AI in a few words"}]}]}
    path = "/v1beta/models/gemini-2.0-flash:generateContent"
    with httpx.Client(headers={"x-goog-api-key": "k"}, timeout=10) as c:
        assert _shape(c.post(f"{upstream.url}{path}", json=body).json()) == _recorded("gemini_generate_content.json")
        err = c.post(f"{upstream.url}/s/status=429{path}", json=body).json()
        assert _shape(err) == _recorded("gemini_error_429.json")


# ---------------------------------------------------------------------- text completions

TEXT = {"model": "gpt-3.5-turbo-instruct", "prompt": "hello there world"}


def test_text_completion_payload(client: httpx.Client) -> None:
    data = client.post("/v1/completions", json=TEXT).json()
    assert data["object"] == "text_completion" and data["id"].startswith("cmpl-mock-")
    assert data["model"] == "gpt-3.5-turbo-instruct" and data["created"] == mu.CREATED
    assert data["choices"] == [
        {"text": "Echo: hello there world", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]
    assert data["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_text_completion_echo_logprobs_stop_and_default_max_tokens(client: httpx.Client) -> None:
    body = dict(TEXT, echo=True, logprobs=2)
    choice = client.post("/v1/completions", json=body).json()["choices"][0]
    assert choice["text"] == "hello there worldEcho: hello there world"
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == choice["text"] and len(lp["token_logprobs"]) == len(lp["tokens"])
    assert lp["text_offset"][:2] == [0, 5] and all(len(t) == 2 for t in lp["top_logprobs"])
    stopped = client.post("/v1/completions", json=dict(TEXT, stop=" there")).json()["choices"][0]
    assert stopped["text"] == "Echo: hello" and stopped["finish_reason"] == "stop"
    long_prompt = " ".join(f"w{i}" for i in range(30))
    cut = client.post("/v1/completions", json=dict(TEXT, prompt=long_prompt)).json()["choices"][0]
    assert len(cut["text"].split()) == 16 and cut["finish_reason"] == "length"  # the API's default max_tokens


def test_text_completion_prompts_n_best_of(client: httpx.Client) -> None:
    body = dict(TEXT, prompt=["a b", "c"], n=2, best_of=3)
    data = client.post("/v1/completions", json=body).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2, 3]
    assert data["choices"][1]["text"] == "Echo: a b (choice 1)" and data["choices"][2]["text"] == "Echo: c"
    # best_of generations count: 3 per prompt, n=2 returned.
    assert data["usage"]["completion_tokens"] == (3 + 5 + 3) + (2 + 4 + 2)
    ids = client.post("/v1/completions", json=dict(TEXT, prompt=[[1, 2, 3]])).json()
    assert ids["choices"][0]["text"] == "Echo: [3 tokens]"


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"n": 2, "best_of": 1}, "best_of"), ({"best_of": 2, "stream": True}, "best_of"), ({"logprobs": 6}, "logprobs")],
)
def test_text_completion_refuses_as_the_api(client: httpx.Client, extra: dict, param: str) -> None:
    r = client.post("/v1/completions", json=dict(TEXT, **extra))
    assert r.status_code == 400 and r.json()["error"]["param"] == param


def test_text_completion_stream(client: httpx.Client) -> None:
    body = dict(TEXT, stream=True, stream_options={"include_usage": True}, logprobs=1)
    chunks = stream_chunks(client, "/v1/completions", body)
    assert chunks[-1] == "[DONE]"
    texts = [c["choices"][0]["text"] for c in chunks[:-2]]
    assert "".join(texts) == "Echo: hello there world" and texts[-1] == ""
    assert chunks[-3]["choices"][0]["finish_reason"] == "stop" and chunks[0]["choices"][0]["finish_reason"] is None
    assert chunks[0]["choices"][0]["logprobs"]["tokens"] == ["Echo:"] and chunks[0]["usage"] is None
    assert chunks[-2]["choices"] == [] and chunks[-2]["usage"]["total_tokens"] == 7


def test_text_completion_azure_path(client: httpx.Client) -> None:
    r = client.post("/openai/deployments/dep/completions?api-version=2024-10-21", json={"prompt": "hi"})
    assert r.json()["model"] == "dep" and r.json()["choices"][0]["text"] == "Echo: hi"
