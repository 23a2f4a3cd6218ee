//! Commands the bench runs around the measures, each bounded in time: the
//! tools it installs, the internal node it builds, `sync` between phases,
//! and the nodes' logs it reads for warnings.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use super::SSHD;
use super::cluster;
use super::support::tail;

/// Runs a command to completion within `timeout` (output into `log`).
/// Returns how long it ran (resolution: 1 ms).
pub(crate) fn run_bounded(
    cmd: &mut Command,
    timeout: Duration,
    what: &str,
    log: &Path,
) -> anyhow::Result<Duration> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    loop {
        if let Some(status) = child.try_wait()? {
            let d = t.elapsed();
            ensure!(
                status.success(),
                "{what} failed ({status}): {}",
                tail(log, 30)
            );
            return Ok(d);
        }
        if t.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{what} did not finish within {timeout:?}: {}",
                tail(log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// WARN and ERROR lines of the two nodes' logs (a run should have none).
pub(crate) fn warnings_in_logs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["edge.log", "internal.log"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        out.extend(
            text.lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .map(|l| format!("{name}: {l}")),
        );
    }
    out
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Flushes every dirty page, so that no phase pays for the previous one's
/// writeback (not timed).
pub(crate) fn sync_all(log_dir: &Path) -> anyhow::Result<()> {
    run_bounded(
        &mut Command::new("sync"),
        Duration::from_secs(300),
        "sync",
        &log_dir.join("sync.log"),
    )?;
    Ok(())
}

/// Installs rsync and OpenSSH from Debian when they are missing.
pub(crate) fn ensure_tools(log_dir: &Path) -> anyhow::Result<()> {
    let present = succeeds(Command::new("which").args(["rsync", "sshd", "ssh", "ssh-keygen"]))
        && Path::new(SSHD).exists();
    if present {
        return Ok(());
    }
    println!("installing rsync and OpenSSH from Debian…");
    let install = |log: &str| {
        run_bounded(
            Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "--no-install-recommends",
                    "rsync",
                    "openssh-server",
                    "openssh-client",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(900),
            "apt-get install",
            &log_dir.join(log),
        )
    };
    if install("apt-install-1.log").is_err() {
        run_bounded(
            Command::new("apt-get")
                .arg("update")
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
            "apt-get update",
            &log_dir.join("apt-update.log"),
        )?;
        install("apt-install-2.log")?;
    }
    ensure!(
        Path::new(SSHD).exists() && succeeds(Command::new("which").arg("rsync")),
        "rsync or {SSHD} still missing after apt-get install"
    );
    Ok(())
}

/// Under `cargo bench` the edge binary is the release one: the harness looks
/// for `passerelle-internal` beside it, so build it in release when it is
/// missing or older than the edge binary.
pub(crate) fn ensure_internal_release(log_dir: &Path) -> anyhow::Result<()> {
    let internal = cluster::internal_bin();
    let edge_time = std::fs::metadata(cluster::EDGE_BIN)?.modified()?;
    let fresh = std::fs::metadata(&internal)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= edge_time);
    if fresh {
        return Ok(());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let profile = internal
        .parent()
        .and_then(Path::file_name)
        .and_then(|p| p.to_str())
        .unwrap_or("release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace).args([
        "build",
        "-p",
        "passerelle-internal",
        "--bin",
        "passerelle-internal",
    ]);
    if profile == "release" {
        cmd.arg("--release");
    }
    println!(
        "building passerelle-internal ({profile}) beside {}…",
        cluster::EDGE_BIN
    );
    run_bounded(
        &mut cmd,
        Duration::from_secs(1800),
        "cargo build -p passerelle-internal",
        &log_dir.join("cargo-build-internal.log"),
    )?;
    ensure!(internal.exists(), "{} was not built", internal.display());
    Ok(())
}
