"""A small local Bedrock runtime for the transparent-mode tests: it records each request's raw
bytes, checks its AWS SigV4 signature against the fake credentials the tests pass, and answers
the Invoke (Anthropic Messages), Converse, Titan and Cohere embedding APIs, streams in AWS's
binary event-stream framing. ``fail_with`` answers every request with that error status, ``stall``
holds every reply back (for timeouts), ``cut`` ends a stream (chunked) after three events.
Binds 127.0.0.1 only."""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

ACCESS_KEY = "AKIAEDGEQUAKETEST000"
SECRET_KEY = "edgequake-test-secret-key-not-a-real-one-000"
REGION = "us-east-1"
# What a test passes to a bedrock call so that it signs with the fake credentials and talks to us.
TEXT = "Hello from the local Bedrock."


def credentials(endpoint: str) -> dict[str, str]:
    return {
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "aws_region_name": REGION,
        "aws_bedrock_runtime_endpoint": endpoint,
    }


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    signature_ok: bool

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _event(payload: bytes, event_type: str) -> bytes:
    """One message of AWS's event-stream framing (prelude, headers, payload, CRC32s)."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def _invoke_chunk(obj: dict[str, Any]) -> bytes:
    return _event(json.dumps({"bytes": base64.b64encode(json.dumps(obj).encode()).decode()}).encode(), "chunk")


_WORDS = ["Hello", " from", " the", " local", " Bedrock."]
_USAGE = {"input_tokens": 7, "output_tokens": 5}


def _invoke_reply(model: str) -> dict[str, Any]:
    return {
        "id": "msg_bedrock_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _USAGE,
    }


def _invoke_stream(model: str) -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                **_invoke_reply(model),
                "content": [],
                "stop_reason": None,
                "usage": {**_USAGE, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}} for w in _WORDS),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 7, "outputTokenCount": 5}},
    ]
    return b"".join(_invoke_chunk(e) for e in events)


_CONVERSE_USAGE = {"inputTokens": 7, "outputTokens": 5, "totalTokens": 12}


def _converse_reply() -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": TEXT}]}},
        "stopReason": "end_turn",
        "usage": _CONVERSE_USAGE,
        "metrics": {"latencyMs": 12},
    }


def _converse_stream() -> bytes:
    return b"".join(_converse_events())


def _converse_events() -> list[bytes]:
    events: list[tuple[str, dict[str, Any]]] = [
        ("messageStart", {"role": "assistant"}),
        *(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}) for w in _WORDS),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": "end_turn"}),
        ("metadata", {"usage": _CONVERSE_USAGE, "metrics": {"latencyMs": 12}}),
    ]
    return [_event(json.dumps(body).encode(), name) for name, body in events]


_ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


def _signature_ok(method: str, path: str, headers: list[tuple[str, str]], body: bytes, host: str) -> bool:
    """Recompute the SigV4 signature over the headers the request says it signed, with the
    timestamp it carries: equal only if the bytes that arrived are the bytes that were signed."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {k.lower(): v for k, v in headers}
    auth = lower.get("authorization", "")
    try:
        fields = dict(part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        signed = fields["SignedHeaders"].split(";")
        scope = fields["Credential"].split("/")
    except (IndexError, KeyError, ValueError):
        return False
    if scope[0] != ACCESS_KEY:
        return False
    request = AWSRequest(
        method=method, url=f"http://{host}{path}", headers={h: lower.get(h, "") for h in signed}, data=body
    )
    request.context["timestamp"] = lower.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), scope[3], scope[2])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return bool(expected == fields.get("Signature"))


class BedrockUpstream:
    """``with BedrockUpstream() as b: ... b.url ... b.seen``."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.fail_with: int | None = None
        self.stall = False
        self.cut = False
        self._lock = threading.Lock()
        self._released = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold each answer ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = list(self.headers.items())
                host = self.headers.get("host", "")
                ok = _signature_ok("POST", self.path, headers, body, host)
                with owner._lock:
                    owner.seen.append(Seen("POST", self.path, headers, body, ok))
                path = unquote(urlsplit(self.path).path)
                model = path.split("/model/", 1)[-1].rsplit("/", 1)[0]
                if not ok:
                    return self._reply(403, b'{"message":"The request signature we calculated does not match"}')
                if owner.stall:
                    owner._released.wait(10)  # the client gives up first
                if owner.fail_with is not None:
                    kind = _ERROR_TYPES.get(owner.fail_with, "InternalServerException")
                    message = json.dumps({"message": f"{kind}: local Bedrock error {owner.fail_with}"}).encode()
                    return self._reply(
                        owner.fail_with, message, extra=[("x-amzn-errortype", f"{kind}:http://internal/")]
                    )
                if path.endswith("/invoke") and model.startswith("cohere.embed"):
                    texts = json.loads(body).get("texts", [])
                    vectors = [[0.5, -0.25, float(len(t))] for t in texts]
                    reply = {
                        "id": "emb-test",
                        "embeddings": vectors,
                        "response_type": "embeddings_floats",
                        "texts": texts,
                    }
                    return self._reply(200, json.dumps(reply).encode())
                if path.endswith("/invoke") and "embed" in model:
                    text = json.loads(body).get("inputText", "")
                    reply = {"embedding": [0.25, -0.5, float(len(text))], "inputTextTokenCount": 3}
                    return self._reply(200, json.dumps(reply).encode())
                if path.endswith("/invoke"):
                    return self._reply(200, json.dumps(_invoke_reply(model)).encode())
                if path.endswith("/invoke-with-response-stream"):
                    return self._reply(200, _invoke_stream(model), "application/vnd.amazon.eventstream")
                if path.endswith("/converse"):
                    return self._reply(200, json.dumps(_converse_reply()).encode())
                if path.endswith("/converse-stream") and owner.cut:
                    return self._cut(_converse_events()[:3])
                if path.endswith("/converse-stream"):
                    return self._reply(200, _converse_stream(), "application/vnd.amazon.eventstream")
                return self._reply(404, b'{"message":"unknown operation"}')

            def _cut(self, events: list[bytes]) -> None:
                """A chunked stream that ends without its last chunk: the peer closes early."""
                self.send_response(200)
                self.send_header("content-type", "application/vnd.amazon.eventstream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for event in events:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                self.close_connection = True

            def _reply(
                self, status: int, payload: bytes, ctype: str = "application/json", extra: list | None = None
            ) -> None:
                self.send_response(status)
                for name, value in extra or []:
                    self.send_header(name, value)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-amzn-requestid", "req-bedrock-test")
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> BedrockUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[Seen]:
        with self._lock:
            seen, self.seen = self.seen, []
        return seen
