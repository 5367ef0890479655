//! OpenAI-format chat calls -> Messages API bodies, as LiteLLM's
//! `AnthropicConfig.map_openai_params`, `transform_request` and `anthropic_messages_pt` write
//! them.

use serde_json::{json, Map, Value};

use crate::errors::CoreError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
