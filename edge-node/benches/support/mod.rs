//! What the bench binaries of this crate share: their directories, the
//! bench's contractor, the API calls both make alike, waits, `/proc` and
//! directory readers, log tails. (Declared with `mod support;` by each
//! bench, beside its `cluster`; each uses some of it.)
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use super::cluster::{self, Cluster};

/// The contractor each bench invites to its spaces.
pub const CONTRACTOR: &str = "bench@prestataire.fr";
pub const CONTRACTOR_PASSWORD: &str = "mot de passe du prestataire bench";

/// The bench's directory `name` under the target directory, emptied, and
/// its `logs/` and `tmp/`: `(root, logs, tmp)`.
pub fn bench_dirs(name: &str) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let target = Path::new(cluster::EDGE_BIN)
        .parent()
        .and_then(Path::parent)
        .context("target directory")?;
    let root = target.join(name);
    let _ = std::fs::remove_dir_all(&root);
    let (log_dir, tmp) = (root.join("logs"), root.join("tmp"));
    std::fs::create_dir_all(&log_dir)?;
    std::fs::create_dir_all(&tmp)?;
    // The harness makes its directories with `tempfile::tempdir()`.
    let _ = tempfile::env::override_temp_dir(&tmp);
    Ok((root, log_dir, tmp))
}

pub async fn create_space(
    c: &Cluster,
    http: &reqwest::Client,
    slug: &str,
) -> anyhow::Result<String> {
    let r = c
        .api(http, reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": slug, "title": slug, "domain": "Bench"}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "create space: {}", r.status());
    let v: Value = r.json().await?;
    Ok(v["id"]
        .as_str()
        .or(v["space"]["id"].as_str())
        .context("space id")?
        .to_owned())
}

/// The internal node's replication status of the space.
pub async fn replication(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Value> {
    let r = c
        .api(
            http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/replication"),
        )
        .send()
        .await?;
    ensure!(r.status() == 200, "replication status: {}", r.status());
    Ok(r.json().await?)
}

pub fn tail(path: &Path, lines: usize) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Polls `f` every `every` until it returns `Some`, for at most `timeout`;
/// an `Err` from `f` is kept as the reason if the time runs out.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut f: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let end = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if Instant::now() > end {
            let e = last_error.unwrap_or_else(|| anyhow::anyhow!("condition not met"));
            return Err(e.context(format!("gave up after {timeout:?} waiting for {what}")));
        }
        tokio::time::sleep(every).await;
    }
}
