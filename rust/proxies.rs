//! Proxy settings from the environment, read as httpx (LiteLLM's client) reads them through
//! `urllib.request.getproxies()`: `<scheme>_proxy` in any case with the lower-case name
//! winning (an empty lower-case value unsets), `HTTP_PROXY` ignored under CGI
//! (`REQUEST_METHOD` set), `NO_PROXY` a comma list where `*` turns every proxy off.
//! reqwest's own reader differs on those points (upper case first, CGI drops every proxy).

use std::collections::HashMap;
use std::ffi::OsString;

/// The proxies for `scheme` ("http", "https", "all") and the `no_proxy` list.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EnvProxies {
    pub http: Option<String>,
    pub https: Option<String>,
    pub all: Option<String>,
    pub no_proxy: Option<String>,
}

impl EnvProxies {
    pub fn from_env() -> Self {
        Self::from_vars(std::env::vars_os())
    }

    /// `urllib.request.getproxies_environment` over these variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let mut found: HashMap<String, String> = HashMap::new();
        // First any case, then the lower-case names again so they override.
        for (name, value) in &vars {
            let lower = name.to_ascii_lowercase();
            if let Some(scheme) = lower.strip_suffix("_proxy") {
                if !value.is_empty() {
                    found.insert(scheme.to_owned(), value.clone());
                }
            }
        }
        if vars.iter().any(|(k, _)| k == "REQUEST_METHOD") {
            found.remove("http");
        }
        for (name, value) in &vars {
            if let Some(scheme) = name.strip_suffix("_proxy") {
                let scheme = scheme.to_ascii_lowercase();
                if value.is_empty() {
                    found.remove(&scheme);
                } else {
                    found.insert(scheme, value.clone());
                }
            }
        }
        EnvProxies {
            http: found.remove("http"),
            https: found.remove("https"),
            all: found.remove("all"),
            no_proxy: found.remove("no"),
        }
    }

    /// reqwest proxies in httpx's order of precedence (scheme-specific before `all`). A
    /// proxy URL reqwest cannot use is skipped, as is everything under `NO_PROXY=*`.
    pub fn to_reqwest(&self) -> Vec<reqwest::Proxy> {
        let no = self.no_proxy.as_deref().unwrap_or("");
        if no.split(',').any(|h| h.trim() == "*") {
            return Vec::new();
        }
        let with_scheme = |url: &str| {
            if url.contains("://") {
                url.to_owned()
            } else {
                format!("http://{url}")
            }
        };
        let mut out = Vec::new();
        let mut add = |p: reqwest::Result<reqwest::Proxy>| {
            if let Ok(p) = p {
                out.push(p.no_proxy(reqwest::NoProxy::from_string(no)));
            }
        };
        if let Some(u) = &self.http {
            add(reqwest::Proxy::http(with_scheme(u)));
        }
        if let Some(u) = &self.https {
            add(reqwest::Proxy::https(with_scheme(u)));
        }
        if let Some(u) = &self.all {
            add(reqwest::Proxy::all(with_scheme(u)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvProxies {
        EnvProxies::from_vars(
            pairs
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        )
    }

    #[test]
    fn upper_and_lower_case_names_are_read() {
        let e = env(&[("HTTPS_PROXY", "http://p:1"), ("http_proxy", "http://q:2")]);
        assert_eq!(e.https.as_deref(), Some("http://p:1"));
        assert_eq!(e.http.as_deref(), Some("http://q:2"));
    }

    #[test]
    fn lower_case_wins_and_empty_lower_case_unsets() {
        let e = env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ]);
        assert_eq!(e.https.as_deref(), Some("http://lower:2"));
        let e = env(&[
            ("https_proxy", "http://lower:2"),
            ("HTTPS_PROXY", "http://upper:1"),
        ]);
        assert_eq!(e.https.as_deref(), Some("http://lower:2"));
        let e = env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "")]);
        assert_eq!(e.https, None);
        // An empty upper-case value does not hide a lower-case one.
        let e = env(&[("HTTPS_PROXY", ""), ("https_proxy", "http://lower:2")]);
        assert_eq!(e.https.as_deref(), Some("http://lower:2"));
    }

    #[test]
    fn cgi_ignores_upper_case_http_proxy_only() {
        let e = env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://evil:1"),
            ("HTTPS_PROXY", "http://p:1"),
        ]);
        assert_eq!(e.http, None);
        assert_eq!(e.https.as_deref(), Some("http://p:1"));
    }

    #[test]
    fn no_proxy_star_turns_proxies_off() {
        let e = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "a.com, *")]);
        assert!(e.to_reqwest().is_empty());
        let e = env(&[("HTTPS_PROXY", "p:1"), ("ALL_PROXY", "http://a:2")]);
        assert_eq!(e.to_reqwest().len(), 2);
    }

    #[test]
    fn unrelated_variables_are_ignored() {
        assert_eq!(
            env(&[("PATH", "/bin"), ("PROXY", "x")]),
            EnvProxies::default()
        );
    }
}
