//! `GenerateContentResponse`s -> OpenAI `chat.completion` dicts, as LiteLLM's
//! `_transform_google_generate_content_to_openai_model_response` and `_calculate_usage` build
//! them; `batchEmbedContents` replies -> OpenAI embedding lists.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use crate::errors::CoreError;
use crate::providers::translate::{int_or_zero, now, py_json_dumps_unicode};

static CALL_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `call_<28 hex>` like LiteLLM's `uuid4().hex[:28]` (unique per process; not a UUID).
fn call_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let n = CALL_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut a = RandomState::new().build_hasher();
    a.write_u64(n);
    let mut b = RandomState::new().build_hasher();
    b.write_u64(n ^ 0x9e37_79b9_7f4a_7c15);
    let hex = format!("{:016x}{:016x}", a.finish(), b.finish());
    format!("call_{}", &hex[..28])
}

fn modality_counts(details: Option<&Value>) -> [Option<i64>; 4] {
    // text, audio, image, video (DOCUMENT counts as text)
    let mut out = [None; 4];
    if let Some(Value::Array(list)) = details {
        for d in list {
            let n = d
                .get("tokenCount")
                .or_else(|| d.get("token_count"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let slot = match d
                .get("modality")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("TEXT") | Some("DOCUMENT") => 0,
                Some("AUDIO") => 1,
                Some("IMAGE") => 2,
                Some("VIDEO") => 3,
                _ => continue,
            };
            out[slot] = Some(out[slot].unwrap_or(0) + n);
        }
    }
    out
}

/// `VertexGeminiConfig._calculate_usage` as an OpenAI usage dict.
pub fn usage(u: &Value) -> Value {
    let prompt = int_or_zero(u.get("promptTokenCount"));
    let candidates = int_or_zero(u.get("candidatesTokenCount"));
    let total = int_or_zero(u.get("totalTokenCount"));
    let tool_use = u
        .get("toolUsePromptTokenCount")
        .and_then(Value::as_i64)
        .filter(|n| *n != 0);
    let cached = u.get("cachedContentTokenCount").and_then(Value::as_i64);
    let thoughts = u.get("thoughtsTokenCount").and_then(Value::as_i64);
    let [mut p_text, p_audio, p_image, mut p_video] = modality_counts(u.get("promptTokensDetails"));
    let [c_text, c_audio, c_image, c_video] = modality_counts(u.get("cacheTokensDetails"));
    if let (Some(c), Some(t)) = (cached, p_text) {
        if c_text.is_none() && u.get("cacheTokensDetails").is_none() {
            p_text = Some(t - c);
        }
    }
    if let (Some(cv), Some(pv)) = (c_video, p_video) {
        p_video = Some(pv - cv);
    }
    let billable_tool_use = tool_use.unwrap_or(0);
    let mut details = Map::new();
    details.insert("cached_tokens".into(), json!(cached));
    let cached_details: Map<String, Value> = [
        ("text_tokens", c_text),
        ("audio_tokens", c_audio),
        ("image_tokens", c_image),
    ]
    .iter()
    .filter(|(_, v)| v.is_some())
    .map(|(k, v)| ((*k).to_owned(), json!(v)))
    .collect();
    if !cached_details.is_empty() {
        let mut full = json!({"text_tokens": null, "audio_tokens": null, "image_tokens": null});
        for (k, v) in cached_details {
            full[k] = v;
        }
        details.insert("cached_tokens_details".into(), full);
    }
    details.insert("audio_tokens".into(), json!(p_audio));
    details.insert(
        "text_tokens".into(),
        json!(p_text.map(|t| t + billable_tool_use)),
    );
    details.insert("image_tokens".into(), json!(p_image));
    details.insert("video_tokens".into(), json!(p_video));
    details.insert("initial_prompt_tokens".into(), Value::Null);
    if let Some(t) = tool_use {
        details.insert("tool_use_tokens".into(), json!(t));
    }
    let [d_text, d_audio, d_image, d_video] = modality_counts(u.get("candidatesTokensDetails"));
    let mut completion_details = Map::new();
    if u.get("candidatesTokensDetails").is_some() || candidates > 0 || thoughts.is_some() {
        let text = d_text.or_else(|| {
            (candidates > 0).then(|| {
                candidates - d_image.unwrap_or(0) - d_audio.unwrap_or(0) - d_video.unwrap_or(0)
            })
        });
        if let Some(t) = text {
            completion_details.insert("text_tokens".into(), json!(t));
        }
        for (k, v) in [
            ("audio_tokens", d_audio),
            ("image_tokens", d_image),
            ("video_tokens", d_video),
        ] {
            if let Some(v) = v {
                completion_details.insert(k.into(), json!(v));
            }
        }
        if let Some(r) = thoughts {
            completion_details.insert("reasoning_tokens".into(), json!(r));
        }
    }
    let inclusive = prompt + candidates + tool_use.unwrap_or(0) == total;
    let completion = match thoughts {
        Some(r) if r != 0 && !inclusive => candidates + r,
        _ => candidates,
    };
    let mut out = Map::new();
    out.insert("prompt_tokens".into(), json!(prompt + billable_tool_use));
    out.insert("completion_tokens".into(), json!(completion));
    out.insert("total_tokens".into(), json!(total));
    out.insert("prompt_tokens_details".into(), Value::Object(details));
    if !completion_details.is_empty() {
        out.insert(
            "completion_tokens_details".into(),
            Value::Object(completion_details),
        );
    }
    out.insert("cache_read_input_tokens".into(), json!(cached));
    out.insert("cache_creation_input_tokens".into(), Value::Null);
    Value::Object(out)
}

/// Finish reasons LiteLLM treats as a content-policy stop (`get_flagged_finish_reasons`).
const FLAGGED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
];

/// `map_finish_reason` for Gemini's reasons.
pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" | "CONTINUATION" => "length",
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "OTHER"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT" => "content_filter",
        "MALFORMED_FUNCTION_CALL" => "stop",
        _ => "stop",
    }
}

pub(super) fn served_model(reply: &Value, model: &str) -> Value {
    match reply
        .get("modelVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(v) => v.split('@').next().unwrap_or(v).into(),
        None => model.into(),
    }
}

/// One candidate's message parts: (content, reasoning, tool calls, thinking blocks, signatures).
pub(super) struct Parts {
    pub(super) content: Option<String>,
    pub(super) reasoning: Option<String>,
    pub(super) calls: Vec<Value>,
    pub(super) thinking: Vec<Value>,
    pub(super) signatures: Vec<Value>,
}

pub(super) fn read_parts(parts: &[Value], next_index: &mut i64) -> Parts {
    let mut p = Parts {
        content: None,
        reasoning: None,
        calls: Vec::new(),
        thinking: Vec::new(),
        signatures: Vec::new(),
    };
    for part in parts {
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            if !t.is_empty() {
                let slot = if part.get("thought") == Some(&Value::Bool(true)) {
                    &mut p.reasoning
                } else {
                    &mut p.content
                };
                slot.get_or_insert_with(String::new).push_str(t);
            }
        }
        if part.get("thought") == Some(&Value::Bool(true)) {
            let mut b = json!({"type": "thinking", "thinking": part.get("text").cloned().unwrap_or_else(|| "".into())});
            if let Some(s) = part.get("thoughtSignature") {
                b["signature"] = s.clone();
            }
            p.thinking.push(b);
        }
        if let Some(s) = part.get("thoughtSignature") {
            p.signatures.push(s.clone());
        }
        if let Some(fc) = part.get("functionCall") {
            let args = py_json_dumps_unicode(fc.get("args").unwrap_or(&Value::Null));
            let sig = part.get("thoughtSignature").and_then(Value::as_str);
            let mut id = fc
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(call_id);
            let mut call = json!({"type": "function", "function": {"name": fc.get("name"), "arguments": args},
                "index": *next_index});
            if let Some(s) = sig {
                call["provider_specific_fields"] = json!({"thought_signature": s});
                id = format!("{id}__thought__{s}");
            }
            call["id"] = id.into();
            p.calls.push(call);
            *next_index += 1;
        }
    }
    p
}

pub(super) fn metadata_fields(cands: &[Value], out: &mut Map<String, Value>) {
    let mut grounding = Vec::new();
    let mut url_ctx = Vec::new();
    let mut safety = Vec::new();
    let mut citations = Vec::new();
    for c in cands {
        match c.get("groundingMetadata") {
            Some(Value::Array(a)) => grounding.extend(a.iter().cloned()),
            Some(v) => grounding.push(v.clone()),
            None => {}
        }
        if let Some(r) = c.get("safetyRatings") {
            safety.push(r.clone());
        }
        if let Some(v) = c.get("citationMetadata") {
            citations.push(v.clone());
        }
        if let Some(v) = c.get("urlContextMetadata") {
            url_ctx.push(v.clone());
        }
    }
    out.insert(
        "vertex_ai_grounding_metadata".into(),
        Value::Array(grounding),
    );
    out.insert(
        "vertex_ai_url_context_metadata".into(),
        Value::Array(url_ctx),
    );
    out.insert("vertex_ai_safety_results".into(), Value::Array(safety));
    out.insert(
        "vertex_ai_citation_metadata".into(),
        Value::Array(citations),
    );
}

fn simple_usage(u: &Value) -> Value {
    json!({
        "prompt_tokens": int_or_zero(u.get("promptTokenCount")),
        "completion_tokens": int_or_zero(u.get("candidatesTokenCount")),
        "total_tokens": int_or_zero(u.get("totalTokenCount")),
    })
}

/// A `generateContent` reply -> an OpenAI `chat.completion` dict.
pub fn response(reply: &Value, model: &str) -> Result<Value, CoreError> {
    let served = served_model(reply, model);
    let u = reply.get("usageMetadata").cloned().unwrap_or(Value::Null);
    let blocked_prompt = reply
        .get("promptFeedback")
        .is_some_and(|f| f.get("blockReason").is_some());
    let cands = reply
        .get("candidates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let flagged = cands
        .first()
        .and_then(|c| c.get("finishReason"))
        .and_then(Value::as_str)
        .is_some_and(|r| FLAGGED.contains(&r));
    if blocked_prompt || flagged {
        return Ok(json!({
            "object": "chat.completion",
            "created": now(),
            "model": served,
            "choices": [{"index": 0, "finish_reason": "content_filter",
                "message": {"role": "assistant", "content": null}}],
            "usage": simple_usage(&u),
        }));
    }
    if u.is_null() {
        return Err(CoreError::decode(format!(
            "usageMetadata not found in completion_response. Got={reply}"
        )));
    }
    let mut out = Map::new();
    if let Some(id) = reply
        .get("responseId")
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    {
        out.insert("id".into(), id.clone());
    }
    out.insert("object".into(), "chat.completion".into());
    out.insert("created".into(), now().into());
    out.insert("model".into(), served);
    let mut choices = Vec::new();
    let mut next_index = 0;
    for (idx, c) in cands.iter().enumerate() {
        if c.get("content").is_none() && c.get("finishReason").is_none() {
            continue;
        }
        let mut message = Map::new();
        message.insert("role".into(), "assistant".into());
        // LiteLLM's Gemini path always builds its message with an image list.
        message.insert("images".into(), json!([]));
        let mut has_calls = false;
        if let Some(parts) = c
            .get("content")
            .and_then(|x| x.get("parts"))
            .and_then(Value::as_array)
        {
            let p = read_parts(parts, &mut next_index);
            if let Some(t) = p.content {
                message.insert("content".into(), t.into());
            }
            if let Some(r) = p.reasoning {
                message.insert("reasoning_content".into(), r.into());
            }
            if !p.calls.is_empty() {
                has_calls = true;
                message.insert("tool_calls".into(), Value::Array(p.calls));
            }
            message.insert("thinking_blocks".into(), Value::Array(p.thinking));
            if !p.signatures.is_empty() {
                message.insert(
                    "provider_specific_fields".into(),
                    json!({"thought_signatures": p.signatures}),
                );
            }
        }
        let native = c.get("finishReason").cloned().unwrap_or(Value::Null);
        let finish = if has_calls {
            "tool_calls"
        } else {
            native.as_str().map(finish_reason).unwrap_or("stop")
        };
        let mut choice = json!({"index": c.get("index").cloned().unwrap_or(json!(idx)),
            "finish_reason": finish, "message": Value::Object(message)});
        if !native.is_null() {
            choice["native_finish_reason"] = native;
        }
        choices.push(choice);
    }
    out.insert("choices".into(), Value::Array(choices));
    out.insert("usage".into(), usage(&u));
    metadata_fields(&cands, &mut out);
    Ok(Value::Object(out))
}

/// `batchEmbedContents` reply -> an OpenAI embedding list.
pub fn embed_response(reply: &Value, model: &str) -> Result<Value, CoreError> {
    let list = reply
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| CoreError::decode("Gemini embedding reply without embeddings"))?;
    let data: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"object": "embedding", "index": i, "embedding": e.get("values").cloned().unwrap_or(json!([]))}))
        .collect();
    Ok(json!({"object": "list", "data": data, "model": model}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_with_thoughts_and_call() {
        let reply = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "hmm", "thought": true},
            {"functionCall": {"name": "f", "args": {"a": "é"}}, "thoughtSignature": "SIG"}]},
            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 5, "totalTokenCount": 16,
                "thoughtsTokenCount": 7},
            "modelVersion": "gemini-x", "responseId": "r1"});
        let out = response(&reply, "m").unwrap();
        let msg = &out["choices"][0]["message"];
        assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(msg["reasoning_content"], "hmm");
        assert_eq!(
            msg["tool_calls"][0]["function"]["arguments"],
            "{\"a\": \"é\"}"
        );
        assert!(msg["tool_calls"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("__thought__SIG"));
        assert_eq!(out["usage"]["completion_tokens"], 12);
    }
}
