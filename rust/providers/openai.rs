//! The OpenAI wire family: OpenAI itself, Azure OpenAI deployments, and every
//! OpenAI-compatible server. Bodies are forwarded as LiteLLM hands them over.

use std::time::Duration;

use super::registry::{Auth, ProviderSpec};
use crate::errors::CoreError;
use crate::transport::HttpRequest;

/// Which endpoint of the family a call targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Chat,
    Embeddings,
}

/// Credentials and location, already resolved through the provider's sources.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub api_base: String,
    pub api_key: Option<String>,
    pub api_version: Option<String>,
}

pub fn build_request(
    spec: &ProviderSpec,
    endpoint: Endpoint,
    model: &str,
    target: &Target,
    extra_headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
    max_retries: u32,
) -> Result<HttpRequest, CoreError> {
    let url = url_for(spec, endpoint, model, target)?;
    let mut headers: Vec<(String, String)> = Vec::with_capacity(extra_headers.len() + 2);
    if let Some(key) = target.api_key.as_deref() {
        match spec.auth {
            Auth::Bearer => headers.push(("authorization".into(), format!("Bearer {key}"))),
            Auth::AzureApiKey => headers.push(("api-key".into(), key.to_owned())),
            Auth::None => {}
        }
    } else if spec.key_required {
        return Err(CoreError::new(
            crate::errors::ErrorKind::InvalidRequest,
            format!(
                "no API key for provider {:?}: pass api_key or set one of its environment variables",
                spec.name
            ),
        )
        .with_status(401));
    }
    // Caller headers win over ours, as `extra_headers` do in the OpenAI SDK.
    for (k, v) in extra_headers {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
        headers.push((k, v));
    }
    Ok(HttpRequest {
        url,
        headers,
        body: body.into(),
        timeout,
        max_retries,
    })
}

fn url_for(
    spec: &ProviderSpec,
    endpoint: Endpoint,
    model: &str,
    target: &Target,
) -> Result<String, CoreError> {
    let base = target.api_base.trim_end_matches('/');
    if base.is_empty() {
        return Err(CoreError::invalid(format!(
            "no api_base for provider {:?}",
            spec.name
        )));
    }
    let path = match endpoint {
        Endpoint::Chat => spec.chat_path,
        Endpoint::Embeddings => spec.embeddings_path.ok_or_else(|| {
            CoreError::invalid(format!("provider {:?} has no embeddings endpoint", spec.name))
        })?,
    };
    if spec.auth == Auth::AzureApiKey {
        let version = target.api_version.as_deref().ok_or_else(|| {
            CoreError::invalid("azure needs api_version (or AZURE_API_VERSION)".to_owned())
        })?;
        // Azure addresses a deployment, named by the model.
        return Ok(format!(
            "{base}/openai/deployments/{model}{path}?api-version={version}"
        ));
    }
    Ok(format!("{base}{path}"))
}
