"""The Google AI Studio (Gemini) wire format for the mock upstream:
``POST .../models/<model>:generateContent``, ``:streamGenerateContent?alt=sse`` and
``:batchEmbedContents``.

Replies are shaped like the real API's (``candidates`` with ``content.parts``, ``functionCall``
parts, ``thought`` parts with ``thoughtSignature``, ``usageMetadata`` with thoughts and cached
tokens and per-modality details, ``modelVersion``/``responseId``, safety ratings and blocks),
deterministic in the request. Streams send each chunk as a full ``GenerateContentResponse``.

Scenario keys: ``status``/``message``/``retry_after`` (errors in Google's
``{"error": {"code", "message", "status"}}`` shape), ``error=context_length``, ``thinking``,
``cached=N``, ``finish=X`` (a ``finishReason``), ``blocked`` (prompt blocked by safety: no
candidates), ``safety`` (candidate stopped by safety, no content), ``parallel``,
``malformed_json``, ``stream_error`` (an error object as the second stream chunk).
"""

from __future__ import annotations

from ..mock_upstream import DEFAULT_EMBED_DIM, SseWriter, _flag, _int, embedding, tokenize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_CONTEXT_MSG = "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
SIGNATURE = "CiQB0e2Kb3mockThoughtSignature=="
_RATINGS = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
]


def auth_error() -> tuple[int, dict[str, Any]]:
    """The status and body the Gemini API answers a missing or wrong key with."""
    return (400, error_body(400, "API key not valid. Please pass a valid API key."))


def error_body(status: int, message: str | None = None, retry_delay: str | None = None) -> dict[str, Any]:
    """Google's error object; a 429 carries ``google.rpc`` details naming the quota and the
    delay to wait (``RetryInfo``), as the Gemini API sends them."""
    err: dict[str, Any] = {
        "code": status,
        "message": message or f"mock error {status}",
        "status": _STATUS.get(status, "UNKNOWN"),
    }
    if status == 429:
        err["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": "gemini-2.0-flash"},
                        "quotaValue": "15",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay or "37s"},
        ]
    return {"error": err}


def _texts(parts: object) -> list[str]:
    if not isinstance(parts, list):
        return []
    return [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]


def _response_id(body: dict[str, Any]) -> str:
    import hashlib
    import json

    return "mock" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20]


def plan(model: str, body: dict[str, Any], scn: dict[str, str]) -> dict[str, Any]:
    """The ``GenerateContentResponse`` for a request."""

    words = 0
    user_text = ""
    system = body.get("system_instruction") or body.get("systemInstruction") or {}
    words += sum(len(t.split()) for t in _texts(system.get("parts")))
    for content in body.get("contents") or []:
        if not isinstance(content, dict):
            continue
        texts = _texts(content.get("parts"))
        words += sum(len(t.split()) for t in texts)
        if content.get("role") == "user" and texts:
            user_text = " ".join(texts)
    prompt = max(words, 1)
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "totalTokenCount": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    rid = _response_id(body)
    if _flag(scn, "blocked"):
        return {
            "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": _RATINGS},
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": rid,
        }
    parts: list[dict[str, Any]] = []
    thoughts = 0
    if _flag(scn, "thinking"):
        parts.append({"text": "Let me think about it.", "thought": True})
        thoughts = 7
    config = body.get("generationConfig") or {}
    tools = [
        d
        for t in body.get("tools") or []
        if isinstance(t, dict)
        for d in t.get("functionDeclarations") or t.get("function_declarations") or []
    ]
    mode = ((body.get("toolConfig") or body.get("tool_config") or {}).get("functionCallingConfig") or {}).get("mode")
    finish = scn.get("finish") or "STOP"
    output = 0
    if tools and mode != "NONE":
        picked = tools if _flag(scn, "parallel") else tools[:1]
        allowed = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("allowedFunctionNames")
        if allowed:
            picked = [t for t in tools if t.get("name") in allowed][:1]
        for i, tool in enumerate(picked):
            part: dict[str, Any] = {"functionCall": {"name": tool["name"], "args": {"arg": i, "city": "Paris"}}}
            if i == 0 and _flag(scn, "thinking"):
                part["thoughtSignature"] = SIGNATURE
            parts.append(part)
            output += 5
    elif _flag(scn, "safety"):
        finish = "SAFETY"
    else:
        if config.get("responseMimeType") == "application/json":
            import json

            text = json.dumps({"echo": user_text})
        else:
            text = "Echo: " + user_text
        limit = config.get("maxOutputTokens")
        if isinstance(limit, int) and len(text.split()) > limit:
            text = " ".join(text.split()[:limit])
            finish = "MAX_TOKENS"
        parts.append({"text": text})
        output = len(tokenize(text))
    candidate: dict[str, Any] = {"finishReason": finish, "index": 0, "safetyRatings": _RATINGS}
    if parts:
        candidate = {"content": {"parts": parts, "role": "model"}, **candidate}
    if finish == "SAFETY":
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
    usage["candidatesTokenCount"] = output
    usage["totalTokenCount"] = prompt + output + thoughts
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    cached = _int(scn, "cached", 0)
    if cached:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": rid}


def stream_chunks(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply as the full-response chunks ``streamGenerateContent`` sends."""

    candidates = reply.get("candidates")
    if not candidates:
        return [reply]
    cand = candidates[0]
    base = {"modelVersion": reply["modelVersion"], "responseId": reply["responseId"]}
    usage = reply["usageMetadata"]
    partial_usage = {k: v for k, v in usage.items() if k in ("promptTokenCount", "promptTokensDetails")}
    partial_usage["totalTokenCount"] = usage["promptTokenCount"]
    chunks: list[dict[str, Any]] = []
    parts = (cand.get("content") or {}).get("parts") or []
    pieces: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part and not part.get("thought"):
            pieces.extend({"text": t} for t in tokenize(part["text"]))
        else:
            pieces.append(part)
    for piece in pieces[:-1]:
        content = {"parts": [piece], "role": "model"}
        chunks.append({"candidates": [{"content": content, "index": 0}], "usageMetadata": partial_usage, **base})
    last: dict[str, Any] = {"finishReason": cand["finishReason"], "index": 0, "safetyRatings": cand["safetyRatings"]}
    if pieces:
        last = {"content": {"parts": [pieces[-1]], "role": "model"}, **last}
    chunks.append({"candidates": [last], "usageMetadata": usage, **base})
    return chunks


def embed(body: dict[str, Any]) -> dict[str, Any]:

    out = []
    for req in body.get("requests") or []:
        text = " ".join(_texts((req.get("content") or {}).get("parts")))
        dim = req.get("outputDimensionality") or req.get("output_dimensionality") or DEFAULT_EMBED_DIM
        out.append({"values": embedding(text, int(dim), False)})
    return {"embeddings": out}


async def serve(reply: Any, scn: dict[str, str], body: Any, model: str, method: str, query: dict[str, str]) -> bool:
    """Answer one ``models/<model>:<method>`` request; returns whether the connection stays open."""
    import json

    status = None
    try:
        status = int(scn["status"]) if "status" in scn else None
    except ValueError:
        pass
    if scn.get("retry_after") is not None:
        reply.extra.append(("retry-after", scn["retry_after"]))
    if scn.get("error") == "context_length":
        await reply.json(status or 400, error_body(400, scn.get("message", _CONTEXT_MSG)))
        return reply.keep
    if status is not None and status >= 300:
        delay = f"{scn['retry_after']}s" if scn.get("retry_after") is not None else None
        await reply.json(status, error_body(status, scn.get("message"), delay))
        return reply.keep
    if not isinstance(body, dict):
        await reply.json(400, error_body(400, "Invalid JSON payload received."))
        return reply.keep
    if _flag(scn, "malformed_json"):
        await reply.body(200, b'{"candidates": [', "application/json")
        return reply.keep
    if method == "batchEmbedContents":
        await reply.json(200, embed(body))
        return reply.keep
    if method not in ("generateContent", "streamGenerateContent"):
        await reply.json(404, error_body(404, f"Method {method} not found."))
        return reply.keep
    if not isinstance(body.get("contents"), list):
        await reply.json(400, error_body(400, "* GenerateContentRequest.contents: contents is not specified"))
        return reply.keep
    out = plan(model, body, scn)
    if method == "generateContent":
        await reply.json(200, out)
        return reply.keep
    if query.get("alt") != "sse":
        await reply.json(200, stream_chunks(out))  # a JSON array without alt=sse
        return reply.keep

    await reply.sse_head()
    writer = SseWriter(reply)
    for i, chunk in enumerate(stream_chunks(out)):
        if i == 1 and _flag(scn, "stream_error"):
            # Google sends some failures as an error object inside a 200 stream.
            chunk = error_body(429, "Resource has been exhausted (e.g. check quota).")
        await writer.event(f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n".encode())
        if i == 1 and _flag(scn, "stream_error"):
            break
    await writer.end()
    return reply.keep
