//! The processes around the parts: the internal node built in release
//! when its sources changed, and the nodes' logs kept (and their
//! warnings counted) at the end of each part, or their tails on a failure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use super::cluster::{self, Cluster};
use super::support::tail;

/// Newest modification time of the sources `passerelle-internal` is built
/// from (the workspace manifest and every crate but the edge's; not
/// `Cargo.lock`, which the edge's dev-dependencies also change).
fn newest_source(workspace: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut stack: Vec<_> = ["Cargo.toml", "core", "adapters", "proto", "internal-node"]
        .iter()
        .map(|p| workspace.join(p))
        .collect();
    while let Some(p) = stack.pop() {
        let Ok(m) = std::fs::metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            stack.extend(
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if let Ok(t) = m.modified() {
            newest = newest.max(t);
        }
    }
    newest
}

/// Under `cargo bench` the edge binary is the release one: the harness looks
/// for `passerelle-internal` beside it, so build it in release when it is
/// missing or older than its sources. (Not older than the edge binary, as
/// `replication/processes.rs` checks: `cargo bench` relinks the edge with the
/// dev-dependencies' features, and a build of the internal node alone then
/// recompiles half the workspace with other features, for nothing.)
pub(crate) fn ensure_internal_release(log_dir: &Path) -> anyhow::Result<()> {
    let internal = cluster::internal_bin();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let fresh = std::fs::metadata(&internal)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= newest_source(workspace));
    if fresh {
        return Ok(());
    }
    let release = internal
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace).args([
        "build",
        "-p",
        "passerelle-internal",
        "--bin",
        "passerelle-internal",
    ]);
    if release {
        cmd.arg("--release");
    }
    println!("building passerelle-internal beside {}…", cluster::EDGE_BIN);
    let log = log_dir.join("cargo-build-internal.log");
    let out = std::fs::File::create(&log)?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("cannot start cargo build")?;
    let end = Instant::now() + Duration::from_secs(1800);
    loop {
        if let Some(status) = child.try_wait()? {
            ensure!(status.success(), "cargo build failed: {}", tail(&log, 30));
            break;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "cargo build did not finish within 30 min: {}",
                tail(&log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    ensure!(internal.exists(), "{} was not built", internal.display());
    Ok(())
}

/// Keeps a node's log under the bench's log directory (a restart of the
/// node truncates the harness's file), and returns its WARN/ERROR lines.
pub(crate) fn keep_log(text: &str, log_dir: &Path, name: &str) -> anyhow::Result<Vec<String>> {
    let text = cluster::plain(text);
    std::fs::write(log_dir.join(name), &text)?;
    Ok(text
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .map(|l| format!("{name}: {l}"))
        .collect())
}

/// Keeps both running nodes' logs (at the end of a part).
pub(crate) fn keep_logs(c: &Cluster, log_dir: &Path, part: &str) -> anyhow::Result<Vec<String>> {
    let mut out = keep_log(&c.edge_log(), log_dir, &format!("{part}-edge.log"))?;
    out.extend(keep_log(
        &c.internal_log(),
        log_dir,
        &format!("{part}-internal.log"),
    )?);
    Ok(out)
}

/// A failed part's error, with the tails of its nodes' logs.
pub(crate) fn with_log_tails(e: anyhow::Error, c: &Cluster) -> anyhow::Error {
    let t = |s: String| {
        let s = cluster::plain(&s);
        let all: Vec<&str> = s.lines().collect();
        all[all.len().saturating_sub(30)..].join("\n")
    };
    e.context(format!(
        "--- edge log (tail) ---\n{}\n--- internal log (tail) ---\n{}",
        t(c.edge_log()),
        t(c.internal_log())
    ))
}
