//! What the real-process tests of the `passerelle-internal` binary share:
//! a node process on a loopback port, and the CLI run beside it. Each test
//! binary (`process`, `drops`) uses its own part, hence `dead_code`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub const BIN: &str = env!("CARGO_BIN_EXE_passerelle-internal");
pub const ADMIN_PASSWORD: &str = "Le mot de passe de l'admin 2026";

/// A node process; SIGTERM then SIGKILL on drop; its output printed when a
/// test fails so the failure explains itself.
pub struct NodeProcess {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl NodeProcess {
    pub fn start(dir: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        let log = dir.join(format!("node-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&log)?;
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("PASSERELLE_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("spawn passerelle-internal")?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("passerelle-internal listening on ") {
                        return Ok(Self {
                            child,
                            base: url.trim().to_owned(),
                            log,
                        });
                    }
                    seen.push(line);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => break,
            }
        }
        let _ = child.kill();
        bail!(
            "no ready line; stdout: {seen:?}; log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the node did not stop within 20 s of SIGTERM")
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- node log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

pub fn cli(dir: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env_remove("PASSERELLE_DATABASE_URL")
        .env("PASSERELLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .output()?)
}

pub fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "command failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
