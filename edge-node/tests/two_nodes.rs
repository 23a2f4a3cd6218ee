//! An internal node and an edge node as two real processes on loopback, with
//! a PKI made by the CLI in a temp dir: sharing, invitation, a contractor's
//! upload coming back, a space never shared never reaching the edge, and
//! un-sharing leaving nothing of the space on the edge.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

const EDGE_BIN: &str = env!("CARGO_BIN_EXE_passerelle-edge");
const ADMIN_PASSWORD: &str = "Le mot de passe de l'admin 2026";

/// `passerelle-internal` sits beside `passerelle-edge` in the target
/// directory (`cargo test --workspace` builds both).
fn internal_bin() -> PathBuf {
    Path::new(EDGE_BIN).with_file_name("passerelle-internal")
}

struct Proc {
    child: Child,
    lines: Vec<String>,
    log: PathBuf,
}

impl Proc {
    /// Starts `bin args…` and waits for `ready` lines on stdout.
    fn start(
        bin: &Path,
        args: &[&str],
        dir: &Path,
        name: &str,
        ready: &[&str],
    ) -> anyhow::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(bin)
            .args(args)
            .env("PASSERELLE_LOG__FILTER", "info,passerelle_grpc=debug")
            .env("PASSERELLE_EDGE_LOG__FILTER", "info,passerelle_grpc=debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let out = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while lines.len() < ready.len() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(remaining) {
                Ok(l) => {
                    if let Some(p) = ready.iter().find(|p| l.starts_with(**p)) {
                        lines.push(l[p.len()..].trim().to_owned());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!(
                        "{name} not ready: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
        Ok(Self { child, lines, log })
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- {} ---\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

fn run(bin: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .env("PASSERELLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > end => {
                return Err(e.context(format!("waited 30 s for {what}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Every file under `dir`, as bytes: the "scan" of what a node holds.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

fn holds(files: &[(PathBuf, Vec<u8>)], needle: &[u8]) -> Option<PathBuf> {
    files
        .iter()
        .find(|(_, b)| b.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p.clone())
}

fn blob_files(dir: &Path) -> Vec<String> {
    files_under(&dir.join("blobs"))
        .into_iter()
        .filter_map(|(p, _)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_space_round_trips_through_the_edge_and_unsharing_leaves_nothing()
-> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (idir, edir) = (tmp.path().join("internal"), tmp.path().join("edge"));
    let internal = internal_bin();
    ensure!(
        internal.exists(),
        "build passerelle-internal first (cargo build --workspace)"
    );
    let i = |args: &[&str]| {
        let mut v = vec!["--data-dir", idir.to_str().unwrap_or_default()];
        v.extend_from_slice(args);
        run(&internal, &v)
    };
    i(&["init"])?;
    i(&["pki", "init"])?;
    i(&[
        "pki",
        "issue-edge",
        "--id",
        "edge-1",
        "--dns",
        "localhost",
        "--ip",
        "127.0.0.1",
    ])?;
    i(&["pki", "issue-internal", "--id", "internal"])?;
    std::fs::create_dir_all(edir.join("tls"))?;
    for f in ["cert.pem", "key.pem", "ca.pem"] {
        std::fs::copy(
            idir.join("pki/issued/edge-1").join(f),
            edir.join("tls").join(f),
        )?;
    }
    let token = i(&["token", "create", "--login", "admin", "--name", "e2e"])?
        .lines()
        .find(|l| l.starts_with("psr_"))
        .context("token")?
        .to_owned();

    let edge = Proc::start(
        Path::new(EDGE_BIN),
        &[
            "--data-dir",
            edir.to_str().unwrap_or_default(),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--peer-listen",
            "127.0.0.1:0",
        ],
        tmp.path(),
        "edge",
        &[
            "passerelle-edge listening on ",
            "passerelle-edge replication on ",
        ],
    )?;
    let (edge_http, edge_peer) = (edge.lines[0].clone(), edge.lines[1].clone());
    let config = idir.join("internal.toml");
    std::fs::write(
        &config,
        format!(
            "[[replication.edges]]\nid = \"edge-1\"\nendpoint = \"https://{edge_peer}\"\npublic_url = \"{edge_http}\"\n"
        ),
    )?;
    let node = Proc::start(
        &internal,
        &[
            "--data-dir",
            idir.to_str().unwrap_or_default(),
            "--config",
            config.to_str().unwrap_or_default(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
        tmp.path(),
        "internal",
        &["passerelle-internal listening on "],
    )?;
    let base = format!("{}/api/v1", node.lines[0]);
    let ebase = format!("{edge_http}/api/v1");
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let api = |m: reqwest::Method, path: &str| {
        http.request(m, format!("{base}{path}"))
            .header("Authorization", &auth)
    };

    // A shared space with a document in two versions, and a space never shared.
    let space: Value = api(reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": "piscine", "title": "Piscine", "domain": "Sports"}))
        .send()
        .await?
        .json()
        .await?;
    let space = space["id"]
        .as_str()
        .or(space["space"]["id"].as_str())
        .context("space id")?
        .to_owned();
    let doc: Value = api(
        reqwest::Method::POST,
        &format!("/spaces/{space}/documents?name=CCTP.txt"),
    )
    .body("version 1")
    .send()
    .await?
    .json()
    .await?;
    let doc = doc["document"]["id"].as_str().context("doc id")?.to_owned();
    let r = api(reqwest::Method::POST, &format!("/documents/{doc}/versions"))
        .body("version 2 du CCTP")
        .send()
        .await?;
    ensure!(r.status() == 201, "new version: {}", r.status());
    let secret_space: Value = api(reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": "interne", "title": "Interne", "domain": "RH"}))
        .send()
        .await?
        .json()
        .await?;
    let secret_space = secret_space["id"]
        .as_str()
        .or(secret_space["space"]["id"].as_str())
        .context("id")?
        .to_owned();
    let secret_content = format!("confidentiel-{}", uuid_like());
    let r = api(
        reqwest::Method::POST,
        &format!("/spaces/{secret_space}/documents?name=jamais-partage.txt"),
    )
    .body(secret_content.clone())
    .send()
    .await?;
    ensure!(r.status() == 201);

    // Share, invite.
    let r = api(reqwest::Method::POST, &format!("/spaces/{space}/share"))
        .json(&json!({"edge": "edge-1"}))
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "share: {} {}",
        r.status(),
        r.text().await?
    );
    let inv: Value = api(reqwest::Method::POST, &format!("/spaces/{space}/contractors"))
        .json(&json!({"email": "jean@btp-rhone.fr", "display_name": "Jean Bâtisseur", "organisation": "BTP Rhône", "role": "collaborator"}))
        .send()
        .await?
        .json()
        .await?;
    let url = inv["invitation_url"].as_str().context("invitation url")?;
    ensure!(url.starts_with(&edge_http), "link to the edge: {url}");
    let secret = url
        .split('#')
        .nth(1)
        .context("secret in the link")?
        .to_owned();

    // The contractor accepts on the edge once the invitation got there.
    eventually("the invitation on the edge", || {
        let (http, ebase, secret) = (http.clone(), ebase.clone(), secret.clone());
        async move {
            let r = http
                .post(format!("{ebase}/invitations/accept"))
                .json(&json!({"secret": secret, "password": "mot de passe du prestataire"}))
                .send()
                .await?;
            ensure!(r.status() == 200, "accept: {}", r.status());
            Ok(())
        }
    })
    .await?;
    let login = http
        .post(format!("{ebase}/auth/login"))
        .json(&json!({"login": "jean@btp-rhone.fr", "password": "mot de passe du prestataire"}))
        .send()
        .await?;
    ensure!(login.status() == 200, "contractor login on the edge");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .context("cookie")?
        .to_owned();
    let csrf = login.json::<Value>().await?["csrf_token"]
        .as_str()
        .context("csrf")?
        .to_owned();
    let edge_api = |m: reqwest::Method, path: &str| {
        http.request(m, format!("{ebase}{path}"))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
    };

    // Only that space, with the same content hashes.
    let spaces: Value = edge_api(reqwest::Method::GET, "/spaces")
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        spaces["items"].as_array().map(Vec::len) == Some(1),
        "{spaces}"
    );
    let on_edge: Value = edge_api(reqwest::Method::GET, &format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    let on_internal: Value = api(reqwest::Method::GET, &format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(on_edge["version"]["hash"], on_internal["version"]["hash"]);
    assert_eq!(on_edge["version"]["number"], 2);

    // A contractor upload and a new version come back with the contractor as author.
    let r = edge_api(
        reqwest::Method::POST,
        &format!("/spaces/{space}/documents?name=Plan%20masse.pdf"),
    )
    .body("plan du prestataire")
    .send()
    .await?;
    ensure!(r.status() == 202, "edge upload: {}", r.status());
    let r = edge_api(reqwest::Method::POST, &format!("/documents/{doc}/versions"))
        .body("version 3 par le prestataire")
        .send()
        .await?;
    ensure!(r.status() == 202, "edge version: {}", r.status());
    let me: Value = edge_api(reqwest::Method::GET, "/auth/me")
        .send()
        .await?
        .json()
        .await?;
    let contractor = me["user"]["id"]
        .as_str()
        .context("contractor id")?
        .to_owned();
    let started = Instant::now();
    let plan = eventually("the contractor's upload on the internal node", || {
        let req = api(reqwest::Method::GET, &format!("/spaces/{space}/children"));
        async move {
            let v: Value = req.send().await?.json().await?;
            let docs = v["documents"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let plan = docs
                .into_iter()
                .find(|d| d["name"] == "Plan masse.pdf")
                .context("not yet")?;
            Ok(plan)
        }
    })
    .await?;
    assert_eq!(plan["created_by"], contractor.as_str());
    eventually("the contractor's version on the internal node", || {
        let req = api(reqwest::Method::GET, &format!("/documents/{doc}"));
        async move {
            let v: Value = req.send().await?.json().await?;
            ensure!(v["version"]["number"] == 3, "not yet");
            Ok(())
        }
    })
    .await?;
    eprintln!(
        "contractor upload visible on the internal node after {:?}",
        started.elapsed()
    );

    // Never shared: nothing of it on the edge, neither rows nor blob.
    let secret_hash = blake3::hash(secret_content.as_bytes()).to_hex().to_string();
    let scan = files_under(&edir);
    assert!(
        !blob_files(&edir).contains(&secret_hash),
        "the unshared blob reached the edge"
    );
    assert_eq!(
        holds(&scan, b"jamais-partage"),
        None,
        "a name of the unshared space reached the edge"
    );
    assert_eq!(holds(&scan, secret_space.as_bytes()), None);
    assert_eq!(holds(&scan, secret_content.as_bytes()), None);

    // Un-share: the edge ends up holding nothing of the space.
    let hashes: Vec<String> = {
        let v: Value = api(reqwest::Method::GET, &format!("/documents/{doc}/versions"))
            .send()
            .await?
            .json()
            .await?;
        v.as_array()
            .or(v["items"].as_array())
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|x| x["hash"].as_str().map(str::to_owned))
            .collect()
    };
    ensure!(hashes.len() == 3);
    let r = api(reqwest::Method::POST, &format!("/spaces/{space}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success());
    eventually("the purge of the edge", || {
        let edir = edir.clone();
        let hashes = hashes.clone();
        async move {
            let left: Vec<_> = blob_files(&edir)
                .into_iter()
                .filter(|b| hashes.contains(b))
                .collect();
            ensure!(left.is_empty(), "blobs still on the edge: {left:?}");
            Ok(())
        }
    })
    .await?;
    let audit: Value = api(reqwest::Method::GET, "/audit?limit=500")
        .send()
        .await?
        .json()
        .await?;
    let receipt = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["action"] == "space.unshare")
        .context("purge receipt in the audit log")?;
    assert!(receipt["detail"]["rows_removed"].as_u64().unwrap_or(0) > 0);
    let r = edge_api(reqwest::Method::GET, "/spaces").send().await?;
    ensure!(
        r.status() == 401 || r.json::<Value>().await?["items"].as_array().map(Vec::len) == Some(0),
        "the contractor still sees something"
    );
    drop(node);
    drop(edge);
    let scan = files_under(&edir);
    for h in &hashes {
        assert!(!blob_files(&edir).contains(h));
    }
    assert_eq!(
        holds(&scan, b"CCTP.txt"),
        None,
        "a document name of the space is still in the edge's files"
    );
    assert_eq!(holds(&scan, b"Plan masse.pdf"), None);
    assert_eq!(holds(&scan, b"version 2 du CCTP"), None);
    Ok(())
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
