//! The Anthropic Messages API: OpenAI-format requests translated to `/v1/messages` bodies,
//! and Messages replies / SSE events translated back into OpenAI-shaped JSON, as LiteLLM
//! 1.110.2 translates them (`AnthropicConfig.map_openai_params` + `transform_request`,
//! `anthropic_messages_pt`, `transform_parsed_response`, `calculate_usage` and the stream
//! `ModelResponseIterator.chunk_parser`). Pure functions over `serde_json::Value`: no Python.

use serde_json::{json, Map, Value};

use crate::errors::CoreError;

/// The `anthropic-version` header LiteLLM sends.
pub const API_VERSION: &str = "2023-06-01";
/// The tool LiteLLM adds when `response_format` is emulated with a forced tool call.
pub const JSON_TOOL: &str = "json_tool_call";

/// What the caller knows that the body alone does not say (model capabilities and
/// settings LiteLLM reads from its model map and `litellm_params`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `max_tokens` when the caller sets none: the model's max output tokens.
    pub default_max_tokens: u64,
    pub stream: bool,
    /// `litellm_params["metadata"]["user_id"]`, sent as `metadata.user_id`.
    pub metadata_user_id: Option<String>,
    /// Model-map capabilities that change LiteLLM's mapping (adaptive thinking, no sampling
    /// parameters, no forced tool use): requests they affect are left to LiteLLM.
    pub adaptive_thinking: bool,
    pub no_sampling_params: bool,
    pub no_forced_tool_use: bool,
}

/// Every request the core cannot translate exactly as LiteLLM does is handed back to
/// LiteLLM's transform (which raises its own errors for bad input).
fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::unsupported(msg.into())
}

/// Anthropic accepts tool ids matching `^[a-zA-Z0-9_-]+$`; LiteLLM replaces the rest with `_`.
fn sanitize_tool_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `cache_control` is copied onto the translated block when the source carries a dict.
fn copy_cache_control(from: &Value, to: &mut Map<String, Value>) {
    if let Some(cc @ Value::Object(_)) = from.get("cache_control") {
        to.insert("cache_control".into(), cc.clone());
    }
}

/// An OpenAI image part (`image_url`: a string or `{url, format}`) as an Anthropic block.
fn image_block(part: &Value) -> Result<Value, CoreError> {
    let iu = part.get("image_url").unwrap_or(&Value::Null);
    let url = iu
        .as_str()
        .or_else(|| iu.get("url").and_then(Value::as_str))
        .unwrap_or("");
    let format = iu.get("format").and_then(Value::as_str);
    if url.starts_with("https://") {
        return Ok(json!({"type": "image", "source": {"type": "url", "url": url}}));
    }
    if url.starts_with("http://") {
        // LiteLLM downloads plain-http images and inlines them; the core does not fetch.
        return Err(invalid(
            "edgequake: http:// image URLs are not fetched by the core (use https:// or a data URL)",
        ));
    }
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| invalid(format!("Unsupported image URL: {url:.40}")))?;
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| invalid("Invalid data URL: no comma"))?;
    let media_type = format
        .map(str::to_owned)
        .unwrap_or_else(|| meta.split(';').next().unwrap_or("").to_owned());
    if media_type == "application/pdf" {
        return Ok(json!({"type": "document", "source":
            {"type": "base64", "media_type": "application/pdf", "data": data}}));
    }
    Ok(json!({"type": "image", "source":
        {"type": "base64", "media_type": media_type, "data": data}}))
}

fn text_block(text: &str, src: &Value) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), "text".into());
    m.insert("text".into(), text.into());
    copy_cache_control(src, &mut m);
    Value::Object(m)
}

/// The placeholder LiteLLM writes for empty user/assistant text (Anthropic rejects empty
/// text blocks).
const EMPTY_TEXT: &str = ".";

fn user_blocks(msg: &Value, out: &mut Vec<Value>) -> Result<(), CoreError> {
    match msg.get("content") {
        Some(Value::String(s)) if !s.is_empty() => out.push(text_block(s, msg)),
        Some(Value::Array(parts)) if !parts.is_empty() => {
            for p in parts {
                let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
                match ty {
                    "text" => {
                        let t = p.get("text").and_then(Value::as_str).unwrap_or("");
                        let t = if t.is_empty() { EMPTY_TEXT } else { t };
                        out.push(text_block(t, p));
                    }
                    "image_url" => {
                        let mut b = image_block(p)?;
                        if let Value::Object(m) = &mut b {
                            copy_cache_control(p, m);
                        }
                        out.push(b);
                    }
                    "document" => out.push(p.clone()),
                    other => {
                        return Err(invalid(format!(
                            "edgequake: content part type {other:?} is not translated by the core"
                        )))
                    }
                }
            }
        }
        _ => out.push(json!({"type": "text", "text": EMPTY_TEXT})),
    }
    Ok(())
}

fn tool_result_block(msg: &Value) -> Result<Value, CoreError> {
    let content = match msg.get("content") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let mut m = Map::new();
                        m.insert("type".into(), "text".into());
                        m.insert("text".into(), p.get("text").cloned().unwrap_or(Value::Null));
                        if let Some(cc) = p.get("cache_control").filter(|v| !v.is_null()) {
                            m.insert("cache_control".into(), cc.clone());
                        }
                        out.push(Value::Object(m));
                    }
                    Some("image_url") => {
                        let mut b = image_block(p)?;
                        if let Value::Object(m) = &mut b {
                            copy_cache_control(p, m);
                        }
                        out.push(b);
                    }
                    _ => {
                        return Err(invalid(
                            "edgequake: tool result part not translated by the core",
                        ))
                    }
                }
            }
            Value::Array(out)
        }
        _ => Value::String(String::new()),
    };
    let id = msg
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("edgequake: tool message without tool_call_id"))?;
    let mut m = Map::new();
    m.insert("type".into(), "tool_result".into());
    m.insert("tool_use_id".into(), sanitize_tool_id(id).into());
    m.insert("content".into(), content);
    if let Some(cc) = msg.get("cache_control").filter(|v| !v.is_null()) {
        m.insert("cache_control".into(), cc.clone());
    }
    Ok(Value::Object(m))
}

/// Tool-call arguments as the JSON object Anthropic expects (`{}` for empty arguments).
fn tool_input(args: &Value) -> Result<Value, CoreError> {
    match args {
        Value::String(s) if s.trim().is_empty() => Ok(json!({})),
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| invalid(format!("tool call arguments are not JSON: {e}"))),
        Value::Null => Ok(json!({})),
        other => Ok(other.clone()),
    }
}

fn assistant_blocks(msg: &Value, out: &mut Vec<Value>) -> Result<(), CoreError> {
    let content = msg.get("content");
    if !matches!(content, Some(Value::Array(_))) {
        if let Some(Value::Array(tb)) = msg.get("thinking_blocks") {
            for b in tb {
                let mut b = b.clone();
                if let Value::Object(m) = &mut b {
                    // Stream indices are LiteLLM's bookkeeping, not part of the block.
                    m.remove("index");
                }
                out.push(b);
            }
        }
    }
    match content {
        Some(Value::String(s)) if !s.is_empty() => out.push(text_block(s, msg)),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let t = p.get("text").and_then(Value::as_str).unwrap_or("");
                        if !t.is_empty() {
                            out.push(text_block(t, p));
                        }
                    }
                    Some("thinking") | Some("redacted_thinking") => out.push(p.clone()),
                    _ => {
                        return Err(invalid(
                            "edgequake: assistant content part not translated by the core",
                        ))
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(Value::Array(calls)) = msg.get("tool_calls") {
        for c in calls {
            if c.get("type").and_then(Value::as_str) != Some("function") {
                continue;
            }
            let id = c.get("id").and_then(Value::as_str).unwrap_or("");
            let id = sanitize_tool_id(id);
            if out
                .iter()
                .any(|b| b.get("id").and_then(Value::as_str) == Some(id.as_str()))
            {
                continue; // "tool_use ids must be unique"
            }
            let f = c.get("function").unwrap_or(&Value::Null);
            let mut m = Map::new();
            m.insert("type".into(), "tool_use".into());
            m.insert("id".into(), id.into());
            m.insert("name".into(), f.get("name").cloned().unwrap_or(Value::Null));
            m.insert(
                "input".into(),
                tool_input(f.get("arguments").unwrap_or(&Value::Null))?,
            );
            copy_cache_control(c, &mut m);
            out.push(Value::Object(m));
        }
    }
    Ok(())
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

/// The leading run of system messages as Anthropic's `system` blocks.
fn system_blocks(msgs: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in msgs {
        match m.get("content") {
            Some(Value::String(s)) if !s.is_empty() => out.push(text_block(s, m)),
            Some(Value::Array(parts)) => {
                for p in parts {
                    let t = p.get("text").and_then(Value::as_str);
                    if p.get("type").and_then(Value::as_str) == Some("text")
                        && t.is_none_or(str::is_empty)
                    {
                        continue;
                    }
                    let mut b = Map::new();
                    b.insert("type".into(), p.get("type").cloned().unwrap_or(Value::Null));
                    b.insert("text".into(), t.map(Value::from).unwrap_or(Value::Null));
                    if let Some(cc) = p.get("cache_control") {
                        b.insert("cache_control".into(), cc.clone());
                    }
                    out.push(Value::Object(b));
                }
            }
            _ => {}
        }
    }
    out
}

/// `anthropic_messages_pt`: consecutive user/tool turns and consecutive assistant turns
/// merged (Anthropic requires alternation), the last assistant text right-trimmed.
fn convert_messages(msgs: &[Value]) -> Result<Vec<Value>, CoreError> {
    let mut out: Vec<Value> = Vec::new();
    let mut i = 0;
    if msgs.is_empty() {
        return Err(invalid(
            "Anthropic requires at least one non-system message.",
        ));
    }
    while i < msgs.len() {
        let start = i;
        let mut user = Vec::new();
        while i < msgs.len() && matches!(role(&msgs[i]), "user" | "tool" | "function") {
            if role(&msgs[i]) == "user" {
                user_blocks(&msgs[i], &mut user)?;
            } else {
                user.push(tool_result_block(&msgs[i])?);
            }
            i += 1;
        }
        if !user.is_empty() {
            out.push(json!({"role": "user", "content": user}));
        }
        let mut asst = Vec::new();
        while i < msgs.len() && role(&msgs[i]) == "assistant" {
            assistant_blocks(&msgs[i], &mut asst)?;
            i += 1;
        }
        if !asst.is_empty() {
            out.push(json!({"role": "assistant", "content": asst}));
        }
        if i == start {
            return Err(invalid(format!(
                "edgequake: message role {:?} after the leading system messages is not translated by the core",
                role(&msgs[i])
            )));
        }
    }
    if let Some(last) = out.last_mut() {
        if last["role"] == "assistant" {
            if let Some(Value::Array(blocks)) = last.get_mut("content") {
                for b in blocks {
                    if b["type"] == "text" {
                        if let Some(t) = b["text"].as_str() {
                            b["text"] = t.trim_end().into();
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn map_tool(tool: &Value) -> Result<Value, CoreError> {
    let ty = tool.get("type").and_then(Value::as_str).unwrap_or("");
    if ty != "function" {
        return Err(invalid(format!(
            "edgequake: tool type {ty:?} is not translated by the core"
        )));
    }
    let f = tool.get("function").unwrap_or(&Value::Null);
    let schema = f
        .get("parameters")
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    let mut m = Map::new();
    m.insert("name".into(), f.get("name").cloned().unwrap_or(Value::Null));
    m.insert("input_schema".into(), schema);
    m.insert("type".into(), "custom".into());
    if let Some(d) = f.get("description").filter(|v| !v.is_null()) {
        m.insert("description".into(), d.clone());
    }
    if let Some(cc) = tool.get("cache_control").filter(|v| !v.is_null()) {
        m.insert("cache_control".into(), cc.clone());
    } else if let Some(cc @ Value::Object(_)) = f.get("cache_control") {
        m.insert("cache_control".into(), cc.clone());
    }
    Ok(Value::Object(m))
}

fn map_tool_choice(choice: Option<&Value>, parallel: Option<bool>) -> Option<Value> {
    let mut tc: Option<Map<String, Value>> = match choice {
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "required" => Some(json!({"type": "any"})),
            "none" => Some(json!({"type": "none"})),
            _ => None,
        },
        Some(Value::Object(o)) if o.contains_key("type") && !o.contains_key("function") => {
            match o.get("type").and_then(Value::as_str) {
                Some("auto") => Some(json!({"type": "auto"})),
                Some("required") | Some("any") => Some(json!({"type": "any"})),
                Some("none") => Some(json!({"type": "none"})),
                _ => None,
            }
        }
        Some(Value::Object(o)) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .filter(|n| !n.is_null())
            .map(|n| json!({"type": "tool", "name": n})),
        _ => None,
    }
    .and_then(|v| v.as_object().cloned());
    if let Some(p) = parallel {
        if choice.and_then(Value::as_str) != Some("none") {
            tc.get_or_insert_with(|| {
                let mut m = Map::new();
                m.insert("type".into(), "auto".into());
                m
            })
            .insert("disable_parallel_tool_use".into(), (!p).into());
        }
    }
    tc.map(Value::Object)
}

fn map_stop(stop: &Value) -> Option<Value> {
    match stop {
        Value::String(s) => Some(json!([s])),
        Value::Array(a) if !a.is_empty() => Some(Value::Array(a.clone())),
        _ => None,
    }
}

fn thinking_for_effort(effort: &str) -> Result<Option<Value>, CoreError> {
    let budget = match effort {
        "none" => return Ok(None),
        "minimal" => 1024,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        "xhigh" => 8192,
        "max" => 16384,
        other => {
            return Err(invalid(format!(
                "Unmapped reasoning effort: {other:?}. Must be one of: 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', 'none'."
            )))
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

/// Parameters LiteLLM maps in ways that depend on the model map or on features the core
/// does not translate (hosted tools, native structured output, adaptive thinking, ...).
fn left_to_litellm(params: &Map<String, Value>, opts: &Options) -> Result<(), CoreError> {
    for k in [
        "response_format",
        "web_search_options",
        "context_management",
        "speed",
        "service_tier",
    ] {
        if params.get(k).is_some_and(|v| !v.is_null()) {
            return Err(invalid(format!(
                "edgequake: {k} is mapped by LiteLLM's transform"
            )));
        }
    }
    let thinking = params.contains_key("thinking") || params.contains_key("reasoning_effort");
    let has_max = params.contains_key("max_tokens") || params.contains_key("max_completion_tokens");
    if thinking && (opts.adaptive_thinking || !has_max) {
        // Adaptive models get `output_config`; without max_tokens LiteLLM derives it from the budget.
        return Err(invalid("edgequake: thinking mapped by LiteLLM's transform"));
    }
    if opts.no_sampling_params
        && ["temperature", "top_p", "top_k"]
            .iter()
            .any(|k| params.contains_key(*k))
    {
        return Err(invalid("edgequake: sampling parameters checked by LiteLLM"));
    }
    let forced = matches!(
        params.get("tool_choice"),
        Some(Value::String(s)) if s == "required"
    ) || params.get("tool_choice").is_some_and(Value::is_object);
    if opts.no_forced_tool_use && forced {
        return Err(invalid("edgequake: forced tool use checked by LiteLLM"));
    }
    Ok(())
}

/// OpenAI-format call -> Messages API body. `params` are the call's optional parameters
/// as LiteLLM hands them over; parameters with no Anthropic meaning are refused by the
/// caller's parameter check before this runs, provider-specific ones (`top_k`, ...) pass
/// through at top level as in LiteLLM.
pub fn request_body(
    model: &str,
    messages: &Value,
    params: &Map<String, Value>,
    opts: &Options,
) -> Result<Value, CoreError> {
    let msgs = messages
        .as_array()
        .ok_or_else(|| invalid("messages must be a list"))?;
    left_to_litellm(params, opts)?;
    let lead = msgs.iter().take_while(|m| role(m) == "system").count();
    let system = system_blocks(&msgs[..lead]);
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    let converted = convert_messages(&msgs[lead..])?;
    let mut tools: Vec<Value> = Vec::new();
    let mut has_tools_param = false;
    let mut extra_body: Option<&Map<String, Value>> = None;
    for (k, v) in params {
        match k.as_str() {
            "max_tokens" | "max_completion_tokens" => {
                let n = match v {
                    Value::Number(n) if n.is_u64() || n.is_i64() => v.clone(),
                    Value::Number(n) => {
                        json!((n.as_f64().unwrap_or(1.0).round() as i64).max(1))
                    }
                    _ => continue,
                };
                body.insert("max_tokens".into(), n);
            }
            "tools" => {
                if let Value::Array(list) = v {
                    has_tools_param = true;
                    for t in list {
                        tools.push(map_tool(t)?);
                    }
                }
            }
            "tool_choice" | "parallel_tool_calls" => {
                let tc = map_tool_choice(
                    params.get("tool_choice"),
                    params.get("parallel_tool_calls").and_then(Value::as_bool),
                );
                if let Some(tc) = tc {
                    body.insert("tool_choice".into(), tc);
                }
            }
            "stream" => {}
            "stop" => {
                if let Some(s) = map_stop(v) {
                    body.insert("stop_sequences".into(), s);
                }
            }
            "temperature" | "top_p" | "top_k" => {
                body.insert(k.clone(), v.clone());
            }
            "user" => {
                if let Some(u) = v.as_str().filter(|u| !u.contains('@') && !u.is_empty()) {
                    body.insert("metadata".into(), json!({"user_id": u}));
                }
            }
            "thinking" => {
                body.insert("thinking".into(), v.clone());
            }
            "reasoning_effort" => {
                let effort = v
                    .as_str()
                    .or_else(|| v.get("effort").and_then(Value::as_str));
                if let Some(e) = effort {
                    match thinking_for_effort(e)? {
                        Some(t) => {
                            body.insert("thinking".into(), t);
                        }
                        None => {
                            body.remove("thinking");
                        }
                    }
                }
            }
            "response_format" => {
                return Err(invalid(
                    "edgequake: response_format is translated by LiteLLM's transform",
                ))
            }
            "cache_control" => {
                if v.is_object() {
                    body.insert("cache_control".into(), v.clone());
                }
            }
            // Client settings, never part of the body.
            "extra_headers" | "max_retries" | "stream_options" => {}
            "extra_body" => extra_body = v.as_object(),
            _ => {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    if !has_tools_param
        && converted.iter().any(|m| {
            m["content"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|b| b["type"] == "tool_use" || b["type"] == "tool_result")
            })
        })
    {
        // Anthropic requires `tools` when the history holds tool blocks: LiteLLM's dummy.
        tools.push(json!({
            "name": "dummy_tool",
            "input_schema": {"type": "object", "properties": {}},
            "type": "custom",
            "description": "This is a dummy tool call",
        }));
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(converted));
    if !body.contains_key("max_tokens") {
        body.insert("max_tokens".into(), opts.default_max_tokens.into());
    }
    if let Some(u) = opts
        .metadata_user_id
        .as_deref()
        .filter(|u| !u.contains('@'))
    {
        body.insert("metadata".into(), json!({"user_id": u}));
    }
    // Only `metadata.user_id` is documented; LiteLLM drops the rest.
    if let Some(md) = body.get("metadata") {
        match md.get("user_id").filter(|u| !u.is_null()) {
            Some(u) => {
                let u = u.clone();
                body.insert("metadata".into(), json!({"user_id": u}));
            }
            None => {
                body.remove("metadata");
            }
        }
    }
    if opts.stream {
        body.insert("stream".into(), true.into());
    }
    if let Some(x) = extra_body {
        for (k, v) in x {
            body.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// Anthropic `stop_reason` -> OpenAI `finish_reason` (LiteLLM's `map_finish_reason`).
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "compaction" | "pause_turn" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        _ => 0,
    }
}

/// `AnthropicConfig.calculate_usage` as an OpenAI usage dict. `reasoning` is the thinking
/// text: when the upstream reports no thinking-token count, LiteLLM estimates it from this
/// text with its tokenizer; the estimate is left to the caller (`reasoning_tokens: null`
/// plus `_reasoning_text`).
pub fn usage(u: &Value, reasoning: Option<&str>, has_thinking_block: bool) -> Value {
    let mut prompt = int(u.get("input_tokens"));
    let completion = int(u.get("output_tokens"));
    let creation = int(u.get("cache_creation_input_tokens"));
    let read = int(u.get("cache_read_input_tokens"));
    prompt += creation + read;
    let mut details = Map::new();
    details.insert("cached_tokens".into(), read.into());
    details.insert("cache_creation_tokens".into(), creation.into());
    details.insert("text_tokens".into(), (prompt - read - creation).into());
    // The fields LiteLLM's `PromptTokensDetailsWrapper` / `Usage` always carry, so the
    // usage LiteLLM builds from this dict equals the one its Anthropic path builds.
    for k in [
        "audio_tokens",
        "image_tokens",
        "video_tokens",
        "initial_prompt_tokens",
    ] {
        details.insert(k.into(), Value::Null);
    }
    if let Some(cc @ Value::Object(_)) = u.get("cache_creation") {
        details.insert(
            "cache_creation_token_details".into(),
            json!({
                "ephemeral_5m_input_tokens": cc.get("ephemeral_5m_input_tokens"),
                "ephemeral_30m_input_tokens": null,
                "ephemeral_1h_input_tokens": cc.get("ephemeral_1h_input_tokens"),
                "ephemeral_12h_input_tokens": null,
            }),
        );
    }
    let reported = u
        .get("output_tokens_details")
        .and_then(|d| d.get("thinking_tokens"))
        .and_then(Value::as_i64);
    let mut out = Map::new();
    let completion_details = match (reported, reasoning) {
        (Some(r), _) => {
            let r = r.clamp(0, completion);
            json!({"reasoning_tokens": r, "text_tokens": completion - r})
        }
        (None, Some(text)) if !text.is_empty() => {
            out.insert("_reasoning_text".into(), text.into());
            json!({"reasoning_tokens": null, "text_tokens": null})
        }
        _ if has_thinking_block => json!({"reasoning_tokens": null, "text_tokens": null}),
        _ => json!({"reasoning_tokens": 0, "text_tokens": completion}),
    };
    out.insert("prompt_tokens".into(), prompt.into());
    out.insert("completion_tokens".into(), completion.into());
    out.insert("total_tokens".into(), (prompt + completion).into());
    out.insert("prompt_tokens_details".into(), Value::Object(details));
    out.insert("completion_tokens_details".into(), completion_details);
    out.insert("cache_creation_input_tokens".into(), creation.into());
    out.insert("cache_read_input_tokens".into(), read.into());
    for k in ["service_tier", "inference_geo", "speed", "iterations"] {
        out.insert(k.into(), u.get(k).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `stop_reason_provider_specific_fields`: the raw stop reason kept where OpenAI's finish
/// reason loses it (refusal, pause_turn), and `stop_details` whenever present.
fn stop_reason_fields(msg: &Value) -> Vec<(String, Value)> {
    let reason = msg.get("stop_reason").cloned().unwrap_or(Value::Null);
    match msg.get("stop_details").filter(|d| !d.is_null()) {
        Some(d) => vec![
            ("stop_reason".into(), reason),
            ("stop_details".into(), d.clone()),
        ],
        None if matches!(reason.as_str(), Some("refusal") | Some("pause_turn")) => {
            vec![("stop_reason".into(), reason)]
        }
        None => Vec::new(),
    }
}

/// `refusal_params`: a refusal's explanation as the OpenAI `refusal` field.
fn refusal(msg: &Value) -> Option<Value> {
    if msg.get("stop_reason").and_then(Value::as_str) != Some("refusal") {
        return None;
    }
    msg.get("stop_details")?
        .get("explanation")
        .filter(|e| e.as_str().is_some_and(|s| !s.is_empty()))
        .cloned()
}

/// A Messages reply -> an OpenAI `chat.completion` dict. With `json_mode` (the call's
/// `response_format` was emulated with the `json_tool_call` tool) that tool call becomes
/// the message content, as in LiteLLM.
pub fn response(reply: &Value, json_mode: bool) -> Result<Value, CoreError> {
    if let Some(err) = reply.get("error") {
        return Err(CoreError::decode(format!("upstream error object: {err}")));
    }
    let blocks = reply
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| CoreError::decode("Anthropic reply without a content list"))?;
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut thinking: Vec<Value> = Vec::new();
    let mut citations: Vec<Value> = Vec::new();
    for (idx, b) in blocks.iter().enumerate() {
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            "tool_use" | "server_tool_use" => {
                let input = b.get("input").cloned().unwrap_or(json!({}));
                calls.push(json!({
                    "id": b.get("id"),
                    "type": "function",
                    "function": {"name": b.get("name"), "arguments": py_json_dumps(&input)},
                    "index": idx,
                }));
            }
            "thinking" | "redacted_thinking" => thinking.push(b.clone()),
            _ => {}
        }
        if let Some(c) = b.get("citations").and_then(Value::as_array) {
            let supported = b.get("text").cloned().unwrap_or_else(|| "".into());
            citations.push(Value::Array(
                c.iter()
                    .map(|x| {
                        let mut x = x.clone();
                        if let Value::Object(m) = &mut x {
                            m.insert("supported_text".into(), supported.clone());
                        }
                        x
                    })
                    .collect(),
            ));
        }
    }
    let reasoning = if thinking.is_empty() {
        None
    } else {
        Some(
            thinking
                .iter()
                .filter_map(|b| b.get("thinking").and_then(Value::as_str))
                .collect::<String>(),
        )
    };
    let stop_reason = reply
        .get("stop_reason")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut finish = finish_reason(stop_reason);
    let thinking_v = if thinking.is_empty() {
        Value::Null
    } else {
        Value::Array(thinking.clone())
    };
    let mut psf = Map::new();
    psf.insert(
        "citations".into(),
        if citations.is_empty() {
            Value::Null
        } else {
            Value::Array(citations)
        },
    );
    psf.insert("thinking_blocks".into(), thinking_v.clone());
    for (k, v) in stop_reason_fields(reply) {
        psf.insert(k, v);
    }
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    if let Some(r) = refusal(reply) {
        message.insert("refusal".into(), r);
    }
    let json_call =
        json_mode && calls.len() == 1 && calls[0]["function"]["name"].as_str() == Some(JSON_TOOL);
    if json_call {
        let args = calls[0]["function"]["arguments"].clone();
        message.insert("content".into(), args);
        finish = "stop";
    } else {
        message.insert(
            "content".into(),
            if text.is_empty() {
                Value::Null
            } else {
                text.into()
            },
        );
        if !calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(calls));
        }
        message.insert("provider_specific_fields".into(), Value::Object(psf));
    }
    if !thinking.is_empty() {
        message.insert("thinking_blocks".into(), thinking_v);
        message.insert(
            "reasoning_content".into(),
            reasoning.clone().unwrap_or_default().into(),
        );
    }
    let usage = usage(
        reply.get("usage").unwrap_or(&Value::Null),
        reasoning.as_deref(),
        !thinking.is_empty(),
    );
    Ok(json!({
        "id": reply.get("id"),
        "object": "chat.completion",
        "created": now(),
        "model": reply.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }))
}

/// `json.dumps(v)` as LiteLLM writes Anthropic tool arguments (ASCII-escaped).
pub fn py_json_dumps(v: &Value) -> String {
    super::pyjson::dumps(v, true)
}

/// `json.dumps(v, ensure_ascii=False)`.
pub fn py_json_dumps_unicode(v: &Value) -> String {
    super::pyjson::dumps(v, false)
}

/// Incremental translation of a Messages SSE stream into OpenAI chunk dicts, one chunk per
/// upstream event as LiteLLM's `ModelResponseIterator` yields them.
#[derive(Debug, Default)]
pub struct StreamState {
    id: String,
    model: Option<Value>,
    block_type: Option<String>,
    tool_index: i64,
    thinking_index: i64,
    tool_args_seen: bool,
    usage: Map<String, Value>,
    reasoning: String,
    json_mode: bool,
    json_tool_open: bool,
    sent_role: bool,
}

impl StreamState {
    pub fn new(json_mode: bool) -> Self {
        StreamState {
            tool_index: -1,
            thinking_index: -1,
            json_mode,
            ..Default::default()
        }
    }

    fn chunk(
        &self,
        delta: Map<String, Value>,
        finish: Option<&str>,
        usage: Option<Value>,
    ) -> Value {
        let mut c = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": now(),
            "model": self.model.clone().unwrap_or(Value::Null),
            "choices": [{"index": 0, "delta": Value::Object(delta), "finish_reason": finish}],
        });
        if let Some(u) = usage {
            c["usage"] = u;
        }
        c
    }

    fn usage_now(&mut self, u: &Value) -> Value {
        if let Value::Object(m) = u {
            for (k, v) in m {
                self.usage.insert(k.clone(), v.clone());
            }
        }
        let r = (!self.reasoning.is_empty()).then_some(self.reasoning.as_str());
        usage(&Value::Object(self.usage.clone()), r, false)
    }

    /// One SSE `data` payload -> zero or more OpenAI chunk dicts.
    pub fn event(&mut self, data: &str) -> Result<Vec<Value>, CoreError> {
        let ev: Value = serde_json::from_str(data)
            .map_err(|e| CoreError::decode(format!("Failed to decode JSON from chunk: {e}")))?;
        let mut delta = Map::new();
        let mut finish = None;
        let mut usage = None;
        match ev.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                let m = &ev["message"];
                self.id = m
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                self.model = m.get("model").cloned();
                if let Some(u) = m.get("usage") {
                    usage = Some(self.usage_now(u));
                }
            }
            "content_block_start" => {
                let b = &ev["content_block"];
                let ty = b
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                self.tool_args_seen = false;
                match ty.as_str() {
                    "text" => {
                        let t = b.get("text").and_then(Value::as_str).unwrap_or("");
                        delta.insert("content".into(), t.into());
                    }
                    "tool_use" => {
                        self.tool_index += 1;
                        let name = b.get("name").cloned().unwrap_or(Value::Null);
                        if self.json_mode && name.as_str() == Some(JSON_TOOL) {
                            self.json_tool_open = true;
                        } else {
                            delta.insert(
                                "tool_calls".into(),
                                json!([{"id": b.get("id"), "type": "function",
                                    "function": {"name": name, "arguments": ""},
                                    "index": self.tool_index}]),
                            );
                        }
                    }
                    "thinking" => self.thinking_index += 1,
                    "redacted_thinking" => {
                        self.thinking_index += 1;
                        let blocks = json!([{"type": "redacted_thinking", "data": b.get("data"),
                            "index": self.thinking_index}]);
                        delta.insert("thinking_blocks".into(), blocks.clone());
                        delta.insert(
                            "provider_specific_fields".into(),
                            json!({"thinking_blocks": blocks}),
                        );
                    }
                    _ => {}
                }
                self.block_type = Some(ty);
            }
            "content_block_delta" => {
                let d = &ev["delta"];
                if let Some(t) = d.get("text").and_then(Value::as_str) {
                    delta.insert("content".into(), t.into());
                } else if let Some(pj) = d.get("partial_json").and_then(Value::as_str) {
                    if !pj.is_empty() {
                        self.tool_args_seen = true;
                    }
                    if self.json_tool_open {
                        delta.insert("content".into(), pj.into());
                    } else if self.block_type.as_deref() == Some("tool_use") {
                        delta.insert(
                            "tool_calls".into(),
                            json!([{"id": null, "type": "function",
                                "function": {"name": null, "arguments": pj},
                                "index": self.tool_index}]),
                        );
                    }
                } else if d.get("thinking").is_some() || d.get("signature").is_some() {
                    let mut blocks = None;
                    if let Some(t) = d
                        .get("thinking")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                    {
                        self.reasoning.push_str(t);
                        delta.insert("reasoning_content".into(), t.into());
                        blocks = Some(json!([{"type": "thinking", "thinking": t,
                            "index": self.thinking_index}]));
                    }
                    if let Some(s) = d
                        .get("signature")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    {
                        blocks = Some(json!([{"type": "thinking", "thinking": "", "signature": s,
                            "index": self.thinking_index}]));
                        delta
                            .entry("reasoning_content")
                            .or_insert_with(|| "".into());
                    }
                    if let Some(b) = blocks {
                        delta.insert("thinking_blocks".into(), b.clone());
                        delta.insert(
                            "provider_specific_fields".into(),
                            json!({"thinking_blocks": b}),
                        );
                    }
                } else if let Some(c) = d.get("citation") {
                    delta.insert("provider_specific_fields".into(), json!({"citation": c}));
                }
            }
            "content_block_stop" => {
                if self.block_type.as_deref() == Some("tool_use")
                    && !self.tool_args_seen
                    && !self.json_tool_open
                {
                    delta.insert(
                        "tool_calls".into(),
                        json!([{"id": null, "type": "function",
                            "function": {"name": null, "arguments": "{}"},
                            "index": self.tool_index}]),
                    );
                }
                self.block_type = None;
            }
            "message_delta" => {
                let sr = ev["delta"].get("stop_reason").and_then(Value::as_str);
                let mut f = sr.map(finish_reason).unwrap_or("stop");
                if self.json_mode && self.json_tool_open && f == "tool_calls" {
                    f = "stop";
                }
                finish = Some(f);
                let fields = stop_reason_fields(&ev["delta"]);
                if !fields.is_empty() {
                    delta.insert(
                        "provider_specific_fields".into(),
                        Value::Object(fields.into_iter().collect()),
                    );
                }
                if let Some(r) = refusal(&ev["delta"]) {
                    delta.insert("refusal".into(), r);
                }
                if let Some(u) = ev.get("usage") {
                    usage = Some(self.usage_now(u));
                }
            }
            "error" => {
                let e = &ev["error"];
                let msg = e
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| ev.to_string());
                let mut err = CoreError::new(crate::errors::ErrorKind::Status, msg);
                err.status = Some(500);
                err.body = Some(ev.to_string());
                return Err(err);
            }
            // ping, message_stop and unknown events carry nothing for the caller.
            _ => return Ok(Vec::new()),
        }
        // LiteLLM's stream wrapper drops chunks that carry nothing and moves usage off the
        // chunk that carries the finish reason (a custom provider's finish chunk is consumed
        // whole): usage goes out on its own chunk first, and the first chunk with content
        // carries the assistant role, as LiteLLM's own Anthropic stream yields them.
        let mut out = Vec::new();
        if let Some(u) = usage {
            out.push(self.chunk(Map::new(), None, Some(u)));
        }
        let has_delta = delta.iter().any(|(k, v)| match (k.as_str(), v) {
            ("content", Value::String(s)) => !s.is_empty(),
            (_, v) => !v.is_null(),
        });
        if delta.contains_key("tool_calls") {
            // LiteLLM's chunks carry the (empty) text next to tool-call deltas.
            delta.entry("content").or_insert_with(|| "".into());
        }
        if has_delta && !self.sent_role {
            self.sent_role = true;
            delta.insert("role".into(), "assistant".into());
        }
        if has_delta || finish.is_some() {
            out.push(self.chunk(delta, finish, None));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            default_max_tokens: 4096,
            ..Default::default()
        }
    }

    #[test]
    fn system_tools_and_tool_results() {
        let msgs = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call.1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
            {"role": "tool", "tool_call_id": "call.1", "content": "42"},
            {"role": "assistant", "content": "done  "},
        ]);
        let params = json!({"temperature": 0.2, "stop": "x", "top_k": 3});
        let body = request_body("m", &msgs, params.as_object().unwrap(), &opts()).unwrap();
        assert_eq!(
            body["system"],
            json!([{"type": "text", "text": "Be brief."}])
        );
        assert_eq!(body["max_tokens"], 4096);
        assert_eq!(body["stop_sequences"], json!(["x"]));
        assert_eq!(body["top_k"], 3);
        assert_eq!(body["messages"][1]["content"][0]["id"], "call_1");
        assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "call_1");
        assert_eq!(body["messages"][3]["content"][0]["text"], "done");
        assert_eq!(body["tools"][0]["name"], "dummy_tool");
    }

    #[test]
    fn tool_choice_and_parallel() {
        assert_eq!(
            map_tool_choice(Some(&json!("required")), Some(false)),
            Some(json!({"type": "any", "disable_parallel_tool_use": true}))
        );
        assert_eq!(
            map_tool_choice(None, Some(true)),
            Some(json!({"type": "auto", "disable_parallel_tool_use": false}))
        );
        assert_eq!(
            map_tool_choice(Some(&json!("none")), Some(true)),
            Some(json!({"type": "none"}))
        );
    }

    #[test]
    fn reply_with_tool_use_and_cache_usage() {
        let reply = json!({
            "id": "msg_1", "model": "claude", "stop_reason": "tool_use",
            "content": [{"type": "text", "text": "ok"},
                        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": "é"}}],
            "usage": {"input_tokens": 10, "output_tokens": 5,
                      "cache_read_input_tokens": 3, "cache_creation_input_tokens": 2}
        });
        let out = response(&reply, false).unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\": \"\\u00e9\"}"
        );
        assert_eq!(out["usage"]["prompt_tokens"], 15);
        assert_eq!(out["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
    }

    #[test]
    fn stream_events() {
        let mut s = StreamState::new(false);
        let c = s
            .event(r#"{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":4,"output_tokens":1}}}"#)
            .unwrap();
        assert_eq!(c[0]["usage"]["prompt_tokens"], 4);
        s.event(r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#).unwrap();
        let stop = s
            .event(r#"{"type":"content_block_stop","index":0}"#)
            .unwrap();
        assert_eq!(
            stop[0]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            "{}"
        );
        let end = s
            .event(r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#)
            .unwrap();
        assert_eq!(end[1]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(end[0]["usage"]["completion_tokens"], 9);
        assert!(s.event(r#"{"type":"ping"}"#).unwrap().is_empty());
        assert!(s
            .event(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            .is_err());
    }
}
