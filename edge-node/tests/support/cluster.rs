//! Test harness shared by the two-node tests: real `passerelle-internal`
//! and `passerelle-edge` processes on loopback, with a PKI made by the CLI.
//! (Included with `#[path]` by each test binary.)
#![allow(dead_code)]

use passerelle_testing::edge_login::{Factor, app_password, edge_login};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

#[path = "nodes.rs"]
mod nodes;
#[allow(unused_imports)] // each including binary uses some of them
pub use nodes::{ADMIN_PASSWORD, EDGE_ID, Proc, run};
#[allow(unused_imports)] // each including binary uses some of them
pub use passerelle_testing::{eventually, eventually_within};

pub const EDGE_BIN: &str = env!("CARGO_BIN_EXE_passerelle-edge");

/// `passerelle-internal` sits beside `passerelle-edge` in the target
/// directory (`cargo test --workspace` builds both).
pub fn internal_bin() -> PathBuf {
    Path::new(EDGE_BIN).with_file_name("passerelle-internal")
}

/// Every file under `dir`, as bytes: the "scan" of what a node holds.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

pub fn holds(files: &[(PathBuf, Vec<u8>)], needle: &[u8]) -> Option<PathBuf> {
    files
        .iter()
        .find(|(_, b)| b.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p.clone())
}

pub fn blob_files(dir: &Path) -> Vec<String> {
    files_under(&dir.join("blobs"))
        .into_iter()
        .filter_map(|(p, _)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

/// An internal node and an edge replicating to each other, with an admin
/// bearer token on the internal node.
pub struct Cluster {
    pub tmp: tempfile::TempDir,
    pub idir: PathBuf,
    pub edir: PathBuf,
    pub edge: Option<Proc>,
    pub node: Option<Proc>,
    pub edge_http: String,
    pub edge_peer: String,
    pub base: String,
    pub ebase: String,
    pub token: String,
    pub config: PathBuf,
    /// The edge's configuration file, given again when it restarts.
    pub edge_config: Option<PathBuf>,
    /// What holds the edge's data directory (a small filesystem mounted
    /// for the test), released once both nodes have stopped.
    edge_disk: Option<Box<dyn Send>>,
}

impl Cluster {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| Ok(()), None).await
    }

    /// As [`Cluster::start`], with the edge's data directory prepared by
    /// `prepare`, called on it (created empty) before anything is written
    /// there: it may mount a small filesystem on it, and what it returns is
    /// kept until both nodes have stopped. `edge_toml` is the edge's
    /// configuration file, if any.
    pub async fn start_with<D: Send + 'static>(
        prepare: impl FnOnce(&Path) -> anyhow::Result<D>,
        edge_toml: Option<&str>,
    ) -> anyhow::Result<Self> {
        Self::start_full(prepare, edge_toml, "").await
    }

    /// As [`Cluster::start`], with `internal_toml` added to the internal
    /// node's configuration file (a section of its own: `[antivirus]`…).
    pub async fn start_internal_with(internal_toml: &str) -> anyhow::Result<Self> {
        Self::start_full(|_| Ok(()), None, internal_toml).await
    }

    async fn start_full<D: Send + 'static>(
        prepare: impl FnOnce(&Path) -> anyhow::Result<D>,
        edge_toml: Option<&str>,
        internal_toml: &str,
    ) -> anyhow::Result<Self> {
        let tmp = tempfile::tempdir()?;
        let (idir, edir) = (tmp.path().join("internal"), tmp.path().join("edge"));
        std::fs::create_dir_all(&edir)?;
        let edge_disk: Box<dyn Send> = Box::new(prepare(&edir)?);
        let edge_config = match edge_toml {
            Some(toml) => {
                let path = tmp.path().join("edge.toml");
                std::fs::write(&path, toml)?;
                Some(path)
            }
            None => None,
        };
        let internal = internal_bin();
        ensure!(
            internal.exists(),
            "build passerelle-internal first (cargo build --workspace)"
        );
        nodes::init_with_pki(&internal, &idir, &edir)?;
        let token = nodes::internal_cli(
            &internal,
            &idir,
            &["token", "create", "--login", "admin", "--name", "e2e"],
        )?
        .lines()
        .find(|l| l.starts_with("psr_"))
        .context("token")?
        .to_owned();

        let edge = nodes::start_edge_with(
            Path::new(EDGE_BIN),
            &edir,
            tmp.path(),
            "127.0.0.1:0",
            "127.0.0.1:0",
            edge_config.as_deref(),
        )?;
        let (edge_http, edge_peer) = (edge.lines[0].clone(), edge.lines[1].clone());
        let config = nodes::write_internal_config(&idir, &edge_peer, &edge_http)?;
        if !internal_toml.is_empty() {
            let mut toml = std::fs::read_to_string(&config)?;
            toml.push_str(internal_toml);
            std::fs::write(&config, toml)?;
        }
        let node = nodes::start_internal(&internal, &idir, &config, tmp.path())?;
        let base = format!("{}/api/v1", node.lines[0]);
        let ebase = format!("{edge_http}/api/v1");
        Ok(Self {
            tmp,
            idir,
            edir,
            edge: Some(edge),
            node: Some(node),
            edge_http,
            edge_peer,
            base,
            ebase,
            token,
            config,
            edge_config,
            edge_disk: Some(edge_disk),
        })
    }

    /// Runs the internal CLI on this cluster's data directory.
    pub fn internal_cli(&self, args: &[&str]) -> anyhow::Result<String> {
        nodes::internal_cli(&internal_bin(), &self.idir, args)
    }

    pub fn api(
        &self,
        http: &reqwest::Client,
        m: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        http.request(m, format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
    }

    /// Restarts the edge on the same data directory and ports.
    pub fn start_edge(&mut self) -> anyhow::Result<()> {
        let http_addr = self.edge_http.trim_start_matches("http://").to_owned();
        let edge = nodes::start_edge_with(
            Path::new(EDGE_BIN),
            &self.edir,
            self.tmp.path(),
            &http_addr,
            &self.edge_peer,
            self.edge_config.as_deref(),
        )?;
        self.edge = Some(edge);
        Ok(())
    }

    /// Restarts the internal node on the same data directory (new port).
    pub fn start_internal(&mut self) -> anyhow::Result<()> {
        let node =
            nodes::start_internal(&internal_bin(), &self.idir, &self.config, self.tmp.path())?;
        self.base = format!("{}/api/v1", node.lines[0]);
        self.node = Some(node);
        Ok(())
    }
}

// ---- Fault injection (added for `faults.rs`) --------------------------------

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process has logged so far (its stderr).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (`Child::kill`), then reaps it: no chance to clean up.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        self.child.kill().context("SIGKILL")?;
        self.child.wait().context("reap")?;
        Ok(())
    }

    /// SIGTERM, then waits (bounded) for the process to exit on its own.
    pub fn terminate(&mut self, within: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("kill -TERM")?;
        ensure!(sent.success(), "kill -TERM {} failed", self.pid());
        let end = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            ensure!(
                Instant::now() < end,
                "still running {within:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Cluster {
    /// `kill -9` of the edge; returns its log (a restart truncates the file).
    pub fn kill_edge(&mut self) -> anyhow::Result<String> {
        let mut p = self.edge.take().context("the edge is not running")?;
        p.kill9()?;
        Ok(p.log_text())
    }

    /// SIGTERM to the edge, waiting for it to exit; returns its log.
    pub fn stop_edge(&mut self) -> anyhow::Result<String> {
        let mut p = self.edge.take().context("the edge is not running")?;
        let status = p.terminate(Duration::from_secs(20))?;
        ensure!(status.success(), "the edge exited with {status} on SIGTERM");
        Ok(p.log_text())
    }

    /// `kill -9` of the internal node; returns its log.
    pub fn kill_internal(&mut self) -> anyhow::Result<String> {
        let mut p = self
            .node
            .take()
            .context("the internal node is not running")?;
        p.kill9()?;
        Ok(p.log_text())
    }

    /// SIGTERM to the internal node, waiting for it to exit; returns its log.
    pub fn stop_internal(&mut self) -> anyhow::Result<String> {
        let mut p = self
            .node
            .take()
            .context("the internal node is not running")?;
        let status = p.terminate(Duration::from_secs(20))?;
        ensure!(
            status.success(),
            "the internal node exited with {status} on SIGTERM"
        );
        Ok(p.log_text())
    }

    /// The running edge's log so far.
    pub fn edge_log(&self) -> String {
        self.edge.as_ref().map(Proc::log_text).unwrap_or_default()
    }

    /// The running internal node's log so far.
    pub fn internal_log(&self) -> String {
        self.node.as_ref().map(Proc::log_text).unwrap_or_default()
    }
}

/// Log text without its ANSI colour codes.
pub fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Drop for Cluster {
    /// Stops the nodes before the temporary directory goes (fields drop in
    /// declaration order, `tmp` first), so a failing test prints their logs;
    /// then releases the edge's disk (unmounted before `tmp` is removed).
    fn drop(&mut self) {
        drop(self.edge.take());
        drop(self.node.take());
        drop(self.edge_disk.take());
    }
}

/// TCP ports a process listens on (Linux: its socket inodes matched against
/// /proc/net/tcp{,6} rows in LISTEN state).
pub fn listening_ports(pid: u32) -> anyhow::Result<Vec<u16>> {
    let mut inodes = std::collections::HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        // A descriptor closed between the listing and this read (the node
        // opens and closes files all the time: blobs, index segments) is
        // not a listener.
        let Ok(target) = std::fs::read_link(fd?.path()) else {
            continue;
        };
        let t = target.to_string_lossy();
        if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
            inodes.insert(inode.to_owned());
        }
    }
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is column 9.
            if cols.len() > 9 && cols[3] == "0A" && inodes.contains(cols[9]) {
                let port = cols[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                ports.extend(port);
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// The password every contractor of [`Cluster::contractor`] chooses.
pub const CONTRACTOR_PASSWORD: &str = "mot de passe du prestataire";

/// A contractor logged in on the edge (cookie session + CSRF token).
pub struct Contractor {
    pub id: String,
    pub login: String,
    pub cookie: String,
    pub csrf: String,
    pub ebase: String,
    /// Their second factor, to log in again.
    pub factor: Factor,
    /// For WebDAV clients, which cannot give a code.
    pub app_password: String,
}

impl Contractor {
    pub fn req(
        &self,
        http: &reqwest::Client,
        m: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        http.request(m, format!("{}{path}", self.ebase))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
    }
}

impl Cluster {
    /// Creates a space (as the admin) and returns its id.
    pub async fn space(&self, http: &reqwest::Client, slug: &str) -> anyhow::Result<String> {
        let v: serde_json::Value = self
            .api(http, reqwest::Method::POST, "/spaces")
            .json(&serde_json::json!({"slug": slug, "title": slug, "domain": "Test"}))
            .send()
            .await?
            .json()
            .await?;
        Ok(v["id"]
            .as_str()
            .or(v["space"]["id"].as_str())
            .context("space id")?
            .to_owned())
    }

    /// Uploads a document on the internal node; returns its id.
    pub async fn upload(
        &self,
        http: &reqwest::Client,
        space: &str,
        name: &str,
        body: &str,
    ) -> anyhow::Result<String> {
        let r = self
            .api(
                http,
                reqwest::Method::POST,
                &format!("/spaces/{space}/documents"),
            )
            .query(&[("name", name)])
            .body(body.to_owned())
            .send()
            .await?;
        ensure!(r.status() == 201, "upload {name}: {}", r.status());
        let v: serde_json::Value = r.json().await?;
        Ok(v["document"]["id"].as_str().context("doc id")?.to_owned())
    }

    /// Shares `space` with the edge, invites `email` with `role`, accepts on
    /// the edge and logs in there.
    pub async fn contractor(
        &self,
        http: &reqwest::Client,
        space: &str,
        email: &str,
        role: &str,
    ) -> anyhow::Result<Contractor> {
        let r = self
            .api(
                http,
                reqwest::Method::POST,
                &format!("/spaces/{space}/share"),
            )
            .json(&serde_json::json!({"edge": "edge-1"}))
            .send()
            .await?;
        ensure!(r.status().is_success(), "share: {}", r.status());
        let inv: serde_json::Value = self
            .api(http, reqwest::Method::POST, &format!("/spaces/{space}/contractors"))
            .json(&serde_json::json!({"email": email, "display_name": email, "organisation": "Prestataire", "role": role}))
            .send()
            .await?
            .json()
            .await?;
        let url = inv["invitation_url"].as_str().context("invitation url")?;
        let secret = url.split('#').nth(1).context("secret")?.to_owned();
        let password = CONTRACTOR_PASSWORD;
        eventually("the invitation on the edge", || {
            let (http, ebase, secret) = (http.clone(), self.ebase.clone(), secret.clone());
            async move {
                let r = http
                    .post(format!("{ebase}/invitations/accept"))
                    .json(&serde_json::json!({"secret": secret, "password": password}))
                    .send()
                    .await?;
                ensure!(r.status() == 200, "accept: {}", r.status());
                Ok(())
            }
        })
        .await?;
        // The edge requires a second factor (its default): the first
        // login enrols, with codes from oathtool.
        let factor = Factor::default();
        let s = edge_login(http, &self.ebase, email, password, &factor).await?;
        let app_password = app_password(http, &self.ebase, &s, "tests").await?;
        Ok(Contractor {
            id: s.user["id"].as_str().context("id")?.to_owned(),
            login: email.to_owned(),
            cookie: s.cookie,
            csrf: s.csrf,
            ebase: self.ebase.clone(),
            factor,
            app_password,
        })
    }
}
