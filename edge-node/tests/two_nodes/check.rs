//! The edge's `check` command before any node runs: missing TLS material,
//! and a certificate issued for another node id, each refused with the
//! commands that fix it (what ops read when setting up the DMZ host).

use anyhow::{Context, ensure};

use super::cluster;

#[test]
fn edge_check_says_how_to_fix_missing_tls_material() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = std::process::Command::new(cluster::EDGE_BIN)
        .args([
            "--data-dir",
            tmp.path().to_str().unwrap_or_default(),
            "check",
        ])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pki issue-edge --id edge-1"), "{err}");
    Ok(())
}

#[test]
fn edge_check_refuses_a_certificate_issued_for_another_node_and_says_how_to_fix_it()
-> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (idir, edir) = (tmp.path().join("internal"), tmp.path().join("edge"));
    let internal = cluster::internal_bin();
    ensure!(
        internal.exists(),
        "build passerelle-internal first (cargo build --workspace)"
    );
    let data_dir = idir.to_str().context("utf-8 path")?;
    for args in [
        &["pki", "init"][..],
        &["pki", "issue-edge", "--id", "edge-1", "--dns", "localhost"],
    ] {
        cluster::run(&internal, &[&["--data-dir", data_dir][..], args].concat())?;
    }
    std::fs::create_dir_all(edir.join("tls"))?;
    for f in ["cert.pem", "key.pem", "ca.pem"] {
        std::fs::copy(
            idir.join("pki/issued/edge-1").join(f),
            edir.join("tls").join(f),
        )?;
    }
    // The file named by PASSERELLE_EDGE_CONFIG, as a unit's Environment= would.
    let config = tmp.path().join("edge.toml");
    let check = || {
        std::process::Command::new(cluster::EDGE_BIN)
            .args(["--data-dir", edir.to_str().unwrap_or_default(), "check"])
            .env("PASSERELLE_EDGE_CONFIG", &config)
            .output()
    };

    std::fs::write(&config, "node_id = \"edge-2\"\n")?;
    let out = check()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "edge-1's certificate passed as edge-2's"
    );
    assert!(
        err.contains("node edge-1's") && err.contains("node_id is edge-2"),
        "{err}"
    );
    assert!(
        err.contains("pki issue-edge --id edge-2") && err.contains("node_id = \"edge-1\""),
        "both fixes: {err}"
    );

    std::fs::write(&config, "node_id = \"edge-1\"\n")?;
    let out = check()?;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with("ok:") && said.contains("edge edge-1"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
