//! The OpenAI wire family: OpenAI itself, Azure OpenAI deployments, and every
//! OpenAI-compatible server. Bodies are forwarded as LiteLLM hands them over.

use super::registry::{Auth, Join, ProviderSpec};
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
) -> Result<HttpRequest, CoreError> {
    if spec.name == "openai_like" {
        openai_like_checks(target)?;
    }
    if spec.auth == Auth::AzureApiKey && target.api_key.is_none() && azure_env_ad_token() {
        // The AzureOpenAI SDK sends AZURE_OPENAI_AD_TOKEN as a Bearer token when no key is set.
        return Err(CoreError::not_served(
            "azure AD tokens (AZURE_OPENAI_AD_TOKEN)",
        ));
    }
    let url = url_for(spec, endpoint, model, target)?;
    let mut headers: Vec<(String, String)> = Vec::with_capacity(extra_headers.len() + 2);
    if let Some(key) = target.api_key.as_deref() {
        match spec.auth {
            Auth::Bearer => headers.push(("authorization".into(), format!("Bearer {key}"))),
            Auth::AzureApiKey => headers.push(("api-key".into(), key.to_owned())),
            Auth::XApiKey => headers.push(("x-api-key".into(), key.to_owned())),
            Auth::GoogApiKey => headers.push(("x-goog-api-key".into(), key.to_owned())),
            Auth::None => {}
        }
    } else if spec.name == "fireworks_ai" {
        // `FireworksAIConfig.validate_environment` raises this ValueError itself.
        return Err(CoreError::invalid("FIREWORKS_API_KEY is not set"));
    } else if spec.key_required {
        // The OpenAI SDK's own words, so LiteLLM maps it as it maps the SDK's error.
        return Err(CoreError::invalid(match spec.auth {
            Auth::XApiKey => "Missing Anthropic API Key - A call is being made to anthropic but no key is set either in the environment variables or via params. Please set `ANTHROPIC_API_KEY` or `ANTHROPIC_AUTH_TOKEN` in your environment vars, or configure workload identity federation via `ANTHROPIC_FEDERATION_RULE_ID`, `ANTHROPIC_ORGANIZATION_ID`, `ANTHROPIC_SERVICE_ACCOUNT_ID` and `ANTHROPIC_IDENTITY_TOKEN_FILE` (or `ANTHROPIC_IDENTITY_TOKEN`)",
            Auth::GoogApiKey => "Missing Gemini API key. Set the GEMINI_API_KEY or GOOGLE_API_KEY environment variable.",
            Auth::AzureApiKey => "Missing credentials. Please pass one of `api_key`, `azure_ad_token`, `azure_ad_token_provider`, or the `AZURE_OPENAI_API_KEY` or `AZURE_OPENAI_AD_TOKEN` environment variables.",
            _ => "Missing credentials. Please pass an `api_key`, `workload_identity`, `admin_api_key`, or set the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment variable.",
        }));
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
        // The caller sets these per call.
        timeout: None,
        max_retries: 0,
        retry_count_header: None,
        raw: false,
    })
}

/// `OpenAILikeBase._validate_environment` (litellm/llms/openai_like/common_utils.py):
/// the key is checked before the base, in LiteLLM's words (raised as a 400).
fn openai_like_checks(target: &Target) -> Result<(), CoreError> {
    if target.api_key.is_none() {
        return Err(CoreError::invalid("Missing API Key - A call is being made to LLM Provider but no key is set either in the environment variables ({LLM_PROVIDER}_API_KEY) or via params").with_status(400));
    }
    if target.api_base.trim_end_matches('/').is_empty() {
        return Err(CoreError::invalid("Missing API Base - A call is being made to LLM Provider but no api base is set either in the environment variables ({LLM_PROVIDER}_API_KEY) or via params").with_status(400));
    }
    Ok(())
}

fn azure_env_ad_token() -> bool {
    std::env::var_os("AZURE_OPENAI_AD_TOKEN").is_some_and(|v| !v.is_empty())
}

fn url_for(
    spec: &ProviderSpec,
    endpoint: Endpoint,
    model: &str,
    target: &Target,
) -> Result<String, CoreError> {
    let mut base = target.api_base.trim_end_matches('/').to_owned();
    if base.is_empty() {
        return Err(CoreError::invalid(format!(
            "no api_base for provider {:?}",
            spec.name
        )));
    }
    if let Some(suffix) = spec.base_suffix {
        if !base.ends_with(suffix) {
            base.push_str(suffix);
        }
    }
    let path = match endpoint {
        Endpoint::Chat => spec.chat_path,
        Endpoint::Embeddings => spec.embeddings_path.ok_or_else(|| {
            CoreError::invalid(format!(
                "provider {:?} has no embeddings endpoint",
                spec.name
            ))
        })?,
    };
    if spec.auth == Auth::AzureApiKey {
        let version = target.api_version.as_deref().ok_or_else(|| {
            CoreError::invalid("azure needs api_version (or AZURE_API_VERSION)".to_owned())
        })?;
        // LiteLLM sends these to Azure's v1 API (`{base}/openai/v1/...`, Bearer auth, no
        // query) or to the deployment URL in the base: requests the core does not build.
        if matches!(version, "v1" | "latest" | "preview") {
            return Err(CoreError::not_served(format!(
                "azure api_version {version:?}"
            )));
        }
        if base.contains("/openai/deployments") {
            return Err(CoreError::not_served(
                "an azure api_base naming a deployment (/openai/deployments)",
            ));
        }
        // Azure addresses a deployment, named by the model.
        return Ok(format!(
            "{base}/openai/deployments/{model}{path}?api-version={version}"
        ));
    }
    if spec.chat_join == Join::GeminiModel {
        return Ok(format!("{base}/models/{model}{path}"));
    }
    if endpoint == Endpoint::Chat && spec.chat_join == Join::EnsureSuffix {
        let path_part = base
            .split_once("://")
            .map(|(_, rest)| rest.find('/').map(|i| &rest[i..]).unwrap_or(""))
            .unwrap_or(&base);
        let path_part = path_part.split(['?', '#']).next().unwrap_or("");
        if path_part.ends_with(path) {
            return Ok(base);
        }
    }
    if endpoint == Endpoint::Chat
        && spec.chat_join == Join::UnlessPresent
        && base.contains("chat/completions")
    {
        return Ok(base);
    }
    Ok(format!("{base}{path}"))
}

/// The OpenAI SDK's check of every streamed event: a payload whose `error` is set (truthy,
/// as Python tests it) ends the stream with that error, named by its `message` or by the
/// SDK's default words.
pub fn stream_error(data: &str) -> Option<CoreError> {
    if !data.contains("\"error\"") {
        return None; // the common case costs a substring scan, not a parse
    }
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    let err = v.as_object()?.get("error")?;
    let truthy = match err {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
    };
    if !truthy {
        return None;
    }
    let message = err
        .get("message")
        .and_then(serde_json::Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("An error occurred during streaming");
    let mut e = CoreError::new(crate::errors::ErrorKind::StreamError, message);
    e.body = Some(err.to_string());
    Some(e)
}

/// Providers whose LiteLLM config rewrites the request (parameter renames, message
/// flattening, schema cleaning; see docs/providers.md): for these the body is built by
/// LiteLLM's own `map_openai_params` + `transform_request` and the core sends it as is, so
/// the upstream sees exactly what LiteLLM's native path sends. The rest are forwarded as
/// LiteLLM hands them over, written by the core.
pub fn litellm_builds_body(provider: &str) -> bool {
    matches!(
        provider,
        "mistral"
            | "fireworks_ai"
            | "openrouter"
            | "sambanova"
            | "deepseek"
            | "deepinfra"
            | "hosted_vllm"
            | "xai"
            | "groq"
            | "cerebras"
            | "nvidia_nim"
            | "perplexity"
    )
}

/// The service tiers a provider's LiteLLM `transform_response` lets through on a reply; any
/// other (or none) becomes the first. Groq names its own (`on_demand`), which
/// `GroqChatConfig._map_groq_service_tier` maps to OpenAI's `auto` (its stream iterator leaves
/// chunks as sent).
pub fn reply_service_tiers(provider: &str) -> Option<&'static [&'static str]> {
    match provider {
        "groq" => Some(&["auto", "default", "flex"]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::registry::lookup;

    fn target(base: &str, key: Option<&str>, version: Option<&str>) -> Target {
        Target {
            api_base: base.to_owned(),
            api_key: key.map(str::to_owned),
            api_version: version.map(str::to_owned),
        }
    }

    #[test]
    fn openai_url_and_bearer() {
        let spec = lookup("openai").unwrap();
        let req = build_request(
            spec,
            Endpoint::Chat,
            "gpt-4o",
            &target("http://h:1/v1/", Some("sk-x"), None),
            vec![("x-extra".into(), "1".into())],
            b"{}".to_vec(),
        )
        .unwrap();
        assert_eq!(req.url, "http://h:1/v1/chat/completions");
        assert!(req
            .headers
            .contains(&("authorization".into(), "Bearer sk-x".into())));
        assert!(req.headers.contains(&("x-extra".into(), "1".into())));
    }

    #[test]
    fn caller_header_overrides_auth() {
        let spec = lookup("openai").unwrap();
        let req = build_request(
            spec,
            Endpoint::Embeddings,
            "m",
            &target("http://h/v1", Some("sk-x"), None),
            vec![("Authorization".into(), "Bearer other".into())],
            Vec::new(),
        )
        .unwrap();
        assert_eq!(req.url, "http://h/v1/embeddings");
        let auth: Vec<_> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .collect();
        assert_eq!(
            auth,
            vec![&("Authorization".to_owned(), "Bearer other".to_owned())]
        );
    }

    #[test]
    fn azure_requests_litellm_builds_differently_are_not_served() {
        let spec = lookup("azure").unwrap();
        let build = |base: &str, version: &str| {
            build_request(
                spec,
                Endpoint::Chat,
                "d",
                &target(base, Some("az"), Some(version)),
                Vec::new(),
                Vec::new(),
            )
        };
        for version in ["v1", "latest", "preview"] {
            let err = build("https://r.openai.azure.com", version).unwrap_err();
            assert_eq!(err.kind, crate::errors::ErrorKind::NotServed, "{version}");
        }
        let err = build(
            "https://r.openai.azure.com/openai/deployments/x",
            "2024-10-21",
        )
        .unwrap_err();
        assert_eq!(err.kind, crate::errors::ErrorKind::NotServed);
        assert!(build("https://r.openai.azure.com", "2024-10-21").is_ok());
    }

    #[test]
    fn openai_like_checks_the_key_before_the_base() {
        let spec = lookup("openai_like").unwrap();
        let build = |base: &str, key: Option<&str>| {
            build_request(
                spec,
                Endpoint::Embeddings,
                "m",
                &target(base, key, None),
                Vec::new(),
                Vec::new(),
            )
        };
        let err = build("", None).unwrap_err();
        assert!(
            err.message.starts_with("Missing API Key"),
            "{}",
            err.message
        );
        assert_eq!(err.status, Some(400));
        let err = build("", Some("k")).unwrap_err();
        assert!(
            err.message.starts_with("Missing API Base"),
            "{}",
            err.message
        );
        assert!(build("http://h/v1", Some("k")).is_ok());
    }

    #[test]
    fn fireworks_missing_key_is_litellms_error() {
        let spec = lookup("fireworks_ai").unwrap();
        let err = build_request(
            spec,
            Endpoint::Chat,
            "m",
            &target("http://h/v1", None, None),
            Vec::new(),
            Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.message, "FIREWORKS_API_KEY is not set");
    }

    #[test]
    fn azure_deployment_url_and_api_key_header() {
        let spec = lookup("azure").unwrap();
        let req = build_request(
            spec,
            Endpoint::Chat,
            "my-deploy",
            &target("https://r.openai.azure.com", Some("az"), Some("2024-10-21")),
            Vec::new(),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(
            req.url,
            "https://r.openai.azure.com/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21"
        );
        assert!(req.headers.contains(&("api-key".into(), "az".into())));
    }

    #[test]
    fn stream_error_events_as_the_sdk_reads_them() {
        let e = stream_error(r#"{"error": {"message": "boom", "type": "server_error"}}"#).unwrap();
        assert_eq!(e.kind, crate::errors::ErrorKind::StreamError);
        assert_eq!(e.message, "boom");
        assert_eq!(
            e.body.as_deref(),
            Some(r#"{"message":"boom","type":"server_error"}"#)
        );
        let e = stream_error(r#"{"error": "text"}"#).unwrap();
        assert_eq!(e.message, "An error occurred during streaming");
        // A falsy error, or "error" only inside the content, is an ordinary chunk.
        assert!(stream_error(r#"{"error": null, "choices": []}"#).is_none());
        assert!(stream_error(r#"{"error": {}}"#).is_none());
        assert!(stream_error(r#"{"choices": [{"delta": {"content": "\"error\""}}]}"#).is_none());
    }

    #[test]
    fn missing_base_is_an_error() {
        let spec = lookup("openai").unwrap();
        let err = build_request(
            spec,
            Endpoint::Chat,
            "m",
            &target("", Some("k"), None),
            Vec::new(),
            Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.kind, crate::errors::ErrorKind::InvalidRequest);
    }
}
