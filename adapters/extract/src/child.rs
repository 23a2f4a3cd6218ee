//! The parsers that run as child processes: `pdftotext` (Debian
//! poppler-utils) for PDF and `catdoc` for Word 97–2003. Parsers of such
//! formats crash and loop on hostile files, so the parsing runs in another
//! process with an empty environment, rlimits (address space, CPU, no file
//! writes, few descriptors) set by `prlimit` (unsafe `pre_exec` is
//! forbidden here), its own empty network namespace when `unshare` can make
//! one, its output read only up to the text cap, and the extractor's
//! overall timeout (the child is killed when it is dropped).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::limits::Limits;

/// Stderr kept for the reason of a failure.
const STDERR_KEPT: usize = 4096;

/// How the child parsers run on this machine, probed once: the node
/// reports it at startup (a missing parser or network namespace is worth
/// saying).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sandbox {
    /// pdftotext's path; `None` when poppler-utils is not installed.
    pub pdftotext: Option<PathBuf>,
    /// catdoc's path; `None` when catdoc is not installed.
    pub catdoc: Option<PathBuf>,
    /// prlimit's path; `None` when util-linux lacks it: no rlimits then.
    pub prlimit: Option<PathBuf>,
    /// unshare's path when `unshare --net --map-root-user` works here;
    /// `None` when the child keeps the host's network.
    pub unshare: Option<PathBuf>,
}

impl Sandbox {
    /// Finds the binaries and tries a network namespace once.
    pub async fn probe() -> Self {
        let unshare = match find("unshare") {
            Some(path) if namespace_works(&path).await => Some(path),
            _ => None,
        };
        Self {
            pdftotext: find("pdftotext"),
            catdoc: find("catdoc"),
            prlimit: find("prlimit"),
            unshare,
        }
    }

    /// One line for a startup report: the parsers found, then how they
    /// are confined.
    pub fn describe(&self) -> String {
        let parsers = match (&self.pdftotext, &self.catdoc) {
            (Some(_), Some(_)) => "pdftotext and catdoc".to_owned(),
            (Some(_), None) => {
                "pdftotext (catdoc not installed: Word 97-2003 text is not extracted)".to_owned()
            }
            (None, Some(_)) => {
                "catdoc (pdftotext not installed: PDF text is not extracted)".to_owned()
            }
            (None, None) => {
                return "pdftotext and catdoc not installed: PDF and Word 97-2003 text is not extracted".into();
            }
        };
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
        format!("{parsers} {limits}, {net}")
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
/// PROGRAM ARGS…`. Both wrappers exec the next program, so the child
/// killed on drop is the parser itself.
fn command(program: &Path, args: &[OsString], sandbox: &Sandbox, limits: &Limits) -> Command {
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
    argv.push(program.into());
    argv.extend(args.iter().cloned());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// What a child gave.
#[derive(Debug)]
pub(crate) struct Output {
    /// Stdout, at most a few bytes past the text cap.
    pub(crate) stdout: Vec<u8>,
    /// Stdout reached the cap: the child was killed, its status says so.
    pub(crate) capped: bool,
    pub(crate) status: ExitStatus,
    /// The start of stderr, for the reason of a failure.
    pub(crate) stderr: Vec<u8>,
}

/// Runs `program ARGS` confined, and reads its output.
///
/// # Errors
/// The child could not start, or its pipes broke: said in a sentence for
/// the extraction's reason.
pub(crate) async fn run(
    program: &Path,
    args: &[OsString],
    sandbox: &Sandbox,
    limits: &Limits,
) -> Result<Output, String> {
    let mut child = command(program, args, sandbox, limits)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("no pipes to the child".into());
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
    let status = child.wait().await.map_err(|e| e.to_string())?;
    Ok(Output {
        stdout: out.map_err(|e| e.to_string())?,
        capped,
        status,
        stderr: err.unwrap_or_default(),
    })
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

/// A child's stdout as text: UTF-8 (the parsers are asked for it), the
/// last character our cap may have split dropped, anything else replaced.
pub(crate) fn utf8(out: &[u8], capped: bool) -> String {
    match std::str::from_utf8(out) {
        Ok(s) => s.to_owned(),
        Err(e) if capped && e.error_len().is_none() => {
            String::from_utf8_lossy(&out[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(out).into_owned(),
    }
}

/// How a child ended, for a reason: its exit status, or the signal that
/// killed it (a limit, most likely).
pub(crate) fn how(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal (a limit?)".into(),
    }
}

/// The line of stderr that says most: one with "Error", else the first.
pub(crate) fn telling_line(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    stderr
        .lines()
        .find(|l| l.contains("Error"))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_owned()
}
