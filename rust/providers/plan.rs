//! The family dispatch: a call, already converted to Rust values, becomes the HTTP request
//! to send (body, URL, auth and family headers) and a `Reading` that says how to read the
//! answer. In two steps, so the boundary can convert the rest of the call (headers, timeout)
//! in between, in the order the errors have always come: `encode` writes the body
//! (translating it for the families that translate), `plan` builds the request.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::openai::{build_request, Endpoint, Target};
use super::registry::{Family, Join, ProviderSpec, GEMINI_DEFAULT_BASE};
use super::{anthropic, gemini, process_env, resolve, Translator};
use crate::errors::{CoreError, ErrorKind};
use crate::sse::StreamEnd;
use crate::transport::HttpRequest;

/// What a call asks of the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Chat,
    ChatStream,
    Embed,
}

impl Op {
    pub fn parse(s: &str) -> Result<Op, CoreError> {
        match s {
            "chat" => Ok(Op::Chat),
            "chat_stream" => Ok(Op::ChatStream),
            "embed" => Ok(Op::Embed),
            other => Err(CoreError::invalid(format!("unknown operation {other:?}"))),
        }
    }

    pub fn endpoint(self) -> Endpoint {
        match self {
            Op::Chat | Op::ChatStream => Endpoint::Chat,
            Op::Embed => Endpoint::Embeddings,
        }
    }

    /// The key of the call's payload in an OpenAI body.
    pub fn payload_key(self) -> &'static str {
        match self {
            Op::Chat | Op::ChatStream => "messages",
            Op::Embed => "input",
        }
    }

    /// Whether the OpenAI body says `stream` (None: embeddings have no such field).
    pub fn stream(self) -> Option<bool> {
        match self {
            Op::Chat | Op::ChatStream => Some(self == Op::ChatStream),
            Op::Embed => None,
        }
    }
}

/// Whether `family` translates `op`'s body (from JSON trees), or takes it written in the
/// OpenAI shape. Anthropic has no embeddings: such a call goes the OpenAI way and is refused
/// by the registry entry (no embeddings path).
pub fn translates(family: Family, op: Op) -> bool {
    match family {
        Family::OpenAi => false,
        Family::Anthropic => op != Op::Embed,
        Family::Gemini => true,
    }
}

/// What LiteLLM reads from its model map and `litellm_params` for a translated family's
/// mapping (the boundary's `native` dict). Unset flags are false.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    // Gemini
    /// LiteLLM's public endpoint for the model is `v1alpha` (Gemini 3 and newer).
    pub v1alpha: bool,
    pub penalties: bool,
    pub sampling: bool,
    pub default_output_budget: bool,
    pub safety_settings: bool,
    // Anthropic
    pub default_max_tokens: Option<u64>,
    pub metadata_user_id: Option<String>,
    pub adaptive_thinking: bool,
    pub no_sampling_params: bool,
    pub no_forced_tool_use: bool,
}

/// A call's body as the boundary converted it, in the form `translates` asked for.
pub enum Body {
    /// JSON bytes in the OpenAI shape (or LiteLLM's prebuilt body), sent as is. The call's
    /// `max_retries`, when it set one, has been read from the parameters.
    Written(Vec<u8>),
    /// For a family that translates: the call's parameters, and either LiteLLM's prebuilt
    /// body (sent as is) or the payload (messages or embedding input) to translate.
    Translated {
        params: Map<String, Value>,
        source: Source,
    },
}

pub enum Source {
    Prebuilt(Value),
    Payload(Value),
}

/// A body ready to send, and what reading the answer needs to know about it.
pub struct Encoded {
    bytes: Vec<u8>,
    /// Anthropic: `response_format` emulated with LiteLLM's `json_tool_call` tool.
    json_mode: bool,
    max_retries: u32,
}

/// Step one: the request body. `max_retries` is the call's explicit setting.
pub fn encode(
    family: Family,
    op: Op,
    model: &str,
    body: Body,
    settings: &Settings,
    max_retries: Option<u32>,
) -> Result<Encoded, CoreError> {
    let (params, source) = match body {
        // The OpenAI SDK retries twice unless told otherwise.
        Body::Written(bytes) => {
            return Ok(Encoded {
                bytes,
                json_mode: false,
                max_retries: max_retries.unwrap_or(2),
            })
        }
        Body::Translated { params, source } => (params, source),
    };
    // LiteLLM's Anthropic and Gemini handlers never retry: only an explicit `max_retries` does.
    let max_retries = max_retries.unwrap_or_else(|| {
        params
            .get("max_retries")
            .and_then(Value::as_u64)
            .map(|n| n as u32)
            .unwrap_or(0)
    });
    let tree = match (source, family) {
        (Source::Prebuilt(v), _) => v,
        (Source::Payload(p), Family::Anthropic) => {
            let o = anthropic::Options {
                stream: op == Op::ChatStream,
                default_max_tokens: settings.default_max_tokens.unwrap_or(4096),
                metadata_user_id: settings.metadata_user_id.clone(),
                adaptive_thinking: settings.adaptive_thinking,
                no_sampling_params: settings.no_sampling_params,
                no_forced_tool_use: settings.no_forced_tool_use,
            };
            anthropic::request_body(model, &p, &params, &o)?
        }
        (Source::Payload(p), Family::Gemini) if op == Op::Embed => {
            gemini::embed_body(model, &p, &params)?
        }
        (Source::Payload(p), Family::Gemini) => {
            let o = gemini::Options {
                stream: op == Op::ChatStream,
                penalties: settings.penalties,
                sampling: settings.sampling,
                litellm_adds: settings.default_output_budget || settings.safety_settings,
            };
            gemini::request_body(&p, &params, &o)?
        }
        (Source::Payload(_), Family::OpenAi) => {
            return Err(CoreError::new(
                ErrorKind::Internal,
                "the OpenAI wire is not translated",
            ))
        }
    };
    let json_mode = family == Family::Anthropic
        && tree["tools"].as_array().is_some_and(|t| {
            t.iter()
                .any(|t| t["name"].as_str() == Some(anthropic::JSON_TOOL))
        });
    Ok(Encoded {
        bytes: serde_json::to_vec(&tree).map_err(|e| CoreError::invalid(e.to_string()))?,
        json_mode,
        max_retries,
    })
}

/// The per-call parts of a request that are not its body.
pub struct Overrides {
    pub api_key: Option<String>,
    pub api_base: Option<String>,
    pub api_version: Option<String>,
    /// The caller's headers; they win over the provider's and the auth header.
    pub headers: Vec<(String, String)>,
    pub timeout: Option<std::time::Duration>,
    /// A header numbering the attempts (see `HttpRequest::retry_count_header`).
    pub retry_count_header: Option<String>,
}

/// Step two: the request to send. `litellm_attr` reads `litellm.<name>` settings (the
/// caller holds the GIL); the environment is the process's.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    spec: &ProviderSpec,
    op: Op,
    model: &str,
    encoded: Encoded,
    settings: &Settings,
    overrides: Overrides,
    litellm_attr: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, CoreError> {
    let target = Target {
        api_base: resolve(
            spec.base_sources,
            overrides.api_base.as_deref(),
            litellm_attr,
            &process_env,
        )
        .unwrap_or_default(),
        api_key: resolve(
            spec.key_sources,
            overrides.api_key.as_deref(),
            litellm_attr,
            &process_env,
        ),
        api_version: match spec.version_sources {
            [] => None,
            srcs => resolve(
                srcs,
                overrides.api_version.as_deref(),
                litellm_attr,
                &process_env,
            ),
        },
    };
    let mut headers = Vec::new();
    for (name, src) in spec.extra_headers {
        // Later entries for the same header take precedence when they resolve.
        if let Some(v) = resolve(std::slice::from_ref(src), None, litellm_attr, &process_env) {
            headers.retain(|(h, _): &(String, String)| !h.eq_ignore_ascii_case(name));
            headers.push(((*name).to_owned(), v));
        }
    }
    headers.extend(overrides.headers);
    let endpoint = op.endpoint();
    let mut req = build_request(spec, endpoint, model, &target, headers, encoded.bytes)?;
    req.timeout = overrides.timeout;
    req.max_retries = encoded.max_retries;
    req.retry_count_header = overrides.retry_count_header;
    let translated = translates(spec.family, op);
    if spec.family == Family::Gemini {
        gemini_request(&mut req, op, settings.v1alpha);
    }
    // LiteLLM reads these providers' streams with the OpenAI SDK, whose decoder drops an
    // incomplete last event (a body that is not SSE yields no chunks, not an error).
    let end = if !translated && spec.chat_join == Join::Always {
        StreamEnd::LikeOpenAiSdk
    } else {
        StreamEnd::Strict
    };
    Ok(Plan {
        req,
        read: Reading {
            op,
            family: if translated {
                spec.family
            } else {
                Family::OpenAi
            },
            json_mode: encoded.json_mode,
            model: model.to_owned(),
            end,
        },
    })
}

/// A request another client already built (the OpenAI SDK: URL with its query, every
/// header, body bytes), sent as is: nothing from the registry (no key, auth or family
/// headers), the answer read as the OpenAI wire with the SDK's stream decoder.
pub fn exact(
    op: Op,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    overrides_timeout: Option<std::time::Duration>,
    max_retries: u32,
    retry_count_header: Option<String>,
) -> Plan {
    Plan {
        req: HttpRequest {
            url,
            headers,
            body: body.into(),
            timeout: overrides_timeout,
            max_retries,
            retry_count_header,
            raw: false,
        },
        read: Reading {
            op,
            family: Family::OpenAi,
            json_mode: false,
            model: String::new(),
            end: StreamEnd::LikeOpenAiSdk,
        },
    }
}

/// What LiteLLM's Gemini handler changes on the registry's request.
fn gemini_request(req: &mut HttpRequest, op: Op, v1alpha: bool) {
    if v1alpha {
        // LiteLLM's public endpoint for Gemini 3 and newer is v1alpha.
        if let Some(rest) = req.url.strip_prefix(GEMINI_DEFAULT_BASE) {
            req.url = format!("https://generativelanguage.googleapis.com/v1alpha{rest}");
        }
    }
    if op == Op::ChatStream {
        req.url = req
            .url
            .replacen(":generateContent", ":streamGenerateContent?alt=sse", 1);
    }
    if op == Op::Embed
        && !req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        // What LiteLLM's Gemini embedding handler sends.
        req.headers.push((
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
}

/// A request ready to send, and how to read its answer.
pub struct Plan {
    pub req: HttpRequest,
    pub read: Reading,
}

/// How to read a call's answer.
pub struct Reading {
    op: Op,
    /// The wire the answer comes in: OpenAI's unless the family translated the request.
    family: Family,
    json_mode: bool,
    /// The model the call named, for replies that do not say.
    model: String,
    /// What an incomplete last stream event means.
    pub end: StreamEnd,
}

impl Reading {
    pub fn streams(&self) -> bool {
        self.op == Op::ChatStream
    }

    /// The stream's translator into OpenAI chunks (None: the OpenAI wire, read as is).
    pub fn translator(&self) -> Option<Translator> {
        match self.family {
            Family::Anthropic => Some(Translator::Anthropic(anthropic::StreamState::new(
                self.json_mode,
            ))),
            Family::Gemini => Some(Translator::Gemini(gemini::StreamState::new(&self.model))),
            Family::OpenAi => None,
        }
    }

    /// A whole reply's body as OpenAI-shaped JSON bytes (the OpenAI wire's as is).
    pub fn reply(&self, status: u16, body: Bytes) -> Result<Bytes, CoreError> {
        if self.family == Family::OpenAi {
            return Ok(body);
        }
        let reply: Value = serde_json::from_slice(&body).map_err(|e| {
            // LiteLLM's words for an unparsable reply (quoting the reply).
            CoreError::decode(format!(
                "Unable to get json response - {e}, Original Response: {}",
                String::from_utf8_lossy(&body)
            ))
            .with_status(status)
        })?;
        let out = match (self.family, self.op) {
            (Family::Anthropic, _) => anthropic::response(&reply, self.json_mode)?,
            (_, Op::Embed) => gemini::embed_response(&reply, &self.model)?,
            _ => gemini::response(&reply, &self.model)?,
        };
        Ok(Bytes::from(
            serde_json::to_vec(&out).map_err(|e| CoreError::decode(e.to_string()))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::registry::lookup;
    use serde_json::json;

    fn no_attr(_: &str) -> Option<String> {
        None
    }

    fn overrides(base: &str) -> Overrides {
        Overrides {
            api_key: Some("k".into()),
            api_base: (!base.is_empty()).then(|| base.to_owned()),
            api_version: None,
            headers: Vec::new(),
            timeout: None,
            retry_count_header: None,
        }
    }

    fn gemini_plan(op: Op, base: &str, settings: &Settings) -> Plan {
        let spec = lookup("gemini").unwrap();
        let payload = match op {
            Op::Embed => json!("hi"),
            _ => json!([{"role": "user", "content": "hi"}]),
        };
        let body = Body::Translated {
            params: Map::new(),
            source: Source::Payload(payload),
        };
        let encoded = encode(spec.family, op, "gemini-x", body, settings, None).unwrap();
        plan(
            spec,
            op,
            "gemini-x",
            encoded,
            settings,
            overrides(base),
            &no_attr,
        )
        .unwrap()
    }

    #[test]
    fn gemini_urls_and_content_type() {
        let v1alpha = Settings {
            v1alpha: true,
            ..Default::default()
        };
        let p = gemini_plan(Op::ChatStream, "", &v1alpha);
        assert_eq!(
            p.req.url,
            "https://generativelanguage.googleapis.com/v1alpha/models/gemini-x:streamGenerateContent?alt=sse"
        );
        assert!(p.read.streams() && p.read.translator().is_some());
        // A caller's base is never rewritten to v1alpha.
        let p = gemini_plan(Op::Chat, "http://h:1/v1beta", &v1alpha);
        assert_eq!(
            p.req.url,
            "http://h:1/v1beta/models/gemini-x:generateContent"
        );
        let p = gemini_plan(Op::Embed, "", &Settings::default());
        assert!(p
            .req
            .url
            .ends_with("/v1beta/models/gemini-x:batchEmbedContents"));
        assert!(p.req.headers.contains(&(
            "content-type".into(),
            "application/json; charset=utf-8".into()
        )));
        // Translated families never retry unless told to.
        assert_eq!(p.req.max_retries, 0);
    }

    #[test]
    fn every_family_is_dispatched_by_its_registry_entry() {
        let openai = lookup("openai").unwrap();
        let encoded = encode(
            openai.family,
            Op::ChatStream,
            "m",
            Body::Written(b"{}".to_vec()),
            &Settings::default(),
            None,
        )
        .unwrap();
        let p = plan(
            openai,
            Op::ChatStream,
            "m",
            encoded,
            &Settings::default(),
            overrides("http://h/v1"),
            &no_attr,
        )
        .unwrap();
        assert_eq!(p.req.url, "http://h/v1/chat/completions");
        assert_eq!(p.req.max_retries, 2);
        assert_eq!(p.read.end, StreamEnd::LikeOpenAiSdk);
        assert!(p.read.translator().is_none());

        let anthropic = lookup("anthropic").unwrap();
        assert!(translates(anthropic.family, Op::Chat));
        assert!(!translates(anthropic.family, Op::Embed));
        // LiteLLM's body emulating `response_format` with its tool: the reply is read back.
        let body = Body::Translated {
            params: json!({"max_retries": 3}).as_object().unwrap().clone(),
            source: Source::Prebuilt(json!({"model": "claude-x", "messages": [],
                "tools": [{"name": anthropic::JSON_TOOL, "input_schema": {}}]})),
        };
        let encoded = encode(
            anthropic.family,
            Op::Chat,
            "claude-x",
            body,
            &Settings::default(),
            None,
        )
        .unwrap();
        assert!(encoded.json_mode);
        let p = plan(
            anthropic,
            Op::Chat,
            "claude-x",
            encoded,
            &Settings::default(),
            overrides(""),
            &no_attr,
        )
        .unwrap();
        assert_eq!(p.req.url, "https://api.anthropic.com/v1/messages");
        assert!(p.req.headers.contains(&("x-api-key".into(), "k".into())));
        assert!(p
            .req
            .headers
            .contains(&("anthropic-version".into(), "2023-06-01".into())));
        assert_eq!(p.req.max_retries, 3);
        assert_eq!(p.read.end, StreamEnd::Strict);
    }
}
