//! `HttpConfig`: what the HTTP adapters (API and pages) need from the
//! node's configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings of the HTTP adapters. The node composes it into its own config
/// (TOML section `[http]`, `PASSERELLE_HTTP__*` overrides) and owns the
/// listening address: `passerelle_http::serve` takes an already bound
/// listener.
/// No secret here, so the effective config may be logged whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Marks the session cookie `Secure`. Leave it on: browsers accept
    /// Secure cookies on `http://localhost`, and everything else should be
    /// behind TLS. Turn it off only for plain-HTTP tests on other hosts.
    pub secure_cookies: bool,
    /// Largest JSON request body. Content uploads are not JSON and are
    /// limited by core's `max_upload_bytes` instead.
    pub max_json_bytes: usize,
    /// Time limit of a JSON request (never applied to streamed uploads and
    /// downloads, which may legitimately take hours on a slow link).
    pub json_timeout_secs: u64,
    /// Public base URL of each edge node, by node id (`edge-1 =
    /// "https://partenaires.example.fr"`), for the invitation links the
    /// internal node hands to managers. An edge without one: the secret is
    /// returned bare and the manager builds the link.
    pub edge_public_urls: BTreeMap<String, String>,
    /// Origins allowed to frame the embeddable space view of the web UI
    /// (`/embed/spaces/{id}`), as CSP `frame-ancestors` sources, e.g.
    /// `["https://intranet.example.fr"]`. Empty: `'none'` (nobody). Every
    /// other page is never framed.
    pub embed_frame_ancestors: Vec<String>,
    /// Reverse proxies in front of this node (`["10.0.10.5"]`). A request
    /// from one of them is attributed to the client its `X-Forwarded-For`
    /// names (the nearest address that is not itself a listed proxy), so
    /// that login and invitation throttling counts per client, not per
    /// proxy. Empty (the default): the header is ignored, since anyone can
    /// send it.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Who may read `/metrics` besides loopback, which always may: addresses
    /// or networks (`["10.0.20.0/24", "192.0.2.9"]`) of the Prometheus
    /// servers, matched against the client address (behind
    /// `trusted_proxies` as for throttling). Anyone else gets 404: the
    /// metrics reveal the node's internals.
    pub metrics_allow: Vec<crate::metrics::IpNet>,
}

impl HttpConfig {
    pub fn json_timeout(&self) -> Duration {
        Duration::from_secs(self.json_timeout_secs)
    }

    /// The link a contractor opens to accept an invitation on `edge`
    /// ([`passerelle_core::replication::invitation_link`]).
    pub fn invitation_url(&self, edge: &str, secret: &str) -> Option<String> {
        passerelle_core::replication::invitation_link(self.edge_public_urls.get(edge)?, secret)
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            max_json_bytes: 1024 * 1024,
            json_timeout_secs: 30,
            edge_public_urls: BTreeMap::new(),
            embed_frame_ancestors: Vec::new(),
            trusted_proxies: Vec::new(),
            metrics_allow: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_keeps_defaults_and_unknown_fields_are_refused() {
        let c: HttpConfig = serde_json::from_str(r#"{"secure_cookies": false}"#).expect("valid");
        assert!(!c.secure_cookies);
        assert_eq!(c.max_json_bytes, HttpConfig::default().max_json_bytes);
        assert!(serde_json::from_str::<HttpConfig>(r#"{"secure_cookie": false}"#).is_err());
        assert!(c.edge_public_urls.is_empty());
        let c: HttpConfig =
            serde_json::from_str(r#"{"metrics_allow": ["10.0.20.0/24", "192.0.2.9"]}"#)
                .expect("valid");
        assert_eq!(c.metrics_allow.len(), 2);
        assert!(
            serde_json::from_str::<HttpConfig>(r#"{"metrics_allow": ["10.0.20.0/40"]}"#).is_err()
        );
    }

    #[test]
    fn invitation_links_carry_the_secret_in_the_fragment_of_the_edge_url() {
        let c: HttpConfig = serde_json::from_str(
            r#"{"edge_public_urls": {"edge-1": "https://partenaires.example.fr/", "edge-2": " "}}"#,
        )
        .expect("valid");
        assert_eq!(
            c.invitation_url("edge-1", "abc").as_deref(),
            Some("https://partenaires.example.fr/invitation#abc")
        );
        assert_eq!(c.invitation_url("edge-2", "abc"), None);
        assert_eq!(c.invitation_url("edge-3", "abc"), None);
    }
}
