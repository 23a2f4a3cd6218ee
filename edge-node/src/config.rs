//! Configuration of an edge node: defaults → TOML file (`--config`) →
//! `PASSERELLE_EDGE_*` environment (`__` for nesting) → command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use passerelle_core::replication::NodeId;
use serde::{Deserialize, Serialize};

/// The whole edge configuration; every field has a default.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// This node's id: the `<id>` of `passerelle://node/<id>` in its certificate.
    pub node_id: NodeId,
    /// SQLite database, blobs, partial transfers.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/edge.db`.
    pub database_url: Option<String>,
    /// Contractors' HTTP API (behind the DMZ's HTTPS reverse proxy).
    pub listen: SocketAddr,
    /// Replication (gRPC, mutual TLS): the only address the internal node dials.
    pub peer_listen: SocketAddr,
    /// Certificate, key and CA of the edge (`pki issue-edge` makes them).
    pub tls: TlsPaths,
    /// Node ids allowed to replicate with this edge.
    pub allowed_peers: Vec<String>,
    /// Largest file a contractor may upload, in bytes.
    pub max_upload_bytes: u64,
    /// Bytes kept free on the disk of `data_dir`: below, contractors'
    /// uploads (507) and replicated blobs (resource_exhausted) are refused
    /// before they are written, and `/readyz` and `status` say so. The room
    /// keeps the database working (rows of the other spaces, contractors'
    /// operations) and lets an un-share purge run, which writes to the
    /// database's log before it frees anything.
    pub min_free_bytes: u64,
    pub session_hours: u32,
    /// Bounds of the contractors' outbox (`[outbox]`).
    pub outbox: OutboxConfig,
    pub http: passerelle_http::HttpConfig,
    /// What text extraction may read, keep and spend per document
    /// (`[extract]`; bounds checked when the file is read). Contractors'
    /// files are the least trusted the system reads.
    pub extract: passerelle_extract::Limits,
    pub log: LogConfig,
    /// How contractors log in (`[auth]`).
    pub auth: AuthConfig,
    /// The edge's own relay for contractors' notices (`[mail]`, ADR
    /// 0013): never the LAN's. Absent: notices wait in the outbox.
    pub mail: Option<passerelle_mail::config::MailConfig>,
    /// Links and digests of notices (`[notifications]`): `public_url` is
    /// this edge's address as contractors reach it.
    pub notifications: passerelle_mail::config::NotificationsConfig,
}

/// `[auth]`: the second factor (ADR 0012).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `required` (contractors enrol at their first login and give a code
    /// at every one), `optional` (only those enrolled), or `off`.
    pub second_factor: passerelle_core::second_factor::SecondFactorPolicy,
    /// The name authenticator apps show beside the code.
    pub site_name: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            // The edge faces the Internet: a password alone is what every
            // audit flags.
            second_factor: passerelle_core::second_factor::SecondFactorPolicy::Required,
            site_name: "Passerelle".to_owned(),
        }
    }
}

/// How big the outbox of contractors' operations may grow.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Days a decided operation stays listed for its contractor after the
    /// internal node's verdict came back; then it is pruned (hourly).
    pub retention_days: u32,
    /// Most operations that may wait for the internal node at once: past
    /// it, contractors' writes are refused (503 `outbox_full`, retry later)
    /// until the internal node drains some.
    pub max_pending: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            retention_days: 30,
            max_pending: 10_000,
        }
    }
}

impl OutboxConfig {
    pub fn retention(&self) -> time::Duration {
        time::Duration::days(i64::from(self.retention_days))
    }
}

/// Paths of the TLS material; empty: `<data_dir>/tls/{cert,key,ca}.pem`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsPaths {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub ca: Option<PathBuf>,
}

pub use passerelle_node::{LogConfig, LogFormat};

impl Default for Config {
    fn default() -> Self {
        Self {
            node_id: NodeId::parse("edge-1").expect("a valid node id"),
            data_dir: PathBuf::from("passerelle-edge-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            peer_listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            tls: TlsPaths::default(),
            allowed_peers: vec!["internal".into()],
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            // 1 GiB: a purge of a large space writes tens of MiB of SQLite
            // log (secure_delete rewrites every page it frees), logs and
            // the system may share the disk; yet under 1 % of a data disk
            // sized for an edge.
            min_free_bytes: 1024 * 1024 * 1024,
            session_hours: 12,
            outbox: OutboxConfig::default(),
            http: passerelle_http::HttpConfig::default(),
            extract: passerelle_extract::Limits::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            mail: None,
            notifications: passerelle_mail::config::NotificationsConfig::default(),
        }
    }
}

/// The configuration could not be read; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "the file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        // PASSERELLE_EDGE_CONFIG names the file (a flag), not a setting.
        fig = fig.merge(
            Env::prefixed("PASSERELLE_EDGE_")
                .ignore(&["config"])
                .split("__"),
        );
        let c: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        if c.allowed_peers.is_empty() {
            return Err(ConfigError(
                "allowed_peers is empty: name the internal node's id (e.g. \"internal\")".into(),
            ));
        }
        Ok(c)
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("edge.db").display()
            ),
        }
    }

    /// The search index: derived data, rebuilt when deleted.
    pub fn search_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("search")
    }

    pub fn tls_files(&self) -> passerelle_grpc::TlsFiles {
        let dir = self.data_dir.join("tls");
        passerelle_grpc::TlsFiles {
            cert: self
                .tls
                .cert
                .clone()
                .unwrap_or_else(|| dir.join("cert.pem")),
            key: self.tls.key.clone().unwrap_or_else(|| dir.join("key.pem")),
            ca: self.tls.ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.database_url();
        let redacted = match url
            .split_once("://")
            .and_then(|(s, r)| r.split_once('@').map(|(c, h)| (s, c, h)))
        {
            Some((scheme, creds, host)) => format!(
                "{scheme}://{}:***@{host}",
                creds.split(':').next().unwrap_or_default()
            ),
            None => url,
        };
        f.debug_struct("Config")
            .field("node_id", &self.node_id)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redacted)
            .field("listen", &self.listen)
            .field("peer_listen", &self.peer_listen)
            .field("tls", &self.tls)
            .field("allowed_peers", &self.allowed_peers)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("min_free_bytes", &self.min_free_bytes)
            .field("outbox", &self.outbox)
            .field("extract", &self.extract)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_defaults_with_tls_files_in_the_data_dir() {
        let c = Config::default();
        assert_eq!(
            c.tls_files().cert,
            PathBuf::from("passerelle-edge-data/tls/cert.pem")
        );
        assert!(
            c.database_url()
                .starts_with("sqlite://passerelle-edge-data/")
        );
    }

    #[test]
    fn the_outbox_keeps_decided_operations_30_days_and_10000_pending_unless_told() {
        let c = Config::default();
        assert_eq!(c.outbox.retention(), time::Duration::days(30));
        assert_eq!(c.outbox.max_pending, 10_000);
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("e.toml");
        std::fs::write(&f, "[outbox]\nretention_days = 7\nmax_pending = 500\n").expect("write");
        let c = Config::load(Some(&f)).expect("loads");
        assert_eq!(c.outbox.retention(), time::Duration::days(7));
        assert_eq!(c.outbox.max_pending, 500);
        std::fs::write(&f, "[outbox]\nretention = \"7d\"\n").expect("write");
        assert!(
            Config::load(Some(&f))
                .expect_err("unknown key")
                .to_string()
                .contains("retention")
        );
    }

    #[test]
    fn the_deployment_example_loads_with_its_outbox_bounds() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/edge/passerelle-edge.toml");
        let c = Config::load(Some(&example)).expect("the example is valid");
        assert_eq!(c.outbox.retention_days, 30);
        assert_eq!(c.outbox.max_pending, 10_000);
        assert_eq!(c.extract, passerelle_extract::Limits::default());
    }

    #[test]
    fn extraction_limits_are_read_and_bad_ones_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("e.toml");
        std::fs::write(&f, "[extract]\nchild_cpu_seconds = 10\n").expect("write");
        let c = Config::load(Some(&f)).expect("loads");
        assert_eq!(c.extract.child_cpu_seconds, 10);
        std::fs::write(&f, "[extract]\nchild_memory_bytes = 1024\n").expect("write");
        let err = Config::load(Some(&f)).expect_err("too little").to_string();
        assert!(err.contains("extract.child_memory_bytes = 1024"), "{err}");
        assert!(err.contains("set it between 67108864"), "{err}");
    }

    #[test]
    fn keeps_1_gib_free_unless_told() {
        assert_eq!(Config::default().min_free_bytes, 1 << 30);
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("e.toml");
        std::fs::write(&f, "min_free_bytes = 4194304\n").expect("write");
        assert_eq!(
            Config::load(Some(&f)).expect("loads").min_free_bytes,
            4 << 20
        );
        std::fs::write(&f, "min_free_bytes = \"1G\"\n").expect("write");
        assert!(Config::load(Some(&f)).is_err(), "bytes, as a number");
    }

    #[test]
    fn an_invalid_node_id_is_refused_when_the_file_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("e.toml");
        std::fs::write(&f, "node_id = \"Edge 2\"\n").expect("write");
        let err = Config::load(Some(&f)).expect_err("invalid id");
        assert!(format!("{err:#}").contains("invalid node id"), "{err:#}");
        std::fs::write(&f, "node_id = \"edge-2\"\n").expect("write");
        assert_eq!(Config::load(Some(&f)).expect("valid").node_id, "edge-2");
    }

    #[test]
    fn refuses_unknown_keys_and_an_empty_allow_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("e.toml");
        std::fs::write(&f, "node_id = \"edge-2\"\nadmin = true\n").expect("write");
        assert!(
            Config::load(Some(&f))
                .expect_err("unknown key")
                .to_string()
                .contains("admin")
        );
        std::fs::write(&f, "allowed_peers = []\n").expect("write");
        assert!(
            Config::load(Some(&f))
                .expect_err("empty")
                .to_string()
                .contains("allowed_peers")
        );
    }
}
