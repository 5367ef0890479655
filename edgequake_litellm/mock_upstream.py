"""Deterministic OpenAI-compatible HTTP/1.1 upstream with fault injection.

Used by the test-suite and benchmarks to exercise HTTP clients against a real
socket: chat completions (JSON and SSE), embeddings, text completions (``/v1/completions``,
JSON and SSE), the Responses API (``/v1/responses``, JSON and its SSE events), Azure-style routes (the test
server ``edgequake_litellm.testing.MockUpstream`` adds the Anthropic Messages API,
``/v1/messages``, and Google AI Studio, ``models/<model>:generateContent`` etc.), and
faults selected per request through a ``/s/<scenario>/`` path prefix, e.g.
``/s/status=429,retry_after=1,fail_times=2/v1/chat/completions``.

Scenario keys (comma separated ``key=value``; bare ``key`` means ``key=1``;
values are URL-decoded; unknown keys are ignored):

* faults: ``status``, ``message``, ``retry_after``, ``error`` (``context_length``,
  ``content_filter``, ``html``, ``empty``), ``delay``, ``stall``, ``stall_after``,
  ``truncate``, ``reset``, ``reset_after``, ``malformed_json``, ``malformed_sse``.
  With ``fail_times=K`` the faults apply only to the first K requests carrying
  that exact scenario string (a bare ``fail_times`` fails with 500).
* shaping: ``model``, ``auth``, ``parallel``, ``reasoning``, ``cached``,
  ``chunks``, ``chunk_delay``, ``crlf``, ``comments``, ``garbage_lines``,
  ``close``, ``ct``, ``redirect=<3xx>`` (with ``to=<base URL>`` for another origin; the
  redirect target drops the scenario, unless ``loop`` makes it the same URL),
  ``not_sse=json|garbage`` (a chat answered 200 with its ``chat.completion`` JSON even
  when streamed, or with text; no trailing newline), ``reason`` (the status line's reason
  phrase),
  ``service_tier=X`` (default ``default``), ``gzip=0`` (identity even when gzip is accepted),
  ``stream_error`` (an ``{"error": ...}`` event after three chunks, no ``[DONE]``),
  ``should_retry=true|false`` and ``retry_after_ms=N`` (error headers), ``no_finish`` (a
  stream whose chunks never carry a ``finish_reason``), ``no_done`` (no ``[DONE]``).
* SSE writes: ``split=N`` (every event cut into N-byte writes) or ``coalesce=N`` /
  ``coalesce=all`` (N events, or the whole stream, per write); each write is one chunk.

As the real API does by default: JSON is gzipped for a client sending
``Accept-Encoding: gzip``; replies name the dated snapshot of a model alias
(``gpt-4o-mini`` -> ``gpt-4o-mini-2024-07-18``) and carry ``service_tier``; stream chunks
carry ``obfuscation`` padding (off with ``stream_options.include_obfuscation: false``);
errors carry ``x-should-retry`` and, with ``retry_after``, ``retry-after-ms``. Shapes are
pinned to recorded examples of the real answers in ``tests/recorded/``.

Control endpoints (never counted, no auth): ``GET /_control/stats``,
``GET /_control/requests``, ``GET /_control/connections``, ``POST /_control/reset``.

Only the stdlib is used and heavy modules (asyncio, json, ...) are imported
lazily so that importing this module stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False  # avoids importing typing (several ms) at import time
if TYPE_CHECKING:
    import asyncio
    import threading
    from typing import Any

CREATED = 1700000000
FINGERPRINT = "fp_mock"
DEFAULT_EMBED_DIM = 8
MAX_HEADER_BYTES = 1 << 20

# Keys that only take effect while ``fail_times`` still allows failures.
_FAULT_KEYS = (
    "status",
    "error",
    "message",
    "retry_after",
    "delay",
    "stall",
    "stall_after",
    "truncate",
    "reset",
    "reset_after",
    "malformed_json",
    "malformed_sse",
)

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Site Overloaded",
}

# (type, code) of the OpenAI error object per status, mirroring the real API.
_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout_error", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}

_CONTEXT_MSG = "This model's maximum context length is 8192 tokens. However, your messages resulted in 10000 tokens."
_FILTER_MSG = "The response was filtered due to the prompt triggering content management policy."
_MODELS = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")
# The dated snapshot the real API names in its reply for a model alias.
SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "o3-mini": "o3-mini-2025-01-31",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
}
SERVICE_TIER = "default"
_STREAM_ERROR = "The server had an error while processing your request. Sorry about that!"


class _Request:
    __slots__ = ("method", "target", "version", "headers", "raw_body")

    def __init__(self, method: str, target: str, version: str, headers: dict[str, str], raw_body: bytes) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.raw_body = raw_body

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if "close" in tokens:
            return False
        return self.version != "HTTP/1.0" or "keep-alive" in tokens


class _Conn:
    """Per-connection accounting; ``gen`` ties it to the counters' generation."""

    __slots__ = ("cid", "gen", "accepted_gen", "served", "open", "closed_by")

    def __init__(self, cid: int, accepted_gen: int) -> None:
        self.cid = cid
        self.gen = -1  # not counted until it sends a non-control request
        self.accepted_gen = accepted_gen  # a client's pool may carry a connection across a reset
        self.served = 0
        self.open = True
        self.closed_by: str | None = None  # "client" (EOF), "server", or "error: <type>"


class _Reply:
    """Writes one response; knows the request id and keep-alive decision."""

    __slots__ = ("writer", "rid", "keep", "ct", "reason", "extra", "gzip", "writes")

    def __init__(self, writer: asyncio.StreamWriter, rid: int, keep: bool) -> None:
        self.writer = writer
        self.rid = rid
        self.keep = keep
        self.ct: str | None = None  # scenario ``ct`` override
        self.reason: str | None = None  # scenario ``reason`` override
        self.extra: list[tuple[str, str]] = []
        # The real APIs compress JSON for a client that accepts gzip (streams are not compressed).
        self.gzip = False
        # How SSE events map onto writes: ("one", 0), ("split", bytes per write), ("coalesce", events per write).
        self.writes: tuple[str, int] = ("one", 0)

    def head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {self.reason if self.reason is not None else _REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers]
        lines += [
            f"x-request-id: req-mock-{self.rid}",
            "x-ratelimit-remaining-requests: 99",
            "x-ratelimit-limit-requests: 100",
            "openai-processing-ms: 1",
            "server: edgequake-mock-upstream",
            f"connection: {'keep-alive' if self.keep else 'close'}",
        ]
        lines += [f"{k}: {v}" for k, v in self.extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, data: bytes) -> None:
        # drain() raises once the peer is gone, which ends the handler quietly.
        if self.writer.transport.is_closing():
            raise ConnectionResetError("client went away")
        self.writer.write(data)
        await self.writer.drain()

    async def body(self, status: int, body: bytes, ctype: str = "application/json", truncate: bool = False) -> None:
        """One response with a body; ``truncate`` sends half of it under the full length."""
        ctype = self.ct or ctype
        headers = [("content-type", ctype)]
        if self.gzip and body and "json" in ctype:
            import gzip

            body = gzip.compress(body, mtime=0)
            headers.append(("content-encoding", "gzip"))
        headers.append(("content-length", str(len(body))))
        await self.send(self.head(status, headers) + (body[: len(body) // 2] if truncate else body))

    async def json(self, status: int, obj: object) -> None:
        import json

        await self.body(status, json.dumps(obj, ensure_ascii=False).encode())

    def retry_headers(self, scn: dict[str, str], status: int) -> None:
        """The retry hints the OpenAI and Anthropic APIs send with an error: ``x-should-retry``
        (``should_retry=true|false`` overrides) and ``retry-after`` with ``retry-after-ms``."""
        retry_after = scn.get("retry_after")
        if retry_after is not None:
            self.extra.append(("retry-after", retry_after))
            ms = _num(scn, "retry_after")
            if ms is not None and "retry_after_ms" not in scn:
                self.extra.append(("retry-after-ms", str(int(ms * 1000))))
        if scn.get("retry_after_ms") is not None:
            self.extra.append(("retry-after-ms", scn["retry_after_ms"]))
        should = scn.get("should_retry")
        if should is None:
            should = "true" if status in (408, 409, 429) or status >= 500 else "false"
        self.extra.append(("x-should-retry", should))

    async def error(
        self,
        status: int,
        message: str,
        etype: str | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        d_type, d_code = _ERROR_KINDS.get(status, ("server_error", None))
        err = {
            "message": message,
            "type": etype or d_type,
            "param": param,
            "code": code if code is not None else d_code,
        }
        await self.json(status, {"error": err})

    async def sse_head(self) -> None:
        headers = [
            ("content-type", self.ct or "text/event-stream"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
        ]
        await self.send(self.head(200, headers))

    async def chunk(self, data: bytes) -> None:
        await self.send(b"%x\r\n%s\r\n" % (len(data), data))


class SseWriter:
    """Writes SSE events in the pattern the scenario selects: one event per write (default),
    ``split=N`` (every event cut into N-byte writes, so events, lines, CRLF pairs and UTF-8
    characters straddle reads) or ``coalesce=N`` (N events per write; ``coalesce=all``: the
    whole stream in one write). Each write is one chunk of the chunked body."""

    def __init__(self, reply: _Reply) -> None:
        self.reply = reply
        self.pending: list[bytes] = []

    async def event(self, data: bytes) -> None:
        mode, n = self.reply.writes
        if mode == "split":
            for k in range(0, len(data), n):
                await self.reply.chunk(data[k : k + n])
        elif mode == "coalesce":
            self.pending.append(data)
            if n and len(self.pending) >= n:
                await self.flush()
        else:
            await self.reply.chunk(data)

    async def flush(self) -> None:
        if self.pending:
            data, self.pending = b"".join(self.pending), []
            await self.reply.chunk(data)

    async def end(self) -> None:
        await self.flush()
        await self.reply.send(b"0\r\n\r\n")


def _write_pattern(scn: dict[str, str]) -> tuple[str, int]:
    split = _int(scn, "split")
    if split is not None and split > 0:
        return ("split", split)
    if "coalesce" in scn:
        return ("coalesce", 0 if scn["coalesce"] == "all" else max(_int(scn, "coalesce", 2) or 2, 1))
    return ("one", 0)


def _parse_scenario(raw: str) -> dict[str, str]:
    from urllib.parse import unquote

    out: dict[str, str] = {}
    for item in raw.split(","):
        if not item:
            continue
        key, sep, value = item.partition("=")
        out[unquote(key).strip()] = unquote(value) if sep else "1"
    return out


def _flag(scn: dict[str, str], key: str) -> bool:
    return scn.get(key, "0").strip().lower() not in ("0", "", "false", "no", "off")


def _num(scn: dict[str, str], key: str, default: float | None = None) -> float | None:
    try:
        return float(scn[key])
    except (KeyError, ValueError):
        return default


def _int(scn: dict[str, str], key: str, default: int | None = None) -> int | None:
    value = _num(scn, key)
    return default if value is None else int(value)


def tokenize(text: str) -> list[str]:
    """Words with their leading whitespace attached, concatenating back to ``text``."""
    import re

    tokens = re.findall(r"\s*\S+", text)
    tail = text[len("".join(tokens)) :]
    if tail:
        if tokens:
            tokens[-1] += tail
        else:
            tokens.append(tail)
    return tokens


def _part_texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return []


def _logprob_entry(token: str, k: int, top: int) -> dict[str, Any]:
    lp = round(-0.1 * (k + 1), 6)
    raw = list(token.encode())
    return {
        "token": token,
        "logprob": lp,
        "bytes": raw,
        "top_logprobs": [{"token": token, "logprob": round(lp - 0.1 * j, 6), "bytes": raw} for j in range(top)],
    }


def _request_id(body: dict[str, Any]) -> str:
    import hashlib
    import json

    canon = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    dumped = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return "chatcmpl-mock-" + hashlib.sha256(dumped.encode()).hexdigest()[:12]


def _completion_plan(body: dict[str, Any], scn: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-choice content/tokens/tool calls plus usage, shared by JSON and SSE."""
    import json

    messages = body.get("messages") or []
    user_text = ""
    prompt_words = 0
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        texts = _part_texts(msg.get("content"))
        prompt_words += sum(len(t.split()) for t in texts)
        if msg.get("role") == "user":
            user_text = " ".join(texts)

    chunks = _int(scn, "chunks")
    rf = body.get("response_format")
    if chunks is not None:
        tokens = [f"tok{k} " for k in range(max(chunks, 0))]
        content = "".join(tokens)
    elif isinstance(rf, dict) and rf.get("type") in ("json_object", "json_schema"):
        content = json.dumps({"echo": user_text})
        tokens = tokenize(content)
    else:
        content = "Echo: " + user_text
        tokens = tokenize(content)

    finish = "stop"
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    words = content.split()
    if isinstance(limit, int) and len(words) > limit:
        content = " ".join(words[: max(limit, 0)])
        tokens = tokenize(content)
        finish = "length"

    calls: list[dict[str, Any]] = []
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if isinstance(tools, list) and tools and choice != "none":
        names = [(t.get("function") or {}).get("name") or t.get("name") or "tool" for t in tools if isinstance(t, dict)]
        named = None
        if isinstance(choice, dict):
            named = (choice.get("function") or {}).get("name") or choice.get("name")
        if named:
            selected = [named]
        elif _flag(scn, "parallel") and body.get("parallel_tool_calls") is not False:
            selected = names
        else:
            selected = names[:1]
        calls = [
            {
                "id": f"call_mock_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps({"arg": i})},
            }
            for i, name in enumerate(selected)
        ]

    n = body.get("n")
    n = n if isinstance(n, int) and n > 0 else 1
    choices = []
    for i in range(n):
        if calls:
            choices.append({"content": None, "tokens": [], "calls": calls, "finish": "tool_calls"})
            continue
        suffix = f" (choice {i})" if i else ""
        choices.append(
            {
                "content": content + suffix,
                "tokens": tokens + tokenize(suffix),
                "calls": [],
                "finish": finish,
            }
        )

    completion = sum(len(c["tokens"]) + 5 * len(c["calls"]) for c in choices)
    prompt = max(prompt_words, 1)
    reasoning = _flag(scn, "reasoning")
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": _int(scn, "cached", 0), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 3 if reasoning else 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    return choices, usage


def _prompts(raw: object) -> list[str] | None:
    """A text completion's prompts: a string, strings, token ids or lists of token ids
    (rendered as ``[N tokens]``); None for anything else. No prompt is ``<|endoftext|>``."""
    if raw is None:
        return ["<|endoftext|>"]
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(x, str) for x in raw):
            return list(raw)
        if all(isinstance(x, int) for x in raw):
            return [f"[{len(raw)} tokens]"]
        if all(isinstance(x, list) and x and all(isinstance(t, int) for t in x) for x in raw):
            return [f"[{len(x)} tokens]" for x in raw]
    return None


def _text_logprobs(tokens: list[str], start: int, offset: int, k: int) -> dict[str, Any]:
    """The legacy completions ``logprobs`` object: tokens, their logprobs, the ``k`` most
    likely alternatives per position and each token's offset in the text."""
    lps = [round(-0.1 * (start + i + 1), 6) for i in range(len(tokens))]
    offsets = []
    for t in tokens:
        offsets.append(offset)
        offset += len(t)
    top = [{t: lp, **{f"{t.strip()}~{j}": round(lp - 0.1 * j, 6) for j in range(1, k)}} for t, lp in zip(tokens, lps)]
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": top, "text_offset": offsets}


def _text_plan(
    body: dict[str, Any], scn: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]] | tuple[str, str]:
    """A text completion's choices (``text``, ``tokens``, ``finish``, ``echo``) and usage, or
    the (message, param) of the 400 the real API answers. ``max_tokens`` defaults to 16, as
    there; ``best_of`` generations count in usage; ``n`` choices per prompt, indexed
    ``prompt * n + choice``; ``echo`` puts the prompt before the completion."""
    prompts = _prompts(body.get("prompt"))
    if prompts is None:
        return ("Invalid type for 'prompt': expected a string, an array of strings or token arrays.", "prompt")
    n_raw, best_raw, limit_raw = body.get("n"), body.get("best_of"), body.get("max_tokens")
    n: int = n_raw if isinstance(n_raw, int) else 1
    best_of: int = best_raw if isinstance(best_raw, int) else n
    if n < 1 or best_of < n:
        return ("best_of must be greater than or equal to n.", "best_of")
    if body.get("stream") is True and best_of > 1:
        return ("Cannot stream results when best_of > 1.", "best_of")
    logprobs = body.get("logprobs")
    if logprobs is not None and (not isinstance(logprobs, int) or isinstance(logprobs, bool) or not 0 <= logprobs <= 5):
        return ("Invalid value for 'logprobs': must be an integer between 0 and 5.", "logprobs")
    limit: int = limit_raw if isinstance(limit_raw, int) else 16
    stops = body.get("stop")
    stops = [stops] if isinstance(stops, str) else [x for x in stops or [] if isinstance(x, str) and x]
    chunks = _int(scn, "chunks")
    choices: list[dict[str, Any]] = []
    completion = 0
    for p in prompts:
        content = "".join(f"tok{k} " for k in range(max(chunks, 0))) if chunks is not None else "Echo: " + p
        finish = "stop"
        words = content.split()
        if len(words) > limit:
            content, finish = " ".join(words[: max(limit, 0)]), "length"
        for stop in stops:
            if stop in content:
                content, finish = content[: content.index(stop)], "stop"
        for j in range(n):
            text = content + (f" (choice {j})" if j else "")
            choices.append({"text": text, "tokens": tokenize(text), "finish": finish, "prompt": p})
        completion += sum(len(c["tokens"]) for c in choices[-n:]) + (best_of - n) * len(tokenize(content))
    prompt_tokens = max(sum(len(p.split()) for p in prompts), 1)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
    return choices, usage


def _responses_plan(body: dict[str, Any], model: str) -> tuple[dict[str, Any], list[str]]:
    """The Responses API's ``response`` object for ``body`` (completed) and its text's tokens."""
    import hashlib
    import json

    raw = body.get("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    texts = [
        t for it in items if isinstance(it, dict) and it.get("role") == "user" for t in _part_texts(it.get("content"))
    ]
    content = "Echo: " + " ".join(texts)
    tokens = tokenize(content)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    limit = body.get("max_output_tokens")
    incomplete = isinstance(limit, int) and len(tokens) > limit
    if incomplete:
        tokens = tokens[: max(limit, 0)]
        content = "".join(tokens)
    words = max(sum(len(t.split()) for t in texts), 1)
    usage = {
        "input_tokens": words,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": len(tokens),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": words + len(tokens),
    }
    message = {
        "id": f"msg_mock_{digest}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": content, "annotations": [], "logprobs": []}],
    }
    response = {
        "id": f"resp_mock_{digest}",
        "object": "response",
        "created_at": CREATED,
        "status": "incomplete" if incomplete else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": limit,
        "model": model,
        "output": [message],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": SERVICE_TIER,
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": body.get("metadata") or {},
    }
    return response, tokens


def _responses_events(response: dict[str, Any], tokens: list[str]) -> list[dict[str, Any]]:
    """The Responses API's stream for ``response``: created ... completed, numbered."""
    message = response["output"][0]
    part = message["content"][0]
    pending = dict(response, status="in_progress", output=[], usage=None, incomplete_details=None)
    ids = {"item_id": message["id"], "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": dict(message, status="in_progress", content=[]),
        },
        {"type": "response.content_part.added", **ids, "part": dict(part, text="")},
        *({"type": "response.output_text.delta", **ids, "delta": t, "logprobs": []} for t in tokens),
        {"type": "response.output_text.done", **ids, "text": part["text"], "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": f"response.{response['status']}", "response": response},
    ]
    for k, event in enumerate(events):
        event["sequence_number"] = k
    return events


def _obfuscation(rid: str, k: int) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(f"{rid}/{k}".encode()).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")[: 1 + digest[0] % 15]


def embedding(text: str, dim: int, b64: bool) -> list[float] | str:
    import hashlib

    digest = hashlib.sha256(text.encode()).digest()
    vec = [round(digest[k % 32] / 255.0 - 0.5, 6) for k in range(dim)]
    if not b64:
        return vec
    import base64
    import struct

    return base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode("ascii")


async def _wait_disconnect(reader: asyncio.StreamReader) -> None:
    """Hold the connection until the client goes away (EOF or reset)."""
    try:
        while await reader.read(65536):
            pass
    except (ConnectionError, OSError):
        pass


def _rst(writer: asyncio.StreamWriter) -> None:
    import socket
    import struct

    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:  # linger (1, 0): close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class MockUpstream:
    """OpenAI-compatible server running on its own event loop in a daemon thread.

    ``wire_formats``: other providers' APIs served besides OpenAI's, by request kind
    (``messages``: Anthropic, ``gemini``: Google AI Studio), each an object with
    ``serve(reply, scn, body, model, method, query)`` and ``auth_error()``; the test server
    ``edgequake_litellm.testing.MockUpstream`` adds Anthropic's and Gemini's."""

    wire_formats: dict[str, Any] = {}  # noqa: RUF012 - read-only here; subclasses replace it

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        import threading

        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._next_cid = 0
        self._reset_state()

    def _reset_state(self) -> None:
        # Caller holds the lock (or no other thread exists yet).
        self._gen = getattr(self, "_gen", -1) + 1
        self._opened = 0
        self._closed = 0
        self._requests = 0
        self._recorded: list[dict[str, Any]] = []
        self._conns: list[_Conn] = []
        self._fail_counts: dict[str, int] = {}

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, scenario: str | None = None) -> str:
        return f"{self.url}/s/{scenario}/v1" if scenario else f"{self.url}/v1"

    def start(self) -> MockUpstream:
        import threading

        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure), name="mock-upstream", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        import asyncio

        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            fut.result(5)
        except Exception:  # loop already gone or shutdown timed out: still stop the loop
            pass
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:
            pass
        thread.join(5)
        self._thread = None

    def __enter__(self) -> MockUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "connections_opened": self._opened,
                "connections_closed": self._closed,
                "open": self._opened - self._closed,
                "requests": self._requests,
            }

    def requests(self) -> list[dict[str, Any]]:
        import copy

        with self._lock:
            return copy.deepcopy(self._recorded)

    def connections(self) -> list[dict[str, Any]]:
        """Connections counted since the last reset (each one that served a request since), with how
        many requests each served, who closed it, and whether it was accepted before the reset."""
        with self._lock:
            return [
                {
                    "id": c.cid,
                    "requests": c.served,
                    "open": c.open,
                    "closed_by": c.closed_by,
                    "accepted_before_reset": c.accepted_gen != self._gen,
                }
                for c in self._conns
            ]

    def reset(self) -> None:
        with self._lock:
            self._reset_state()

    # ------------------------------------------------------------------ event loop

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        import asyncio

        loop = asyncio.new_event_loop()
        # Client disconnects are expected; keep asyncio from logging them.
        loop.set_exception_handler(lambda _loop, _ctx: None)
        try:
            server = loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, backlog=2048, limit=MAX_HEADER_BYTES)
            )
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            ready.set()
            return
        self._server = server
        self._loop = loop
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._shutdown())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._loop = None

    async def _shutdown(self) -> None:
        import asyncio

        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=3)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import asyncio

        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self._next_cid += 1
            conn = _Conn(self._next_cid, self._gen)
        closed_by = "server"
        try:
            while True:
                req = await self._read_request(reader, writer)
                if req is None:
                    closed_by = "client" if reader.at_eof() else "server"
                    break
                if not await self._dispatch(conn, req, reader, writer):
                    # A stalled reply ends when the client goes away (it read to EOF).
                    closed_by = "client" if reader.at_eof() else "server"
                    break
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            closed_by = f"error: {type(e).__name__}"  # client went away or sent garbage: drop it
        except Exception as e:
            closed_by = f"error: {type(e).__name__}"  # a mock must never take the server down
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._writers.discard(writer)
            with self._lock:  # count before closing so the client observes it after EOF
                conn.open = False
                conn.closed_by = closed_by
                if conn.gen == self._gen:
                    self._closed += 1
            try:
                writer.close()
            except Exception:
                pass

    async def _read_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Request | None:
        import asyncio

        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None  # EOF between requests: normal keep-alive end
        except asyncio.LimitOverrunError:
            await _Reply(writer, 0, False).error(431, "Request header too large")
            return None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await _Reply(writer, 0, False).error(400, "Malformed request line")
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailers
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
            raw = bytes(body)
        else:
            length = int(headers.get("content-length") or 0)
            raw = await reader.readexactly(length) if length > 0 else b""
        return _Request(parts[0].upper(), parts[1], parts[2].upper(), headers, raw)

    # ------------------------------------------------------------------ routing

    async def _dispatch(
        self,
        conn: _Conn,
        req: _Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Serve one request; returns whether the connection stays open."""
        import asyncio
        import json
        import re
        from urllib.parse import parse_qsl, unquote

        path, _, query = req.target.partition("?")
        if path.startswith("/_control/"):
            return await self._control(req, path, _Reply(writer, 0, req.keep_alive))

        try:
            body = json.loads(req.raw_body) if req.raw_body else None
        except ValueError:
            body = None
        with self._lock:
            if conn.gen != self._gen:
                conn.gen, conn.served = self._gen, 0
                self._opened += 1
                self._conns.append(conn)
            conn.served += 1
            self._requests += 1
            rid = self._requests
            self._recorded.append(
                {
                    "method": req.method,
                    "path": path,
                    "query": dict(parse_qsl(query, keep_blank_values=True)),
                    "headers": dict(req.headers),
                    "body": body,
                    "raw_body": req.raw_body.decode("utf-8", "replace"),
                }
            )

        scn_raw, route = "", path
        if path.startswith("/s/"):
            scn_raw, _, rest = path[3:].partition("/")
            route = "/" + rest
        scn = _parse_scenario(scn_raw)
        reply = _Reply(writer, rid, req.keep_alive and not _flag(scn, "close"))
        reply.ct = scn.get("ct") or None
        reply.reason = scn.get("reason")
        # ``gzip=0`` serves identity even to a client that accepts gzip.
        reply.gzip = "gzip" in req.headers.get("accept-encoding", "").lower() and _flag(
            {"g": scn.get("gzip", "1")}, "g"
        )
        reply.writes = _write_pattern(scn)

        kind, deployment = None, None
        azure = re.fullmatch(r"/openai/deployments/([^/]+)/(chat/completions|embeddings|completions)", route)
        if azure:
            deployment, kind = unquote(azure.group(1)), azure.group(2)
        elif route in ("/openai/v1/chat/completions", "/openai/v1/embeddings", "/openai/v1/completions"):  # Azure v1
            kind = route.removeprefix("/openai/v1/")
        elif route in ("/v1/chat/completions", "/chat/completions"):
            kind = "chat/completions"
        elif route in ("/v1/completions", "/completions"):
            kind = "completions"
        elif route in ("/v1/embeddings", "/embeddings"):
            kind = "embeddings"
        elif route == "/v1/messages":
            kind = "messages"
        elif route in ("/v1/responses", "/responses"):
            kind = "responses"
        # Google AI Studio's paths, and Vertex AI's (publisher models under a project and location).
        gemini = re.fullmatch(
            r"/(?:v1beta/|v1/|v1beta1/)?(?:projects/[^/]+/locations/[^/]+/publishers/google/)?models/([^/:]+):(\w+)",
            route,
        )
        if gemini:
            deployment, kind = unquote(gemini.group(1)), "gemini:" + gemini.group(2)
        if req.method == "GET" and route in ("/v1/models", "/models"):
            kind = "models"
        elif req.method != "POST":
            kind = None
        # Another provider's API (``messages``, ``gemini:<method>``): served when registered.
        family = (kind or "").partition(":")[0]
        wire = self.wire_formats.get(family)
        if kind is None or (wire is None and family in ("messages", "gemini")):
            await reply.error(404, f"Unknown request URL: {req.method} {path}", code="not_found")
            return reply.keep

        redirect = _int(scn, "redirect")
        if redirect is not None:
            # Same origin unless ``to`` names another base; the scenario is not carried over,
            # except with ``loop``, which redirects to the very same URL.
            target = path if _flag(scn, "loop") else scn.get("to", "") + route
            reply.extra.append(("location", target))
            await reply.body(redirect, b"")
            return reply.keep

        bearer = req.headers.get("authorization", "")
        bearer = bearer[7:].strip() if bearer[:7].lower() == "bearer " else ""
        query_params = dict(parse_qsl(query, keep_blank_values=True))
        keys = [
            k
            for k in (
                bearer,
                req.headers.get("api-key", "").strip(),
                req.headers.get("x-api-key", "").strip(),
                req.headers.get("x-goog-api-key", "").strip(),
                query_params.get("key", "").strip(),
            )
            if k
        ]
        expected = scn.get("auth")
        if not keys or (expected is not None and expected not in keys):
            shown = keys[0][:3] + "***" if keys else ""
            msg = f"Incorrect API key provided: {shown}." if keys else "You didn't provide an API key."
            reply.retry_headers({}, 401)
            if wire is not None:
                await reply.json(*wire.auth_error())
                return reply.keep
            await reply.error(401, msg, code="invalid_api_key")
            return reply.keep

        if "fail_times" in scn:
            with self._lock:
                count = self._fail_counts.get(scn_raw, 0) + 1
                self._fail_counts[scn_raw] = count
            if count > (_int(scn, "fail_times", 0) or 0):
                scn = {k: v for k, v in scn.items() if k not in _FAULT_KEYS}
            elif "status" not in scn and "error" not in scn:
                scn["status"] = "500"
        if wire is not None:
            # Transport faults apply to every wire format.
            if _flag(scn, "reset"):
                _rst(reply.writer)
                return False
            if _num(scn, "delay"):
                await asyncio.sleep(_num(scn, "delay") or 0)
            if _flag(scn, "stall"):
                await _wait_disconnect(reader)
                return False
        if wire is not None:
            return await wire.serve(reply, scn, body, deployment or "", kind.partition(":")[2], query_params)
        return await self._serve(req, reply, reader, scn, kind, deployment, body)

    async def _control(self, req: _Request, path: str, reply: _Reply) -> bool:
        if path == "/_control/stats" and req.method == "GET":
            await reply.json(200, self.stats())
        elif path == "/_control/requests" and req.method == "GET":
            await reply.json(200, self.requests())
        elif path == "/_control/connections" and req.method == "GET":
            await reply.json(200, self.connections())
        elif path == "/_control/reset" and req.method == "POST":
            self.reset()
            await reply.json(200, {"ok": True})
        else:
            await reply.error(404, f"Unknown control URL: {req.method} {path}", code="not_found")
        return reply.keep

    async def _serve(
        self,
        req: _Request,
        reply: _Reply,
        reader: asyncio.StreamReader,
        scn: dict[str, str],
        kind: str,
        deployment: str | None,
        body: Any,
    ) -> bool:
        import asyncio

        if _flag(scn, "reset"):
            _rst(reply.writer)
            return False
        delay = _num(scn, "delay")
        if delay:
            await asyncio.sleep(delay)
        if _flag(scn, "stall"):
            await _wait_disconnect(reader)
            return False

        error, status = scn.get("error"), _int(scn, "status")
        if error in ("html", "empty", "context_length", "content_filter") or (status is not None and status >= 400):
            reply.retry_headers(scn, status or {"html": 502, "empty": 500}.get(error or "", 400))
        if error == "html":
            page = b"<html><body>Bad Gateway</body></html>"
            await reply.body(status or 502, page, "text/html")
            return reply.keep
        if error == "empty":
            await reply.body(status or 500, b"")
            return reply.keep
        if error == "context_length":
            message = scn.get("message", _CONTEXT_MSG)
            await reply.error(status or 400, message, code="context_length_exceeded")
            return reply.keep
        if error == "content_filter":
            message = scn.get("message", _FILTER_MSG)
            await reply.error(status or 400, message, code="content_filter")
            return reply.keep
        if status is not None and status >= 300:
            await reply.error(status, scn.get("message", f"mock error {status}"))
            return reply.keep

        if kind == "models":
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "mock"} for m in _MODELS]
            await reply.json(200, {"object": "list", "data": data})
            return reply.keep
        if not isinstance(body, dict):
            await reply.error(400, "We could not parse the JSON body of your request.")
            return reply.keep
        model = scn.get("model") or body.get("model") or deployment
        if not model:
            await reply.error(400, "You must provide a model parameter.", param="model")
            return reply.keep

        if kind == "embeddings":
            return await self._embeddings(reply, scn, body, model)
        if kind == "responses":
            return await self._responses(reply, scn, body, SNAPSHOTS.get(model, model))
        if kind == "completions":
            return await self._text(reply, reader, scn, body, model)
        model = SNAPSHOTS.get(model, model)
        if not isinstance(body.get("messages"), list):
            await reply.error(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
            return reply.keep
        if scn.get("not_sse") == "garbage":
            await reply.body(200, b"this is not an event stream", "text/plain")
            return reply.keep
        if body.get("stream") is True and "not_sse" not in scn:
            return await self._chat_stream(reply, reader, scn, body, model)
        return await self._chat_json(reply, scn, body, model)

    # ------------------------------------------------------------------ payloads

    async def _send_payload(self, reply: _Reply, scn: dict[str, str], obj: object) -> bool:
        import json

        if _flag(scn, "malformed_json"):
            await reply.body(200, b'{"id": "x", "choices": [', "application/json")
            return reply.keep
        data = json.dumps(obj, ensure_ascii=False).encode()
        if _flag(scn, "truncate"):
            await reply.body(200, data, truncate=True)
            return False
        await reply.body(200, data)
        return reply.keep

    async def _embeddings(self, reply: _Reply, scn: dict[str, str], body: dict[str, Any], model: str) -> bool:
        raw = body.get("input")
        if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
            inputs: list[Any] = [raw]  # one pre-tokenised input
        elif isinstance(raw, list):
            inputs = raw
        elif raw is None:
            await reply.error(400, "Missing required parameter: 'input'.", param="input")
            return reply.keep
        else:
            inputs = [raw]
        dim = body.get("dimensions")
        dim = dim if isinstance(dim, int) and dim > 0 else DEFAULT_EMBED_DIM
        b64 = body.get("encoding_format") == "base64"
        data = []
        words = 0
        for i, item in enumerate(inputs):
            words += len(item) if isinstance(item, list) else len(str(item).split())
            vec = embedding(str(item), dim, b64)
            data.append({"object": "embedding", "index": i, "embedding": vec})
        payload = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": words, "total_tokens": words},
        }
        return await self._send_payload(reply, scn, payload)

    async def _chat_json(self, reply: _Reply, scn: dict[str, str], body: dict[str, Any], model: str) -> bool:
        choices, usage = _completion_plan(body, scn)
        want_lp = body.get("logprobs") is True
        top = body.get("top_logprobs") if isinstance(body.get("top_logprobs"), int) else 0
        out = []
        for i, c in enumerate(choices):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": c["content"],
                "refusal": None,
                "annotations": [],
            }
            if c["calls"]:
                message["tool_calls"] = c["calls"]
            if _flag(scn, "reasoning"):
                message["reasoning_content"] = "Thinking about it."
            logprobs = None
            if want_lp:
                entries = [_logprob_entry(t, k, top) for k, t in enumerate(c["tokens"])]
                logprobs = {"content": entries, "refusal": None}
            out.append(
                {
                    "index": i,
                    "message": message,
                    "logprobs": logprobs,
                    "finish_reason": c["finish"],
                }
            )
        payload = {
            "id": _request_id(body),
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "service_tier": scn.get("service_tier", SERVICE_TIER),
            "choices": out,
            "usage": usage,
        }
        return await self._send_payload(reply, scn, payload)

    def _stream_events(self, scn: dict[str, str], body: dict[str, Any], model: str) -> list[dict[str, Any]]:
        choices, usage = _completion_plan(body, scn)
        want_lp = body.get("logprobs") is True
        top = body.get("top_logprobs") if isinstance(body.get("top_logprobs"), int) else 0
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
        obfuscate = not (isinstance(opts, dict) and opts.get("include_obfuscation") is False)
        base = {
            "id": _request_id(body),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "service_tier": scn.get("service_tier", SERVICE_TIER),
            "system_fingerprint": FINGERPRINT,
        }
        events: list[dict[str, Any]] = []

        def emit(index: int, delta: dict[str, Any], logprobs: Any = None, finish: Any = None) -> None:
            choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            event = dict(base, choices=[choice])
            if include_usage:
                event["usage"] = None
            events.append(event)

        for i, c in enumerate(choices):
            emit(i, {"role": "assistant", "content": ""})
            if _flag(scn, "reasoning"):
                emit(i, {"reasoning_content": "Thinking"})
                emit(i, {"reasoning_content": " about it."})
            for j, call in enumerate(c["calls"]):
                fn = call["function"]
                head = {"index": j, "id": call["id"], "type": "function"}
                emit(i, {"tool_calls": [dict(head, function={"name": fn["name"], "arguments": ""})]})
                args = fn["arguments"]
                for piece in (args[: len(args) // 2], args[len(args) // 2 :]):
                    emit(i, {"tool_calls": [{"index": j, "function": {"arguments": piece}}]})
            for k, tok in enumerate(c["tokens"]):
                lp = None
                if want_lp:
                    lp = {"content": [_logprob_entry(tok, k, top)], "refusal": None}
                emit(i, {"content": tok}, lp)
            if not _flag(scn, "no_finish"):
                emit(i, {}, None, c["finish"])
        if include_usage:
            events.append(dict(base, choices=[], usage=usage))
        if obfuscate:
            # Random padding on every chunk (``stream_options.include_obfuscation`` turns it off);
            # derived from the position here so replies stay deterministic.
            for k, event in enumerate(events):
                event["obfuscation"] = _obfuscation(event["id"], k)
        return events

    async def _text(
        self, reply: _Reply, reader: asyncio.StreamReader, scn: dict[str, str], body: dict[str, Any], model: str
    ) -> bool:
        """The legacy completions API (``POST /v1/completions``): a ``text_completion`` object,
        or with ``stream`` its chunks (a ``text`` per token, then the ``finish_reason`` with an
        empty text; with ``stream_options.include_usage`` a last chunk with only ``usage``),
        through the chat stream's fault machinery (``stream_error``, ``truncate``, ...)."""
        plan = _text_plan(body, scn)
        if isinstance(plan[0], str):
            await reply.error(400, plan[0], param=str(plan[1]))
            return reply.keep
        choices, usage = plan
        assert isinstance(usage, dict)
        k = body.get("logprobs")
        echo = body.get("echo") is True
        base: dict[str, Any] = {"id": "cmpl" + _request_id(body).removeprefix("chatcmpl"), "object": "text_completion"}
        base.update(created=CREATED, model=model)
        if body.get("stream") is not True:
            out = []
            for i, c in enumerate(choices):
                tokens, text = c["tokens"], c["text"]
                if echo:
                    tokens, text = tokenize(c["prompt"]) + tokens, c["prompt"] + text
                lp = _text_logprobs(tokens, 0, 0, k) if isinstance(k, int) else None
                out.append({"text": text, "index": i, "logprobs": lp, "finish_reason": c["finish"]})
            return await self._send_payload(reply, scn, dict(base, choices=out, usage=usage))
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
        events: list[dict[str, Any]] = []

        def emit(index: int, text: str, logprobs: Any = None, finish: Any = None) -> None:
            choice = {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}
            events.append(dict(base, choices=[choice], **({"usage": None} if include_usage else {})))

        for i, c in enumerate(choices):
            offset = 0
            if echo:
                emit(i, c["prompt"])
                offset = len(c["prompt"])
            for pos, tok in enumerate(c["tokens"]):
                emit(i, tok, _text_logprobs([tok], pos, offset, k) if isinstance(k, int) else None)
                offset += len(tok)
            if not _flag(scn, "no_finish"):
                emit(i, "", None, c["finish"])
        if include_usage:
            events.append(dict(base, choices=[], usage=usage))
        return await self._chat_stream(reply, reader, scn, body, model, events)

    async def _responses(self, reply: _Reply, scn: dict[str, str], body: dict[str, Any], model: str) -> bool:
        """The Responses API (``POST /v1/responses``): the response JSON, or with ``stream`` its
        events (``event: <type>`` + ``data:``, no ``[DONE]``). ``stream_error`` ends the stream
        with an ``error`` event after three events; ``truncate`` cuts it after two."""
        import json

        response, tokens = _responses_plan(body, model)
        if body.get("stream") is not True:
            return await self._send_payload(reply, scn, response)
        events = _responses_events(response, tokens)
        if _flag(scn, "stream_error"):
            error = {"type": "error", "code": "server_error", "message": _STREAM_ERROR, "param": None}
            events = [*events[:3], dict(error, sequence_number=3)]
        frames = [f"event: {e['type']}\ndata: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events]
        await reply.sse_head()
        out = SseWriter(reply)
        for k, frame in enumerate(frames):
            if k == 2 and _flag(scn, "truncate"):
                await out.flush()
                reply.writer.close()  # FIN without the terminating zero-length chunk
                return False
            await out.event(frame)
        await out.end()
        return reply.keep

    async def _chat_stream(
        self,
        reply: _Reply,
        reader: asyncio.StreamReader,
        scn: dict[str, str],
        body: dict[str, Any],
        model: str,
        events: list[dict[str, Any]] | None = None,
    ) -> bool:
        import asyncio
        import json

        sep = "\r\n" if _flag(scn, "crlf") else "\n"
        if events is None:
            events = self._stream_events(scn, body, model)
        frames = [f"data: {json.dumps(e, ensure_ascii=False)}{sep}{sep}".encode() for e in events]
        if _flag(scn, "malformed_sse"):
            frames = frames[:1] + [f"data: {{not json}}{sep}{sep}".encode()]
        if _flag(scn, "stream_error"):
            # The API reports a failure after the 200 as an ``error`` object in a data event,
            # then ends the stream without ``[DONE]``.
            err = {"error": {"message": _STREAM_ERROR, "type": "server_error", "param": None, "code": None}}
            frames = frames[:3] + [f"data: {json.dumps(err)}{sep}{sep}".encode()]
        elif not _flag(scn, "no_done"):
            frames.append(f"data: [DONE]{sep}{sep}".encode())
        comment = f": keep-alive{sep}{sep}".encode() if _flag(scn, "comments") else b""
        garbage = b""
        if _flag(scn, "garbage_lines"):
            # A block without data lines is never dispatched by a WHATWG parser.
            lines = ("event: ping", "id: 7", "retry: 100", ":comment", "random garbage without colon")
            garbage = (sep.join(lines) + sep + sep).encode()
        chunk_delay = _num(scn, "chunk_delay")
        stall_after = _int(scn, "stall_after")
        reset_after = _int(scn, "reset_after")
        truncate_after = 2 if _flag(scn, "truncate") else None

        await reply.sse_head()
        out = SseWriter(reply)
        for k in range(len(frames) + 1):
            if k == stall_after:
                await out.flush()
                await _wait_disconnect(reader)
                return False
            if k == reset_after:
                await out.flush()
                _rst(reply.writer)
                return False
            if k == truncate_after:
                await out.flush()
                reply.writer.close()  # FIN without the terminating zero-length chunk
                return False
            if k == len(frames):
                break
            if k and chunk_delay:
                await out.flush()
                await asyncio.sleep(chunk_delay)
            if k and comment:
                await out.event(comment)
            if k and garbage:
                await out.event(garbage)
            await out.event(frames[k])
        await out.end()
        return reply.keep


def main(argv: list[str] | None = None) -> None:
    import argparse
    import signal
    import threading

    parser = argparse.ArgumentParser(description="Mock OpenAI-compatible upstream server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = MockUpstream(args.host, args.port).start()
    print(f"listening on {server.url}", flush=True)
    try:
        while not done.wait(0.2):  # short waits keep signal handlers responsive
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
