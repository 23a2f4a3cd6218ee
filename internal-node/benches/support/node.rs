//! What the node's benches share: the real `passerelle-internal` binary run
//! as a CLI and as a server on a free loopback port, and its memory.
//! (In a folder, so that cargo does not take it for a bench of its own.)

// Each bench includes this file and uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

pub const BIN: &str = env!("CARGO_BIN_EXE_passerelle-internal");

/// Peak resident memory of a process so far.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    passerelle_testing::memory::peak_rss_kib(pid)
}

/// Resident memory of a process now.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    passerelle_testing::memory::status_kib(pid, "VmRSS:")
}

/// Runs a CLI command of the node in `dir` (its data directory).
pub fn cli(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env("PASSERELLE_ADMIN_PASSWORD", "bench password 2026!")
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A node process, killed when dropped.
#[derive(Debug)]
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the node on a free loopback port; returns it and its base URL.
pub fn start(dir: &Path) -> anyhow::Result<(Server, String)> {
    start_with(dir, &[])
}

/// [`start`] with more arguments to `serve` (`--config <file>`).
pub fn start_with(dir: &Path, extra: &[&str]) -> anyhow::Result<(Server, String)> {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("PASSERELLE_LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let server = Server(child);
    for line in std::io::BufReader::new(out).lines() {
        let line = line?;
        if let Some(u) = line.strip_prefix("passerelle-internal listening on ") {
            return Ok((server, u.trim().to_owned()));
        }
    }
    bail!("server exited before its ready line")
}

/// `init`, then a space `slug` managed by `admin`, then an API token for
/// `admin`: what each bench starts from.
pub fn prepare(dir: &Path, slug: &str) -> anyhow::Result<String> {
    cli(dir, &["init"])?;
    cli(
        dir,
        &[
            "space",
            "create",
            slug,
            "--title",
            slug,
            "--manager",
            "admin",
        ],
    )?;
    Ok(cli(
        dir,
        &["token", "create", "--login", "admin", "--name", "bench"],
    )?
    .lines()
    .find(|l| l.starts_with("psr_"))
    .context("token")?
    .to_owned())
}

/// The id of the first space `auth` sees on the node at `base` (the one
/// `prepare` created).
pub async fn first_space(http: &reqwest::Client, base: &str, auth: &str) -> anyhow::Result<String> {
    let spaces: serde_json::Value = http
        .get(format!("{base}/api/v1/spaces"))
        .header("Authorization", auth)
        .send()
        .await?
        .json()
        .await?;
    Ok(spaces["items"][0]["id"]
        .as_str()
        .context("space")?
        .to_owned())
}
