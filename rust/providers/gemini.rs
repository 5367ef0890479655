//! Google AI Studio (Gemini): OpenAI-format requests translated to `generateContent`
//! bodies, and `GenerateContentResponse`s (whole, or the chunks of
//! `streamGenerateContent?alt=sse`) translated back into OpenAI-shaped JSON, as LiteLLM
//! 1.110.2 does (`VertexGeminiConfig.map_openai_params`, `_gemini_convert_messages_with_history`,
//! `_transform_google_generate_content_to_openai_model_response`, `_calculate_usage` and the
//! stream `ModelResponseIterator.chunk_parser`). Embeddings: `batchEmbedContents`.
//! Pure functions over `serde_json::Value`: no Python.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use super::anthropic::py_json_dumps_unicode;
use crate::errors::CoreError;

/// A request the core does not translate exactly as LiteLLM does: LiteLLM's transform builds it.
fn unsupported(msg: impl Into<String>) -> CoreError {
    CoreError::unsupported(msg.into())
}

/// What LiteLLM reads from its model map for the request mapping.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub stream: bool,
    /// `VertexGeminiConfig._supports_penalty_parameters(model)`.
    pub penalties: bool,
    /// `VertexGeminiConfig.supports_sampling_params(model)`.
    pub sampling: bool,
    /// Settings that make LiteLLM add to every body (`litellm.vertex_ai_safety_settings`, a
    /// default output budget): such calls are left to its transform.
    pub litellm_adds: bool,
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

fn text_parts(content: Option<&Value>, what: &str) -> Result<Vec<Value>, CoreError> {
    match content {
        Some(Value::String(s)) => Ok(vec![json!({"text": s})]),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| match p.get("type").and_then(Value::as_str) {
                Some("text") => Ok(json!({"text": p.get("text").cloned().unwrap_or(Value::Null)})),
                Some("image_url") => image_part(p),
                _ => Err(unsupported(format!(
                    "edgequake: {what} part not translated by the core"
                ))),
            })
            .collect(),
        Some(Value::Null) | None => Ok(Vec::new()),
        _ => Err(unsupported(format!(
            "edgequake: {what} content not translated by the core"
        ))),
    }
}

/// Data-URL images become `inline_data`; remote URLs are fetched by LiteLLM (left to it).
fn image_part(p: &Value) -> Result<Value, CoreError> {
    let iu = p.get("image_url").unwrap_or(&Value::Null);
    let url = iu
        .as_str()
        .or_else(|| iu.get("url").and_then(Value::as_str))
        .unwrap_or("");
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| unsupported("edgequake: remote images are fetched by LiteLLM"))?;
    let (meta, data) = rest
        .split_once(";base64,")
        .ok_or_else(|| unsupported("edgequake: non-base64 data URL"))?;
    if iu.get("format").is_some_and(|f| !f.is_null())
        || iu.get("detail").is_some_and(|d| !d.is_null())
    {
        return Err(unsupported(
            "edgequake: image format/detail mapped by LiteLLM",
        ));
    }
    Ok(json!({"inline_data": {"data": data, "mime_type": meta}}))
}

/// A tool result's `response` object: a JSON object string is sent parsed, other text as
/// `{"content": text}`.
fn function_response(msg: &Value, name: &Value) -> Result<Value, CoreError> {
    let text = match msg.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) if parts.len() == 1 && parts[0]["type"] == "text" => {
            parts[0]["text"].as_str().unwrap_or_default().to_owned()
        }
        _ => {
            return Err(unsupported(
                "edgequake: tool result content not translated by the core",
            ))
        }
    };
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(obj @ Value::Object(_)) => obj,
        Ok(_) => return Err(unsupported("edgequake: non-object JSON tool result")),
        Err(_) => json!({"content": text}),
    };
    Ok(json!({"function_response": {"name": name, "response": response}}))
}

/// `_gemini_convert_messages_with_history`: leading system messages -> `system_instruction`;
/// runs of user turns, of tool results, and of assistant turns each become one content.
fn convert(msgs: &[Value]) -> Result<(Vec<Value>, Vec<Value>), CoreError> {
    let lead = msgs.iter().take_while(|m| role(m) == "system").count();
    let mut system = Vec::new();
    for m in &msgs[..lead] {
        system.extend(text_parts(m.get("content"), "system")?);
    }
    let mut names: Vec<(String, Value)> = Vec::new();
    let mut contents: Vec<Value> = Vec::new();
    let rest = &msgs[lead..];
    let mut i = 0;
    while i < rest.len() {
        let r = role(&rest[i]);
        let mut parts = Vec::new();
        let gemini_role = match r {
            "user" => {
                while i < rest.len() && role(&rest[i]) == "user" {
                    parts.extend(text_parts(rest[i].get("content"), "user")?);
                    i += 1;
                }
                "user"
            }
            "tool" => {
                while i < rest.len() && role(&rest[i]) == "tool" {
                    let id = rest[i]
                        .get("tool_call_id")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let name = names
                        .iter()
                        .find(|(k, _)| k == id)
                        .map(|(_, n)| n.clone())
                        .ok_or_else(|| unsupported("edgequake: tool result without its call"))?;
                    parts.push(function_response(&rest[i], &name)?);
                    i += 1;
                }
                "user"
            }
            "assistant" => {
                while i < rest.len() && role(&rest[i]) == "assistant" {
                    let m = &rest[i];
                    if m.get("thinking_blocks").is_some_and(|t| !t.is_null())
                        || m.get("provider_specific_fields")
                            .is_some_and(|t| !t.is_null())
                    {
                        return Err(unsupported(
                            "edgequake: replayed thinking/signatures mapped by LiteLLM",
                        ));
                    }
                    match m.get("content") {
                        Some(Value::String(s)) if !s.is_empty() => parts.push(json!({"text": s})),
                        Some(Value::String(_)) | Some(Value::Null) | None => {}
                        other => parts.extend(text_parts(other, "assistant")?),
                    }
                    if let Some(Value::Array(calls)) = m.get("tool_calls") {
                        for c in calls {
                            let f = &c["function"];
                            let args = match &f["arguments"] {
                                Value::String(s) if !s.trim().is_empty() => {
                                    serde_json::from_str::<Value>(s)
                                        .ok()
                                        .filter(Value::is_object)
                                        .ok_or_else(|| {
                                            unsupported(
                                                "edgequake: tool arguments mapped by LiteLLM",
                                            )
                                        })?
                                }
                                _ => {
                                    return Err(unsupported(
                                        "edgequake: empty tool arguments mapped by LiteLLM",
                                    ))
                                }
                            };
                            let id = c.get("id").and_then(Value::as_str).unwrap_or("");
                            if id.contains("__thought__") {
                                return Err(unsupported(
                                    "edgequake: thought signatures mapped by LiteLLM",
                                ));
                            }
                            names.push((id.to_owned(), f["name"].clone()));
                            parts.push(json!({"function_call": {"name": f["name"], "args": args}}));
                        }
                    }
                    i += 1;
                }
                "model"
            }
            other => {
                return Err(unsupported(format!(
                    "edgequake: role {other:?} here is mapped by LiteLLM"
                )))
            }
        };
        if parts.is_empty() {
            return Err(unsupported("edgequake: empty turn mapped by LiteLLM"));
        }
        contents.push(json!({"role": gemini_role, "parts": parts}));
    }
    Ok((system, contents))
}

/// JSON-schema keys LiteLLM passes to Gemini unchanged; any other key (e.g.
/// `additionalProperties`, `$defs`, `anyOf`) is rewritten by LiteLLM's schema cleaning.
const PLAIN_SCHEMA_KEYS: &[&str] = &[
    "type",
    "properties",
    "required",
    "description",
    "enum",
    "items",
];

fn plain_schema(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().all(|(k, x)| match k.as_str() {
            "properties" => x.as_object().is_some_and(|p| p.values().all(plain_schema)),
            "items" => plain_schema(x),
            "type" => x.is_string() && x.as_str() != Some("null"),
            k => PLAIN_SCHEMA_KEYS.contains(&k),
        }),
        _ => false,
    }
}

fn function_declaration(tool: &Value) -> Result<Value, CoreError> {
    if tool.get("type").and_then(Value::as_str) != Some("function") {
        return Err(unsupported(
            "edgequake: non-function tools mapped by LiteLLM",
        ));
    }
    let f = &tool["function"];
    let mut d = Map::new();
    d.insert("name".into(), f["name"].clone());
    if let Some(desc) = f.get("description").filter(|v| !v.is_null()) {
        d.insert("description".into(), desc.clone());
    }
    if let Some(p) = f.get("parameters").filter(|v| !v.is_null()) {
        let empty_object = p
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|m| m.is_empty());
        if !plain_schema(p) || empty_object {
            return Err(unsupported("edgequake: tool schema cleaned by LiteLLM"));
        }
        d.insert("parameters".into(), p.clone());
    }
    Ok(Value::Object(d))
}

fn tool_config(choice: &Value) -> Result<Value, CoreError> {
    let mode = match choice {
        Value::String(s) => match s.as_str() {
            "auto" => json!({"mode": "AUTO"}),
            "none" => json!({"mode": "NONE"}),
            "required" => json!({"mode": "ANY"}),
            _ => return Err(unsupported("edgequake: tool_choice mapped by LiteLLM")),
        },
        Value::Object(o) => match o.get("function").and_then(|f| f.get("name")) {
            Some(name) => json!({"mode": "ANY", "allowed_function_names": [name]}),
            None => return Err(unsupported("edgequake: tool_choice mapped by LiteLLM")),
        },
        _ => return Err(unsupported("edgequake: tool_choice mapped by LiteLLM")),
    };
    Ok(json!({"functionCallingConfig": mode}))
}

/// OpenAI-format call -> `generateContent` body. Anything whose mapping depends on more
/// than these rules is refused as `unsupported` and built by LiteLLM's transform.
pub fn request_body(
    messages: &Value,
    params: &Map<String, Value>,
    opts: &Options,
) -> Result<Value, CoreError> {
    let msgs = messages
        .as_array()
        .ok_or_else(|| unsupported("messages must be a list"))?;
    if opts.litellm_adds {
        return Err(unsupported("edgequake: LiteLLM settings add to this body"));
    }
    let (system, contents) = convert(msgs)?;
    let mut gen = Map::new();
    let mut body = Map::new();
    let mut tools: Vec<Value> = Vec::new();
    for (k, v) in params {
        match k.as_str() {
            "temperature" | "top_p" | "top_k" if opts.sampling => {
                gen.insert(k.clone(), v.clone());
            }
            "n" => {
                gen.insert("candidate_count".into(), v.clone());
            }
            "stop" => match v {
                Value::String(s) => {
                    gen.insert("stop_sequences".into(), json!([s]));
                }
                Value::Array(_) => {
                    gen.insert("stop_sequences".into(), v.clone());
                }
                _ => {}
            },
            "max_tokens" | "max_completion_tokens" => {
                gen.insert("max_output_tokens".into(), v.clone());
            }
            "presence_penalty" | "frequency_penalty" if opts.penalties => {
                gen.insert(k.clone(), v.clone());
            }
            "seed" => {
                gen.insert("seed".into(), v.clone());
            }
            "tools" => {
                if let Value::Array(list) = v {
                    for t in list {
                        tools.push(function_declaration(t)?);
                    }
                }
            }
            "tool_choice" => {
                body.insert("toolConfig".into(), tool_config(v)?);
            }
            "stream" | "stream_options" | "extra_headers" | "max_retries" => {}
            _ => {
                return Err(unsupported(format!(
                    "edgequake: {k} is mapped by LiteLLM's transform"
                )));
            }
        }
    }
    let mut out = Map::new();
    out.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        out.insert("system_instruction".into(), json!({"parts": system}));
    }
    if !tools.is_empty() {
        out.insert("tools".into(), json!([{"function_declarations": tools}]));
    }
    for (k, v) in body {
        out.insert(k, v);
    }
    if !gen.is_empty() {
        out.insert("generationConfig".into(), Value::Object(gen));
    }
    Ok(Value::Object(out))
}

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

fn int(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
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
    let prompt = int(u.get("promptTokenCount"));
    let candidates = int(u.get("candidatesTokenCount"));
    let total = int(u.get("totalTokenCount"));
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

fn served_model(reply: &Value, model: &str) -> Value {
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
struct Parts {
    content: Option<String>,
    reasoning: Option<String>,
    calls: Vec<Value>,
    thinking: Vec<Value>,
    signatures: Vec<Value>,
}

fn read_parts(parts: &[Value], next_index: &mut i64) -> Parts {
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

fn metadata_fields(cands: &[Value], out: &mut Map<String, Value>) {
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
        "prompt_tokens": int(u.get("promptTokenCount")),
        "completion_tokens": int(u.get("candidatesTokenCount")),
        "total_tokens": int(u.get("totalTokenCount")),
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Incremental translation of `streamGenerateContent?alt=sse` chunks into OpenAI chunk dicts.
#[derive(Debug, Default)]
pub struct StreamState {
    model: String,
    id: Option<Value>,
    next_index: i64,
    seen_calls: bool,
    sent_role: bool,
}

impl StreamState {
    pub fn new(model: &str) -> Self {
        StreamState {
            model: model.to_owned(),
            ..Default::default()
        }
    }

    /// One SSE payload (a whole `GenerateContentResponse`) -> OpenAI chunk dicts: a usage-only
    /// chunk first (LiteLLM's wrapper keeps it for the stream's usage and shows it to no one),
    /// then the content chunk.
    pub fn event(&mut self, data: &str) -> Result<Vec<Value>, CoreError> {
        let ev: Value = serde_json::from_str(data)
            .map_err(|e| CoreError::decode(format!("Failed to decode JSON from chunk: {e}")))?;
        if let Some(err) = ev.get("error") {
            let status = err.get("code").and_then(Value::as_u64).unwrap_or(500) as u16;
            let mut e = CoreError::new(
                crate::errors::ErrorKind::Status,
                err.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("stream error")
                    .to_owned(),
            );
            e.status = Some(status);
            e.body = Some(ev.to_string());
            return Err(e);
        }
        if self.id.is_none() {
            self.id = ev.get("responseId").cloned();
        }
        let served = served_model(&ev, &self.model);
        let base = |choices: Value, usage: Option<Value>| {
            let mut c = json!({"object": "chat.completion.chunk", "created": now(), "model": served,
                "choices": choices});
            if let Some(id) = &self.id {
                c["id"] = id.clone();
            }
            if let Some(u) = usage {
                c["usage"] = u;
            }
            c
        };
        let mut out = Vec::new();
        if let Some(u) = ev.get("usageMetadata") {
            out.push(base(
                json!([{"index": 0, "delta": {}, "finish_reason": null}]),
                Some(usage(u)),
            ));
        }
        if ev
            .get("promptFeedback")
            .is_some_and(|f| f.get("blockReason").is_some())
        {
            out.push(base(
                json!([{"index": 0, "delta": {"role": "assistant", "content": null},
                    "finish_reason": "content_filter"}]),
                None,
            ));
            return Ok(out);
        }
        let cands = ev
            .get("candidates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Per-chunk candidate metadata, merged by LiteLLM's stream builder.
        let mut meta = Map::new();
        metadata_fields(&cands, &mut meta);
        if let Some(r) = meta.get("vertex_ai_safety_results").cloned() {
            meta.insert("vertex_ai_safety_ratings".into(), r);
        }
        for (idx, c) in cands.iter().enumerate() {
            let mut delta = Map::new();
            if let Some(parts) = c
                .get("content")
                .and_then(|x| x.get("parts"))
                .and_then(Value::as_array)
            {
                let p = read_parts(parts, &mut self.next_index);
                if let Some(t) = p.content {
                    delta.insert("content".into(), t.into());
                }
                let reasoning = p.reasoning.or_else(|| {
                    let texts: Vec<&str> = p
                        .thinking
                        .iter()
                        .filter_map(|b| b["thinking"].as_str())
                        .filter(|s| !s.is_empty())
                        .collect();
                    (!texts.is_empty()).then(|| texts.join("\n"))
                });
                if let Some(r) = reasoning {
                    delta.insert("reasoning_content".into(), r.into());
                }
                if !p.calls.is_empty() {
                    self.seen_calls = true;
                    delta.insert("tool_calls".into(), Value::Array(p.calls));
                }
                if !p.signatures.is_empty() {
                    delta.insert(
                        "provider_specific_fields".into(),
                        json!({"thought_signatures": p.signatures}),
                    );
                }
            }
            let finish = c.get("finishReason").and_then(Value::as_str).map(|r| {
                if self.seen_calls && finish_reason(r) == "stop" {
                    "tool_calls"
                } else {
                    finish_reason(r)
                }
            });
            let has_delta = !delta.is_empty();
            if has_delta && !self.sent_role {
                self.sent_role = true;
                delta.insert("role".into(), "assistant".into());
            }
            if has_delta || finish.is_some() {
                let index = c.get("index").cloned().unwrap_or(json!(idx));
                let mut chunk = base(
                    json!([{"index": index, "delta": Value::Object(delta), "finish_reason": finish}]),
                    None,
                );
                for (k, v) in &meta {
                    chunk[k.as_str()] = v.clone();
                }
                out.push(chunk);
            }
        }
        Ok(out)
    }
}

/// `batchEmbedContents` body for a list of texts.
pub fn embed_body(
    model: &str,
    input: &Value,
    params: &Map<String, Value>,
) -> Result<Value, CoreError> {
    let texts: Vec<&Value> = match input {
        Value::String(_) => vec![input],
        Value::Array(a) if a.iter().all(Value::is_string) => a.iter().collect(),
        _ => {
            return Err(CoreError::invalid(
                "gemini embeddings take a string or a list of strings",
            ))
        }
    };
    // LiteLLM's mapping (`dimensions` -> `outputDimensionality`, `task_type` -> `taskType`),
    // from the parameters or from `extra_body` (the `edgequake/` route's way to pass them).
    let mut per_request = Map::new();
    let extra = params.get("extra_body").and_then(Value::as_object);
    for (k, v) in params.iter().chain(extra.into_iter().flatten()) {
        match k.as_str() {
            "max_retries" | "extra_headers" | "extra_body" => {}
            "dimensions" => {
                per_request.insert("outputDimensionality".into(), v.clone());
            }
            "task_type" => {
                per_request.insert("taskType".into(), v.clone());
            }
            _ => {
                return Err(CoreError::invalid(format!(
                    "edgequake: embedding parameter {k:?} is not translated for gemini"
                )))
            }
        }
    }
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut r =
                json!({"model": format!("models/{model}"), "content": {"parts": [{"text": t}]}});
            for (k, v) in &per_request {
                r[k.as_str()] = v.clone();
            }
            r
        })
        .collect();
    Ok(json!({"requests": requests}))
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

    fn opts() -> Options {
        Options {
            stream: false,
            penalties: true,
            sampling: true,
            litellm_adds: false,
        }
    }

    #[test]
    fn messages_tools_and_config() {
        let msgs = json!([
            {"role": "system", "content": "S"},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ]);
        let params = json!({"max_tokens": 5, "stop": "x", "tool_choice": "required"});
        let body = request_body(&msgs, params.as_object().unwrap(), &opts()).unwrap();
        assert_eq!(body["system_instruction"]["parts"][0]["text"], "S");
        assert_eq!(body["contents"][0]["parts"].as_array().unwrap().len(), 2);
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(
            body["contents"][2]["parts"][0]["function_response"]["response"]["content"],
            "done"
        );
        assert_eq!(body["generationConfig"]["max_output_tokens"], 5);
        assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
    }

    #[test]
    fn unknown_parameters_go_to_litellm() {
        let msgs = json!([{"role": "user", "content": "a"}]);
        let params = json!({"response_format": {"type": "json_object"}});
        let err = request_body(&msgs, params.as_object().unwrap(), &opts()).unwrap_err();
        assert_eq!(err.kind, crate::errors::ErrorKind::Unsupported);
    }

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

    #[test]
    fn blocked_prompt_is_content_filter() {
        let reply = json!({"promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}});
        let out = response(&reply, "m").unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], "content_filter");
        let mut s = StreamState::new("m");
        let chunks = s.event(&reply.to_string()).unwrap();
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "content_filter"
        );
    }
}
