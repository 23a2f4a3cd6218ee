//! The reference: `rsync -a` over ssh through the bench's own `sshd` on
//! loopback, run in rounds of which the fastest is kept.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use super::SSHD;
use super::processes::{run_bounded, sync_all};
use super::support::{dir_bytes, tail};

/// The bench's own sshd on a free loopback port; killed on drop.
pub(crate) struct Sshd {
    child: Child,
    port: u16,
    client_key: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    pub(crate) fn start(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let host_key = dir.join("host_ed25519");
        let client_key = dir.join("client_ed25519");
        for k in [&host_key, &client_key] {
            run_bounded(
                Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                    .arg(k),
                Duration::from_secs(30),
                "ssh-keygen",
                &dir.join("ssh-keygen.log"),
            )?;
        }
        let authorized = dir.join("authorized_keys");
        std::fs::copy(dir.join("client_ed25519.pub"), &authorized)?;
        // sshd refuses to start without its privilege separation directory
        // (the package creates it when its service starts; nothing does here).
        std::fs::create_dir_all("/run/sshd")?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {host}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {auth}\n\
                 PermitRootLogin prohibit-password\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 PrintMotd no\n",
                host = host_key.display(),
                pid = dir.join("sshd.pid").display(),
                auth = authorized.display(),
            ),
        )?;
        let log = dir.join("sshd.log");
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.join("sshd.stderr.log"))?)
            .spawn()
            .context("cannot start sshd")?;
        let mut sshd = Self {
            child,
            port,
            client_key,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = sshd.child.try_wait()? {
                bail!(
                    "sshd exited ({status}): {}",
                    tail(&dir.join("sshd.stderr.log"), 20)
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "sshd not listening on port {port} after 15 s: {}",
                tail(&dir.join("sshd.stderr.log"), 20)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // One login before any timing: host key exchange works, rsync is there.
        run_bounded(
            Command::new("ssh").args(sshd.ssh_args()).args([
                "root@127.0.0.1",
                "rsync",
                "--version",
            ]),
            Duration::from_secs(30),
            "ssh to the bench's sshd",
            &dir.join("ssh-check.log"),
        )?;
        Ok(sshd)
    }

    fn ssh_args(&self) -> Vec<String> {
        vec![
            "-p".into(),
            self.port.to_string(),
            "-i".into(),
            self.client_key.display().to_string(),
            "-o".into(),
            "StrictHostKeyChecking=no".into(),
            "-o".into(),
            "UserKnownHostsFile=/dev/null".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ]
    }

    /// `rsync -a [extra] src/ root@127.0.0.1:dst/` into a fresh `dst`.
    fn rsync(
        &self,
        src: &Path,
        dst: &Path,
        extra: &[&str],
        log: &Path,
    ) -> anyhow::Result<Duration> {
        if dst.exists() {
            std::fs::remove_dir_all(dst)?;
        }
        let e = format!("ssh {}", self.ssh_args().join(" "));
        let d = run_bounded(
            Command::new("rsync")
                .arg("-a")
                .args(extra)
                .arg("-e")
                .arg(e)
                .arg(format!("{}/", src.display()))
                .arg(format!("root@127.0.0.1:{}/", dst.display())),
            Duration::from_secs(1800),
            "rsync",
            log,
        )?;
        let (want, got) = (dir_bytes(src), dir_bytes(dst));
        ensure!(want == got, "rsync copied {got} bytes of {want}");
        std::fs::remove_dir_all(dst)?;
        Ok(d)
    }
}

#[derive(Default)]
pub(crate) struct RsyncFigures {
    pub(crate) small: Option<Duration>,
    pub(crate) big: Option<Duration>,
    pub(crate) small_fsync: Option<Duration>,
    pub(crate) big_fsync: Option<Duration>,
}

fn keep_min(slot: &mut Option<Duration>, d: Duration) {
    *slot = Some(slot.map_or(d, |s| s.min(d)));
}

pub(crate) fn rsync_round(
    sshd: &Sshd,
    figures: &mut RsyncFigures,
    small_dir: &Path,
    big_dir: &Path,
    root: &Path,
    log_dir: &Path,
) -> anyhow::Result<()> {
    let dst = root.join("rsync-dst");
    let log = log_dir.join("rsync.log");
    sync_all(log_dir)?;
    keep_min(&mut figures.small, sshd.rsync(small_dir, &dst, &[], &log)?);
    sync_all(log_dir)?;
    keep_min(&mut figures.big, sshd.rsync(big_dir, &dst, &[], &log)?);
    sync_all(log_dir)?;
    keep_min(
        &mut figures.small_fsync,
        sshd.rsync(small_dir, &dst, &["--fsync"], &log)?,
    );
    sync_all(log_dir)?;
    keep_min(
        &mut figures.big_fsync,
        sshd.rsync(big_dir, &dst, &["--fsync"], &log)?,
    );
    Ok(())
}
