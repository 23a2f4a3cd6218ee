//! Real node processes for the tests that need both nodes: `Proc` (a child
//! process waited for on its ready lines, killed on drop), the CLI runner,
//! and the steps every two-node setup takes — a PKI made by the internal
//! node's CLI, the edge's certificate copied to its directory (as ops copy
//! it to the DMZ), the edge started, the internal node started with a
//! config naming it.
//!
//! Included with `#[path]` by `cluster.rs` (this crate's two-node tests)
//! and by the browser tests' harness (`tests/browser`), which find the
//! binaries differently: the binary paths are parameters here.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

pub const ADMIN_PASSWORD: &str = "Le mot de passe de l'admin 2026";

/// The edge's identity in the test PKI and in the internal node's config.
pub const EDGE_ID: &str = "edge-1";

/// What each node prints on stdout once it listens.
const EDGE_READY: &[&str] = &[
    "passerelle-edge listening on ",
    "passerelle-edge replication on ",
];
const INTERNAL_READY: &[&str] = &["passerelle-internal listening on "];

/// A child process killed (then waited for) on drop; its stderr is in `log`,
/// printed when the test fails.
pub struct Proc {
    pub child: Child,
    /// What followed each ready prefix, in order (an address, usually).
    pub lines: Vec<String>,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `bin args…`, its stderr in `dir/name.log`, and waits (up to
    /// 60 s) for one stdout line starting with each of `ready`.
    pub fn start(
        bin: &Path,
        args: &[&str],
        dir: &Path,
        name: &str,
        ready: &[&str],
    ) -> anyhow::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(bin)
            .args(args)
            .env("PASSERELLE_LOG__FILTER", "info,passerelle_grpc=debug")
            .env("PASSERELLE_EDGE_LOG__FILTER", "info,passerelle_grpc=debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let out = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads stdout to the end, also once nobody listens: a child whose
        // pipe fills up would block.
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while lines.len() < ready.len() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(remaining) {
                Ok(l) => {
                    if let Some(p) = ready.iter().find(|p| l.starts_with(**p)) {
                        lines.push(l[p.len()..].trim().to_owned());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!(
                        "{name} not ready: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
        Ok(Self { child, lines, log })
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- {} ---\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// Runs a node's CLI to completion; its stdout, or an error with both outputs.
pub fn run(bin: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .env("PASSERELLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn utf8(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("not UTF-8: {}", p.display()))
}

/// Runs the internal CLI on the data directory `idir`.
pub fn internal_cli(internal: &Path, idir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut v = vec!["--data-dir", utf8(idir)?];
    v.extend_from_slice(args);
    run(internal, &v)
}

/// Initialises the internal node in `idir` with its PKI, issues the edge's
/// certificate (localhost, 127.0.0.1) and the internal node's client
/// certificate, and copies the edge's files to `edir/tls`.
pub fn init_with_pki(internal: &Path, idir: &Path, edir: &Path) -> anyhow::Result<()> {
    let i = |args: &[&str]| internal_cli(internal, idir, args);
    i(&["init"])?;
    i(&["pki", "init"])?;
    i(&[
        "pki",
        "issue-edge",
        "--id",
        EDGE_ID,
        "--dns",
        "localhost",
        "--ip",
        "127.0.0.1",
    ])?;
    i(&["pki", "issue-internal", "--id", "internal"])?;
    std::fs::create_dir_all(edir.join("tls"))?;
    for f in ["cert.pem", "key.pem", "ca.pem"] {
        std::fs::copy(
            idir.join("pki/issued").join(EDGE_ID).join(f),
            edir.join("tls").join(f),
        )?;
    }
    Ok(())
}

/// Starts the edge on `edir`; `lines` are its public and peer addresses.
pub fn start_edge(
    edge: &Path,
    edir: &Path,
    logs: &Path,
    listen: &str,
    peer_listen: &str,
) -> anyhow::Result<Proc> {
    start_edge_with(edge, edir, logs, listen, peer_listen, None)
}

/// As [`start_edge`], with `config` as the edge's configuration file.
pub fn start_edge_with(
    edge: &Path,
    edir: &Path,
    logs: &Path,
    listen: &str,
    peer_listen: &str,
    config: Option<&Path>,
) -> anyhow::Result<Proc> {
    let mut args = vec!["--data-dir", utf8(edir)?];
    if let Some(config) = config {
        args.extend(["--config", utf8(config)?]);
    }
    args.extend(["serve", "--listen", listen, "--peer-listen", peer_listen]);
    Proc::start(edge, &args, logs, "edge", EDGE_READY)
}

/// Writes the internal node's config naming the edge: its peer address
/// (`host:port`) and the public URL contractors use.
pub fn write_internal_config(idir: &Path, peer: &str, public_url: &str) -> anyhow::Result<PathBuf> {
    let config = idir.join("internal.toml");
    std::fs::write(
        &config,
        format!(
            "[[replication.edges]]\nid = \"{EDGE_ID}\"\nendpoint = \"https://{peer}\"\npublic_url = \"{public_url}\"\n"
        ),
    )?;
    Ok(config)
}

/// Starts the internal node on `idir` with `config`, on a free port;
/// `lines[0]` is its base URL.
pub fn start_internal(
    internal: &Path,
    idir: &Path,
    config: &Path,
    logs: &Path,
) -> anyhow::Result<Proc> {
    Proc::start(
        internal,
        &[
            "--data-dir",
            utf8(idir)?,
            "--config",
            utf8(config)?,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
        logs,
        "internal",
        INTERNAL_READY,
    )
}
