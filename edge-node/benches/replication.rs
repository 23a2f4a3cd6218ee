//! Replication internal → edge vs `rsync -a` over ssh on loopback, on the
//! same generated files, in one run (issue #3).
//!
//! `cargo bench -p passerelle-edge --bench replication`
//! (`PASSERELLE_BENCH_BIG_MIB=64` for a quick try; default 1024 MiB).
//!
//! - Reference: `rsync -a` of the files to a fresh directory through the
//!   bench's own `sshd` on 127.0.0.1 (generated host and client keys). It
//!   runs before and after the Passerelle runs; the faster run is kept,
//!   which makes the ratios conservative. `rsync --fsync` is shown beside it
//!   for information (Passerelle makes every blob durable; plain rsync does
//!   not flush anything).
//! - Passerelle: real `passerelle-internal` and `passerelle-edge` processes
//!   (the two-node test harness). The documents are uploaded to a space
//!   through the internal API first (not timed). The timed window starts
//!   when `POST /spaces/{id}/share` is sent, and ends when a contractor,
//!   logged in on the edge, lists the space with all its documents. The
//!   contractor is invited to the space right after the share (inside the
//!   window: one small write); the membership has a later revision than
//!   every document, the edge applies a batch in one transaction and
//!   refuses a batch whose blobs it does not hold, so seeing the space
//!   with all its documents means every row and blob is there. Afterwards
//!   (not timed) every document is checked on the edge: version hash, and
//!   content downloaded and re-hashed.
//! - Dedup: a second space holding the same bytes as the 1000 small files
//!   is shared; the bench reports the bytes added under the edge's
//!   `blobs/`, what is left in `partial/`, and the bytes the edge process
//!   wrote to disk (`/proc/<pid>/io`, SQLite included). The same figures,
//!   and the CPU time of both nodes, are shown for every share; for the big
//!   file, also when it was whole in `partial/` and then in `blobs/`.
//! - Contractor upload → visible on the internal node: 100 uploads of 4 KiB
//!   on the edge, one after the other; each latency runs from the upload
//!   request to the first internal listing that shows the document.
//!
//! Everything lives under `target/bench-replication/` (removed at the end
//! of a successful run, kept after a failure); every wait is bounded, and
//! every process is killed when its guard drops.

#[path = "../tests/support/cluster.rs"]
mod cluster;
mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use cluster::Cluster;
use serde_json::{Value, json};
use support::{dir_bytes, loadavg, tail, wait_for};

const MIB: u64 = 1024 * 1024;
const SMALL: usize = 64 * 1024;
const SMALL_COUNT: usize = 1000;
const UPLOADS: usize = 100;
const UPLOAD_BYTES: usize = 4 * 1024;
const CONTRACTOR: &str = "bench@prestataire.fr";
const CONTRACTOR_PASSWORD: &str = "mot de passe du prestataire bench";
const SSHD: &str = "/usr/sbin/sshd";

// ---------------------------------------------------------------- data

fn small(i: usize) -> Vec<u8> {
    // Distinct content per file so dedup cannot help (same generator as
    // the internal node's api_throughput bench).
    let mut v: Vec<u8> = (0..SMALL).map(|j| (j ^ i) as u8).collect();
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

fn chunk(i: u64) -> Vec<u8> {
    let mut v = vec![0u8; MIB as usize];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (j as u64).wrapping_mul(31).wrapping_add(i) as u8;
    }
    v[..8].copy_from_slice(&i.to_le_bytes());
    v
}

fn small_name(i: usize) -> String {
    format!("small-{i:04}.bin")
}

/// Writes the 1000 small files and the big one (1 MiB at a time); returns
/// the BLAKE3 of the big file.
fn generate(small_dir: &Path, big_dir: &Path, big_mib: u64) -> anyhow::Result<String> {
    std::fs::create_dir_all(small_dir)?;
    std::fs::create_dir_all(big_dir)?;
    for i in 0..SMALL_COUNT {
        std::fs::write(small_dir.join(small_name(i)), small(i))?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(big_dir.join("big.bin"))?);
    let mut h = blake3::Hasher::new();
    for i in 0..big_mib {
        let c = chunk(i);
        h.update(&c);
        f.write_all(&c)?;
    }
    f.flush()?;
    Ok(h.finalize().to_hex().to_string())
}

fn upload_content(i: usize) -> Vec<u8> {
    let mut v = format!("contractor upload {i} of the replication bench\n").into_bytes();
    v.resize(UPLOAD_BYTES, (i % 251) as u8);
    v
}

// ---------------------------------------------------------------- processes

/// Runs a command to completion within `timeout` (output into `log`).
/// Returns how long it ran (resolution: 1 ms).
fn run_bounded(
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
fn warnings_in_logs(dir: &Path) -> Vec<String> {
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
fn sync_all(log_dir: &Path) -> anyhow::Result<()> {
    run_bounded(
        &mut Command::new("sync"),
        Duration::from_secs(300),
        "sync",
        &log_dir.join("sync.log"),
    )?;
    Ok(())
}

/// Installs rsync and OpenSSH from Debian when they are missing.
fn ensure_tools(log_dir: &Path) -> anyhow::Result<()> {
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
fn ensure_internal_release(log_dir: &Path) -> anyhow::Result<()> {
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

/// The bench's own sshd on a free loopback port; killed on drop.
struct Sshd {
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
    fn start(dir: &Path) -> anyhow::Result<Self> {
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

// ---------------------------------------------------------------- measures

/// Bytes a process caused to be written to storage (`write_bytes` minus
/// `cancelled_write_bytes` of `/proc/<pid>/io`).
fn disk_writes(pid: u32) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/io"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{name} in /proc/{pid}/io"))
    };
    Ok(field("write_bytes:")?.saturating_sub(field("cancelled_write_bytes:")?))
}

/// CPU time (user + system, all threads) a process has used so far.
fn cpu_time(pid: u32, ticks_per_s: f64) -> anyhow::Result<Duration> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): state is the
    // first, utime and stime the 12th and 13th.
    let rest = s.rsplit_once(')').context("/proc/<pid>/stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).context("utime")?;
    let sys: u64 = f.get(12).and_then(|v| v.parse().ok()).context("stime")?;
    Ok(Duration::from_secs_f64((ticks + sys) as f64 / ticks_per_s))
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

fn fmt_bytes(b: u64) -> String {
    if b >= MIB {
        format!("{:.1} MiB", b as f64 / MIB as f64)
    } else if b >= 1024 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

// ---------------------------------------------------------------- Passerelle

/// A contractor's session on the edge.
struct Contractor {
    cookie: String,
    csrf: String,
}

struct Bench<'a> {
    c: &'a Cluster,
    http: reqwest::Client,
    edge_pid: u32,
    internal_pid: u32,
    ticks: f64,
}

/// What one timed share measured.
struct ShareRun {
    elapsed: Duration,
    blob_bytes_added: u64,
    edge_disk_writes: u64,
    partial_left: u64,
    edge_cpu: Duration,
    internal_cpu: Duration,
    /// One big blob only: when the poller first saw it whole in `partial/`,
    /// and whole in `blobs/` (20 ms resolution).
    big_received: Option<Duration>,
    big_committed: Option<Duration>,
}

impl Bench<'_> {
    fn api(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.c.api(&self.http, m, path)
    }

    fn edge(&self, who: &Contractor, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(m, format!("{}{path}", self.c.ebase))
            .header("Cookie", &who.cookie)
            .header("X-CSRF-Token", &who.csrf)
    }

    async fn create_space(&self, slug: &str) -> anyhow::Result<String> {
        let r = self
            .api(reqwest::Method::POST, "/spaces")
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

    async fn upload(&self, space: &str, name: &str, body: reqwest::Body) -> anyhow::Result<()> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/documents"))
            .query(&[("name", name)])
            .body(body)
            .send()
            .await?;
        ensure!(r.status() == 201, "upload {name}: {}", r.status());
        Ok(())
    }

    async fn upload_small_set(&self, space: &str, dir: &Path) -> anyhow::Result<()> {
        for i in 0..SMALL_COUNT {
            let name = small_name(i);
            let bytes = tokio::fs::read(dir.join(&name)).await?;
            self.upload(space, &name, bytes.into()).await?;
        }
        Ok(())
    }

    async fn upload_big(&self, space: &str, file: &Path) -> anyhow::Result<()> {
        let f = tokio::fs::File::open(file).await?;
        let len = f.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(f, MIB as usize);
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/documents"))
            .query(&[("name", "big.bin")])
            .header("Content-Length", len.to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await?;
        ensure!(r.status() == 201, "big upload: {}", r.status());
        Ok(())
    }

    async fn share(&self, space: &str) -> anyhow::Result<()> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/share"))
            .json(&json!({"edge": "edge-1"}))
            .send()
            .await?;
        ensure!(
            r.status().is_success(),
            "share: {} {}",
            r.status(),
            r.text().await?
        );
        Ok(())
    }

    /// Invites the bench's contractor; returns the invitation's secret.
    async fn invite(&self, space: &str) -> anyhow::Result<String> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/contractors"))
            .json(&json!({"email": CONTRACTOR, "display_name": "Prestataire Bench", "organisation": "Bench SARL", "role": "collaborator"}))
            .send()
            .await?;
        ensure!(
            r.status() == 201,
            "invite: {} {}",
            r.status(),
            r.text().await?
        );
        let v: Value = r.json().await?;
        let url = v["invitation_url"].as_str().context("invitation url")?;
        Ok(url
            .split('#')
            .nth(1)
            .context("secret in the link")?
            .to_owned())
    }

    async fn replication(&self, space: &str) -> anyhow::Result<Value> {
        let r = self
            .api(
                reqwest::Method::GET,
                &format!("/spaces/{space}/replication"),
            )
            .send()
            .await?;
        ensure!(r.status() == 200, "replication status: {}", r.status());
        Ok(r.json().await?)
    }

    async fn wait_caught_up(&self, space: &str, timeout: Duration) -> anyhow::Result<()> {
        wait_for(
            "the edge to acknowledge the space",
            timeout,
            Duration::from_millis(50),
            || async {
                let v = self.replication(space).await?;
                if let Some(e) = v["last_error"].as_str() {
                    bail!("replication error: {e}");
                }
                Ok((v["lag_revisions"] == 0).then_some(()))
            },
        )
        .await
    }

    /// Warm-up space: shared, contractor invited, invitation accepted, logged
    /// in (the link is up and idle after this).
    async fn contractor(&self, space: &str) -> anyhow::Result<Contractor> {
        self.share(space).await?;
        let secret = self.invite(space).await?;
        self.wait_caught_up(space, Duration::from_secs(60)).await?;
        let ebase = &self.c.ebase;
        let r = self
            .http
            .post(format!("{ebase}/invitations/accept"))
            .json(&json!({"secret": secret, "password": CONTRACTOR_PASSWORD}))
            .send()
            .await?;
        ensure!(
            r.status() == 200,
            "accept: {} {}",
            r.status(),
            r.text().await?
        );
        let login = self
            .http
            .post(format!("{ebase}/auth/login"))
            .json(&json!({"login": CONTRACTOR, "password": CONTRACTOR_PASSWORD}))
            .send()
            .await?;
        ensure!(
            login.status() == 200,
            "contractor login: {}",
            login.status()
        );
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .context("session cookie")?
            .to_owned();
        let csrf = login.json::<Value>().await?["csrf_token"]
            .as_str()
            .context("csrf token")?
            .to_owned();
        Ok(Contractor { cookie, csrf })
    }

    /// Documents of the space the contractor sees on the edge (`None`: the
    /// space is not visible to them yet).
    async fn edge_total(&self, who: &Contractor, space: &str) -> anyhow::Result<Option<u64>> {
        let r = self
            .edge(
                who,
                reqwest::Method::GET,
                &format!("/spaces/{space}/children"),
            )
            .query(&[("limit", "1")])
            .send()
            .await?;
        if !r.status().is_success() {
            return Ok(None);
        }
        let v: Value = r.json().await?;
        Ok(v["documents"]["total"].as_u64())
    }

    /// The timed window: share → invite → the contractor lists `count`
    /// documents on the edge.
    /// `big`: the hash and size of the one blob of the space, to time its
    /// two steps on the edge (`partial/`, then the blob store).
    async fn timed_share(
        &self,
        who: &Contractor,
        space: &str,
        count: u64,
        big: Option<(&str, u64)>,
        timeout: Duration,
    ) -> anyhow::Result<ShareRun> {
        let blobs_before = dir_bytes(&self.c.edir.join("blobs"));
        let writes_before = disk_writes(self.edge_pid)?;
        let cpu_before = (
            cpu_time(self.edge_pid, self.ticks)?,
            cpu_time(self.internal_pid, self.ticks)?,
        );
        let received = std::cell::Cell::new(None);
        let committed = std::cell::Cell::new(None);
        let t = Instant::now();
        self.share(space).await?;
        self.invite(space).await?;
        wait_for(
            "every document on the edge",
            timeout,
            Duration::from_millis(20),
            || async {
                if let Some((hash, size)) = big {
                    let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).ok();
                    let partial = self.c.edir.join("partial").join(hash);
                    if received.get().is_none() && len(partial) == Some(size) {
                        received.set(Some(t.elapsed()));
                    }
                    let blob = self.c.edir.join("blobs").join(&hash[..2]).join(hash);
                    if committed.get().is_none() && len(blob) == Some(size) {
                        committed.set(Some(t.elapsed()));
                    }
                }
                Ok(self
                    .edge_total(who, space)
                    .await?
                    .filter(|n| *n == count)
                    .map(|_| ()))
            },
        )
        .await?;
        let elapsed = t.elapsed();
        let run = ShareRun {
            elapsed,
            blob_bytes_added: dir_bytes(&self.c.edir.join("blobs")).saturating_sub(blobs_before),
            edge_disk_writes: disk_writes(self.edge_pid)?.saturating_sub(writes_before),
            partial_left: dir_bytes(&self.c.edir.join("partial")),
            edge_cpu: cpu_time(self.edge_pid, self.ticks)?.saturating_sub(cpu_before.0),
            internal_cpu: cpu_time(self.internal_pid, self.ticks)?.saturating_sub(cpu_before.1),
            big_received: received.get(),
            big_committed: committed.get(),
        };
        self.wait_caught_up(space, Duration::from_secs(60)).await?;
        Ok(run)
    }

    /// Every document of the space on the edge, as the contractor sees it:
    /// name → (id, version hash), then its content re-hashed.
    async fn verify_on_edge(
        &self,
        who: &Contractor,
        space: &str,
        expected: &[(String, String)],
    ) -> anyhow::Result<()> {
        let mut seen = Vec::new();
        let mut offset = 0u64;
        loop {
            let r = self
                .edge(
                    who,
                    reqwest::Method::GET,
                    &format!("/spaces/{space}/children"),
                )
                .query(&[("limit", "500".to_owned()), ("offset", offset.to_string())])
                .send()
                .await?;
            ensure!(r.status() == 200, "edge listing: {}", r.status());
            let v: Value = r.json().await?;
            let items = v["documents"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if items.is_empty() {
                break;
            }
            offset += items.len() as u64;
            for d in items {
                seen.push((
                    d["name"].as_str().context("name")?.to_owned(),
                    d["id"].as_str().context("id")?.to_owned(),
                ));
            }
        }
        ensure!(
            seen.len() == expected.len(),
            "{} documents on the edge, {} expected",
            seen.len(),
            expected.len()
        );
        for (name, hash) in expected {
            let id = &seen
                .iter()
                .find(|(n, _)| n == name)
                .with_context(|| format!("{name} missing on the edge"))?
                .1;
            let r = self
                .edge(who, reqwest::Method::GET, &format!("/documents/{id}"))
                .send()
                .await?;
            ensure!(r.status() == 200, "edge document {name}: {}", r.status());
            let v: Value = r.json().await?;
            ensure!(
                v["version"]["hash"].as_str() == Some(hash.as_str()),
                "{name}: hash {} on the edge, {hash} expected",
                v["version"]["hash"]
            );
            let mut r = self
                .edge(
                    who,
                    reqwest::Method::GET,
                    &format!("/documents/{id}/content"),
                )
                .send()
                .await?;
            ensure!(r.status() == 200, "edge content {name}: {}", r.status());
            let mut h = blake3::Hasher::new();
            while let Some(c) = r.chunk().await? {
                h.update(&c);
            }
            ensure!(
                h.finalize().to_hex().as_str() == hash,
                "{name}: the content served by the edge does not match its hash"
            );
        }
        Ok(())
    }

    /// Uploads as the contractor on the edge, then polls the internal node
    /// until the document is listed there. Returns each latency.
    async fn upload_latencies(
        &self,
        who: &Contractor,
        space: &str,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut out = Vec::with_capacity(UPLOADS);
        for i in 0..UPLOADS {
            let name = format!("prestataire-{i:03}.txt");
            let t = Instant::now();
            let r = self
                .edge(
                    who,
                    reqwest::Method::POST,
                    &format!("/spaces/{space}/documents"),
                )
                .query(&[("name", name.as_str())])
                .body(upload_content(i))
                .send()
                .await?;
            ensure!(r.status() == 202, "edge upload {name}: {}", r.status());
            wait_for(
                "the contractor's upload on the internal node",
                Duration::from_secs(30),
                Duration::from_millis(10),
                || async {
                    let r = self
                        .api(reqwest::Method::GET, &format!("/spaces/{space}/children"))
                        .query(&[("limit", "500")])
                        .send()
                        .await?;
                    ensure!(r.status() == 200, "internal listing: {}", r.status());
                    let v: Value = r.json().await?;
                    let found = v["documents"]["items"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|d| d["name"] == name.as_str()));
                    Ok(found.then_some(()))
                },
            )
            .await?;
            out.push(t.elapsed());
        }
        Ok(out)
    }
}

/// What the Passerelle side measured.
struct PasserelleFigures {
    small: ShareRun,
    big: ShareRun,
    dedup: ShareRun,
    latencies: Vec<Duration>,
}

async fn passerelle(
    c: &Cluster,
    small_dir: &Path,
    big_file: &Path,
    big_hash: &str,
    log_dir: &Path,
) -> anyhow::Result<PasserelleFigures> {
    let edge_pid = c.edge.as_ref().context("edge process")?.child.id();
    let internal_pid = c.node.as_ref().context("internal process")?.child.id();
    let b = Bench {
        c,
        http: reqwest::Client::new(),
        edge_pid,
        internal_pid,
        ticks: clock_ticks(),
    };
    let small_expected: Vec<(String, String)> = (0..SMALL_COUNT)
        .map(|i| (small_name(i), blake3::hash(&small(i)).to_hex().to_string()))
        .collect();

    // Warm-up: the contractor and the uploads space.
    let uploads = b.create_space("televersements").await?;
    let who = b.contractor(&uploads).await?;

    // (a) 1000 × 64 KiB.
    let space_a = b.create_space("petits-fichiers").await?;
    b.upload_small_set(&space_a, small_dir).await?;
    sync_all(log_dir)?;
    println!("sharing 1000 × 64 KiB… (load {})", loadavg());
    let small_run = b
        .timed_share(
            &who,
            &space_a,
            SMALL_COUNT as u64,
            None,
            Duration::from_secs(600),
        )
        .await?;
    b.verify_on_edge(&who, &space_a, &small_expected).await?;

    // (b) one big file.
    let space_b = b.create_space("gros-fichier").await?;
    b.upload_big(&space_b, big_file).await?;
    sync_all(log_dir)?;
    println!("sharing the big file… (load {})", loadavg());
    let big_size = std::fs::metadata(big_file)?.len();
    let big_run = b
        .timed_share(
            &who,
            &space_b,
            1,
            Some((big_hash, big_size)),
            Duration::from_secs(1200),
        )
        .await?;
    b.verify_on_edge(
        &who,
        &space_b,
        &[("big.bin".to_owned(), big_hash.to_owned())],
    )
    .await?;

    // Dedup: the same bytes as (a) in another space.
    let space_c = b.create_space("memes-octets").await?;
    b.upload_small_set(&space_c, small_dir).await?;
    sync_all(log_dir)?;
    println!(
        "sharing a space with the same 1000 contents… (load {})",
        loadavg()
    );
    let dedup_run = b
        .timed_share(
            &who,
            &space_c,
            SMALL_COUNT as u64,
            None,
            Duration::from_secs(600),
        )
        .await?;
    b.verify_on_edge(&who, &space_c, &small_expected).await?;

    // Contractor uploads coming back.
    sync_all(log_dir)?;
    println!("100 contractor uploads… (load {})", loadavg());
    let mut latencies = b.upload_latencies(&who, &uploads).await?;
    latencies.sort();
    Ok(PasserelleFigures {
        small: small_run,
        big: big_run,
        dedup: dedup_run,
        latencies,
    })
}

// ---------------------------------------------------------------- rsync

#[derive(Default)]
struct RsyncFigures {
    small: Option<Duration>,
    big: Option<Duration>,
    small_fsync: Option<Duration>,
    big_fsync: Option<Duration>,
}

fn keep_min(slot: &mut Option<Duration>, d: Duration) {
    *slot = Some(slot.map_or(d, |s| s.min(d)));
}

fn rsync_round(
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

// ---------------------------------------------------------------- main

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let big_mib: u64 = std::env::var("PASSERELLE_BENCH_BIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let target = Path::new(cluster::EDGE_BIN)
        .parent()
        .and_then(Path::parent)
        .context("target directory")?;
    let root = target.join("bench-replication");
    let _ = std::fs::remove_dir_all(&root);
    let (log_dir, tmp) = (root.join("logs"), root.join("tmp"));
    std::fs::create_dir_all(&log_dir)?;
    std::fs::create_dir_all(&tmp)?;
    // The harness makes its directories with `tempfile::tempdir()`.
    let _ = tempfile::env::override_temp_dir(&tmp);

    let started = time::OffsetDateTime::now_utc();
    let load_start = loadavg();
    match run(&root, &log_dir, big_mib).await {
        Ok(report) => {
            println!("{report}");
            println!(
                "run started {started} (load average at start {load_start}, at the end {})",
                loadavg()
            );
            let _ = std::fs::remove_dir_all(&root);
            Ok(())
        }
        Err(e) => {
            eprintln!("bench failed; logs kept in {}", root.display());
            Err(e)
        }
    }
}

async fn run(root: &Path, log_dir: &Path, big_mib: u64) -> anyhow::Result<String> {
    ensure_tools(log_dir)?;
    ensure_internal_release(log_dir)?;

    let (small_dir, big_dir) = (root.join("data/small"), root.join("data/big"));
    println!(
        "generating 1000 × 64 KiB and 1 × {big_mib} MiB under {}…",
        root.display()
    );
    let big_hash = generate(&small_dir, &big_dir, big_mib)?;
    let big_file = big_dir.join("big.bin");

    let sshd = Sshd::start(&root.join("ssh"))?;
    let mut rs = RsyncFigures::default();
    println!("rsync over ssh, first round… (load {})", loadavg());
    rsync_round(&sshd, &mut rs, &small_dir, &big_dir, root, log_dir)?;

    let (p, log_findings) = {
        let c = Cluster::start().await?;
        let result = passerelle(&c, &small_dir, &big_file, &big_hash, log_dir).await;
        match result {
            Ok(p) => (p, warnings_in_logs(c.tmp.path())),
            Err(e) => {
                let logs = c.tmp.path();
                let msg = format!(
                    "--- edge.log (tail) ---\n{}\n--- internal.log (tail) ---\n{}",
                    tail(&logs.join("edge.log"), 40),
                    tail(&logs.join("internal.log"), 40)
                );
                return Err(e.context(msg));
            }
        }
    };

    println!("rsync over ssh, second round… (load {})", loadavg());
    rsync_round(&sshd, &mut rs, &small_dir, &big_dir, root, log_dir)?;
    drop(sshd);

    let small_bytes = (SMALL * SMALL_COUNT) as u64;
    let big_bytes = big_mib * MIB;
    let get = |d: Option<Duration>| d.context("rsync figure");
    let (rs_small, rs_big) = (get(rs.small)?, get(rs.big)?);
    let (rs_small_f, rs_big_f) = (get(rs.small_fsync)?, get(rs.big_fsync)?);

    let mut out = String::new();
    writeln!(
        out,
        "\nReplication internal → edge vs rsync -a over ssh on loopback (same files, same disk)"
    )?;
    writeln!(
        out,
        "{:<34} {:>22} {:>22} {:>9}",
        "workload", "Passerelle", "rsync over ssh", "speed-up"
    )?;
    let row = |out: &mut String, name: &str, bytes: u64, p: Duration, r: Duration| {
        writeln!(
            out,
            "{name:<34} {:>22} {:>22} {:>8.2}×",
            format!("{:.2} s ({:.1} MiB/s)", p.as_secs_f64(), mib_s(bytes, p)),
            format!("{:.2} s ({:.1} MiB/s)", r.as_secs_f64(), mib_s(bytes, r)),
            r.as_secs_f64() / p.as_secs_f64()
        )
    };
    row(
        &mut out,
        "share 1000 × 64 KiB",
        small_bytes,
        p.small.elapsed,
        rs_small,
    )?;
    row(
        &mut out,
        &format!("share 1 × {big_mib} MiB"),
        big_bytes,
        p.big.elapsed,
        rs_big,
    )?;
    row(
        &mut out,
        "  (info) vs rsync --fsync, 1000",
        small_bytes,
        p.small.elapsed,
        rs_small_f,
    )?;
    row(
        &mut out,
        &format!("  (info) vs rsync --fsync, {big_mib} MiB"),
        big_bytes,
        p.big.elapsed,
        rs_big_f,
    )?;
    writeln!(
        out,
        "(speed-up = rsync time / Passerelle time; > 1: Passerelle faster. rsync: faster of two rounds.)"
    )?;
    writeln!(out)?;
    for (name, payload, r) in [
        ("1000 × 64 KiB", small_bytes, &p.small),
        (&*format!("1 × {big_mib} MiB"), big_bytes, &p.big),
        ("same 1000 contents again", small_bytes, &p.dedup),
    ] {
        writeln!(
            out,
            "share of {name:<24}: {:.2} s; edge blobs +{}, partial/ left {}, edge wrote {} to disk ({:.2}× the payload of {}); CPU edge {:.2} s, internal {:.2} s",
            r.elapsed.as_secs_f64(),
            fmt_bytes(r.blob_bytes_added),
            fmt_bytes(r.partial_left),
            fmt_bytes(r.edge_disk_writes),
            r.edge_disk_writes as f64 / payload as f64,
            fmt_bytes(payload),
            r.edge_cpu.as_secs_f64(),
            r.internal_cpu.as_secs_f64(),
        )?;
    }
    let secs =
        |d: Option<Duration>| d.map_or("?".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()));
    writeln!(
        out,
        "big file on the edge: whole in partial/ at {}, whole in blobs/ at {}, listed at {:.2} s (from the share; 20 ms polls)",
        // Direct writes fill the partial in whole blocks and add its tail
        // last, just before the commit: a poll may never see it whole.
        p.big.big_received.map_or(
            "not seen (committed within a poll)".to_owned(),
            |d| format!("{:.2} s", d.as_secs_f64())
        ),
        secs(p.big.big_committed),
        p.big.elapsed.as_secs_f64(),
    )?;
    writeln!(
        out,
        "per 64 KiB document: {:.2} ms with its blob, {:.2} ms when the edge already holds the blob",
        p.small.elapsed.as_secs_f64() * 1000.0 / SMALL_COUNT as f64,
        p.dedup.elapsed.as_secs_f64() * 1000.0 / SMALL_COUNT as f64,
    )?;
    let l = &p.latencies;
    writeln!(
        out,
        "contractor upload (4 KiB) on the edge → listed on the internal node, {} uploads: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 < 1 s: {})",
        l.len(),
        percentile(l, 0.50).as_secs_f64() * 1000.0,
        percentile(l, 0.95).as_secs_f64() * 1000.0,
        percentile(l, 1.0).as_secs_f64() * 1000.0,
        if percentile(l, 0.95) < Duration::from_secs(1) {
            "met"
        } else {
            "missed"
        }
    )?;
    writeln!(
        out,
        "warnings and errors in the nodes' logs: {}",
        log_findings.len()
    )?;
    for l in log_findings.iter().take(10) {
        writeln!(out, "  {l}")?;
    }
    writeln!(
        out,
        "targets: faster than rsync on 1000 × 64 KiB: {}; on 1 × {big_mib} MiB: {}",
        if p.small.elapsed < rs_small {
            "met"
        } else {
            "missed"
        },
        if p.big.elapsed < rs_big {
            "met"
        } else {
            "missed"
        },
    )?;
    Ok(out)
}
