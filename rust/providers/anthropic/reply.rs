//! Messages replies -> OpenAI `chat.completion` dicts, as LiteLLM's `transform_parsed_response`
//! and `calculate_usage` build them.

use serde_json::{json, Map, Value};

use super::request::JSON_TOOL;
use crate::errors::CoreError;
use crate::providers::translate::{int_truncating, now, py_json_dumps};

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

/// `AnthropicConfig.calculate_usage` as an OpenAI usage dict. `reasoning` is the thinking
/// text: when the upstream reports no thinking-token count, LiteLLM estimates it from this
/// text with its tokenizer; the estimate is left to the caller (`reasoning_tokens: null`
/// plus `_reasoning_text`).
pub fn usage(u: &Value, reasoning: Option<&str>, has_thinking_block: bool) -> Value {
    let mut prompt = int_truncating(u.get("input_tokens"));
    let completion = int_truncating(u.get("output_tokens"));
    let creation = int_truncating(u.get("cache_creation_input_tokens"));
    let read = int_truncating(u.get("cache_read_input_tokens"));
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

/// `stop_reason_provider_specific_fields`: the raw stop reason kept where OpenAI's finish
/// reason loses it (refusal, pause_turn), and `stop_details` whenever present.
pub(super) fn stop_reason_fields(msg: &Value) -> Vec<(String, Value)> {
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
pub(super) fn refusal(msg: &Value) -> Option<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
