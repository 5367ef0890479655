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
use crate::errors::CoreError;
use crate::providers::openai::{build_request, Endpoint, Target};
use crate::providers::{resolve, spec};
use crate::runtime::{block_on, core, into_awaitable};
use crate::transport::HttpRequest;

/// How much of an unparsable reply body an error carries.
const MAX_ERROR_BODY: usize = 1 << 20;

/// A finished non-streamed exchange; becomes `(body, headers, status)` in Python, the body
/// parsed straight from bytes.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl<'py> IntoPyObject<'py> for Reply {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let body = parse(py, &self.body).map_err(|mut e| {
            // The unparsable body travels with the error, so callers can report it as
            // their own JSON parser would (transparent mode re-parses it in Python).
            if e.body.is_none() {
                let n = self.body.len().min(MAX_ERROR_BODY);
                e.body = Some(String::from_utf8_lossy(&self.body[..n]).into_owned());
            }
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
        api_base: resolve(spec.base_sources, opts.api_base.as_deref(), &attr).unwrap_or_default(),
        api_key: resolve(spec.key_sources, opts.api_key.as_deref(), &attr),
        api_version: match spec.version_sources {
            [] => None,
            srcs => resolve(srcs, opts.api_version.as_deref(), &attr),
        },
    };
    let mut headers = Vec::new();
    for (name, src) in spec.extra_headers {
        // Later entries for the same header take precedence when they resolve.
        if let Some(v) = resolve(std::slice::from_ref(src), None, &attr) {
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
) -> PyResult<HttpRequest> {
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
    prepare(py, provider, endpoint, model, body, opts)
}

async fn run(op: Op, req: HttpRequest) -> Result<Outcome, CoreError> {
    let resp = core().client.send(req).await?;
    if op == Op::ChatStream {
        return Ok(Outcome::Stream(ChatStream::start(resp)));
    }
    let status = resp.status;
    let headers = resp.headers.clone();
    let body = resp.bytes().await?;
    Ok(Outcome::Reply(Reply {
        status,
        headers,
        body,
    }))
}

/// One upstream call, blocking with the GIL released. `op` is "chat", "chat_stream" or
/// "embed"; `payload` is the messages or the embedding input. Replies come back as
/// `(body, headers, status)`; streams as a `ChatStream` once the response head arrived, so
/// upstream errors raise here as they do in LiteLLM.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None))]
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
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let op = Op::parse(py, op)?;
        let opts = CallOpts {
            api_key,
            api_base,
            api_version,
            headers,
            timeout,
            max_retries,
            body,
        };
        let req = build(py, op, provider, model, &payload, params.as_ref(), opts)?;
        let outcome = block_on(py, run(op, req))?.map_err(|e| to_pyerr(py, e))?;
        outcome.into_pyobject(py)
    })
}

/// `request` as an asyncio awaitable; cancelling the task drops the request and its
/// connection.
#[pyfunction]
#[pyo3(signature = (op, provider, model, payload, params=None, *, api_key=None, api_base=None, api_version=None, headers=None, timeout=None, max_retries=None, body=None))]
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
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let op = Op::parse(py, op)?;
        let opts = CallOpts {
            api_key,
            api_base,
            api_version,
            headers,
            timeout,
            max_retries,
            body,
        };
        let req = build(py, op, provider, model, &payload, params.as_ref(), opts)?;
        into_awaitable(py, async move { run(op, req).await.map_err(PyErr::from) })
    })
}

/// Registered with `atexit` by the package: stop delivering results to an exiting interpreter.
#[pyfunction]
pub fn _at_exit(py: Python<'_>) {
    crate::runtime::mark_shutdown(py);
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
