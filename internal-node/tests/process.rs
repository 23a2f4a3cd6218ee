//! The real `passerelle-internal` binary as ops run it: startup on embedded
//! defaults, signals, the CLI (`status` asking the running node included),
//! and a kill -9 in the middle of uploads.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use passerelle_testing::eventually;

mod common;

use common::{ADMIN_PASSWORD, BIN, NodeProcess, cli, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_embedded_defaults_and_stops_on_sigterm() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    ok(&cli(dir.path(), &["init"])?);
    let mut node = NodeProcess::start(dir.path(), &[])?;
    assert!(
        dir.path()
            .join("passerelle-data")
            .join("passerelle.db")
            .exists(),
        "SQLite file in ./passerelle-data"
    );
    // Started by hand, it bounds glibc's arenas itself (as its systemd
    // unit does); a value given by the operator is kept.
    let environ = std::fs::read(format!("/proc/{}/environ", node.child.id()))?;
    let arenas = format!(
        "MALLOC_ARENA_MAX={}",
        std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into())
    );
    assert!(
        environ.split(|&b| b == 0).any(|v| v == arenas.as_bytes()),
        "{arenas} in the node's environment"
    );
    let http = reqwest::Client::new();
    let health = http.get(node.url("/healthz")).send().await?;
    assert_eq!(health.status(), 200);
    let ready = http.get(node.url("/readyz")).send().await?;
    assert_eq!(ready.status(), 200);
    let login = http
        .post(node.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    assert_eq!(
        login.status(),
        200,
        "the administrator made by init logs in"
    );
    // `status`, its own process, asks the running node for its workers.
    let address = node.base.trim_start_matches("http://").to_owned();
    let said = ok(&cli(dir.path(), &["status", "--address", &address])?);
    assert!(
        said.contains("ready") && said.contains("sessions"),
        "{said}"
    );
    let status = node.terminate()?;
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    // Stopped: `status` says no node answers there, and fails.
    let out = cli(dir.path(), &["status", "--address", &address])?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no node answers"),
        "{err}"
    );
    Ok(())
}

/// The demo lives in `passerelle-demo` now; the old flag says where.
#[test]
fn serve_demo_is_refused_with_a_pointer_to_passerelle_demo() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = cli(dir.path(), &["serve", "--listen", "127.0.0.1:0", "--demo"])?;
    assert!(!out.status.success(), "serve --demo no longer serves");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("passerelle-demo"), "{err}");
    assert!(
        !dir.path().join("passerelle-data").exists(),
        "refused before touching the data directory"
    );
    Ok(())
}

#[test]
fn cli_initialises_manages_accounts_and_verifies() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let out = ok(&cli(d, &["init"])?);
    assert!(out.contains("administrator admin"), "{out}");
    assert!(
        !out.contains(ADMIN_PASSWORD),
        "the password is never printed"
    );
    let again = cli(d, &["init"])?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already initialised"));

    let pw = d.join("pw");
    std::fs::write(&pw, "un mot de passe assez long\n")?;
    ok(&cli(
        d,
        &[
            "user",
            "add",
            "m.durand",
            "--name",
            "Michel Durand",
            "--password-file",
            pw.to_str().context("utf8")?,
        ],
    )?);
    let bad = cli(
        d,
        &[
            "user",
            "add",
            "x y",
            "--name",
            "X",
            "--password-file",
            pw.to_str().context("utf8")?,
        ],
    )?;
    assert!(!bad.status.success(), "an invalid login is refused");
    ok(&cli(
        d,
        &[
            "space",
            "create",
            "marches-2027",
            "--title",
            "Marchés 2027",
            "--manager",
            "m.durand",
            "--domain",
            "Finances",
        ],
    )?);
    let spaces = ok(&cli(d, &["space", "list"])?);
    assert!(spaces.contains("marches-2027"), "{spaces}");
    let token = ok(&cli(
        d,
        &["token", "create", "--login", "m.durand", "--name", "GF"],
    )?);
    assert!(token.lines().any(|l| l.starts_with("psr_")), "{token}");
    ok(&cli(d, &["user", "disable", "m.durand"])?);
    assert!(ok(&cli(d, &["user", "list"])?).contains("disabled"));
    let types = ok(&cli(d, &["types", "list"])?);
    assert!(types.contains("facture"), "{types}");
    let audit = ok(&cli(d, &["audit", "verify"])?);
    assert!(audit.contains("intact"), "{audit}");
    ok(&cli(d, &["blobs", "verify"])?);
    let gc = ok(&cli(d, &["blobs", "gc", "--min-age-minutes", "0"])?);
    assert!(gc.contains("0 deleted"), "nothing unreferenced yet: {gc}");
    Ok(())
}

#[test]
fn cli_explains_how_to_give_a_password_without_a_terminal() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["init"])
        .env_remove("PASSERELLE_ADMIN_PASSWORD")
        .stdin(Stdio::null())
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--password-file"), "{err}");
    Ok(())
}

/// kill -9 during a series of uploads: every acknowledged document survives
/// with its content, blobs and the audit chain verify, no temporary remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_uploads_loses_no_acknowledged_document() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&cli(d, &["init"])?);
    ok(&cli(
        d,
        &[
            "space",
            "create",
            "crash",
            "--title",
            "Crash",
            "--manager",
            "admin",
        ],
    )?);
    let token = ok(&cli(
        d,
        &[
            "token",
            "create",
            "--login",
            "admin",
            "--name",
            "crash-test",
        ],
    )?)
    .lines()
    .find(|l| l.starts_with("psr_"))
    .context("token line")?
    .to_owned();
    let mut node = NodeProcess::start(d, &[])?;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let spaces: serde_json::Value = http
        .get(node.url("/api/v1/spaces"))
        .header("Authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let space = spaces["items"][0]["id"]
        .as_str()
        .context("space id")?
        .to_owned();

    // Uploads of growing size, two at a time; the kill lands while some are in flight.
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    let mut inflight = tokio::task::JoinSet::new();
    let started = Instant::now();
    let mut i = 0u32;
    while started.elapsed() < Duration::from_secs(3) || acknowledged.len() < 10 {
        if inflight.len() < 2 {
            let (http, auth, url) = (
                http.clone(),
                auth.clone(),
                node.url(&format!(
                    "/api/v1/spaces/{space}/documents?name=doc-{i}.bin"
                )),
            );
            let body: Vec<u8> = (0..(64 * 1024 + i as usize * 4096))
                .map(|b| (b as u32 ^ i) as u8)
                .collect();
            let hash = blake3::hash(&body).to_hex().to_string();
            inflight.spawn(async move {
                let r = http
                    .post(url)
                    .header("Authorization", auth)
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "status {}", r.status());
                let v: serde_json::Value = r.json().await?;
                Ok::<_, anyhow::Error>((
                    v["document"]["id"].as_str().unwrap_or_default().to_owned(),
                    hash,
                ))
            });
            i += 1;
            continue;
        }
        if let Some(Ok(Ok(ack))) = inflight.join_next().await {
            acknowledged.push(ack);
        }
    }
    // Kill while uploads are in flight.
    node.child.kill()?;
    node.child.wait()?;
    while let Some(r) = inflight.join_next().await {
        if let Ok(Ok(ack)) = r {
            acknowledged.push(ack);
        }
    }
    drop(node);
    assert!(
        acknowledged.len() >= 10,
        "the test needs uploads before the kill"
    );

    let node = NodeProcess::start(d, &[])?;
    for (id, hash) in &acknowledged {
        let r = eventually(&format!("document {id} after the restart"), || {
            let (http, auth, url) = (
                http.clone(),
                auth.clone(),
                node.url(&format!("/api/v1/documents/{id}/content")),
            );
            async move {
                let r = http.get(url).header("Authorization", auth).send().await?;
                anyhow::ensure!(r.status() == 200, "status {}", r.status());
                Ok(r)
            }
        })
        .await?;
        let body = r.bytes().await?;
        assert_eq!(
            &blake3::hash(&body).to_hex().to_string(),
            hash,
            "document {id} intact"
        );
    }
    drop(node);
    let blobs = ok(&cli(d, &["blobs", "verify"])?);
    assert!(blobs.contains("blobs ok"), "{blobs}");
    ok(&cli(d, &["audit", "verify"])?);
    let tmp = d.join("passerelle-data").join("tmp");
    let leftovers = std::fs::read_dir(&tmp).map(|r| r.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "no temporary file left after restart");
    Ok(())
}

/// `search reindex` as ops run it: refused while the node serves (it
/// holds the index), then the index deleted once the node is stopped, and
/// rebuilt by the next start: the administrator's upload is found again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reindex_waits_for_a_stopped_node_and_the_next_start_rebuilds() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    ok(&cli(dir.path(), &["init"])?);
    ok(&cli(
        dir.path(),
        &[
            "space",
            "create",
            "compta",
            "--title",
            "Compta",
            "--manager",
            "admin",
        ],
    )?);
    let token = ok(&cli(
        dir.path(),
        &["token", "create", "--login", "admin", "--name", "tests"],
    )?)
    .lines()
    .find(|l| l.starts_with("psr_"))
    .context("token")?
    .to_owned();
    let bearer = format!("Bearer {token}");
    let mut node = NodeProcess::start(dir.path(), &[])?;
    let http = reqwest::Client::new();
    let spaces: serde_json::Value = http
        .get(node.url("/api/v1/spaces"))
        .header("Authorization", &bearer)
        .send()
        .await?
        .json()
        .await?;
    let space = spaces["items"][0]["id"]
        .as_str()
        .context("space")?
        .to_owned();
    let r = http
        .post(node.url(&format!(
            "/api/v1/spaces/{space}/documents?name=Mandat%2042.txt"
        )))
        .header("Authorization", &bearer)
        .body("Mandatement des subventions aux associations sportives")
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let found = |base: String| {
        let (http, bearer) = (http.clone(), bearer.clone());
        async move {
            let v: serde_json::Value = http
                .get(format!("{base}/api/v1/search?q=subvention%20sportive"))
                .header("Authorization", &bearer)
                .send()
                .await?
                .json()
                .await?;
            anyhow::ensure!(v["total"] == 1, "not found yet: {v}");
            Ok(())
        }
    };
    eventually("the upload indexed", || found(node.base.clone())).await?;

    let out = cli(dir.path(), &["search", "reindex"])?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused while serving");
    assert!(
        err.contains("stop it") && err.contains("search reindex"),
        "{err}"
    );
    assert!(node.terminate()?.success());
    let said = ok(&cli(dir.path(), &["search", "reindex"])?);
    assert!(said.contains("rebuilds it"), "{said}");
    let index = dir.path().join("passerelle-data").join("search");
    assert_eq!(std::fs::read_dir(&index)?.count(), 0, "the index is gone");

    let node = NodeProcess::start(dir.path(), &[])?;
    eventually("the rebuilt index", || found(node.base.clone())).await?;
    Ok(())
}
