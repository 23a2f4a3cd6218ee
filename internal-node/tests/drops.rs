//! Hot folders with the real binary, as ops run them (ADR 0008 §2): a
//! node killed with SIGKILL in the middle of a drop of PES flows files
//! every one exactly once after its restart; a drop of 5,000 small files
//! on a polled folder (the SMB/NFS mode) is filed whole, each once. What
//! was filed is then read from the stopped node's database through core.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{NodeProcess, cli, ok};
use passerelle_core::Actor;
use passerelle_core::flows::DropName;
use passerelle_core::model::Page;
use passerelle_core::service::PathTarget;
use passerelle_internal::{Config, Node};
use passerelle_testing::drops::filed;
use passerelle_testing::eventually_within;
use passerelle_testing::pes::{PesAttachment, PesBordereau, PesBuilder, PesContent};

/// A node in `d` with the space `finances` and the service account
/// `helios` contributing to it, and a configuration file whose drop folder
/// is `d/depot` with `drop` as its settings; the config's path.
fn setup(d: &Path, drop: &str) -> anyhow::Result<PathBuf> {
    ok(&cli(d, &["init"])?);
    ok(&cli(
        d,
        &[
            "space",
            "create",
            "finances",
            "--title",
            "Finances",
            "--manager",
            "admin",
        ],
    )?);
    let said = ok(&cli(
        d,
        &["service", "add", "helios", "--name", "Helios (finances)"],
    )?);
    assert!(said.contains("service grant helios"), "{said}");
    ok(&cli(
        d,
        &["service", "grant", "helios", "--space", "finances"],
    )?);
    std::fs::create_dir(d.join("depot"))?;
    let config = d.join("passerelle.toml");
    std::fs::write(
        &config,
        format!(
            "[[drops]]\nname = \"helios\"\npath = \"{}\"\nservice = \"helios\"\n\
             space = \"finances\"\nfolder = \"Flux Helios\"\nrescan_secs = 1\n\
             stable_secs = 1\n{drop}",
            d.join("depot").display()
        ),
    )?;
    Ok(config)
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

/// Writes as applications do: under a `.tmp` name, then renamed.
fn drop_file(drop: &Path, name: &str, body: &[u8]) -> anyhow::Result<()> {
    let tmp = drop.join(format!("{name}.tmp"));
    std::fs::write(&tmp, body)?;
    std::fs::rename(tmp, drop.join(name))?;
    Ok(())
}

/// The stopped node's core, over its database and blobs.
async fn open(d: &Path) -> anyhow::Result<Node> {
    Node::open(Config {
        data_dir: d.join("passerelle-data"),
        ..Config::default()
    })
    .await
}

/// A PES flow of its own (its numbers make its bytes unique) with three
/// bordereaux and three attachments of 256 KiB.
fn flow(i: usize) -> Vec<u8> {
    PesBuilder {
        bordereaux: (0..3)
            .map(|b| PesBordereau {
                depense: b % 2 == 0,
                numero: format!("{i}{b:02}"),
                exercice: 2026,
                pieces: vec!["1200.50", "99.50"],
                declared: None,
            })
            .collect(),
        attachments: (0..3)
            .map(|a| PesAttachment {
                name: format!("facture {i}-{a}.pdf"),
                media_type: "application/pdf".into(),
                content: PesContent::Generated { len: 256 * 1024 },
            })
            .collect(),
        ..PesBuilder::default()
    }
    .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_in_the_middle_of_a_drop_files_every_flow_exactly_once() -> anyhow::Result<()> {
    const FLOWS: usize = 30;
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let config = setup(d, "kind = \"pes\"\n")?;
    let drop = d.join("depot");
    for i in 0..FLOWS {
        drop_file(&drop, &format!("PES_2026_{i:04}.xml"), &flow(i))?;
    }
    let config_arg = config.display().to_string();
    let mut node = NodeProcess::start(d, &["--config", &config_arg])?;
    eventually_within(
        "a few flows filed",
        Duration::from_secs(120),
        Duration::from_millis(20),
        || async {
            let n = filed(&drop).len();
            anyhow::ensure!(n >= 3, "{n} filed");
            Ok(())
        },
    )
    .await?;
    node.child.kill()?;
    node.child.wait()?;
    let at_kill = filed(&drop).len();
    assert!(at_kill < FLOWS, "the kill came too late to test anything");

    let mut node = NodeProcess::start(d, &["--config", &config_arg])?;
    eventually_within(
        "every flow filed after the restart",
        Duration::from_secs(300),
        Duration::from_millis(200),
        || async {
            let n = filed(&drop).len();
            anyhow::ensure!(n == FLOWS, "{n} of {FLOWS} filed");
            Ok(())
        },
    )
    .await?;
    assert!(node.terminate()?.success());
    assert_eq!(count(&drop.join("erreur")), 0);
    assert_eq!(count(&drop.join(".passerelle/en-cours")), 0);

    let node = open(d).await?;
    let source = DropName::parse("helios")?;
    assert_eq!(node.app.flows().count_filed(&source).await?, FLOWS as u64);
    for i in 0..FLOWS {
        let stem = format!("PES_2026_{i:04}");
        let path = |name: &str| vec!["Flux Helios".to_owned(), stem.clone(), name.to_owned()];
        let found = node
            .app
            .resolve_path(&Actor::System, "finances", &path(&format!("{stem}.xml")))
            .await?;
        assert!(matches!(found, PathTarget::Document(..)), "{stem}");
        // Filed twice, the second would be numbered.
        let twice = node
            .app
            .resolve_path(
                &Actor::System,
                "finances",
                &path(&format!("{stem} (2).xml")),
            )
            .await;
        assert!(twice.is_err(), "{stem} filed twice");
        let PathTarget::Folder(space, pieces) = node
            .app
            .resolve_path(&Actor::System, "finances", &path("Pièces justificatives"))
            .await?
        else {
            panic!("{stem}: no attachments folder");
        };
        let listed = node
            .app
            .list_folder(&Actor::System, space.id, Some(pieces.id), Page::default())
            .await?;
        assert_eq!(listed.documents.total, 3, "{stem}'s attachments");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_files_dropped_on_a_polled_folder_are_each_filed_once() -> anyhow::Result<()>
{
    const FILES: usize = 5_000;
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let config = setup(d, "kind = \"generic\"\nmode = \"poll\"\npoll_secs = 1\n")?;
    let drop = d.join("depot");
    let config_arg = config.display().to_string();
    let mut node = NodeProcess::start(d, &["--config", &config_arg])?;
    for i in 0..FILES {
        drop_file(
            &drop,
            &format!("bon-{i:05}.txt"),
            format!("Bon de commande n° {i}\n").as_bytes(),
        )?;
    }
    eventually_within(
        "every file filed",
        Duration::from_secs(900),
        Duration::from_millis(500),
        || async {
            let n = filed(&drop).len();
            anyhow::ensure!(n == FILES, "{n} of {FILES} filed");
            Ok(())
        },
    )
    .await?;
    assert!(node.terminate()?.success());
    assert_eq!(count(&drop.join("erreur")), 0);

    let node = open(d).await?;
    let source = DropName::parse("helios")?;
    assert_eq!(node.app.flows().count_filed(&source).await?, FILES as u64);
    let PathTarget::Folder(space, target) = node
        .app
        .resolve_path(&Actor::System, "finances", &["Flux Helios".to_owned()])
        .await?
    else {
        panic!("no target folder");
    };
    let listed = node
        .app
        .list_folder(&Actor::System, space.id, Some(target.id), Page::new(0, 1))
        .await?;
    assert_eq!(
        listed.documents.total, FILES as u64,
        "one document per file"
    );
    Ok(())
}
