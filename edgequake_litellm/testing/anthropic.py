"""The Anthropic Messages wire format for the mock upstream (``POST .../v1/messages``).

Replies are shaped like the real API's (recorded field sets: ``msg_`` ids, content blocks
for text, ``tool_use``, ``thinking`` with signatures and ``redacted_thinking``, usage with
prompt-cache counters, ``event:``-typed SSE with ``ping``), deterministic in the request.

Scenario keys (see ``edgequake_litellm.mock_upstream``): ``status``/``message``/``retry_after`` (errors in
Anthropic's ``{"type": "error", "error": {...}}`` shape; 529 is ``overloaded_error``),
``error=context_length``, ``thinking``, ``redacted``, ``cached=N`` (cache reads),
``cache_write=N``, ``stop_reason=X``, ``preamble`` (text before a tool call),
``stream_error`` (an ``error`` event mid-stream), ``truncate`` (the stream's connection closes
after four events), ``malformed_json``, ``citations``.
"""

from __future__ import annotations

from ..mock_upstream import SseWriter, _flag, _int, tokenize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_CONTEXT_MSG = "prompt is too long: 210000 tokens > 200000 maximum"
SIGNATURE = "EqQBCkYIBxgCKkDmockSignatureForThinkingBlock=="


def auth_error() -> tuple[int, dict[str, Any]]:
    """The status and body Anthropic answers a missing or wrong key with."""
    return (401, error_body(401, "invalid x-api-key"))


def error_body(status: int, message: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Anthropic's error object; an HTTP error reply also names its ``request_id`` (a
    mid-stream ``error`` event does not)."""
    etype = _ERROR_TYPES.get(status, "api_error")
    default = "Overloaded" if status == 529 else f"mock error {status}"
    body: dict[str, Any] = {"type": "error", "error": {"type": etype, "message": message or default}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def _texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        out = []
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"])
            elif isinstance(block, dict) and isinstance(block.get("content"), str):
                out.append(block["content"])
        return out
    return []


def _message_id(body: dict[str, Any]) -> str:
    import hashlib
    import json

    canon = {k: v for k, v in body.items() if k != "stream"}
    return "msg_mock" + hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:16]


def plan(body: dict[str, Any], scn: dict[str, str]) -> dict[str, Any]:
    """The reply for a Messages request: content blocks, stop reason and usage."""

    messages = body.get("messages") or []
    user_text = ""
    words = 0
    for block in body.get("system") or []:
        if isinstance(block, dict):
            words += len(str(block.get("text", "")).split())
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        texts = _texts(msg.get("content"))
        words += sum(len(t.split()) for t in texts)
        if msg.get("role") == "user" and texts:
            user_text = " ".join(texts)
    blocks: list[dict[str, Any]] = []
    if _flag(scn, "thinking"):
        blocks.append({"type": "thinking", "thinking": "Let me think about it.", "signature": SIGNATURE})
    if _flag(scn, "redacted"):
        blocks.append({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"})
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("name") != "dummy_tool"]
    choice = body.get("tool_choice") if isinstance(body.get("tool_choice"), dict) else {}
    stop = scn.get("stop_reason") or "end_turn"
    content = "Echo: " + user_text
    if tools and choice.get("type") != "none":
        if _flag(scn, "preamble"):
            blocks.append({"type": "text", "text": "Let me check."})
        named = choice.get("name") if choice.get("type") == "tool" else None
        picked = [t for t in tools if t.get("name") == named] if named else tools[:1]
        if _flag(scn, "parallel") and not named and not choice.get("disable_parallel_tool_use"):
            picked = tools
        for i, tool in enumerate(picked):
            args: dict[str, Any] = {"arg": i, "city": "Paris"} if tool.get("name") != "json_tool_call" else {}
            if tool.get("name") == "json_tool_call":
                args = {"echo": user_text}
            if _flag(scn, "empty_args"):
                args = {}
            blocks.append({"type": "tool_use", "id": f"toolu_mock_{i}", "name": tool["name"], "input": args})
        stop = scn.get("stop_reason") or "tool_use"
    else:
        limit = body.get("max_tokens")
        words_out = content.split()
        if isinstance(limit, int) and len(words_out) > limit:
            content = " ".join(words_out[:limit])
            stop = "max_tokens"
        block: dict[str, Any] = {"type": "text", "text": content}
        if _flag(scn, "citations"):
            block["citations"] = [
                {
                    "type": "char_location",
                    "cited_text": user_text,
                    "document_index": 0,
                    "document_title": "doc",
                    "start_char_index": 0,
                    "end_char_index": len(user_text),
                }
            ]
        blocks.append(block)
    output = 0
    for b in blocks:
        if b["type"] == "text":
            output += len(tokenize(b["text"]))
        elif b["type"] == "thinking":
            output += len(b["thinking"].split())
        elif b["type"] == "tool_use":
            output += 5
    usage = {
        "input_tokens": max(words, 1),
        "cache_creation_input_tokens": _int(scn, "cache_write", 0),
        "cache_read_input_tokens": _int(scn, "cached", 0),
        "output_tokens": output,
        "service_tier": "standard",
    }
    if "cache_write" in scn:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": _int(scn, "cache_write", 0),
            "ephemeral_1h_input_tokens": 0,
        }
    details = {"explanation": "The request was declined."} if stop == "refusal" else None
    return {
        "id": _message_id(body),
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        **({"stop_details": details} if details else {}),
        "usage": usage,
    }


def stream_events(reply: dict[str, Any], scn: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The reply as Messages SSE events, split the way the real API splits them."""
    import json

    usage = reply["usage"]
    start_usage = dict(usage, output_tokens=1)
    start_usage.pop("service_tier", None)
    message = dict(reply, content=[], stop_reason=None, stop_sequence=None, usage=start_usage)
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": message})]
    events.append(("ping", {"type": "ping"}))
    for i, block in enumerate(reply["content"]):
        kind = block["type"]
        if kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in tokenize(block["text"])]
            for c in block.get("citations") or []:
                deltas.append({"type": "citations_delta", "citation": c})
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            words = tokenize(block["thinking"])
            deltas = [{"type": "thinking_delta", "thinking": w} for w in words]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "redacted_thinking":
            start, deltas = dict(block), []
        else:  # tool_use
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            args = json.dumps(block["input"]) if block["input"] else ""
            half = len(args) // 2
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in ("", args[:half], args[half:]) if p or not args
            ]
        events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": start}))
        for d in deltas:
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        if i == 0 and _flag(scn, "stream_error"):
            events.append(("error", error_body(529)))
            return events
    end_usage = {"output_tokens": usage["output_tokens"]}
    for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        end_usage[k] = usage[k]
    delta = {"stop_reason": reply["stop_reason"], "stop_sequence": None}
    if reply.get("stop_details"):
        delta["stop_details"] = reply["stop_details"]
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": end_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


async def serve(reply: Any, scn: dict[str, str], body: Any, *_: Any) -> bool:
    """Answer one ``/v1/messages`` request; returns whether the connection stays open."""
    import json

    status = None
    try:
        status = int(scn["status"]) if "status" in scn else None
    except ValueError:
        pass
    # Unique per request upstream; derived from the body here, so equal requests get equal
    # error texts (LiteLLM quotes the whole error body).
    rid = "req_" + _message_id(body if isinstance(body, dict) else {"body": body})[8:]
    reply.extra.append(("request-id", rid))
    if scn.get("error") in ("context_length", "html") or (status is not None and status >= 400):
        reply.retry_headers(scn, status or (502 if scn.get("error") == "html" else 400))
    if scn.get("error") == "context_length":
        await reply.json(status or 400, error_body(400, scn.get("message", _CONTEXT_MSG), rid))
        return reply.keep
    if scn.get("error") == "html":
        await reply.body(status or 502, b"<html><body>Bad Gateway</body></html>", "text/html")
        return reply.keep
    if status is not None and status >= 300:
        await reply.json(status, error_body(status, scn.get("message"), rid))
        return reply.keep
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        reply.retry_headers({}, 400)
        await reply.json(400, error_body(400, "messages: Field required", rid))
        return reply.keep
    if not isinstance(body.get("max_tokens"), int):
        reply.retry_headers({}, 400)
        await reply.json(400, error_body(400, "max_tokens: Field required", rid))
        return reply.keep
    out = plan(body, scn)
    if _flag(scn, "malformed_json"):
        await reply.body(200, b'{"id": "msg_x", "content": [', "application/json")
        return reply.keep
    if body.get("stream") is not True:
        await reply.json(200, out)
        return reply.keep

    await reply.sse_head()
    writer = SseWriter(reply)
    for i, (name, event) in enumerate(stream_events(out, scn)):
        if i == 4 and _flag(scn, "truncate"):
            await writer.flush()
            reply.writer.close()  # FIN without the terminating zero-length chunk
            return False
        await writer.event(f"event: {name}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
    await writer.end()
    return reply.keep
