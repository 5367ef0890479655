//! Python's `json.dumps` text (default separators `", "` / `": "`), so tool-call argument
//! strings the core writes are byte-identical to the ones LiteLLM writes.

use serde_json::Value;

pub fn dumps(v: &Value, ensure_ascii: bool) -> String {
    let mut out = String::new();
    write(v, ensure_ascii, &mut out);
    out
}

fn write(v: &Value, ascii: bool, out: &mut String) {
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(x, ascii, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(k, ascii, out);
                out.push_str(": ");
                write(x, ascii, out);
            }
            out.push('}');
        }
        Value::String(s) => write_str(s, ascii, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python() {
        let v = json!({"b": [1, 2.5, null, true], "a": "é\"\n"});
        assert_eq!(
            dumps(&v, true),
            r#"{"b": [1, 2.5, null, true], "a": "\u00e9\"\n"}"#
        );
        assert_eq!(
            dumps(&v, false),
            "{\"b\": [1, 2.5, null, true], \"a\": \"é\\\"\\n\"}"
        );
    }
}
