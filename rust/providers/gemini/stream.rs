//! `streamGenerateContent?alt=sse` chunks -> OpenAI chunk dicts, as LiteLLM's stream
//! `ModelResponseIterator.chunk_parser` yields them.

use serde_json::{json, Map, Value};

use super::reply::{finish_reason, metadata_fields, read_parts, served_model, usage};
use crate::errors::CoreError;
use crate::providers::translate::now;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::gemini::response;
    use serde_json::json;

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
