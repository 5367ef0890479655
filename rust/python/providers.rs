//! The provider table, exposed so Python (docs, `doctor`, routing) reads the one source.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::providers::registry::{Auth, BodyBy, Source, PROVIDERS};

fn sources<'py>(py: Python<'py>, srcs: &[Source]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for s in srcs {
        let text = match s {
            Source::Arg => "arg".to_owned(),
            Source::LitellmAttr(a) => format!("litellm.{a}"),
            Source::Env(e) => format!("env:{e}"),
            Source::Default(d) => format!("default:{d}"),
        };
        out.append(text)?;
    }
    Ok(out)
}

/// `{name: {"api_base": [...], "api_key": [...], "api_version": [...], "auth": ..,
/// "key_required": .., "chat_path": .., "embeddings_path": .., "family": "openai" |
/// "anthropic" | "gemini", "body": "core" | "litellm",
/// "reply_service_tiers": [...] | None}}`
#[pyfunction]
pub fn providers(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for p in PROVIDERS {
        let d = PyDict::new(py);
        d.set_item("api_base", sources(py, p.base_sources)?)?;
        d.set_item("api_key", sources(py, p.key_sources)?)?;
        d.set_item("api_version", sources(py, p.version_sources)?)?;
        d.set_item(
            "auth",
            match p.auth {
                Auth::Bearer => "bearer",
                Auth::AzureApiKey => "api-key",
                Auth::XApiKey => "x-api-key",
                Auth::GoogApiKey => "x-goog-api-key",
                Auth::None => "none",
            },
        )?;
        d.set_item("key_required", p.key_required)?;
        d.set_item("chat_path", p.chat_path)?;
        d.set_item("embeddings_path", p.embeddings_path)?;
        d.set_item("family", p.family.name())?;
        d.set_item(
            "body",
            match p.body {
                BodyBy::Litellm => "litellm",
                BodyBy::Core => "core",
            },
        )?;
        d.set_item("reply_service_tiers", p.reply_service_tiers)?;
        out.set_item(p.name, d)?;
    }
    Ok(out)
}
