//! CMIS with a real client (ADR 0008 §6): cmislib 0.7, the Python CMIS
//! library business applications script with, drives a real
//! `passerelle-internal` over its Browser binding (`tests/cmis/session.py`:
//! browse, folders, typed uploads, properties, check-out and check-in,
//! queries by type and by content, deletion; a reader's and an outsider's
//! refusals). What it did is then read from the stopped node's database
//! through core: the same documents, versions and audit as any other path.
//! cmislib missing is a failure under CI (`.ci/run` installs it) and a
//! skip elsewhere.

mod common;

use std::path::Path;
use std::process::Command;

use common::{NodeProcess, cli, ok};
use passerelle_core::Actor;
use passerelle_core::model::Page;
use passerelle_core::role::Role;
use passerelle_core::service::{NewAgent, PathTarget};
use passerelle_internal::{Config, Node};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmis/session.py");

fn python_with_cmislib() -> Option<&'static str> {
    let found = Command::new("python3")
        .args(["-c", "import cmislib"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("python3");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "cmislib is missing: `python3 -m pip install cmislib==0.7.0` (.ci/run does)"
    );
    eprintln!("skipped: cmislib is not installed (python3 -m pip install cmislib==0.7.0)");
    None
}

async fn open(d: &Path) -> anyhow::Result<Node> {
    Node::open(Config {
        data_dir: d.join("passerelle-data"),
        ..Config::default()
    })
    .await
}

/// Agents `reader` (a reader of `marches`) and `outsider` (in no space),
/// and an app password for each of the three; `(login, secret)` each.
async fn people(d: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let node = open(d).await?;
    let app = &node.app;
    let admin = Actor::Principal(app.principal_by_login(&Actor::System, "admin").await?);
    let mut out = Vec::new();
    for login in ["admin", "reader", "outsider"] {
        let actor = if login == "admin" {
            admin.clone()
        } else {
            let p = app
                .create_agent(
                    &admin,
                    NewAgent {
                        login: login.into(),
                        display_name: login.into(),
                        email: String::new(),
                        is_admin: false,
                        password: Some("un mot de passe assez long".into()),
                    },
                )
                .await?;
            Actor::Principal(p)
        };
        let secret = app.create_app_password(&actor, "cmislib").await?.secret;
        out.push((login.to_owned(), secret));
    }
    let space = app.space_by_slug(&admin, "marches").await?.space.id;
    app.set_member(&admin, space, "reader", Role::Reader)
        .await?;
    Ok(out)
}

#[tokio::test]
async fn cmislib_browses_files_versions_queries_and_is_refused_as_a_reader() -> anyhow::Result<()> {
    let Some(python) = python_with_cmislib() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&cli(d, &["init"])?);
    ok(&cli(
        d,
        &[
            "space",
            "create",
            "marches",
            "--title",
            "Marchés",
            "--manager",
            "admin",
        ],
    )?);
    let people = people(d).await?;
    let mut node = NodeProcess::start(d, &[])?;
    let mut args = vec![SCRIPT.to_owned(), node.base.clone()];
    for (login, secret) in &people {
        args.push(login.clone());
        args.push(secret.clone());
    }
    let run =
        tokio::task::spawn_blocking(move || Command::new(python).args(&args).output()).await??;
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "cmislib session failed\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let ids: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())?;
    assert!(
        ids["facture"].as_str().is_some_and(|s| s.starts_with("d-")),
        "{ids}"
    );
    assert!(node.terminate()?.success());

    // What cmislib did, as core reads it back.
    let node = open(d).await?;
    let app = &node.app;
    let admin = Actor::Principal(app.principal_by_login(&Actor::System, "admin").await?);
    let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let found = app
        .resolve_path(
            &admin,
            "marches",
            &names(&["Piscine 2026", "Facture F-2026-001.txt"]),
        )
        .await?;
    let PathTarget::Document(_, doc, version) = found else {
        panic!("not a document: {found:?}")
    };
    assert_eq!(doc.doc_type.as_deref(), Some("facture"));
    assert_eq!(doc.metadata["fournisseur"], "BTP Rhône-Alpes");
    assert_eq!(doc.metadata["montant_ttc"], "12500.5");
    assert_eq!(version.number, 2);
    assert_eq!(version.comment, "avoir déduit");
    let gone = app
        .resolve_path(
            &admin,
            "marches",
            &names(&["Piscine 2026", "CCTP piscine.txt"]),
        )
        .await;
    assert!(gone.is_err(), "the deleted document is in the trash");
    // No lock is left behind by the check-in.
    assert!(
        app.locks()
            .locks_on(&admin, passerelle_core::model::Resource::Document(doc.id))
            .await?
            .is_empty()
    );
    // The audit log names the writes and the reader's refusals.
    let audit = app.global_audit(&admin, Page::new(0, 500)).await?;
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "folder.create",
        "document.upload",
        "document.metadata",
        "lock.create",
        "document.version",
        "document.delete",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    assert!(actions.contains(&"access.denied"), "{actions:?}");
    Ok(())
}
