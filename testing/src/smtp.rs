//! A throwaway SMTP relay for tests (ADR 0013): Debian's `aiosmtpd`
//! (`python3-aiosmtpd`) on a free loopback port, writing each message it
//! accepts to files (`<n>.eml`, whole, as received, and `<n>.json`, as
//! Python's `email` package decodes it: headers, the text and HTML
//! parts, the number of attachments); it refuses for good
//! (550) the recipients whose address starts with `refused`. It can be
//! stopped and started again on the same port, to play a relay that goes
//! down. Missing aiosmtpd is a failure under CI (`.ci/run` installs it)
//! and a skip elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Debian's interpreter, which has Debian's `aiosmtpd` (another python3
/// on the PATH may not).
const PYTHON: &str = "/usr/bin/python3";

const SERVER: &str = r#"
import json, os, sys, threading
from email import message_from_bytes, policy
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 <%s>: recipient refused" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        m = message_from_bytes(raw, policy=policy.default)
        text = m.get_body(preferencelist=("plain",))
        html = m.get_body(preferencelist=("html",))
        seen = {
            "rcpt": envelope.rcpt_tos,
            "from": str(m["From"]),
            "to": str(m["To"]),
            "subject": str(m["Subject"]),
            "message_id": str(m["Message-ID"]),
            "list_unsubscribe": m["List-Unsubscribe"] and str(m["List-Unsubscribe"]),
            "auto_submitted": m["Auto-Submitted"] and str(m["Auto-Submitted"]),
            "attachments": len(list(m.iter_attachments())),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        n = len([f for f in os.listdir(out) if f.endswith(".json")])
        tmp = os.path.join(out, ".incoming")
        with open(tmp, "wb") as f:
            f.write(raw)
        os.rename(tmp, os.path.join(out, "%06d.eml" % n))
        with open(tmp, "w") as f:
            json.dump(seen, f)
        os.rename(tmp, os.path.join(out, "%06d.json" % n))
        return "250 2.0.0 accepted"

c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// A throwaway SMTP relay; killed on drop.
#[derive(Debug)]
pub struct Smtp {
    child: Option<Child>,
    pub port: u16,
    /// Where the messages land.
    pub inbox: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the relay, or `None` (skip) when aiosmtpd is not installed
/// outside CI.
pub fn start() -> anyhow::Result<Option<Smtp>> {
    let installed = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "aiosmtpd is missing: apt-get install python3-aiosmtpd (.ci/run does)"
        );
        eprintln!("skipped: aiosmtpd is not installed (apt-get install python3-aiosmtpd)");
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox)?;
    std::fs::write(dir.path().join("server.py"), SERVER)?;
    let mut smtp = Smtp {
        child: None,
        port: crate::slapd::free_port()?,
        inbox,
        dir,
    };
    smtp.start_again()?;
    Ok(Some(smtp))
}

impl Smtp {
    /// Stops the relay (as an outage: connections are refused).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, with the same inbox.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        self.stop();
        let mut child = Command::new(PYTHON)
            .arg(self.dir.path().join("server.py"))
            .arg(&self.inbox)
            .arg(self.port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting aiosmtpd")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!("aiosmtpd exited before listening: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("aiosmtpd did not listen on {} within 30 s", self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
        Ok(())
    }

    /// The messages received so far, oldest first, decoded.
    pub fn messages(&self) -> anyhow::Result<Vec<Received>> {
        read_inbox(&self.inbox)
    }

    /// Waits until at least `n` messages arrived (or `within` passed) and
    /// answers them all.
    pub fn wait_for(&self, n: usize, within: Duration) -> anyhow::Result<Vec<Received>> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages()?;
            if got.len() >= n || Instant::now() > deadline {
                return Ok(got);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A message as the relay received it, decoded.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope's recipients.
    pub rcpt: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub list_unsubscribe: Option<String>,
    pub auto_submitted: Option<String>,
    pub attachments: u64,
    pub text: String,
    pub html: String,
}

fn read_inbox(dir: &Path) -> anyhow::Result<Vec<Received>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p)?)?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Ok(Received {
                rcpt: v["rcpt"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                from: s("from"),
                to: s("to"),
                subject: s("subject"),
                message_id: s("message_id"),
                list_unsubscribe: v["list_unsubscribe"].as_str().map(str::to_owned),
                auto_submitted: v["auto_submitted"].as_str().map(str::to_owned),
                attachments: v["attachments"].as_u64().unwrap_or_default(),
                text: s("text"),
                html: s("html"),
            })
        })
        .collect()
}
