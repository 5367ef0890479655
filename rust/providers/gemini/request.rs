//! OpenAI-format calls -> `generateContent` / `batchEmbedContents` bodies, as LiteLLM's
//! `VertexGeminiConfig.map_openai_params` and `_gemini_convert_messages_with_history` write them.

use serde_json::{json, Map, Value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
