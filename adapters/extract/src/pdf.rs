//! PDF through `pdftotext` (Debian poppler-utils) in a child process: PDF
//! parsers crash and loop on hostile files, so the parsing runs in another
//! process with an empty environment, rlimits (address space, CPU, no file
//! writes, few descriptors) set by `prlimit` (unsafe `pre_exec` is forbidden
//! here), its own empty network namespace when `unshare` can make one, and
//! its output read only up to the text cap.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use passerelle_core::search::{Extraction, ExtractionStatus};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::limits::{Limits, TextSink, failed};

/// Stderr kept for the reason of a failure.
const STDERR_KEPT: usize = 4096;

/// How pdftotext runs on this machine, probed once: the node reports it at
/// startup (a missing pdftotext or network namespace is worth saying).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfSandbox {
    /// pdftotext's path; `None` when poppler-utils is not installed.
    pub pdftotext: Option<PathBuf>,
    /// prlimit's path; `None` when util-linux lacks it: no rlimits then.
    pub prlimit: Option<PathBuf>,
    /// unshare's path when `unshare --net --map-root-user` works here;
    /// `None` when the child keeps the host's network.
    pub unshare: Option<PathBuf>,
}

impl PdfSandbox {
    /// Finds the binaries and tries a network namespace once.
    pub async fn probe() -> Self {
        let unshare = match find("unshare") {
            Some(path) if namespace_works(&path).await => Some(path),
            _ => None,
        };
        Self {
            pdftotext: find("pdftotext"),
            prlimit: find("prlimit"),
            unshare,
        }
    }

    /// One line for a startup report.
    pub fn describe(&self) -> String {
        if self.pdftotext.is_none() {
            return "pdftotext not installed: PDF text is not extracted".into();
        }
        let limits = if self.prlimit.is_some() {
            "with rlimits"
        } else {
            "WITHOUT rlimits (no prlimit)"
        };
        let net = if self.unshare.is_some() {
            "no network (own namespace)"
        } else {
            "WITH the host's network (no user namespace here)"
        };
        format!("pdftotext {limits}, {net}")
    }
}

/// A program on the PATH, resolved now: the child gets no environment, so
/// no PATH to search.
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

async fn namespace_works(unshare: &Path) -> bool {
    let probe = Command::new(unshare)
        .args(["--net", "--map-root-user", "--"])
        .arg(unshare)
        .arg("--version")
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), probe).await,
        Ok(Ok(status)) if status.success()
    )
}

/// The command line: `[unshare --net --map-root-user --] [prlimit … --]
/// pdftotext -enc UTF-8 FILE -`. Both wrappers exec the next program, so
/// the child killed on drop is pdftotext itself. No `-q`: its stderr gives
/// the reason of a failure.
fn command(pdftotext: &Path, sandbox: &PdfSandbox, file: &Path, limits: &Limits) -> Command {
    let mut argv: Vec<OsString> = Vec::new();
    if let Some(unshare) = &sandbox.unshare {
        argv.extend([
            unshare.into(),
            "--net".into(),
            "--map-root-user".into(),
            "--".into(),
        ]);
    }
    if let Some(prlimit) = &sandbox.prlimit {
        argv.push(prlimit.into());
        argv.push(format!("--as={}", limits.child_memory).into());
        argv.push(format!("--cpu={}", limits.child_cpu_seconds).into());
        argv.push("--fsize=0".into());
        argv.push("--nofile=64".into());
        argv.push("--".into());
    }
    argv.extend([
        pdftotext.into(),
        "-enc".into(),
        "UTF-8".into(),
        file.into(),
        "-".into(),
    ]);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

pub(crate) async fn extract(file: &Path, sandbox: &PdfSandbox, limits: &Limits) -> Extraction {
    let Some(pdftotext) = &sandbox.pdftotext else {
        return Extraction::not(
            ExtractionStatus::Unsupported,
            "pdftotext (poppler-utils) is not installed",
        );
    };
    let mut child = match command(pdftotext, sandbox, file, limits).spawn() {
        Ok(child) => child,
        Err(e) => return failed(format!("starting pdftotext: {e}")),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return failed("pdftotext: no pipes");
    };
    // Stdout stops at the cap (dropping the pipe ends the child with
    // SIGPIPE); stderr is drained so that warnings never block the child.
    let cap = limits.max_text + 4;
    let (out, err) = tokio::join!(
        read_up_to(stdout, cap, false),
        read_up_to(stderr, STDERR_KEPT, true)
    );
    let capped = out.as_ref().is_ok_and(|o| o.len() >= cap);
    if capped {
        let _ = child.start_kill();
    }
    let status = child.wait().await;
    match (out, status) {
        (Ok(out), _) if capped => text(&out, limits, true),
        (Ok(out), Ok(status)) if status.success() => text(&out, limits, false),
        (_, Ok(status)) => refused(status, &err.unwrap_or_default()),
        (Err(e), _) | (_, Err(e)) => failed(format!("pdftotext: {e}")),
    }
}

/// Reads up to `keep` bytes; with `drain`, reads (and drops) the rest too.
async fn read_up_to(
    mut pipe: impl AsyncRead + Unpin,
    keep: usize,
    drain: bool,
) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = pipe.read(&mut buf).await?;
        if n == 0 {
            return Ok(kept);
        }
        let room = keep - kept.len();
        kept.extend_from_slice(&buf[..n.min(room)]);
        if kept.len() >= keep && !drain {
            return Ok(kept);
        }
    }
}

fn text(out: &[u8], limits: &Limits, capped: bool) -> Extraction {
    let text = match std::str::from_utf8(out) {
        Ok(s) => s.to_owned(),
        // Our cap may split the last character; anything else is replaced.
        Err(e) if capped && e.error_len().is_none() => {
            String::from_utf8_lossy(&out[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(out).into_owned(),
    };
    let mut sink = TextSink::new(limits.max_text);
    // pdftotext ends each page with a form feed.
    sink.push(&text.replace('\x0c', "\n"));
    let done = sink.finish();
    if done.status == ExtractionStatus::Empty {
        return Extraction::not(ExtractionStatus::Empty, "no text layer (a scan?)");
    }
    done
}

/// A failed run: a password is `encrypted`, anything else `failed` with
/// pdftotext's own words.
fn refused(status: ExitStatus, stderr: &[u8]) -> Extraction {
    let stderr = String::from_utf8_lossy(stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("Error"))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim();
    let encrypted = stderr.contains("Incorrect password")
        || stderr.contains("ncrypted")
        || status.code() == Some(3);
    if encrypted {
        return Extraction::not(ExtractionStatus::Encrypted, format!("pdftotext: {line}"));
    }
    let how = match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal (a limit?)".into(),
    };
    if line.is_empty() {
        failed(format!("pdftotext: {how}"))
    } else {
        failed(format!("pdftotext: {how}: {line}"))
    }
}
