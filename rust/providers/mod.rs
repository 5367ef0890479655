//! Provider families. Each family module turns a call into an `HttpRequest` (URL, auth
//! headers, body) and knows its response shapes; `registry` holds LiteLLM's per-provider
//! defaults (base URLs, key sources, auth style).

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod pyjson;
pub mod registry;

use registry::{ProviderSpec, Source};

/// Resolve a value through a provider's ordered sources, as LiteLLM does: the per-call
/// argument, `litellm.<attr>` settings (looked up by the caller, who holds the GIL), the
/// environment, then the default.
pub fn resolve(
    sources: &[Source],
    arg: Option<&str>,
    litellm_attr: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    for src in sources {
        let found = match *src {
            Source::Arg => arg.filter(|s| !s.is_empty()).map(str::to_owned),
            Source::LitellmAttr(name) => litellm_attr(name).filter(|s| !s.is_empty()),
            Source::Env(name) => std::env::var(name).ok().filter(|s| !s.is_empty()),
            Source::Default(v) => Some(v.to_owned()),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The wire format a provider speaks: the OpenAI family is forwarded, the others are
/// translated by their module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
    Gemini,
}

impl Wire {
    pub fn of(provider: &str) -> Wire {
        match provider {
            "anthropic" => Wire::Anthropic,
            "gemini" => Wire::Gemini,
            _ => Wire::OpenAi,
        }
    }
}

/// A translated provider's stream state: native events in, OpenAI chunk dicts out.
#[derive(Debug)]
pub enum Translator {
    Anthropic(anthropic::StreamState),
    Gemini(gemini::StreamState),
}

impl Translator {
    pub fn event(
        &mut self,
        data: &str,
    ) -> Result<Vec<serde_json::Value>, crate::errors::CoreError> {
        match self {
            Translator::Anthropic(s) => s.event(data),
            Translator::Gemini(s) => s.event(data),
        }
    }
}

pub fn spec(name: &str) -> Option<&'static ProviderSpec> {
    registry::lookup(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_prefers_arg_then_attr_then_env_then_default() {
        let srcs = [
            Source::Arg,
            Source::LitellmAttr("api_key"),
            Source::Env("EDGEQUAKE_TEST_RESOLVE_KEY"),
            Source::Default("dflt"),
        ];
        let none = |_: &str| None;
        let attr = |_: &str| Some("from-attr".to_owned());
        assert_eq!(resolve(&srcs, Some("a"), &attr).as_deref(), Some("a"));
        assert_eq!(resolve(&srcs, None, &attr).as_deref(), Some("from-attr"));
        assert_eq!(resolve(&srcs, Some(""), &none).as_deref(), Some("dflt"));
        std::env::set_var("EDGEQUAKE_TEST_RESOLVE_KEY", "from-env");
        assert_eq!(resolve(&srcs, None, &none).as_deref(), Some("from-env"));
        std::env::remove_var("EDGEQUAKE_TEST_RESOLVE_KEY");
    }
}
