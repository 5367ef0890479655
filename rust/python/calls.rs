//! The Python-facing calls: the arguments converted into Rust values, the providers layer's
//! plan for them, then the same Rust future either blocked on with the GIL released (sync) or
//! returned as an awaitable.

use bytes::Bytes;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::bridge::{block_on, client_for, into_awaitable};
use super::convert::{headers_dict, timeout, Keywords};
use super::errors::{guard, to_pyerr};
use super::json::{parse, write_str, write_value};
use super::rebuild::PyRebuild;
use super::stream::ChatStream;
use crate::errors::CoreError;
use crate::providers::plan::{self, Body, Op, Overrides, Plan, Settings, Source};
use crate::providers::registry::Family;
use crate::providers::spec;
use crate::transport::{Client, Rebuild};

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

/// The keyword-only parameters of `request` / `arequest`, in declaration order.
const CALL_KEYWORDS: &[&str; 13] = &[
    "api_key",
    "api_base",
    "api_version",
    "headers",
    "timeout",
    "max_retries",
    "body",
    "native",
    "ssl_verify",
    "retry_count_header",
    "url",
    "content",
    "rebuild",
];

/// The keyword arguments of `request` / `arequest` (see `_core.pyi`).
struct CallOptions<'py> {
    api_key: Option<String>,
    api_base: Option<String>,
    api_version: Option<String>,
    headers: Option<Bound<'py, PyAny>>,
    timeout: Option<f64>,
    max_retries: Option<u32>,
    /// A request body already built by LiteLLM's provider transform: sent as is.
    body: Option<Bound<'py, PyDict>>,
    /// What LiteLLM reads from its model map for a translated family (`plan::Settings`).
    native: Option<Bound<'py, PyDict>>,
    ssl_verify: Option<Bound<'py, PyAny>>,
    /// A header numbering the attempts (see `HttpRequest::retry_count_header`).
    retry_count_header: Option<String>,
    /// With `content`: a request built by another client, sent to exactly this URL with
    /// exactly `headers` (`plan::exact`).
    url: Option<String>,
    content: Option<Vec<u8>>,
    /// With `url`: builds each retry's request anew (`rebuild::PyRebuild`).
    rebuild: Option<Bound<'py, PyAny>>,
}

impl<'py> CallOptions<'py> {
    fn extract(function: &str, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Self> {
        let mut k = Keywords::new(function, CALL_KEYWORDS, kwargs)?;
        Ok(CallOptions {
            api_key: k.take::<Option<String>>(0)?.flatten(),
            api_base: k.take::<Option<String>>(1)?.flatten(),
            api_version: k.take::<Option<String>>(2)?.flatten(),
            headers: k.take::<Option<Bound<'py, PyAny>>>(3)?.flatten(),
            timeout: k.take::<Option<f64>>(4)?.flatten(),
            max_retries: k.take::<Option<u32>>(5)?.flatten(),
            body: k.take::<Option<Bound<'py, PyDict>>>(6)?.flatten(),
            native: k.take::<Option<Bound<'py, PyDict>>>(7)?.flatten(),
            ssl_verify: k.take::<Option<Bound<'py, PyAny>>>(8)?.flatten(),
            retry_count_header: k.take::<Option<String>>(9)?.flatten(),
            url: k.take::<Option<String>>(10)?.flatten(),
            content: k.take::<Option<Vec<u8>>>(11)?.flatten(),
            rebuild: k.take::<Option<Bound<'py, PyAny>>>(12)?.flatten(),
        })
    }
}

/// The `native` dict as `plan::Settings`: flags by Python truthiness, absent ones false.
fn settings(native: Option<&Bound<'_, PyDict>>) -> PyResult<Settings> {
    let Some(n) = native else {
        return Ok(Settings::default());
    };
    let flag = |key: &str| -> PyResult<bool> {
        match n.get_item(key)? {
            Some(v) => v.is_truthy(),
            None => Ok(false),
        }
    };
    Ok(Settings {
        v1alpha: flag("v1alpha")?,
        penalties: flag("penalties")?,
        sampling: flag("sampling")?,
        default_output_budget: flag("default_output_budget")?,
        safety_settings: flag("safety_settings")?,
        default_max_tokens: match n.get_item("default_max_tokens")? {
            Some(v) => Some(v.extract()?),
            None => None,
        },
        metadata_user_id: match n.get_item("metadata_user_id")?.filter(|v| !v.is_none()) {
            Some(v) => Some(v.extract()?),
            None => None,
        },
        adaptive_thinking: flag("adaptive_thinking")?,
        no_sampling_params: flag("no_sampling_params")?,
        no_forced_tool_use: flag("no_forced_tool_use")?,
    })
}

/// The caller's `headers` as name/value pairs (`None` values left out).
fn caller_headers(py: Python<'_>, h: Option<Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let Some(h) = h.filter(|h| !h.is_none()) else {
        return Ok(out);
    };
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
        out.push((
            k.str()?.to_cow()?.into_owned(),
            v.str()?.to_cow()?.into_owned(),
        ));
    }
    Ok(out)
}

/// What `request` and `arequest` share: the call converted into Rust values and planned by
/// the providers layer, and the client for the call's TLS setting.
fn prepare_call(
    py: Python<'_>,
    op: &str,
    provider: &str,
    model: &str,
    payload: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyDict>>,
    opts: CallOptions<'_>,
) -> PyResult<(Client, Plan)> {
    let err = |e| to_pyerr(py, e);
    let op = Op::parse(op).map_err(err)?;
    if opts.rebuild.is_some() && opts.url.is_none() {
        return Err(err(CoreError::invalid("rebuild is only called with url")));
    }
    if let Some(url) = opts.url {
        let body = opts.content.ok_or_else(|| {
            err(CoreError::invalid(
                "url needs content (the request's bytes)",
            ))
        })?;
        let plan = plan::exact(
            op,
            url,
            caller_headers(py, opts.headers)?,
            body,
            timeout(py, opts.timeout, "number of seconds")?,
            opts.max_retries.unwrap_or(2),
            opts.retry_count_header,
        );
        return Ok((client_for(py, opts.ssl_verify.as_ref())?, plan));
    }
    if opts.content.is_some() {
        return Err(err(CoreError::invalid("content is only sent with url")));
    }
    if op != Op::Embed && payload.cast::<PyList>().is_err() && payload.cast::<PyTuple>().is_err() {
        return Err(err(CoreError::invalid("messages must be a list")));
    }
    let spec = spec(provider);
    let family = spec.map_or(Family::OpenAi, |s| s.family);
    let mut max_retries = opts.max_retries;
    let (body, settings) = if plan::translates(family, op) {
        let settings = settings(opts.native.as_ref())?;
        let params = match params {
            Some(p) => match to_json(py, p.as_any())? {
                serde_json::Value::Object(m) => m,
                _ => Default::default(),
            },
            None => Default::default(),
        };
        let source = match &opts.body {
            Some(prebuilt) => Source::Prebuilt(to_json(py, prebuilt.as_any())?),
            None => Source::Payload(to_json(py, payload)?),
        };
        (Body::Translated { params, source }, settings)
    } else {
        let written = match &opts.body {
            // Built by LiteLLM's provider transform: sent as is (only max_retries is read).
            Some(prebuilt) => {
                if let (None, Some(p)) = (max_retries, params) {
                    if let Some(v) = p.get_item("max_retries")?.filter(|v| !v.is_none()) {
                        max_retries = Some(v.extract()?);
                    }
                }
                let mut body = Vec::with_capacity(512);
                write_value(&mut body, prebuilt.as_any(), 0).map(|_| body)
            }
            None => write_body(
                model,
                (op.payload_key(), payload),
                params,
                op.stream(),
                &mut max_retries,
            ),
        };
        // A body that cannot be serialised is the caller's error, reported as such.
        let written = written
            .map_err(|e| err(CoreError::invalid(format!("request body: {}", e.value(py)))))?;
        (Body::Written(written), Settings::default())
    };
    let encoded = plan::encode(family, op, model, body, &settings, max_retries).map_err(err)?;
    let spec = spec.ok_or_else(|| {
        err(CoreError::invalid(format!(
            "provider {provider:?} is not served by the Rust core"
        )))
    })?;
    let overrides = Overrides {
        api_key: opts.api_key,
        api_base: opts.api_base,
        api_version: opts.api_version,
        headers: caller_headers(py, opts.headers)?,
        timeout: timeout(py, opts.timeout, "number of seconds")?,
        retry_count_header: opts.retry_count_header,
    };
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
    let plan = plan::plan(spec, op, model, encoded, &settings, overrides, &attr).map_err(err)?;
    Ok((client_for(py, opts.ssl_verify.as_ref())?, plan))
}

async fn run(
    client: Client,
    plan: Plan,
    rebuild: Option<&PyRebuild>,
) -> Result<Outcome, CoreError> {
    let Plan { req, read } = plan;
    let resp = client
        .send_rebuilt(req, rebuild.map(|r| r as &dyn Rebuild))
        .await?;
    if read.streams() {
        return Ok(Outcome::Stream(ChatStream::start(
            resp,
            read.translator(),
            read.end,
        )));
    }
    let status = resp.status;
    let reason = resp.reason.clone();
    let headers = resp.headers.clone();
    let body = read.reply(status, resp.bytes().await?)?;
    Ok(Outcome::Reply(Reply {
        status,
        reason,
        headers,
        body,
    }))
}

/// One upstream call, blocking with the GIL released. `op` is "chat", "chat_stream" or
/// "embed"; `payload` is the messages or the embedding input. Replies come back as
/// `(body, headers, status)`; streams as a `ChatStream` once the response head arrived, so
/// upstream errors raise here as they do in LiteLLM.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, **opts))]
#[pyo3(
    text_signature = "(op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None, native=None, ssl_verify=None, retry_count_header=None, url=None, content=None, rebuild=None)"
)]
pub fn request<'py>(
    py: Python<'py>,
    op: &str,
    provider: &str,
    model: &str,
    payload: Bound<'py, PyAny>,
    params: Option<Bound<'py, PyDict>>,
    opts: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = CallOptions::extract("request", opts.as_ref())?;
    let rebuild = opts.rebuild.clone().map(|r| PyRebuild::new(r, false));
    guard(py, || {
        let (client, plan) =
            prepare_call(py, op, provider, model, &payload, params.as_ref(), opts)?;
        let outcome =
            block_on(py, run(client, plan, rebuild.as_ref()))?.map_err(|e| match &rebuild {
                Some(r) => r.failure(e),
                None => to_pyerr(py, e),
            })?;
        outcome.into_pyobject(py)
    })
}

/// `request` as an asyncio awaitable; cancelling the task drops the request and its
/// connection.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, **opts))]
#[pyo3(
    text_signature = "(op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None, native=None, ssl_verify=None, retry_count_header=None, url=None, content=None, rebuild=None)"
)]
pub fn arequest<'py>(
    py: Python<'py>,
    op: &str,
    provider: &str,
    model: &str,
    payload: Bound<'py, PyAny>,
    params: Option<Bound<'py, PyDict>>,
    opts: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = CallOptions::extract("arequest", opts.as_ref())?;
    let rebuild = opts.rebuild.clone().map(|r| PyRebuild::new(r, true));
    guard(py, || {
        let (client, plan) =
            prepare_call(py, op, provider, model, &payload, params.as_ref(), opts)?;
        into_awaitable(py, async move {
            run(client, plan, rebuild.as_ref())
                .await
                .map_err(|e| match &rebuild {
                    Some(r) => r.failure(e),
                    None => PyErr::from(e),
                })
        })
    })
}

/// Registered with `atexit` by the package: stop delivering results to an exiting interpreter.
#[pyfunction]
pub fn _at_exit(py: Python<'_>) {
    super::bridge::mark_shutdown(py);
}

/// Results of awaitables waiting for their loop's drain (see `bridge::pending_deliveries`).
#[pyfunction]
pub fn _pending_deliveries() -> usize {
    super::bridge::pending_deliveries()
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
