//! Configuration of the internal node: defaults → TOML file (`--config`) →
//! `PASSERELLE_*` environment (`__` for nesting) → command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use passerelle_core::replication::NodeId;
use serde::{Deserialize, Serialize};

/// The whole node configuration. Every field has a default, so the node runs
/// with no file at all (SQLite + blobs in `./passerelle-data`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// This node's id: the `<id>` of `passerelle://node/<id>` in its client
    /// certificate, sent to edges.
    pub node_id: NodeId,
    /// Where the SQLite database, the blobs and temporary files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/passerelle.db`.
    pub database_url: Option<String>,
    /// Address of the HTTP API (and later the web UI).
    pub listen: SocketAddr,
    /// Largest file accepted for one version, in bytes.
    pub max_upload_bytes: u64,
    /// Lifetime of a login session, in hours.
    pub session_hours: u32,
    /// HTTP adapter settings.
    pub http: passerelle_http::HttpConfig,
    /// Edge nodes this node replicates shared spaces to (it dials them).
    pub replication: ReplicationConfig,
    /// What text extraction may read, keep and spend per document
    /// (`[extract]`; bounds checked when the file is read).
    pub extract: passerelle_extract::Limits,
    /// Hot folders (`[[drops]]`): directories business applications drop
    /// flows into, each filed as a service account (ADR 0008 §2).
    pub drops: Vec<DropConfig>,
    /// The authority's directory, which checks agents' passwords
    /// (`[ldap]`, ADR 0009); absent: local accounts only.
    pub ldap: Option<crate::ldap::LdapConfig>,
    /// The clamd that scans contractors' uploads before they are applied
    /// (`[antivirus]`, ADR 0010); absent: nothing is scanned.
    pub antivirus: Option<crate::antivirus::AntivirusConfig>,
    /// Access that ends (`[access]`, ADR 0011).
    pub access: AccessConfig,
    /// The relay agents' notices go through (`[mail]`, ADR 0013);
    /// absent: notices wait in the outbox.
    pub mail: Option<passerelle_mail::config::MailConfig>,
    /// Links and digests of notices (`[notifications]`).
    pub notifications: passerelle_mail::config::NotificationsConfig,
    pub log: LogConfig,
}

/// Access that ends by itself (ADR 0011).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Contractors not active on any edge for this many days are disabled
    /// (ADR 0011 §5); a manager re-enables them. 0: never.
    pub contractor_inactivity_days: u32,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            contractor_inactivity_days: 180,
        }
    }
}

impl AccessConfig {
    /// The period core takes; `None` when off.
    pub fn contractor_inactivity(&self) -> Option<time::Duration> {
        (self.contractor_inactivity_days > 0)
            .then(|| time::Duration::days(i64::from(self.contractor_inactivity_days)))
    }
}

/// What a drop folder's files are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropKind {
    /// Helios PES V2 (`PES_Aller`) files.
    Pes,
    /// @CTES bundles (`.tar.gz`).
    Actes,
    /// Any file, filed as it is.
    Generic,
}

/// How a drop folder is watched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropMode {
    /// inotify: changes wake the worker at once (local disks).
    #[default]
    Inotify,
    /// A scan every `poll_secs`: SMB and NFS mounts, where inotify sees
    /// nothing of other hosts' writes.
    Poll,
}

/// Files a drop folder files at once unless configured: measured on two
/// cores (docs/benchmarks.md, "Hot folders vs REST").
pub const DEFAULT_DROP_CONCURRENCY: usize = 8;

/// One hot folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropConfig {
    /// Its stable name (`helios-finances`): the ledger's key, the
    /// worker's name (`watch:<name>`). Lowercase letters, digits, `-`, `_`.
    pub name: String,
    /// The directory watched; `traite/`, `erreur/` and `.passerelle/` are
    /// made inside it.
    pub path: PathBuf,
    pub kind: DropKind,
    /// The service account it files as (`passerelle-internal service add`).
    pub service: String,
    /// The target space's slug.
    pub space: String,
    /// The target folder in the space, `/`-separated; created when
    /// missing. Empty: the space's root.
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub mode: DropMode,
    /// Seconds between two scans in `poll` mode.
    #[serde(default = "DropConfig::default_poll_secs")]
    pub poll_secs: u64,
    /// Seconds between two full scans in `inotify` mode (events are lost
    /// when the kernel's queue overflows: the scan is the ground truth).
    #[serde(default = "DropConfig::default_rescan_secs")]
    pub rescan_secs: u64,
    /// A file without an `.ok` marker is taken once its size and time
    /// have not changed for this many seconds.
    #[serde(default = "DropConfig::default_stable_secs")]
    pub stable_secs: u64,
    /// Larger files go to `erreur/` unread.
    #[serde(default = "DropConfig::default_max_bytes")]
    pub max_bytes: u64,
    /// Files filed at once (1 to 32): parsed and staged side by side, and
    /// those ready together filed in one transaction. 1 files one file
    /// after the other.
    #[serde(default = "DropConfig::default_concurrency")]
    pub concurrency: usize,
}

impl DropConfig {
    fn default_poll_secs() -> u64 {
        5
    }
    fn default_rescan_secs() -> u64 {
        60
    }
    fn default_stable_secs() -> u64 {
        5
    }
    fn default_max_bytes() -> u64 {
        2 * 1024 * 1024 * 1024
    }
    fn default_concurrency() -> usize {
        DEFAULT_DROP_CONCURRENCY
    }

    /// The target folder's names.
    pub fn folder_names(&self) -> Vec<String> {
        self.folder
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// What `Config::load` refuses, with the fix.
    fn check(&self) -> Result<(), ConfigError> {
        let at = |what: String| ConfigError(format!("[[drops]] {:?}: {what}", self.name));
        passerelle_core::flows::DropName::parse(&self.name)
            .map_err(|e| at(format!("name: {e}")))?;
        if self.service.trim().is_empty() || self.space.trim().is_empty() {
            return Err(at(
                "set `service` (a service account's login) and `space` (a slug)".into(),
            ));
        }
        if !(1..=3600).contains(&self.poll_secs) || !(1..=86_400).contains(&self.rescan_secs) {
            return Err(at(
                "poll_secs is 1 to 3600 (default 5), rescan_secs 1 to 86400 (default 60)".into(),
            ));
        }
        if !(1..=32).contains(&self.concurrency) {
            return Err(at(format!(
                "concurrency is 1 to 32 (default {DEFAULT_DROP_CONCURRENCY})"
            )));
        }
        if self.stable_secs > 3600 || self.max_bytes == 0 {
            return Err(at(
                "stable_secs is at most 3600 (default 5), max_bytes more than 0".into(),
            ));
        }
        Ok(())
    }
}

/// Replication to edge nodes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// This node's client certificate, key and the CA; empty: the files
    /// `pki issue-internal` wrote under `<data_dir>/pki/issued/<node_id>/`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    pub edges: Vec<EdgeConfig>,
}

/// One edge node.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// Its node id (URI SAN of its certificate), e.g. `edge-1`.
    pub id: NodeId,
    /// Its replication address, `https://edge.example.fr:7443`.
    pub endpoint: String,
    /// Name its certificate must carry, when not the endpoint's host.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Where contractors reach it, for invitation links
    /// (`https://partenaires.example.fr`).
    #[serde(default)]
    pub public_url: Option<String>,
}

pub use passerelle_node::{LogConfig, LogFormat};

impl Default for Config {
    fn default() -> Self {
        Self {
            node_id: NodeId::parse("internal").expect("a valid node id"),
            data_dir: PathBuf::from("passerelle-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            session_hours: 12,
            http: passerelle_http::HttpConfig::default(),
            replication: ReplicationConfig::default(),
            extract: passerelle_extract::Limits::default(),
            drops: Vec::new(),
            ldap: None,
            antivirus: None,
            access: AccessConfig::default(),
            mail: None,
            notifications: passerelle_mail::config::NotificationsConfig::default(),
            log: LogConfig::default(),
        }
    }
}

/// The configuration could not be read; the message says which setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads the layers; `file` is the `--config` flag, if any.
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
        // Only this node's keys: PASSERELLE_EDGE_*, PASSERELLE_TEST_PG_URL,
        // PASSERELLE_ADMIN_PASSWORD… belong to others.
        fig = fig.merge(
            Env::prefixed("PASSERELLE_")
                .filter(|k| is_config_key(k.as_str()))
                .split("__"),
        );
        let config: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.check_drops()?;
        Ok(config)
    }

    /// Each drop folder valid, and no two with one name or one path (two
    /// workers would claim each other's files).
    fn check_drops(&self) -> Result<(), ConfigError> {
        for (i, d) in self.drops.iter().enumerate() {
            d.check()?;
            if let Some(other) = self.drops[..i]
                .iter()
                .find(|o| o.name == d.name || o.path == d.path)
            {
                return Err(ConfigError(format!(
                    "[[drops]] {:?} and {:?} share a name or a path: give each its own",
                    other.name, d.name
                )));
            }
        }
        Ok(())
    }

    /// Where attachments of dropped flows are decoded before they are
    /// stored.
    pub fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("tmp").join("depots")
    }

    /// The database URL, the SQLite file in the data directory by default.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("passerelle.db").display()
            ),
        }
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }

    /// The search index: derived data, rebuilt when deleted.
    pub fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    /// The client TLS material for replication.
    pub fn tls_files(&self) -> passerelle_grpc::TlsFiles {
        let dir = self
            .data_dir
            .join("pki")
            .join("issued")
            .join(self.node_id.as_str());
        let r = &self.replication;
        passerelle_grpc::TlsFiles {
            cert: r.cert.clone().unwrap_or_else(|| dir.join("cert.pem")),
            key: r.key.clone().unwrap_or_else(|| dir.join("key.pem")),
            ca: r.ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
        }
    }
}

/// The effective configuration, as logged at startup: the database password
/// is redacted.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url()))
            .field("listen", &self.listen)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("session_hours", &self.session_hours)
            .field("node_id", &self.node_id)
            .field("http", &self.http)
            .field("replication", &self.replication)
            .field("extract", &self.extract)
            .field("drops", &self.drops)
            .field("ldap", &self.ldap)
            .field("antivirus", &self.antivirus)
            .field("mail", &self.mail)
            .field("notifications", &self.notifications)
            .field("log", &self.log)
            .finish()
    }
}

/// Top-level keys of [`Config`], as environment variables name them.
const KEYS: &[&str] = &[
    "node_id",
    "data_dir",
    "database_url",
    "listen",
    "max_upload_bytes",
    "session_hours",
    "http",
    "replication",
    "extract",
    "drops",
    "ldap",
    "antivirus",
    "access",
    "mail",
    "notifications",
    "log",
];

fn is_config_key(key: &str) -> bool {
    KEYS.iter().any(|k| {
        key.eq_ignore_ascii_case(k)
            || (key.len() > k.len()
                && key.is_char_boundary(k.len())
                && key[..k.len()].eq_ignore_ascii_case(k)
                && (key[k.len()..].starts_with("__") || key[k.len()..].starts_with('.')))
    })
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_with_no_file_on_embedded_defaults() {
        let c = Config::default();
        assert!(c.database_url().starts_with("sqlite://passerelle-data/"));
        assert_eq!(c.listen.port(), 8080);
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://u:pw@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn reads_only_its_own_environment_variables() {
        assert!(is_config_key("data_dir"));
        assert!(is_config_key("log__filter"));
        assert!(is_config_key("LOG__FORMAT"));
        assert!(!is_config_key("edge_log__filter"));
        assert!(!is_config_key("test_pg_url"));
        assert!(!is_config_key("logx"));
    }

    #[test]
    fn refuses_unknown_keys_in_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:9\"\nlisten_port = 3\n").expect("write");
        let err = Config::load(Some(&f)).expect_err("unknown key");
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    #[test]
    fn invalid_node_ids_are_refused_when_the_file_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        let edge = "[[replication.edges]]\nendpoint = \"https://edge.example.fr:7443\"\n";
        for bad in [
            "node_id = \"../internal\"\n".to_owned(),
            format!("{edge}id = \"edge_1\"\n"),
        ] {
            std::fs::write(&f, &bad).expect("write");
            let err = Config::load(Some(&f)).expect_err(&bad);
            assert!(format!("{err:#}").contains("invalid node id"), "{err:#}");
        }
        std::fs::write(&f, format!("node_id = \"lan-1\"\n{edge}id = \"edge-1\"\n")).expect("write");
        let c = Config::load(Some(&f)).expect("valid");
        assert_eq!(c.node_id, "lan-1");
        assert_eq!(c.replication.edges[0].id, "edge-1");
    }

    #[test]
    fn extraction_limits_are_read_and_bad_ones_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[extract]\ntimeout_secs = 5\nmax_text_bytes = 4096\n").expect("write");
        let c = Config::load(Some(&f)).expect("valid");
        assert_eq!(c.extract.time, std::time::Duration::from_secs(5));
        assert_eq!(c.extract.max_text, 4096);
        // The others keep their defaults.
        let defaults = passerelle_extract::Limits::default();
        assert_eq!(c.extract.max_input, defaults.max_input);
        assert_eq!(Config::default().extract, defaults);

        std::fs::write(&f, "[extract]\ntimeout_secs = 0\n").expect("write");
        let err = Config::load(Some(&f))
            .expect_err("zero timeout")
            .to_string();
        assert!(err.contains("extract.timeout_secs = 0"), "{err}");
        assert!(
            err.contains("set it between 1 and 3600 (default 30)"),
            "{err}"
        );
        std::fs::write(&f, "[extract]\ntimeout = 5\n").expect("write");
        let err = Config::load(Some(&f)).expect_err("unknown key").to_string();
        assert!(err.contains("timeout"), "{err}");
        std::fs::write(&f, "[extract]\nmax_ratio = -3\n").expect("write");
        assert!(Config::load(Some(&f)).is_err(), "a negative ratio");
    }

    #[test]
    fn the_deployment_example_loads_with_the_default_extraction_limits() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/internal/passerelle-internal.toml");
        let c = Config::load(Some(&example)).expect("the example is valid");
        assert_eq!(c.extract, passerelle_extract::Limits::default());
        assert_eq!(c.drops.len(), 1, "the hot folder example");
        assert_eq!(c.drops[0].kind, DropKind::Pes);
    }

    #[test]
    fn drop_folders_are_read_with_defaults_and_bad_ones_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        let one = |name: &str, path: &str, extra: &str| {
            format!(
                "[[drops]]\nname = \"{name}\"\npath = \"{path}\"\nkind = \"pes\"\n\
                 service = \"finances-helios\"\nspace = \"finances\"\n{extra}"
            )
        };
        std::fs::write(
            &f,
            one("helios", "/srv/helios", "folder = \"Flux / 2026 \"\n"),
        )
        .expect("write");
        let c = Config::load(Some(&f)).expect("valid");
        let d = &c.drops[0];
        assert_eq!((d.kind, d.mode), (DropKind::Pes, DropMode::Inotify));
        assert_eq!((d.poll_secs, d.rescan_secs, d.stable_secs), (5, 60, 5));
        assert_eq!(d.concurrency, DEFAULT_DROP_CONCURRENCY);
        assert_eq!(d.folder_names(), ["Flux", "2026"]);
        std::fs::write(&f, one("helios", "/srv/helios", "concurrency = 8\n")).expect("write");
        assert_eq!(
            Config::load(Some(&f)).expect("valid").drops[0].concurrency,
            8
        );
        for (bad, says) in [
            (one("Helios", "/a", ""), "name"),
            (
                one("helios", "/a", "poll_secs = 0\n"),
                "poll_secs is 1 to 3600",
            ),
            (
                one("helios", "/a", "concurrency = 0\n"),
                "concurrency is 1 to 32",
            ),
            (one("helios", "/a", "mode = \"fanotify\"\n"), "fanotify"),
            (one("helios", "/a", "kind2 = 1\n"), "kind2"),
            (
                format!("{}{}", one("a", "/same", ""), one("b", "/same", "")),
                "share a name or a path",
            ),
            (
                format!("{}{}", one("a", "/x", ""), one("a", "/y", "")),
                "share a name or a path",
            ),
        ] {
            std::fs::write(&f, &bad).expect("write");
            let err = Config::load(Some(&f)).expect_err(&bad).to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn reads_typed_values_from_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "listen = \"127.0.0.1:9000\"\nmax_upload_bytes = 1024\n[log]\nformat = \"json\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&f)).expect("valid");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.max_upload_bytes, 1024);
        assert_eq!(c.log.format, LogFormat::Json);
    }
}
