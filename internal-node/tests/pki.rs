//! `passerelle-internal pki …` as ops run it: the real binary, a temp data
//! directory, and the files it leaves behind.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use passerelle_pki::{Pki, Role};

const BIN: &str = env!("CARGO_BIN_EXE_passerelle-internal");

/// Runs the binary on `data_dir` with no config file or environment leaking in.
fn run(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(data_dir.parent().unwrap_or(data_dir))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PASSERELLE_CONFIG")
        .env_remove("PASSERELLE_DATA_DIR")
        .env_remove("PASSERELLE_DATABASE_URL")
        .output()
        .expect("spawn passerelle-internal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and requires success, printing both streams otherwise.
fn ok(data_dir: &Path, args: &[&str]) -> String {
    let o = run(data_dir, args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs and requires failure; returns stderr.
fn fails(data_dir: &Path, args: &[&str]) -> String {
    let o = run(data_dir, args);
    assert!(!o.status.success(), "{args:?} succeeded: {}", stdout(&o));
    stderr(&o)
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn init_issue_edge_and_list_through_the_binary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let pki = data.join("pki");

    let out = ok(&data, &["pki", "init", "--name", "Passerelle CA test"]);
    assert!(out.contains("ca.key"), "{out}");
    assert_eq!(mode_of(&pki.join("ca.key")), 0o600);
    assert!(pki.join("ca.pem").is_file());

    let err = fails(&data, &["pki", "init"]);
    assert!(err.contains("already exists"), "{err}");

    let out = ok(
        &data,
        &[
            "pki",
            "issue-edge",
            "--id",
            "edge-1",
            "--dns",
            "edge.example.fr",
            "--ip",
            "203.0.113.10",
        ],
    );
    let bundle = pki.join("issued/edge-1");
    assert!(out.contains(&bundle.display().to_string()), "{out}");
    assert!(out.contains("scp -p"), "tells what to copy: {out}");
    assert!(out.contains("never copy ca.key"), "{out}");
    assert_eq!(mode_of(&bundle.join("key.pem")), 0o600);
    // Read back by the library: the CLI wrote what it said.
    let issued = Pki::open(&pki).expect("open").list().expect("list");
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].role, Role::Edge);
    assert_eq!(issued[0].uris, ["passerelle://node/edge-1"]);
    assert_eq!(issued[0].dns, ["edge.example.fr"]);
    assert_eq!(
        std::fs::read(bundle.join("ca.pem")).expect("bundle ca"),
        std::fs::read(pki.join("ca.pem")).expect("ca")
    );

    ok(&data, &["pki", "issue-internal", "--days", "10"]);

    let out = ok(&data, &["pki", "list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("Passerelle CA test"), "{out}");
    let edge = lines
        .iter()
        .find(|l| l.starts_with("edge-1"))
        .expect("edge-1 row");
    assert!(edge.contains("edge ") && edge.contains(" ok "), "{edge}");
    assert!(edge.ends_with("edge.example.fr, 203.0.113.10"), "{edge}");
    let internal = lines
        .iter()
        .find(|l| l.starts_with("internal"))
        .expect("internal row");
    assert!(
        internal.contains("RENEW"),
        "10 days is within 30: {internal}"
    );
    assert!(out.contains("pki renew --id internal"), "{out}");

    let json = ok(&data, &["pki", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["certificates"][0]["id"], "edge-1");
    assert_eq!(v["certificates"][0]["role"], "edge");
    assert_eq!(v["certificates"][1]["expiry"], "renew-soon");
}

#[test]
fn renew_keeps_the_previous_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    ok(&data, &["pki", "init"]);
    ok(
        &data,
        &[
            "pki",
            "issue-edge",
            "--id",
            "edge-2",
            "--dns",
            "dmz.example.fr",
        ],
    );
    let bundle = data.join("pki/issued/edge-2");
    let old_key = std::fs::read(bundle.join("key.pem")).expect("key");

    let out = ok(&data, &["pki", "renew", "--id", "edge-2", "--days", "90"]);
    assert!(out.contains("previous"), "{out}");
    assert_eq!(
        std::fs::read(bundle.join("key.pem.previous")).expect("old key"),
        old_key
    );
    assert_ne!(
        std::fs::read(bundle.join("key.pem")).expect("new key"),
        old_key
    );

    let err = fails(&data, &["pki", "renew", "--id", "edge-9"]);
    assert!(err.contains("issue-edge"), "{err}");
}

#[test]
fn errors_tell_the_fix() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");

    let err = fails(
        &data,
        &["pki", "issue-edge", "--id", "edge-1", "--dns", "e.fr"],
    );
    assert!(err.contains("pki init"), "no CA yet: {err}");

    let err = fails(
        &data,
        &["pki", "issue-edge", "--id", "Edge_1", "--dns", "e.fr"],
    );
    assert!(err.contains("invalid node id"), "{err}");

    ok(&data, &["pki", "init"]);
    let err = fails(&data, &["pki", "issue-edge", "--id", "edge-1"]);
    assert!(err.contains("--dns or --ip"), "{err}");

    let key = data.join("pki/ca.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = fails(&data, &["pki", "list"]);
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn dir_overrides_the_data_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let elsewhere = tmp.path().join("ca");
    let dir = elsewhere.to_str().expect("utf-8 path");
    let out = ok(&data, &["pki", "init", "--dir", dir]);
    assert!(
        out.contains(&format!("--dir {dir}")),
        "suggested commands keep --dir: {out}"
    );
    assert!(elsewhere.join("ca.key").is_file());
    assert!(!data.join("pki").exists());
    ok(&data, &["pki", "issue-internal", "--dir", dir]);
    assert!(elsewhere.join("issued/internal/cert.pem").is_file());
}
