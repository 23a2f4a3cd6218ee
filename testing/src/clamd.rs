//! A throwaway ClamAV daemon for tests (ADR 0010): Debian's `clamd`
//! started in a temp directory with a private signature database (one
//! `.hdb` line, `sigtool --md5` of a sample generated here: no freshclam,
//! no download), listening on a Unix socket and a free loopback TCP port;
//! ready once it answers PING with PONG; killed on drop. Missing `clamd`
//! is a failure under CI (`.ci/run` installs it) and a skip elsewhere.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const CLAMD: &str = "/usr/sbin/clamd";
const SIGTOOL: &str = "/usr/bin/sigtool";

/// The sample's file name, which `sigtool --md5` makes the signature's
/// name.
const SAMPLE_NAME: &str = "Passerelle.Test.Sample";

/// How long clamd may take to load its database and answer (a loaded CI
/// machine is slow; an idle one takes ~3 s).
const READY_WITHIN: Duration = Duration::from_secs(90);

/// A throwaway clamd; killed on drop.
#[derive(Debug)]
pub struct Clamd {
    child: Option<Child>,
    conf: PathBuf,
    /// Its Unix socket (`LocalSocket`).
    pub unix: PathBuf,
    /// `127.0.0.1:<port>` (`TCPSocket`, `TCPAddr`), when it listens there.
    pub tcp: Option<String>,
    /// Content its database knows as infected.
    pub sample: Vec<u8>,
    /// The name clamd gives the sample when found
    /// (`Passerelle.Test.Sample.UNOFFICIAL`: a database of one's own).
    pub signature: String,
    /// Its `StreamMaxLength`, in bytes.
    pub max_stream_bytes: u64,
    dir: tempfile::TempDir,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts clamd with a `StreamMaxLength` of `max_stream_bytes`, on its
/// Unix socket and a free loopback TCP port, or `None` (skip) when it is
/// not installed outside CI.
pub fn start(max_stream_bytes: u64) -> anyhow::Result<Option<Clamd>> {
    start_with(max_stream_bytes, true)
}

/// As [`start`], on its Unix socket only: a port found free and released
/// may be taken by another process before clamd binds it, or before a
/// [`Clamd::restart`] binds it again; tests that do not need TCP avoid the
/// race.
pub fn start_unix(max_stream_bytes: u64) -> anyhow::Result<Option<Clamd>> {
    start_with(max_stream_bytes, false)
}

fn start_with(max_stream_bytes: u64, tcp: bool) -> anyhow::Result<Option<Clamd>> {
    if !Path::new(CLAMD).exists() || !Path::new(SIGTOOL).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "clamd is missing: apt-get install clamav-daemon clamav (.ci/run does)"
        );
        eprintln!("skipped: clamd is not installed (apt-get install clamav-daemon clamav)");
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    std::fs::create_dir(d.join("db"))?;
    // Unique to this run: no other database knows it, and this one knows
    // nothing else (no official signatures, nothing downloaded).
    let sample = format!(
        "PASSERELLE-TEST-SAMPLE {:?} {}\n",
        Instant::now(),
        std::process::id()
    )
    .into_bytes();
    std::fs::write(d.join(SAMPLE_NAME), &sample)?;
    let hdb = Command::new(SIGTOOL)
        .arg("--md5")
        .arg(SAMPLE_NAME)
        .current_dir(d)
        .output()
        .context("sigtool --md5")?;
    if !hdb.status.success() || hdb.stdout.is_empty() {
        bail!("sigtool --md5: {}", String::from_utf8_lossy(&hdb.stderr));
    }
    std::fs::write(d.join("db").join("test.hdb"), &hdb.stdout)?;
    let unix = d.join("clamd.sock");
    let port = if tcp {
        Some(crate::slapd::free_port()?)
    } else {
        None
    };
    let listen_tcp = port.map_or(String::new(), |p| {
        format!("TCPSocket {p}\nTCPAddr 127.0.0.1\n")
    });
    let conf = d.join("clamd.conf");
    std::fs::write(
        &conf,
        format!(
            "DatabaseDirectory {d}/db\n\
             LocalSocket {unix}\n\
             {listen_tcp}\
             Foreground yes\n\
             PidFile {d}/clamd.pid\n\
             TemporaryDirectory {d}\n\
             StreamMaxLength {max_stream_bytes}\n\
             MaxThreads 4\n\
             SelfCheck 3600\n",
            d = d.display(),
            unix = unix.display(),
        ),
    )?;
    let mut clamd = Clamd {
        child: None,
        conf,
        unix,
        tcp: port.map(|p| format!("127.0.0.1:{p}")),
        sample,
        signature: format!("{SAMPLE_NAME}.UNOFFICIAL"),
        max_stream_bytes,
        dir,
    };
    clamd.restart()?;
    Ok(Some(clamd))
}

impl Clamd {
    /// Kills clamd (a scanner gone); [`Clamd::restart`] brings it back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.unix);
    }

    /// Starts clamd again with the same configuration (the same socket and
    /// port), and waits until it answers.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let log = std::fs::File::create(self.dir.path().join("clamd.log"))?;
        let child = Command::new(CLAMD)
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start clamd")?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if self.pong() {
                return Ok(());
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().transpose()) {
                let log =
                    std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default();
                bail!("clamd exited ({:?}): {log}", status?);
            }
            if Instant::now() > deadline {
                bail!("clamd did not answer PING within {READY_WITHIN:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether it answers PING with PONG on its Unix socket.
    fn pong(&self) -> bool {
        let ask = || -> std::io::Result<bool> {
            let mut s = UnixStream::connect(&self.unix)?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"zPING\0")?;
            let mut answer = [0u8; 16];
            let n = s.read(&mut answer)?;
            Ok(answer[..n].starts_with(b"PONG"))
        };
        ask().unwrap_or(false)
    }

    /// clamd's log so far (startup, what it found), for a failing test.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("clamd.log")).unwrap_or_default()
    }
}
