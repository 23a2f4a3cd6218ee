//! `HttpConfig`: what the REST adapter needs from the node's configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings of the HTTP adapter. The node composes it into its own config
/// (TOML section `[http]`, `PASSERELLE_HTTP__*` overrides) and owns the
/// listening address: [`crate::serve`] takes an already bound listener.
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
}

impl HttpConfig {
    pub fn json_timeout(&self) -> Duration {
        Duration::from_secs(self.json_timeout_secs)
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            max_json_bytes: 1024 * 1024,
            json_timeout_secs: 30,
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
    }
}
