//! One error type for the whole core, and its single conversion to Python.

use std::fmt;

/// What went wrong, coarse enough for Python to map onto LiteLLM's exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The upstream answered with an HTTP error status.
    Status,
    /// No answer in time (connect, headers, or the gap between body reads).
    Timeout,
    /// Connect refused, DNS, TLS, reset, truncated body.
    Connection,
    /// The upstream sent something that is not the JSON/SSE it should have.
    Decode,
    /// The caller's arguments cannot be turned into a request.
    InvalidRequest,
    /// A response or line larger than the documented limits.
    TooLarge,
    /// A bug in the core (a caught panic).
    Internal,
    /// A request the core does not translate for a translated family (Anthropic, Gemini):
    /// the caller builds the body with LiteLLM's own transform instead.
    Unsupported,
    /// The upstream reported a failure inside a 200 stream (an OpenAI `{"error": ...}`
    /// event); `body` holds the error value as JSON.
    StreamError,
    /// A call whose native LiteLLM request the core does not reproduce (Azure AD tokens,
    /// Azure's v1 API, ...): refused before sending, pointing the caller to LiteLLM.
    NotServed,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Status => "status",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::Decode => "decode",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Internal => "internal",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::StreamError => "stream_error",
            ErrorKind::NotServed => "not_served",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CoreError {
    pub kind: ErrorKind,
    pub message: String,
    pub status: Option<u16>,
    /// Upstream response headers (lower-case names), so retry-after and rate limits survive.
    pub headers: Vec<(String, String)>,
    /// Upstream error body as text, when there was one.
    pub body: Option<String>,
    /// The reason phrase of the upstream's status line (`OK`), when it answered.
    pub reason: Option<String>,
}

impl CoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CoreError {
            kind,
            message: message.into(),
            status: None,
            headers: Vec::new(),
            body: None,
            reason: None,
        }
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, message)
    }

    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    pub fn not_served(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotServed, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(status: u16, headers: Vec<(String, String)>, body: String) -> Self {
        CoreError {
            kind: ErrorKind::Status,
            message: upstream_message(&body).unwrap_or_else(|| body.clone()),
            status: Some(status),
            headers,
            body: Some(body),
            reason: None,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {}): {}", self.kind.as_str(), s, self.message),
            None => write!(f, "{}: {}", self.kind.as_str(), self.message),
        }
    }
}

impl std::error::Error for CoreError {}

/// The `error.message` of an OpenAI-style error body, if the body is one.
fn upstream_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let err = v.get("error")?;
    match err {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("message")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// reqwest's Display chains sources only with `{:#}`; keep the root cause for the user.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut src = err.source();
    while let Some(s) = src {
        let s_txt = s.to_string();
        if !out.contains(&s_txt) {
            out.push_str(": ");
            out.push_str(&s_txt);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_error_takes_openai_message() {
        let e = CoreError::status(
            429,
            vec![],
            r#"{"error":{"message":"slow down","type":"x"}}"#.into(),
        );
        assert_eq!(e.message, "slow down");
        assert_eq!(e.status, Some(429));
    }

    #[test]
    fn status_error_keeps_non_json_body() {
        let e = CoreError::status(502, vec![], "<html>Bad Gateway</html>".into());
        assert_eq!(e.message, "<html>Bad Gateway</html>");
    }
}
