//! `[antivirus]`: the clamd that scans contractors' uploads before they are
//! applied (ADR 0010). Absent: nothing is scanned (a warning at startup
//! when edges are configured).

use std::time::Duration;

use passerelle_clamav::{ClamdAddress, ClamdAntivirus, ClamdSettings, DEFAULT_MAX_STREAM_BYTES};
use serde::{Deserialize, Serialize};

/// The `[antivirus]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntivirusConfig {
    /// `unix:/run/clamav/clamd.ctl` (Debian's default `LocalSocket`) or
    /// `tcp:127.0.0.1:3310`.
    pub clamd: String,
    /// For connecting, each write, and the verdict.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Longest content scanned; longer is refused as unscannable. Must not
    /// exceed clamd's `StreamMaxLength` (25 MiB by default): raise both
    /// together.
    #[serde(default = "default_max_stream")]
    pub max_stream_bytes: u64,
    /// Scan agents' and service accounts' own uploads too (web, API,
    /// WebDAV, CMIS, hot folders): infected ones are refused, and while
    /// clamd is down their uploads are refused (503). Off by default.
    #[serde(default)]
    pub scan_agent_uploads: bool,
    /// Over a `unix:` socket, hand clamd each stored file by its
    /// descriptor (clamd's FILDES) instead of streaming its bytes: nothing
    /// copied, no temporary file on clamd's side, and clamd needs no
    /// right on the data directory. `false` only for a clamd built
    /// without descriptor passing. Ignored over `tcp:`.
    #[serde(default = "default_fd_passing")]
    pub fd_passing: bool,
}

fn default_timeout() -> u64 {
    30
}
fn default_max_stream() -> u64 {
    DEFAULT_MAX_STREAM_BYTES
}
fn default_fd_passing() -> bool {
    true
}

impl AntivirusConfig {
    /// The scanner these settings describe, checked.
    pub fn antivirus(&self) -> anyhow::Result<ClamdAntivirus> {
        let address: ClamdAddress = self
            .clamd
            .parse()
            .map_err(|e| anyhow::anyhow!("[antivirus] clamd: {e}"))?;
        if self.timeout_secs == 0 || self.timeout_secs > 600 {
            anyhow::bail!("[antivirus] timeout_secs must be between 1 and 600");
        }
        if self.max_stream_bytes == 0 || self.max_stream_bytes > u64::from(u32::MAX) {
            anyhow::bail!(
                "[antivirus] max_stream_bytes must be between 1 and 4294967295 (clamd's StreamMaxLength is a 32-bit size)"
            );
        }
        Ok(ClamdAntivirus::new(ClamdSettings {
            address,
            timeout: Duration::from_secs(self.timeout_secs),
            max_stream_bytes: self.max_stream_bytes,
            fd_passing: self.fd_passing,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(clamd: &str) -> AntivirusConfig {
        AntivirusConfig {
            clamd: clamd.into(),
            timeout_secs: default_timeout(),
            max_stream_bytes: default_max_stream(),
            scan_agent_uploads: false,
            fd_passing: true,
        }
    }

    #[test]
    fn a_section_with_a_unix_or_tcp_clamd_builds_a_scanner() {
        assert!(config("unix:/run/clamav/clamd.ctl").antivirus().is_ok());
        assert!(config("tcp:127.0.0.1:3310").antivirus().is_ok());
    }

    #[test]
    fn a_bad_address_or_bounds_are_refused_with_the_setting_named() {
        let e = config("127.0.0.1:3310")
            .antivirus()
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("[antivirus] clamd")));
        let mut zero = config("tcp:127.0.0.1:3310");
        zero.timeout_secs = 0;
        assert!(zero.antivirus().is_err());
        let mut huge = config("tcp:127.0.0.1:3310");
        huge.max_stream_bytes = 8 * 1024 * 1024 * 1024;
        assert!(huge.antivirus().is_err());
    }

    #[test]
    fn the_section_reads_from_toml_with_defaults() {
        let c: AntivirusConfig =
            toml::from_str("clamd = \"unix:/run/clamav/clamd.ctl\"").expect("toml");
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.max_stream_bytes, 25 * 1024 * 1024);
        assert!(!c.scan_agent_uploads);
        assert!(c.fd_passing);
        let streamed: AntivirusConfig =
            toml::from_str("clamd = \"unix:/run/clamav/clamd.ctl\"\nfd_passing = false")
                .expect("toml");
        assert!(!streamed.fd_passing);
        assert!(toml::from_str::<AntivirusConfig>("clamd = \"x\"\nscan = true").is_err());
    }
}
