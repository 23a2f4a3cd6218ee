//! The real `passerelle-demo` binary as a newcomer runs it: both nodes up,
//! the printed logins working on each, a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const BIN: &str = env!("CARGO_BIN_EXE_passerelle-demo");
const PASSWORD: &str = "passerelle-demo";
const CONTRACTOR: &str = "jean.batisseur@btp-rhone.example";

/// The demo process; killed on drop, its log printed when a test fails.
struct Demo {
    child: Child,
    lines: Receiver<String>,
    log: std::path::PathBuf,
}

impl Demo {
    fn start(dir: &std::path::Path) -> anyhow::Result<Self> {
        let log = dir.join("demo.log");
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("PASSERELLE_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("spawn passerelle-demo")?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Ok(Self { child, lines, log })
    }

    /// The rest of the first stdout line starting with `prefix`.
    fn line_after(&self, prefix: &str, within: Duration) -> anyhow::Result<String> {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while Instant::now() < end {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => match line.strip_prefix(prefix) {
                    Some(rest) => return Ok(rest.trim().to_owned()),
                    None => seen.push(line),
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        bail!("no line starting with {prefix:?}; stdout: {seen:?}")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- demo log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

async fn login(base: &str, login: &str) -> anyhow::Result<reqwest::StatusCode> {
    Ok(reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"login": login, "password": PASSWORD}))
        .send()
        .await?
        .status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_both_nodes_whose_printed_logins_work_and_stops_on_sigterm() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut demo = Demo::start(dir.path())?;
    let internal = demo.line_after("passerelle-internal listening on ", Duration::from_secs(60))?;
    // Printed once the space is shared and the contractor's invitation
    // accepted on the edge.
    let edge = demo.line_after("edge node (contractors):", Duration::from_secs(60))?;
    let edge = edge
        .split_whitespace()
        .next()
        .context("edge URL")?
        .trim_end_matches('/')
        .to_owned();
    assert!(edge.starts_with("http://localhost:"), "{edge}");
    assert_eq!(login(&internal, "marie.dupont").await?, 200, "agent login");
    // The edge requires a second factor: the printed password leads to
    // enrolment, then the contractor is in (codes from oathtool).
    let factor = passerelle_testing::edge_login::Factor::default();
    let api = format!("{edge}/api/v1");
    let client = reqwest::Client::new();
    passerelle_testing::edge_login::edge_login(&client, &api, CONTRACTOR, PASSWORD, &factor)
        .await
        .context("contractor login")?;

    let status = Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()?;
    assert!(status.success());
    let end = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = demo.child.try_wait()? {
            break s;
        }
        if Instant::now() > end {
            bail!("the demo did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    Ok(())
}
