//! What the translated families (`anthropic/`, `gemini/`) share: the clock of the chunks they
//! write, the token counts they read, and Python's `json.dumps` text for tool arguments.

use serde_json::Value;

/// Seconds since the epoch: the `created` of a translated reply or chunk, as LiteLLM's
/// `int(time.time())`.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token count as Python's `int(x)` reads a JSON number (a float is truncated, as
/// LiteLLM's `calculate_usage` does for Anthropic); anything else, or nothing, is 0.
pub fn int_truncating(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        _ => 0,
    }
}

/// A token count that must be a JSON integer: anything else (a float included), or nothing,
/// is 0 (Gemini's usage metadata).
pub fn int_or_zero(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
}

/// `json.dumps(v)` (ASCII-escaped), as LiteLLM writes Anthropic tool arguments.
pub fn py_json_dumps(v: &Value) -> String {
    super::pyjson::dumps(v, true)
}

/// `json.dumps(v, ensure_ascii=False)`, as LiteLLM writes Gemini tool arguments.
pub fn py_json_dumps_unicode(v: &Value) -> String {
    super::pyjson::dumps(v, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_two_integer_readings() {
        assert_eq!(int_truncating(Some(&json!(7))), 7);
        assert_eq!(int_truncating(Some(&json!(7.9))), 7);
        assert_eq!(int_truncating(Some(&json!("7"))), 0);
        assert_eq!(int_truncating(None), 0);
        assert_eq!(int_or_zero(Some(&json!(7))), 7);
        assert_eq!(int_or_zero(Some(&json!(7.9))), 0);
        assert_eq!(int_or_zero(Some(&json!(null))), 0);
        assert_eq!(int_or_zero(None), 0);
    }
}
