//! Messages SSE events -> OpenAI chunk dicts, as LiteLLM's stream `ModelResponseIterator.chunk_parser`
//! yields them.

use serde_json::{json, Map, Value};

use super::reply::{finish_reason, refusal, stop_reason_fields, usage};
use super::request::JSON_TOOL;
use crate::errors::CoreError;
use crate::providers::translate::now;

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
