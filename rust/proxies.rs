//! Proxy settings from the environment, read as httpx (LiteLLM's client) reads them through
//! `urllib.request.getproxies()`: `<scheme>_proxy` in any case with the lower-case name
//! winning (an empty lower-case value unsets), `HTTP_PROXY` ignored under CGI
//! (`REQUEST_METHOD` set); and then matched as httpx matches them (`get_environment_proxies`
//! and `URLPattern`): `NO_PROXY` entries become patterns (`*` turns every proxy off,
//! `example.com` is the domain and its subdomains, `.example.com` only the subdomains, an IP
//! is exact, `scheme://host:port` is honoured), and the most specific pattern decides.
//! reqwest's own reader differs on these points (upper case first, CGI drops every proxy,
//! curl's `NO_PROXY` rules).

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::{Ipv4Addr, Ipv6Addr};

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

    /// httpx's mounts for these settings (`get_environment_proxies`), most specific first:
    /// each pattern with its proxy URL, or `None` for a `NO_PROXY` entry (go direct).
    fn mounts(&self) -> Vec<(Pattern, Option<String>)> {
        let mut mounts = Vec::new();
        for (scheme, value) in [
            ("http", &self.http),
            ("https", &self.https),
            ("all", &self.all),
        ] {
            if let Some(v) = value {
                let url = if v.contains("://") {
                    v.clone()
                } else {
                    format!("http://{v}")
                };
                if let Some(p) = Pattern::parse(&format!("{scheme}://")) {
                    mounts.push((p, Some(url)));
                }
            }
        }
        for host in self
            .no_proxy
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
        {
            let bare = host.split('/').next().unwrap_or("");
            let pattern = if host == "*" {
                return Vec::new();
            } else if host.is_empty() {
                continue;
            } else if host.contains("://") {
                host.to_owned()
            } else if bare.parse::<Ipv4Addr>().is_ok() {
                format!("all://{host}")
            } else if bare.parse::<Ipv6Addr>().is_ok() {
                format!("all://[{host}]")
            } else if host.eq_ignore_ascii_case("localhost") {
                format!("all://{host}")
            } else {
                format!("all://*{host}")
            };
            if let Some(p) = Pattern::parse(&pattern) {
                mounts.push((p, None));
            }
        }
        // Stable, like Python's sorted(): ties keep their order.
        mounts.sort_by_key(|(p, _)| p.priority());
        mounts
    }

    /// One reqwest proxy that picks, per request URL, what httpx would pick.
    pub fn to_reqwest(&self) -> Vec<reqwest::Proxy> {
        let mounts = self.mounts();
        if mounts.iter().all(|(_, target)| target.is_none()) {
            return Vec::new();
        }
        vec![reqwest::Proxy::custom(move |url| select(&mounts, url))]
    }
}

/// The proxy for `url`: the first (most specific) matching mount decides.
fn select(mounts: &[(Pattern, Option<String>)], url: &reqwest::Url) -> Option<String> {
    // As httpx's URL.host: lower case, an IPv6 address without its brackets.
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_ascii_lowercase();
    mounts
        .iter()
        .find(|(p, _)| p.matches(url.scheme(), &host, url.port()))
        .and_then(|(_, target)| target.clone())
}

/// httpx's `URLPattern`: `scheme://host:port` where scheme `all` is any scheme, host `*` or
/// none is any host, `*.d` the subdomains of `d`, `*d` both `d` and its subdomains.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Pattern {
    fn parse(pattern: &str) -> Option<Pattern> {
        let (scheme, rest) = pattern.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6.split_once(']')?;
                (h, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let port = match port {
            None | Some("") => None,
            Some(p) => Some(p.parse::<u16>().ok()?),
        };
        // httpx's URL leaves out a scheme's default port, as does the URL it is matched with.
        let default = match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        let host = host.to_ascii_lowercase();
        Some(Pattern {
            port: port.filter(|p| Some(*p) != default),
            scheme: if scheme == "all" {
                String::new()
            } else {
                scheme
            },
            host: if host == "*" { String::new() } else { host },
        })
    }

    fn matches(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let subdomain_of = |d: &str| {
            host.len() > d.len() + 1
                && host.ends_with(d)
                && host.as_bytes()[host.len() - d.len() - 1] == b'.'
        };
        let host_ok = if self.host.is_empty() {
            true
        } else if let Some(d) = self.host.strip_prefix("*.") {
            subdomain_of(d)
        } else if let Some(d) = self.host.strip_prefix('*') {
            host == d || subdomain_of(d)
        } else {
            host == self.host
        };
        (self.scheme.is_empty() || self.scheme == scheme)
            && host_ok
            && (self.port.is_none() || self.port == port)
    }

    /// httpx's `URLPattern.priority`: a port first, then longer hosts, then longer schemes.
    fn priority(&self) -> (u8, isize, isize) {
        (
            u8::from(self.port.is_none()),
            -(self.host.len() as isize),
            -(self.scheme.len() as isize),
        )
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
        let e = env(&[("NO_PROXY", "a.com")]);
        assert!(e.to_reqwest().is_empty());
    }

    fn pick(pairs: &[(&str, &str)], url: &str) -> Option<String> {
        select(&env(pairs).mounts(), &reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn scheme_specific_proxies_and_all() {
        let vars = [("HTTP_PROXY", "h:1"), ("HTTPS_PROXY", "http://s:2")];
        assert_eq!(pick(&vars, "http://x/").as_deref(), Some("http://h:1"));
        assert_eq!(pick(&vars, "https://x/").as_deref(), Some("http://s:2"));
        let vars = [("ALL_PROXY", "http://a:3"), ("HTTPS_PROXY", "http://s:2")];
        assert_eq!(pick(&vars, "http://x/").as_deref(), Some("http://a:3"));
        assert_eq!(pick(&vars, "https://x/").as_deref(), Some("http://s:2"));
    }

    #[test]
    fn no_proxy_entries_match_as_httpx_patterns() {
        let p = |no: &str, url: &str| pick(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", no)], url);
        // A domain: itself and its subdomains, not a longer name ending the same way.
        assert_eq!(p("example.com", "https://example.com/"), None);
        assert_eq!(p("example.com", "https://api.example.com/"), None);
        assert!(p("example.com", "https://notexample.com/").is_some());
        // A leading dot: subdomains only.
        assert!(p(".example.com", "https://example.com/").is_some());
        assert_eq!(p(".example.com", "https://api.example.com/"), None);
        // IPs are exact (a CIDR block names its first address only, as in httpx).
        assert_eq!(p("10.0.0.1", "http://10.0.0.1:8080/"), None);
        assert!(p("10.0.0.0/8", "http://10.0.0.1/").is_some());
        assert_eq!(p("::1", "http://[::1]:8080/"), None);
        assert_eq!(p("localhost", "http://localhost:1/"), None);
        assert!(p("localhost", "http://sub.localhost/").is_some());
        // Ports and schemes in entries.
        assert_eq!(p("example.com:8443", "https://example.com:8443/"), None);
        assert!(p("example.com:8443", "https://example.com/").is_some());
        assert_eq!(p("https://example.com", "https://example.com/"), None);
        assert!(p("https://example.com", "http://example.com/").is_some());
        assert_eq!(p("https://example.com:443", "https://example.com/"), None);
        // Case does not matter.
        assert_eq!(p("EXAMPLE.com", "https://Example.COM/"), None);
    }

    #[test]
    fn unrelated_variables_are_ignored() {
        assert_eq!(
            env(&[("PATH", "/bin"), ("PROXY", "x")]),
            EnvProxies::default()
        );
    }
}
