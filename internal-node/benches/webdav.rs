//! WebDAV vs Apache httpd `mod_dav_fs`, side by side in one run, driven by
//! the same client (rclone) on the same disk (issue 15).
//!
//! `cargo bench -p passerelle-internal --bench webdav`
//! (`PASSERELLE_BENCH_BIG_MIB=256` for a shorter run; default 1024 MiB).
//!
//! Rows: upload and download of 1,000 × 64 KiB and of one big file, and a
//! PROPFIND (`rclone lsf`, Depth 1) of a folder of 5,000 entries. rclone
//! 1.60's WebDAV backend spaces its calls by at least 10 ms (its pacer, not
//! configurable in that version), so its small-file rows measure that
//! pacer as much as the servers: the same 1,000 files are also sent and
//! fetched with curl, 4 at a time (`--parallel`), which waits for nothing
//! but the server. Apache
//! serves a plain directory with Basic authentication (htpasswd, the
//! Debian default hash); Passerelle keeps every version and the audit
//! trail, and authenticates each request with an app password. Needs
//! `apache2` and `rclone` from Debian (installed if missing).
//!
//! The listing is also asked with curl (rclone's own PROPFIND body, best
//! of 5): the server's time and the answer's size, without rclone's
//! parsing. `PASSERELLE_BENCH_LIST_ONLY=1` runs the listing rows only;
//! `PASSERELLE_BENCH_KEEP=1` keeps `target/bench-webdav` (the answers).

#[path = "support/node.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use support::{Server, peak_rss_kib, prepare, start};

const MIB: u64 = 1024 * 1024;
const SMALL: usize = 64 * 1024;
const SMALL_COUNT: usize = 1000;
const MANY: usize = 5000;
const LISTINGS: u32 = 5;
const USER: &str = "bench";
/// What rclone 1.60's WebDAV backend asks of a listing (`listPropfind`).
const RCLONE_PROPFIND: &str = "<?xml version=\"1.0\"?>\n\
<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">\n\
 <d:prop>\n  <d:displayname />\n  <d:getlastmodified />\n  <d:getcontentlength />\n\
  <d:resourcetype />\n  <d:getcontenttype />\n  <oc:checksums />\n  <oc:permissions />\n\
 </d:prop>\n</d:propfind>\n";
const PASSWORD: &str = "bench password 2026!";

fn install_missing() -> anyhow::Result<()> {
    let missing = ["/usr/sbin/apache2", "/usr/bin/rclone"]
        .iter()
        .any(|p| !Path::new(p).exists());
    if missing {
        let ok = Command::new("apt-get")
            .args(["install", "-y", "apache2", "apache2-utils", "rclone"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()?
            .success();
        ensure!(ok, "apt-get install apache2 rclone failed");
    }
    Ok(())
}

/// The source tree both servers receive: `small/` (1,000 × 64 KiB),
/// `big/big.bin`, `many/` (5,000 × 1 KiB, for the listing).
fn generate(src: &Path, big_mib: u64) -> anyhow::Result<()> {
    let mut block = vec![0u8; MIB as usize];
    std::fs::create_dir_all(src.join("small"))?;
    for i in 0..SMALL_COUNT {
        let v: Vec<u8> = (0..SMALL).map(|j| (j ^ i ^ (j >> 8)) as u8).collect();
        let mut f = std::fs::File::create(src.join(format!("small/f{i:04}.bin")))?;
        f.write_all(&(i as u64).to_le_bytes())?;
        f.write_all(&v[8..])?;
    }
    std::fs::create_dir_all(src.join("big"))?;
    let mut f = std::fs::File::create(src.join("big/big.bin"))?;
    for i in 0..big_mib {
        for (j, b) in block.iter_mut().enumerate() {
            *b = (j as u64).wrapping_mul(31).wrapping_add(i) as u8;
        }
        block[..8].copy_from_slice(&i.to_le_bytes());
        f.write_all(&block)?;
    }
    std::fs::create_dir_all(src.join("many"))?;
    for i in 0..MANY {
        std::fs::write(
            src.join(format!("many/e{i:05}.txt")),
            format!("{i}\n").repeat(200),
        )?;
    }
    Ok(())
}

/// An Apache httpd with `mod_dav_fs` on `port`, serving `root/data` at
/// `/dav`, stopped when dropped.
struct Apache {
    root: PathBuf,
}

impl Apache {
    fn start(root: &Path, port: u16) -> anyhow::Result<Self> {
        let data = root.join("data");
        std::fs::create_dir_all(&data)?;
        let r = root.display();
        let modules = "/usr/lib/apache2/modules";
        let conf = format!(
            "ServerRoot {r}\nListen 127.0.0.1:{port}\nPidFile {r}/httpd.pid\n\
             ErrorLog {r}/error.log\nLogLevel warn\nServerName 127.0.0.1\n\
             User www-data\nGroup www-data\n\
             LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
             LoadModule authz_core_module {modules}/mod_authz_core.so\n\
             LoadModule authn_core_module {modules}/mod_authn_core.so\n\
             LoadModule authn_file_module {modules}/mod_authn_file.so\n\
             LoadModule auth_basic_module {modules}/mod_auth_basic.so\n\
             LoadModule authz_user_module {modules}/mod_authz_user.so\n\
             LoadModule alias_module {modules}/mod_alias.so\n\
             LoadModule dav_module {modules}/mod_dav.so\n\
             LoadModule dav_fs_module {modules}/mod_dav_fs.so\n\
             DavLockDB {r}/DavLock\nAlias /dav {r}/data\n\
             <Directory {r}/data>\n  Dav On\n  AuthType Basic\n  AuthName bench\n\
             \x20 AuthUserFile {r}/htpasswd\n  Require valid-user\n</Directory>\n"
        );
        std::fs::write(root.join("httpd.conf"), conf)?;
        run(Command::new("htpasswd").args([
            "-bc",
            &root.join("htpasswd").display().to_string(),
            USER,
            PASSWORD,
        ]))?;
        run(Command::new("chown").args(["-R", "www-data:www-data", &r.to_string()]))?;
        run(Command::new("/usr/sbin/apache2").args([
            "-f",
            &root.join("httpd.conf").display().to_string(),
            "-k",
            "start",
        ]))?;
        let apache = Self {
            root: root.to_owned(),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(apache);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("apache2 did not listen: see {}/error.log", r)
    }

    fn pid(&self) -> anyhow::Result<u32> {
        Ok(std::fs::read_to_string(self.root.join("httpd.pid"))?
            .trim()
            .parse()?)
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/apache2")
            .args([
                "-f",
                &self.root.join("httpd.conf").display().to_string(),
                "-k",
                "stop",
            ])
            .status();
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        bail!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// An on-the-fly rclone remote (no config file): the same flags for both
/// servers.
struct Remote {
    spec: String,
}

impl Remote {
    fn new(url: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let obscured = run(Command::new("rclone").args(["obscure", password]))?;
        Ok(Self {
            spec: format!(
                ":webdav,url='{url}',vendor=other,user='{user}',pass='{}':",
                obscured.trim()
            ),
        })
    }

    fn rclone(&self, args: &[&str]) -> anyhow::Result<Duration> {
        let t = Instant::now();
        run(Command::new("rclone")
            .args(args)
            .args(["--config", "/dev/null", "-q"]))?;
        Ok(t.elapsed())
    }

    fn up(&self, local: &Path, remote: &str) -> anyhow::Result<Duration> {
        self.rclone(&[
            "copy",
            &local.display().to_string(),
            &format!("{}{remote}", self.spec),
        ])
    }

    fn down(&self, remote: &str, local: &Path) -> anyhow::Result<Duration> {
        self.rclone(&[
            "copy",
            &format!("{}{remote}", self.spec),
            &local.display().to_string(),
        ])
    }

    /// The fastest of a few listings of `remote` (PROPFIND, Depth 1).
    fn list(&self, remote: &str, expect: usize) -> anyhow::Result<Duration> {
        let mut best = Duration::MAX;
        for _ in 0..LISTINGS {
            let t = Instant::now();
            let out = run(Command::new("rclone").args([
                "lsf",
                &format!("{}{remote}", self.spec),
                "--config",
                "/dev/null",
            ]))?;
            best = best.min(t.elapsed());
            ensure!(
                out.lines().count() == expect,
                "listed {} entries",
                out.lines().count()
            );
        }
        Ok(best)
    }
}

/// curl, 4 transfers at a time, over a config file that lists each file
/// (the password stays out of the command line).
struct Curl {
    url: String,
    user: String,
}

impl Curl {
    fn new(url: &str, user: &str, password: &str) -> Self {
        Self {
            url: url.to_owned(),
            user: format!("{user}:{password}"),
        }
    }

    /// The fastest of a few PROPFINDs (Depth 1) of `remote` with rclone's
    /// body, and the answer's size in bytes.
    fn list(&self, remote: &str, work: &Path) -> anyhow::Result<(Duration, u64)> {
        std::fs::create_dir_all(work)?;
        let body = work.join("propfind.xml");
        std::fs::write(&body, RCLONE_PROPFIND)?;
        let answer = work.join("propfind-answer.xml");
        let lines = format!(
            "request = \"PROPFIND\"\nheader = \"Depth: 1\"\nheader = \"Content-Type: application/xml\"\n\
             data-binary = \"@{}\"\nurl = \"{}/{remote}/\"\noutput = \"{}\"\n",
            body.display(),
            self.url,
            answer.display()
        );
        let mut best = Duration::MAX;
        for _ in 0..LISTINGS {
            best = best.min(self.run(&work.join("curl-list.conf"), &lines)?);
        }
        Ok((best, std::fs::metadata(&answer)?.len()))
    }

    fn run(&self, config: &Path, lines: &str) -> anyhow::Result<Duration> {
        let head = format!(
            "user = \"{}\"\nfail\nsilent\nshow-error\nparallel\nparallel-max = 4\n",
            self.user
        );
        std::fs::write(config, head + lines)?;
        let t = Instant::now();
        run(Command::new("curl").arg("-K").arg(config))?;
        Ok(t.elapsed())
    }

    /// Every file of `local` into the new collection `remote`.
    fn up(&self, local: &Path, remote: &str, work: &Path) -> anyhow::Result<Duration> {
        std::fs::create_dir_all(work)?;
        let config = work.join("curl-up.conf");
        let mkcol = format!("request = \"MKCOL\"\nurl = \"{}/{remote}/\"\n", self.url);
        self.run(&config, &mkcol)?;
        let mut lines = String::new();
        let mut names: Vec<_> = std::fs::read_dir(local)?.collect::<Result<_, _>>()?;
        names.sort_by_key(std::fs::DirEntry::file_name);
        for e in names {
            let name = e.file_name().to_string_lossy().into_owned();
            lines.push_str(&format!(
                "upload-file = \"{}\"\nurl = \"{}/{remote}/{name}\"\noutput = \"/dev/null\"\n",
                e.path().display(),
                self.url
            ));
        }
        self.run(&config, &lines)
    }

    /// The files `up` sent, back into `local`.
    fn down(&self, remote: &str, local: &Path) -> anyhow::Result<Duration> {
        std::fs::create_dir_all(local)?;
        let mut lines = String::new();
        for i in 0..SMALL_COUNT {
            lines.push_str(&format!(
                "url = \"{}/{remote}/f{i:04}.bin\"\noutput = \"{}/f{i:04}.bin\"\n",
                self.url,
                local.display()
            ));
        }
        self.run(&local.join("curl-down.conf"), &lines)
    }
}

/// Times of one server, in the rows' order.
#[derive(Default)]
struct Times {
    up_small: Duration,
    down_small: Duration,
    curl_up: Duration,
    curl_down: Duration,
    up_big: Duration,
    down_big: Duration,
    list: Duration,
    curl_list: Duration,
    /// The size of the listing's answer.
    list_bytes: u64,
    peak_rss_kib: u64,
}

fn drive(remote: &Remote, curl: &Curl, src: &Path, work: &Path, pid: u32) -> anyhow::Result<Times> {
    if std::env::var_os("PASSERELLE_BENCH_LIST_ONLY").is_some() {
        remote.up(&src.join("many"), "many")?;
        let list = remote.list("many", MANY)?;
        let (curl_list, list_bytes) = curl.list("many", work)?;
        return Ok(Times {
            list,
            curl_list,
            list_bytes,
            peak_rss_kib: peak_rss_kib(pid).unwrap_or(0),
            ..Times::default()
        });
    }
    let up_small = remote.up(&src.join("small"), "small")?;
    let down_small = remote.down("small", &work.join("small"))?;
    let curl_up = curl.up(&src.join("small"), "curl", work)?;
    let curl_down = curl.down("curl", &work.join("curl"))?;
    let up_big = remote.up(&src.join("big"), "big")?;
    let down_big = remote.down("big", &work.join("big"))?;
    remote.up(&src.join("many"), "many")?;
    let list = remote.list("many", MANY)?;
    let (curl_list, list_bytes) = curl.list("many", work)?;
    // Same bytes back (rclone checks sizes; this checks content).
    for (sent, back) in [
        ("small/f0000.bin", "small/f0000.bin"),
        ("small/f0999.bin", "small/f0999.bin"),
        ("small/f0500.bin", "curl/f0500.bin"),
        ("big/big.bin", "big/big.bin"),
    ] {
        let a = blake3::hash(&std::fs::read(src.join(sent))?);
        let b = blake3::hash(&std::fs::read(work.join(back))?);
        ensure!(a == b, "{back} came back different");
    }
    Ok(Times {
        up_small,
        down_small,
        curl_up,
        curl_down,
        up_big,
        down_big,
        list,
        curl_list,
        list_bytes,
        peak_rss_kib: peak_rss_kib(pid).unwrap_or(0),
    })
}

async fn passerelle(dir: &Path, src: &Path) -> anyhow::Result<Times> {
    std::fs::create_dir_all(dir)?;
    let token = prepare(dir, "bench")?;
    let (server, base): (Server, String) = start(dir)?;
    let issued: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/app-passwords"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "rclone bench" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let secret = issued["secret"].as_str().context("app password")?;
    let remote = Remote::new(&format!("{base}/dav/bench"), "admin", secret)?;
    let curl = Curl::new(&format!("{base}/dav/bench"), "admin", secret);
    let work = dir.join("down");
    let times = drive(&remote, &curl, src, &work, server.0.id())?;
    drop(server);
    Ok(times)
}

fn apache(dir: &Path, src: &Path) -> anyhow::Result<Times> {
    let port = free_port()?;
    let server = Apache::start(&dir.join("apache"), port)?;
    let url = format!("http://127.0.0.1:{port}/dav");
    let remote = Remote::new(&url, USER, PASSWORD)?;
    let curl = Curl::new(&url, USER, PASSWORD);
    let work = dir.join("down");
    let times = drive(&remote, &curl, src, &work, server.pid()?)?;
    drop(server);
    Ok(times)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let big_mib: u64 = std::env::var("PASSERELLE_BENCH_BIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    install_missing()?;
    let root = std::env::current_dir()?.join("target").join("bench-webdav");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let src = root.join("src");
    generate(&src, big_mib)?;
    let a = apache(&root.join("a"), &src)?;
    let p = passerelle(&root.join("p"), &src).await?;

    println!(
        "\nWebDAV through rclone: Passerelle vs Apache mod_dav_fs (same run, same disk: {})",
        root.display()
    );
    println!(
        "{:<40} {:>12} {:>12} {:>10}",
        "workload", "Apache s", "Passerelle s", "speed"
    );
    let row = |name: &str, apache: Duration, ours: Duration| {
        println!(
            "{name:<40} {:>12.2} {:>12.2} {:>9.2}×",
            apache.as_secs_f64(),
            ours.as_secs_f64(),
            apache.as_secs_f64() / ours.as_secs_f64()
        )
    };
    row("upload 1000 × 64 KiB", a.up_small, p.up_small);
    row("download 1000 × 64 KiB", a.down_small, p.down_small);
    row("upload 1000 × 64 KiB (curl ×4)", a.curl_up, p.curl_up);
    row("download 1000 × 64 KiB (curl ×4)", a.curl_down, p.curl_down);
    row(&format!("upload 1 × {big_mib} MiB"), a.up_big, p.up_big);
    row(
        &format!("download 1 × {big_mib} MiB"),
        a.down_big,
        p.down_big,
    );
    row(
        &format!("PROPFIND of {MANY} entries (best of {LISTINGS})"),
        a.list,
        p.list,
    );
    row(
        &format!("PROPFIND of {MANY} entries, curl (best of {LISTINGS})"),
        a.curl_list,
        p.curl_list,
    );
    println!(
        "listing's answer: Apache {} bytes, Passerelle {} bytes",
        a.list_bytes, p.list_bytes
    );
    println!(
        "speed > 1×: Passerelle faster. Peak RSS: Apache's parent {:.1} MiB (its workers are other processes), Passerelle {:.1} MiB",
        a.peak_rss_kib as f64 / 1024.0,
        p.peak_rss_kib as f64 / 1024.0
    );
    if std::env::var_os("PASSERELLE_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
}
