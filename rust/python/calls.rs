//! The Python-facing calls: argument extraction into one request, then the same Rust
//! future either blocked on with the GIL released (sync) or returned as an awaitable.

use std::time::Duration;

use bytes::Bytes;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::errors::{guard, to_pyerr};
use super::json::{parse, write_str, write_value};
use super::stream::ChatStream;
use crate::awaitable::into_awaitable;
use crate::errors::CoreError;
use crate::providers::openai::{build_request, Endpoint, Target};
use crate::providers::registry::{Join, GEMINI_DEFAULT_BASE};
use crate::providers::{anthropic, gemini};
use crate::providers::{process_env, resolve, spec, Translator, Wire};
use crate::runtime::{block_on, core};
use crate::sse::StreamEnd;
use crate::transport::{Client, HttpRequest, Tls};

/// A finished non-streamed exchange; becomes `(body, headers, status)` in Python, the body
/// parsed straight from bytes.
pub struct Reply {
    pub status: u16,
    /// The status line's reason phrase, carried by a decode error.
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl<'py> IntoPyObject<'py> for Reply {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let body = parse(py, &self.body).map_err(|mut e| {
            // The unparsable body (set by `parse`) travels with the reply's status line and
            // headers, so callers can report it as their own client would: the OpenAI SDK
            // parses by content type, LiteLLM quotes the SDK response's reason phrase.
            e.headers = self.headers.clone();
            e.status = e.status.or(Some(self.status));
            e.reason = Some(self.reason.clone());
            to_pyerr(py, e)
        })?;
        let headers = headers_dict(py, &self.headers)?;
        PyTuple::new(
            py,
            [
                body,
                headers.into_any(),
                self.status.into_pyobject(py)?.into_any(),
            ],
        )
    }
}

pub fn headers_dict<'py>(
    py: Python<'py>,
    headers: &[(String, String)],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in headers {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Keyword arguments shared by every call.
struct CallOpts<'py> {
    api_key: Option<String>,
    api_base: Option<String>,
    api_version: Option<String>,
    headers: Option<Bound<'py, PyAny>>,
    timeout: Option<f64>,
    max_retries: Option<u32>,
    /// A request body already built by LiteLLM's provider transform: sent as is.
    body: Option<Bound<'py, PyDict>>,
    /// Settings of natively translated providers that LiteLLM reads from its model map
    /// and `litellm_params` (see `anthropic::Options`).
    native: Option<Bound<'py, PyDict>>,
    /// A header numbering the attempts (see `HttpRequest::retry_count_header`).
    retry_count_header: Option<String>,
}

fn prepare(
    py: Python<'_>,
    provider: &str,
    endpoint: Endpoint,
    model: &str,
    body: Vec<u8>,
    opts: CallOpts<'_>,
) -> PyResult<HttpRequest> {
    let spec = spec(provider).ok_or_else(|| {
        to_pyerr(
            py,
            CoreError::invalid(format!(
                "provider {provider:?} is not served by the Rust core"
            )),
        )
    })?;
    let litellm = py
        .import(intern!(py, "sys"))?
        .getattr(intern!(py, "modules"))?
        .get_item("litellm")
        .ok();
    let attr = |name: &str| -> Option<String> {
        litellm
            .as_ref()?
            .getattr(name)
            .ok()?
            .extract::<String>()
            .ok()
    };
    let target = Target {
        api_base: resolve(
            spec.base_sources,
            opts.api_base.as_deref(),
            &attr,
            &process_env,
        )
        .unwrap_or_default(),
        api_key: resolve(
            spec.key_sources,
            opts.api_key.as_deref(),
            &attr,
            &process_env,
        ),
        api_version: match spec.version_sources {
            [] => None,
            srcs => resolve(srcs, opts.api_version.as_deref(), &attr, &process_env),
        },
    };
    let mut headers = Vec::new();
    for (name, src) in spec.extra_headers {
        // Later entries for the same header take precedence when they resolve.
        if let Some(v) = resolve(std::slice::from_ref(src), None, &attr, &process_env) {
            headers.retain(|(h, _): &(String, String)| !h.eq_ignore_ascii_case(name));
            headers.push(((*name).to_owned(), v));
        }
    }
    if let Some(h) = opts.headers {
        if !h.is_none() {
            let d = h.cast::<PyDict>().map_err(|_| {
                to_pyerr(
                    py,
                    CoreError::invalid("headers must be a dict of str to str"),
                )
            })?;
            for (k, v) in d.iter() {
                if v.is_none() {
                    continue;
                }
                headers.push((
                    k.str()?.to_cow()?.into_owned(),
                    v.str()?.to_cow()?.into_owned(),
                ));
            }
        }
    }
    let timeout = match opts.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => {
            return Err(to_pyerr(
                py,
                CoreError::invalid(format!(
                    "timeout must be a positive number of seconds, got {t}"
                )),
            ))
        }
    };
    let mut req = build_request(spec, endpoint, model, &target, headers, body)
        .map_err(|e| to_pyerr(py, e))?;
    req.timeout = timeout;
    req.max_retries = opts.max_retries.unwrap_or(2);
    req.retry_count_header = opts.retry_count_header;
    Ok(req)
}

/// `{"model": .., <first>: .., **params, **extra_body}` with params' `stream`/`stream_options`
/// set for the call's mode, written in one walk. `extra_body` is merged shallowly and wins, as
/// in the OpenAI SDK.
fn write_body(
    model: &str,
    first: (&str, &Bound<'_, PyAny>),
    params: Option<&Bound<'_, PyDict>>,
    stream: Option<bool>,
    max_retries: &mut Option<u32>,
) -> PyResult<Vec<u8>> {
    let mut entries: Vec<(String, Bound<'_, PyAny>)> = Vec::new();
    let mut extra: Option<Bound<'_, PyDict>> = None;
    if let Some(p) = params {
        for (k, v) in p.iter() {
            let key = k.cast::<PyString>()?.to_cow()?.into_owned();
            match (key.as_str(), stream) {
                ("extra_body", _) => {
                    if !v.is_none() {
                        extra = Some(v.cast_into::<PyDict>().map_err(PyErr::from)?);
                    }
                }
                ("stream", Some(_)) => {}
                // Client settings that LiteLLM leaves in params; never part of the body.
                ("max_retries", _) => {
                    if max_retries.is_none() && !v.is_none() {
                        *max_retries = Some(v.extract::<u32>()?);
                    }
                }
                ("extra_headers", _) => {}
                ("stream_options", Some(false)) => {}
                _ => entries.push((key, v)),
            }
        }
    }
    if let Some(x) = extra {
        for (k, v) in x.iter() {
            let key = k.cast::<PyString>()?.to_cow()?.into_owned();
            match entries.iter_mut().find(|(ek, _)| *ek == key) {
                Some(slot) => slot.1 = v,
                None => entries.push((key, v)),
            }
        }
    }
    let mut out = Vec::with_capacity(512);
    out.push(b'{');
    write_str(&mut out, "model");
    out.push(b':');
    write_str(&mut out, model);
    out.push(b',');
    write_str(&mut out, first.0);
    out.push(b':');
    write_value(&mut out, first.1, 0)?;
    if stream == Some(true) && !entries.iter().any(|(k, _)| k == "stream") {
        out.extend_from_slice(b",\"stream\":true");
    }
    for (k, v) in &entries {
        out.push(b',');
        write_str(&mut out, k);
        out.push(b':');
        write_value(&mut out, v, 0)?;
    }
    out.push(b'}');
    Ok(out)
}

/// What a call asks of the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Chat,
    ChatStream,
    Embed,
}

impl Op {
    fn parse(py: Python<'_>, s: &str) -> PyResult<Op> {
        match s {
            "chat" => Ok(Op::Chat),
            "chat_stream" => Ok(Op::ChatStream),
            "embed" => Ok(Op::Embed),
            other => Err(to_pyerr(
                py,
                CoreError::invalid(format!("unknown operation {other:?}")),
            )),
        }
    }
}

/// A finished call: a parsed reply, or a stream whose head has arrived.
pub enum Outcome {
    Reply(Reply),
    Stream(ChatStream),
}

impl<'py> IntoPyObject<'py> for Outcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        match self {
            Outcome::Reply(r) => Ok(r.into_pyobject(py)?.into_any()),
            Outcome::Stream(s) => Ok(Bound::new(py, s)?.into_any()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn build(
    py: Python<'_>,
    op: Op,
    provider: &str,
    model: &str,
    payload: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyDict>>,
    opts: CallOpts<'_>,
) -> PyResult<Plan> {
    let (endpoint, first, stream) = match op {
        Op::Chat | Op::ChatStream => {
            if payload.cast::<PyList>().is_err() && payload.cast::<PyTuple>().is_err() {
                return Err(to_pyerr(py, CoreError::invalid("messages must be a list")));
            }
            (Endpoint::Chat, "messages", Some(op == Op::ChatStream))
        }
        Op::Embed => (Endpoint::Embeddings, "input", None),
    };
    let mut opts = opts;
    let wire = Wire::of(provider);
    if wire == Wire::Anthropic && endpoint == Endpoint::Chat {
        let (body, json_mode) = anthropic_body(py, model, payload, params, stream, &mut opts)?;
        let req = prepare(py, provider, endpoint, model, body, opts)?;
        return Ok(Plan::new(req, wire, json_mode, model));
    }
    if wire == Wire::Gemini {
        let v1alpha = native_flag(&opts, "v1alpha")?;
        let body = gemini_body(py, model, endpoint, payload, params, stream, &mut opts)?;
        let mut req = prepare(py, provider, endpoint, model, body, opts)?;
        if v1alpha {
            // LiteLLM's public endpoint for Gemini 3 and newer is v1alpha.
            if let Some(rest) = req.url.strip_prefix(GEMINI_DEFAULT_BASE) {
                req.url = format!("https://generativelanguage.googleapis.com/v1alpha{rest}");
            }
        }
        if stream == Some(true) {
            req.url = req
                .url
                .replacen(":generateContent", ":streamGenerateContent?alt=sse", 1);
        }
        if endpoint == Endpoint::Embeddings
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
        return Ok(Plan::new(req, wire, false, model));
    }
    let written = match opts.body.take() {
        // Built by LiteLLM's provider transform: sent as is (only max_retries is read).
        Some(prebuilt) => {
            if let (None, Some(p)) = (opts.max_retries, params) {
                if let Some(v) = p.get_item("max_retries")?.filter(|v| !v.is_none()) {
                    opts.max_retries = Some(v.extract()?);
                }
            }
            let mut body = Vec::with_capacity(512);
            write_value(&mut body, prebuilt.as_any(), 0).map(|_| body)
        }
        None => write_body(
            model,
            (first, payload),
            params,
            stream,
            &mut opts.max_retries,
        ),
    };
    // A body that cannot be serialised is the caller's error, reported as such.
    let body = written.map_err(|e| {
        to_pyerr(
            py,
            CoreError::invalid(format!("request body: {}", e.value(py))),
        )
    })?;
    let mut plan = Plan::new(
        prepare(py, provider, endpoint, model, body, opts)?,
        Wire::OpenAi,
        false,
        model,
    );
    // LiteLLM reads these providers' streams with the OpenAI SDK, whose decoder drops an
    // incomplete last event (a body that is not SSE yields no chunks, not an error).
    if spec(provider).is_some_and(|s| s.chat_join == Join::Always) {
        plan.end = StreamEnd::LikeOpenAiSdk;
    }
    Ok(plan)
}

/// The `ssl_verify` argument: `False` turns verification off, a string is a PEM CA bundle
/// to trust exclusively, `True`/`None` use the platform store.
pub(crate) fn client_for(
    py: Python<'_>,
    ssl_verify: Option<&Bound<'_, PyAny>>,
) -> PyResult<Client> {
    let tls = match ssl_verify {
        None => Tls::System,
        Some(v) if v.is_none() => Tls::System,
        Some(v) => match v.extract::<bool>() {
            Ok(true) => Tls::System,
            Ok(false) => Tls::Off,
            Err(_) => Tls::CaFile(v.extract::<String>().map_err(|_| {
                to_pyerr(
                    py,
                    CoreError::invalid("ssl_verify must be a bool or a CA bundle path"),
                )
            })?),
        },
    };
    if let Some(client) = core().cached_client(&tls) {
        return Ok(client);
    }
    // The first use of a setting reads and parses its CA bundle: not while holding the GIL.
    py.detach(|| core().client(&tls))
        .map_err(|e| to_pyerr(py, e))
}

/// A request ready to send, and how to read its answer.
struct Plan {
    req: HttpRequest,
    wire: Wire,
    /// Anthropic: `response_format` emulated with LiteLLM's `json_tool_call` tool.
    json_mode: bool,
    /// The model the call named, for replies that do not say.
    model: String,
    /// What an incomplete last stream event means.
    end: StreamEnd,
}

impl Plan {
    fn new(req: HttpRequest, wire: Wire, json_mode: bool, model: &str) -> Plan {
        Plan {
            req,
            wire,
            json_mode,
            model: model.to_owned(),
            end: StreamEnd::Strict,
        }
    }
}

fn native_flag(opts: &CallOpts<'_>, key: &str) -> PyResult<bool> {
    match &opts.native {
        Some(n) => match n.get_item(key)? {
            Some(v) => v.is_truthy(),
            None => Ok(false),
        },
        None => Ok(false),
    }
}

/// The `generateContent` / `batchEmbedContents` body: LiteLLM's prebuilt one when given,
/// else translated here.
fn gemini_body(
    py: Python<'_>,
    model: &str,
    endpoint: Endpoint,
    payload: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyDict>>,
    stream: Option<bool>,
    opts: &mut CallOpts<'_>,
) -> PyResult<Vec<u8>> {
    let params_json = translated_params(py, params, opts)?;
    let empty = serde_json::Map::new();
    let p = params_json.as_object().unwrap_or(&empty);
    let body = match (opts.body.take(), endpoint) {
        (Some(prebuilt), _) => to_json(py, prebuilt.as_any())?,
        (None, Endpoint::Embeddings) => {
            gemini::embed_body(model, &to_json(py, payload)?, p).map_err(|e| to_pyerr(py, e))?
        }
        (None, Endpoint::Chat) => {
            let o = gemini::Options {
                stream: stream == Some(true),
                penalties: native_flag(opts, "penalties")?,
                sampling: native_flag(opts, "sampling")?,
                litellm_adds: native_flag(opts, "default_output_budget")?
                    || native_flag(opts, "safety_settings")?,
            };
            gemini::request_body(&to_json(py, payload)?, p, &o).map_err(|e| to_pyerr(py, e))?
        }
    };
    serde_json::to_vec(&body).map_err(|e| to_pyerr(py, CoreError::invalid(e.to_string())))
}

/// The call's parameters as JSON, for the providers the core translates. LiteLLM's Anthropic
/// and Gemini handlers never retry: only an explicit `max_retries` does.
fn translated_params(
    py: Python<'_>,
    params: Option<&Bound<'_, PyDict>>,
    opts: &mut CallOpts<'_>,
) -> PyResult<serde_json::Value> {
    let params_json = match params {
        Some(p) => to_json(py, p.as_any())?,
        None => serde_json::Value::Object(Default::default()),
    };
    if opts.max_retries.is_none() {
        opts.max_retries = Some(
            params_json
                .get("max_retries")
                .and_then(serde_json::Value::as_u64)
                .map(|n| n as u32)
                .unwrap_or(0),
        );
    }
    Ok(params_json)
}

/// Python objects -> a JSON tree, for the providers the core translates.
fn to_json(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let mut buf = Vec::with_capacity(512);
    write_value(&mut buf, v, 0).map_err(|e| {
        to_pyerr(
            py,
            CoreError::invalid(format!("request body: {}", e.value(py))),
        )
    })?;
    serde_json::from_slice(&buf).map_err(|e| to_pyerr(py, CoreError::invalid(e.to_string())))
}

/// The Messages API body: LiteLLM's prebuilt one when given (features the core does not
/// translate), else translated here. Also says whether `response_format` is emulated with
/// LiteLLM's `json_tool_call` tool, which the reply translation must undo.
fn anthropic_body(
    py: Python<'_>,
    model: &str,
    payload: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyDict>>,
    stream: Option<bool>,
    opts: &mut CallOpts<'_>,
) -> PyResult<(Vec<u8>, bool)> {
    let params_json = translated_params(py, params, opts)?;
    let body = match opts.body.take() {
        Some(prebuilt) => to_json(py, prebuilt.as_any())?,
        None => {
            let mut o = anthropic::Options {
                stream: stream == Some(true),
                default_max_tokens: 4096,
                ..Default::default()
            };
            if let Some(n) = &opts.native {
                if let Some(v) = n.get_item("default_max_tokens")? {
                    o.default_max_tokens = v.extract()?;
                }
                if let Some(v) = n.get_item("metadata_user_id")?.filter(|v| !v.is_none()) {
                    o.metadata_user_id = Some(v.extract()?);
                }
            }
            o.adaptive_thinking = native_flag(opts, "adaptive_thinking")?;
            o.no_sampling_params = native_flag(opts, "no_sampling_params")?;
            o.no_forced_tool_use = native_flag(opts, "no_forced_tool_use")?;
            let empty = serde_json::Map::new();
            let p = params_json.as_object().unwrap_or(&empty);
            anthropic::request_body(model, &to_json(py, payload)?, p, &o)
                .map_err(|e| to_pyerr(py, e))?
        }
    };
    let json_mode = body["tools"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["name"].as_str() == Some(anthropic::JSON_TOOL))
    });
    let bytes =
        serde_json::to_vec(&body).map_err(|e| to_pyerr(py, CoreError::invalid(e.to_string())))?;
    Ok((bytes, json_mode))
}

async fn run(op: Op, client: Client, plan: Plan) -> Result<Outcome, CoreError> {
    let Plan {
        req,
        wire,
        json_mode,
        model,
        end,
    } = plan;
    let resp = client.send(req).await?;
    if op == Op::ChatStream {
        let translator = match wire {
            Wire::Anthropic => Some(Translator::Anthropic(anthropic::StreamState::new(
                json_mode,
            ))),
            Wire::Gemini => Some(Translator::Gemini(gemini::StreamState::new(&model))),
            Wire::OpenAi => None,
        };
        return Ok(Outcome::Stream(ChatStream::start(resp, translator, end)));
    }
    let status = resp.status;
    let reason = resp.reason.clone();
    let headers = resp.headers.clone();
    let mut body = resp.bytes().await?;
    if wire != Wire::OpenAi {
        let reply: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            // LiteLLM's words for an unparsable reply (quoting the reply).
            CoreError::decode(format!(
                "Unable to get json response - {e}, Original Response: {}",
                String::from_utf8_lossy(&body)
            ))
            .with_status(status)
        })?;
        let out = match (wire, op) {
            (Wire::Anthropic, _) => anthropic::response(&reply, json_mode)?,
            (_, Op::Embed) => gemini::embed_response(&reply, &model)?,
            _ => gemini::response(&reply, &model)?,
        };
        body = Bytes::from(serde_json::to_vec(&out).map_err(|e| CoreError::decode(e.to_string()))?);
    }
    Ok(Outcome::Reply(Reply {
        status,
        reason,
        headers,
        body,
    }))
}

/// What `request` and `arequest` share: the operation, the client for the call's TLS setting,
/// and the request ready to send.
#[allow(clippy::too_many_arguments)]
fn prepare_call(
    py: Python<'_>,
    op: &str,
    provider: &str,
    model: &str,
    payload: &Bound<'_, PyAny>,
    params: Option<Bound<'_, PyDict>>,
    opts: CallOpts<'_>,
    ssl_verify: Option<Bound<'_, PyAny>>,
) -> PyResult<(Op, Client, Plan)> {
    let op = Op::parse(py, op)?;
    let plan = build(py, op, provider, model, payload, params.as_ref(), opts)?;
    Ok((op, client_for(py, ssl_verify.as_ref())?, plan))
}

/// One upstream call, blocking with the GIL released. `op` is "chat", "chat_stream" or
/// "embed"; `payload` is the messages or the embedding input. Replies come back as
/// `(body, headers, status)`; streams as a `ChatStream` once the response head arrived, so
/// upstream errors raise here as they do in LiteLLM.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None, native=None, ssl_verify=None, retry_count_header=None))]
#[allow(clippy::too_many_arguments)]
pub fn request<'py>(
    py: Python<'py>,
    op: &str,
    provider: &str,
    model: &str,
    payload: Bound<'py, PyAny>,
    params: Option<Bound<'py, PyDict>>,
    api_key: Option<String>,
    api_base: Option<String>,
    api_version: Option<String>,
    headers: Option<Bound<'py, PyAny>>,
    timeout: Option<f64>,
    max_retries: Option<u32>,
    body: Option<Bound<'py, PyDict>>,
    native: Option<Bound<'py, PyDict>>,
    ssl_verify: Option<Bound<'py, PyAny>>,
    retry_count_header: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let opts = CallOpts {
            api_key,
            api_base,
            api_version,
            headers,
            timeout,
            max_retries,
            body,
            native,
            retry_count_header,
        };
        let (op, client, plan) =
            prepare_call(py, op, provider, model, &payload, params, opts, ssl_verify)?;
        let outcome = block_on(py, run(op, client, plan))?.map_err(|e| to_pyerr(py, e))?;
        outcome.into_pyobject(py)
    })
}

/// `request` as an asyncio awaitable; cancelling the task drops the request and its
/// connection.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None, native=None, ssl_verify=None, retry_count_header=None))]
#[allow(clippy::too_many_arguments)]
pub fn arequest<'py>(
    py: Python<'py>,
    op: &str,
    provider: &str,
    model: &str,
    payload: Bound<'py, PyAny>,
    params: Option<Bound<'py, PyDict>>,
    api_key: Option<String>,
    api_base: Option<String>,
    api_version: Option<String>,
    headers: Option<Bound<'py, PyAny>>,
    timeout: Option<f64>,
    max_retries: Option<u32>,
    body: Option<Bound<'py, PyDict>>,
    native: Option<Bound<'py, PyDict>>,
    ssl_verify: Option<Bound<'py, PyAny>>,
    retry_count_header: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let opts = CallOpts {
            api_key,
            api_base,
            api_version,
            headers,
            timeout,
            max_retries,
            body,
            native,
            retry_count_header,
        };
        let (op, client, plan) =
            prepare_call(py, op, provider, model, &payload, params, opts, ssl_verify)?;
        into_awaitable(py, async move {
            run(op, client, plan).await.map_err(PyErr::from)
        })
    })
}

/// Registered with `atexit` by the package: stop delivering results to an exiting interpreter.
#[pyfunction]
pub fn _at_exit(py: Python<'_>) {
    crate::awaitable::mark_shutdown(py);
}

/// Test hook: make the core panic inside a sync call ("sync"), an awaitable ("async") or a
/// stream reader's decode ("stream"), to prove panics surface as exceptions. Only active
/// when `EDGEQUAKE_DEBUG_HOOKS=1`, so production code cannot trigger it by accident.
#[pyfunction]
pub fn _debug_panic<'py>(py: Python<'py>, mode: &str) -> PyResult<Bound<'py, PyAny>> {
    if std::env::var("EDGEQUAKE_DEBUG_HOOKS").as_deref() != Ok("1") {
        return Err(to_pyerr(
            py,
            CoreError::invalid("debug hooks are disabled (set EDGEQUAKE_DEBUG_HOOKS=1)"),
        ));
    }
    match mode {
        "sync" => guard(py, || {
            block_on(py, async { panic!("debug panic in a sync call") })?;
            Ok(py.None().into_bound(py))
        }),
        "async" => into_awaitable(py, async {
            if std::env::var("EDGEQUAKE_DEBUG_HOOKS").is_ok() {
                panic!("debug panic in an awaitable");
            }
            Ok(())
        }),
        other => Err(to_pyerr(
            py,
            CoreError::invalid(format!("unknown debug panic mode {other:?}")),
        )),
    }
}
