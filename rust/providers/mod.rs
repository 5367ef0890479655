//! Provider families, with no Python in them. `registry` declares every provider once (its
//! family, who writes its body, LiteLLM's base URL / key sources and auth style); `plan`
//! dispatches a call to its family and yields the request to send and how to read the
//! answer; `openai` builds URL and auth headers from a registry entry (for every family) and
//! holds the OpenAI wire's stream check; `anthropic/` and `gemini/` translate their wire
//! formats (request, reply, stream) with the helpers in `translate`.

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod plan;
pub mod pyjson;
pub mod registry;
pub mod translate;

use registry::{ProviderSpec, Source};

/// Resolve a value through a provider's ordered sources, as LiteLLM does: the per-call
/// argument, `litellm.<attr>` settings (looked up by the caller, who holds the GIL), the
/// environment (`process_env` in production; tests pass their own instead of mutating
/// the process's), then the default.
pub fn resolve(
    sources: &[Source],
    arg: Option<&str>,
    litellm_attr: &dyn Fn(&str) -> Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    for src in sources {
        let found = match *src {
            Source::Arg => arg.filter(|s| !s.is_empty()).map(str::to_owned),
            Source::LitellmAttr(name) => litellm_attr(name).filter(|s| !s.is_empty()),
            Source::Env(name) => env(name).filter(|s| !s.is_empty()),
            Source::Default(v) => Some(v.to_owned()),
        };
        if found.is_some() {
            return found;
        }
    }
    None
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

/// The process environment, as `resolve` reads it in production.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
        let env =
            |name: &str| (name == "EDGEQUAKE_TEST_RESOLVE_KEY").then(|| "from-env".to_owned());
        let empty = |_: &str| Some(String::new());
        assert_eq!(resolve(&srcs, Some("a"), &attr, &env).as_deref(), Some("a"));
        assert_eq!(
            resolve(&srcs, None, &attr, &env).as_deref(),
            Some("from-attr")
        );
        assert_eq!(
            resolve(&srcs, Some(""), &none, &none).as_deref(),
            Some("dflt")
        );
        assert_eq!(
            resolve(&srcs, None, &none, &env).as_deref(),
            Some("from-env")
        );
        // Empty values count as unset, as LiteLLM's `a or b` chains do.
        assert_eq!(
            resolve(&srcs, Some(""), &empty, &empty).as_deref(),
            Some("dflt")
        );
        assert_eq!(resolve(&srcs[..3], None, &none, &none), None);
    }

    #[test]
    fn process_env_reads_the_environment() {
        // PATH is set for any test process; nothing here writes the environment.
        assert_eq!(process_env("PATH"), std::env::var("PATH").ok());
        assert_eq!(process_env("EDGEQUAKE_TEST_NEVER_SET_0F3A"), None);
    }
}
