//! The node's ingestion (`filing::Filer`) behind a real scanner and a real
//! core (its use cases over the in-memory repository and blob store):
//! PES and @CTES files become their typed documents, the same bytes twice
//! file nothing new, hostile files go to `erreur/` with a French reason
//! and leave nothing filed, an acknowledgement meets its act in either
//! order, and a configuration fault waits in `en-cours/` until fixed.

use std::path::Path;
use std::sync::Arc;

use passerelle_blobs::FsBlobStore;
use passerelle_core::blob::BlobStore;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository};
use passerelle_core::flows::DropName;
use passerelle_core::model::{Document, Visibility};
use passerelle_core::ports::SystemClock;
use passerelle_core::role::Role;
use passerelle_core::service::{NewAgent, NewSpace, PathTarget};
use passerelle_core::{Actor, CoreSettings, InternalApp};
use passerelle_flux::Limits;
use passerelle_testing::actes::{ActesBuilder, RawEntry};
use passerelle_testing::pes::{PesAttachment, PesBuilder, PesContent};
use passerelle_watch::Scanner;
use passerelle_watch::filing::{DropTarget, Filer, FlowKind};
use serde_json::{Value, json};

use crate::support::*;

/// A node's core with a space `finances` managed by `boss`, and the
/// service account `helios`, contributor there unless `granted` is false.
async fn core(granted: bool) -> (InternalApp, Actor) {
    core_over(Arc::new(MemBlobStore::new()), granted).await
}

/// [`core`] storing its blobs in `blobs`.
async fn core_over(blobs: Arc<dyn BlobStore>, granted: bool) -> (InternalApp, Actor) {
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs,
        Arc::new(SystemClock),
        Arc::new(FastPasswords),
        CoreSettings::default(),
    );
    for t in default_catalogue() {
        app.save_document_type(&Actor::System, t)
            .await
            .expect("type");
    }
    let boss = app
        .create_agent(
            &Actor::System,
            NewAgent {
                login: "boss".into(),
                display_name: "Boss".into(),
                email: String::new(),
                is_admin: false,
                password: None,
            },
        )
        .await
        .expect("agent");
    let boss = Actor::Principal(boss);
    app.create_space(
        &boss,
        NewSpace {
            slug: "finances".into(),
            title: "Finances".into(),
            description: String::new(),
            domain: "Finances".into(),
            visibility: Visibility::Private,
            manager: None,
        },
    )
    .await
    .expect("space");
    app.create_service(&Actor::System, "helios", "Helios (finances)")
        .await
        .expect("service");
    if granted {
        grant(&app, &boss).await;
    }
    (app, boss)
}

async fn grant(app: &InternalApp, boss: &Actor) {
    let s = app
        .space_by_slug(boss, "finances")
        .await
        .expect("space")
        .space
        .id;
    app.set_member(boss, s, "helios", Role::Contributor)
        .await
        .expect("grant");
}

fn filer(app: &InternalApp, kind: FlowKind, staging: &Path) -> Filer {
    Filer::new(
        app.clone(),
        DropTarget {
            source: DropName::parse("helios").expect("name"),
            kind,
            service: "helios".into(),
            space: "finances".into(),
            folder: vec!["Flux".into()],
            limits: Limits::default(),
        },
        staging.to_owned(),
    )
}

/// One drop folder of `kind` filing into a fresh core (see [`core`]).
struct Rig {
    _dir: tempfile::TempDir,
    drop: std::path::PathBuf,
    staging: std::path::PathBuf,
    app: InternalApp,
    boss: Actor,
    filer: Filer,
    scanner: Scanner,
}

impl Rig {
    async fn new(kind: FlowKind, granted: bool) -> Self {
        Self::over(kind, granted, |_| Arc::new(MemBlobStore::new())).await
    }

    /// A rig whose blob store `blobs` makes in the rig's directory.
    async fn over(
        kind: FlowKind,
        granted: bool,
        blobs: impl FnOnce(&Path) -> Arc<dyn BlobStore>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (drop, staging) = (dir.path().join("depot"), dir.path().join("staging"));
        std::fs::create_dir(&drop).expect("mkdir");
        let (app, boss) = core_over(blobs(dir.path()), granted).await;
        let filer = filer(&app, kind, &staging);
        let scanner = Scanner::new(folder(&drop));
        Self {
            _dir: dir,
            drop,
            staging,
            app,
            boss,
            filer,
            scanner,
        }
    }

    /// One pass of the scanner over the drop folder.
    async fn pass(&mut self) -> passerelle_watch::PassSummary {
        self.scanner.pass(&self.filer, t0()).await.expect("pass")
    }
}

/// Drops `body` as `name` with its `.ok` marker (taken at the next pass).
fn drop_file(drop: &Path, name: &str, body: &[u8]) {
    write(drop, name, body);
    write(drop, &format!("{name}.ok"), b"");
}

async fn document(app: &InternalApp, by: &Actor, path: &str) -> Document {
    let names: Vec<String> = path.split('/').map(str::to_owned).collect();
    match app.resolve_path(by, "finances", &names).await {
        Ok(PathTarget::Document(_, d, _)) => *d,
        other => panic!("{path}: {other:?}"),
    }
}

fn receipt(drop: &Path, name: &str) -> Value {
    let text = read(&traite(drop, t0()).join(format!("{name}.recu.json")));
    serde_json::from_str(&text).expect("receipt json")
}

#[tokio::test]
async fn a_pes_flow_is_filed_as_the_flow_its_bordereaux_and_its_attachments() {
    let mut rig = Rig::new(FlowKind::Pes, true).await;
    let (drop, app, boss) = (rig.drop.clone(), rig.app.clone(), rig.boss.clone());
    let mut pes = PesBuilder::default();
    pes.attachments.push(PesAttachment {
        name: "../../etc/devis signé.pdf".into(),
        media_type: "application/pdf".into(),
        content: PesContent::Generated { len: 300_000 },
    });
    let bytes = pes.build();
    drop_file(&drop, "PES_2026_0042.xml", &bytes);

    let summary = rig.pass().await;
    assert_eq!((summary.filed, summary.refused), (1, 0), "{summary:?}");
    let r = receipt(&drop, "PES_2026_0042.xml");
    assert_eq!(r["deja_classe"], json!(false));
    let types: Vec<&str> = r["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "flux-pes",
            "bordereau",
            "piece-justificative",
            "piece-justificative"
        ]
    );

    let flux = document(&app, &boss, "Flux/PES_2026_0042/PES_2026_0042.xml").await;
    assert_eq!(flux.metadata["siret"], json!("20004697700019"));
    assert_eq!(flux.metadata["nombre_bordereaux"], json!(1));
    assert_eq!(flux.metadata["nombre_pj"], json!(2));
    // The ISO-8859-1 file's accents, decoded.
    let libelle = flux.metadata["collectivite"].as_str().expect("libellé");
    assert!(libelle.starts_with("Métropole"), "{libelle}");
    // The flow is kept whole, byte for byte (its signature stays valid).
    let content = app
        .open_version(&boss, flux.id, Some(1), None)
        .await
        .expect("content");
    assert_eq!(content.version.size, bytes.len() as u64);

    let b = document(
        &app,
        &boss,
        "Flux/PES_2026_0042/Bordereaux/Bordereau 1234 2026 (dépense).txt",
    )
    .await;
    assert_eq!(b.metadata["montant_total"], json!("1300"));
    assert_eq!(b.metadata["nombre_pieces"], json!(2));
    // A sender's path in `NomPJ` is reduced to its last name.
    let pj = document(
        &app,
        &boss,
        "Flux/PES_2026_0042/Pièces justificatives/devis signé.pdf",
    )
    .await;
    assert_eq!(pj.metadata["nom"], json!("../../etc/devis signé.pdf"));
    let v = app
        .open_version(&boss, pj.id, Some(1), None)
        .await
        .expect("content");
    assert_eq!(v.version.size, 300_000);
    // Nothing left in the staging directory.
    assert!(names(&rig.staging).is_empty(), "{:?}", names(&rig.staging));
}

#[tokio::test]
async fn the_same_flow_dropped_twice_files_nothing_new() {
    let mut rig = Rig::new(FlowKind::Pes, true).await;
    let (drop, app) = (rig.drop.clone(), rig.app.clone());
    let bytes = PesBuilder::default().build();
    drop_file(&drop, "flux.xml", &bytes);
    rig.pass().await;
    drop_file(&drop, "flux-bis.xml", &bytes);
    rig.pass().await;
    let (first, second) = (receipt(&drop, "flux.xml"), receipt(&drop, "flux-bis.xml"));
    assert_eq!(second["deja_classe"], json!(true));
    assert_eq!(first["documents"], second["documents"]);
    let source = DropName::parse("helios").expect("name");
    assert_eq!(app.flows().count_filed(&source).await.expect("count"), 1);
}

#[tokio::test]
async fn hostile_flows_go_to_erreur_with_their_reason_and_nothing_is_filed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pes_drop, actes_drop) = (dir.path().join("pes"), dir.path().join("actes"));
    let staging = dir.path().join("staging");
    for d in [&pes_drop, &actes_drop] {
        std::fs::create_dir(d).expect("mkdir");
    }
    let (app, boss) = core(true).await;
    let good = PesBuilder::default().build();
    let bomb = b"<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<PES_Aller>&b;</PES_Aller>";
    drop_file(&pes_drop, "tronque.xml", &good[..good.len() / 2]);
    drop_file(&pes_drop, "bombe.xml", bomb);
    drop_file(&pes_drop, "facture.pdf", b"%PDF-1.4 not a flow");
    // Declared UTF-8, written in ISO-8859-1: the accents would be mangled.
    let latin1 = String::from_utf8_lossy(&good).into_owned();
    assert!(
        latin1.contains("ISO-8859-1"),
        "the builder's default encoding"
    );
    let mislabelled: Vec<u8> = {
        let at = good
            .windows(10)
            .position(|w| w == b"ISO-8859-1")
            .expect("declaration");
        [&good[..at], b"UTF-8".as_slice(), &good[at + 10..]].concat()
    };
    drop_file(&pes_drop, "mal-encode.xml", &mislabelled);
    let mut escape = ActesBuilder::default();
    escape.extra.push(RawEntry::File {
        name: "../../etc/cron.d/x".into(),
        bytes: b"* * * * * root sh".to_vec(),
    });
    let mut huge = ActesBuilder::default();
    huge.extra.push(RawEntry::Declared {
        name: "annexe.pdf".into(),
        size: 10 * 1024 * 1024 * 1024,
    });
    let mut link = ActesBuilder::default();
    link.extra.push(RawEntry::Symlink {
        name: "annexe.pdf".into(),
        target: "/etc/shadow".into(),
    });
    drop_file(&actes_drop, "evasion.tar.gz", &escape.tar_gz());
    drop_file(&actes_drop, "enorme.tar.gz", &huge.tar_gz());
    drop_file(&actes_drop, "lien.tar.gz", &link.tar_gz());
    drop_file(
        &actes_drop,
        "acte-seul.xml",
        &ActesBuilder::default().acte_xml(),
    );

    let pes = filer(&app, FlowKind::Pes, &staging);
    let actes = filer(&app, FlowKind::Actes, &staging);
    let mut s = Scanner::new(folder(&pes_drop));
    let mut a = Scanner::new(folder(&actes_drop));
    for _ in 0..5 {
        s.pass(&pes, t0()).await.expect("pass");
        a.pass(&actes, t0()).await.expect("pass");
    }
    for (drop, name, says) in [
        (&pes_drop, "tronque.xml", "XML bien formé"),
        (&pes_drop, "bombe.xml", "DOCTYPE"),
        (&pes_drop, "facture.pdf", "aucun élément XML"),
        (
            &pes_drop,
            "mal-encode.xml",
            "cannot decode input using UTF-8",
        ),
        (&actes_drop, "evasion.tar.gz", "nom de fichier simple"),
        (&actes_drop, "enorme.tar.gz", "octets"),
        (&actes_drop, "lien.tar.gz", "fichier ordinaire"),
        (&actes_drop, "acte-seul.xml", "archive @CTES complète"),
    ] {
        let text = read(&erreur(drop).join(format!("{name}.err.txt")));
        assert!(text.contains(says), "{name}: {text}");
    }
    assert!(names(&traite(&pes_drop, t0())).is_empty());
    assert!(names(&traite(&actes_drop, t0())).is_empty());
    let source = DropName::parse("helios").expect("name");
    assert_eq!(app.flows().count_filed(&source).await.expect("count"), 0);
    let s = app
        .space_by_slug(&boss, "finances")
        .await
        .expect("space")
        .space
        .id;
    let root = app
        .list_folder(&boss, s, None, passerelle_core::model::Page::default())
        .await
        .expect("root");
    assert!(
        root.folders.is_empty() && root.documents.items.is_empty(),
        "nothing filed: {root:?}"
    );
}

#[tokio::test]
async fn an_acknowledgement_and_its_act_meet_whichever_is_dropped_first() {
    let mut rig = Rig::new(FlowKind::Actes, true).await;
    let (drop, app, boss) = (rig.drop.clone(), rig.app.clone(), rig.boss.clone());

    // The acknowledgement first: filed, waiting for its act.
    let early = ActesBuilder {
        numero: "DEL2026_015".into(),
        ..ActesBuilder::default()
    };
    drop_file(
        &drop,
        "ar-015.xml",
        &early.ar_acte_xml("069-200046977-20260116-DEL2026_015-DE"),
    );
    rig.pass().await;
    assert_eq!(
        receipt(&drop, "ar-015.xml")["en_attente_de_l_acte"],
        json!(true)
    );
    drop_file(&drop, "DEL2026_015.tar.gz", &early.tar_gz());
    rig.pass().await;
    let act = document(
        &app,
        &boss,
        &format!("Flux/DEL2026_015/{}", early.document.0),
    )
    .await;
    assert_eq!(act.doc_type.as_deref(), Some("deliberation"));
    assert_eq!(act.metadata["numero"], json!("DEL2026_015"));
    assert_eq!(act.metadata["nature_actes"], json!("Délibération"));
    assert_eq!(act.metadata["matiere"], json!("1.1"));
    assert_eq!(
        act.metadata["identifiant_ar"],
        json!("069-200046977-20260116-DEL2026_015-DE")
    );
    assert_eq!(act.metadata["transmis_le"], json!("2026-01-16"));
    let annex = document(
        &app,
        &boss,
        &format!("Flux/DEL2026_015/{}", early.annexes[0].0),
    )
    .await;
    assert_eq!(annex.doc_type.as_deref(), Some("annexe-acte"));

    // The act first, an individual one: an arrêté.
    let late = ActesBuilder {
        numero: "ARR2026_200".into(),
        nature: "3".into(),
        ..ActesBuilder::default()
    };
    drop_file(&drop, "ARR2026_200.tar.gz", &late.tar_gz());
    rig.pass().await;
    let path = format!("Flux/ARR2026_200/{}", late.document.0);
    let act = document(&app, &boss, &path).await;
    assert_eq!(act.doc_type.as_deref(), Some("arrete"));
    assert_eq!(act.metadata["nature"], json!("Arrêté individuel"));
    assert_eq!(act.metadata.get("identifiant_ar"), None);
    drop_file(&drop, "ar-200.xml", &late.ar_acte_xml("AR-200"));
    rig.pass().await;
    assert_eq!(
        receipt(&drop, "ar-200.xml")["en_attente_de_l_acte"],
        json!(false)
    );
    let act = document(&app, &boss, &path).await;
    assert_eq!(act.metadata["identifiant_ar"], json!("AR-200"));
}

#[tokio::test]
async fn a_file_waits_in_en_cours_while_the_service_account_may_not_file() {
    let mut rig = Rig::new(FlowKind::Generic, false).await;
    let (drop, app, boss) = (rig.drop.clone(), rig.app.clone(), rig.boss.clone());
    drop_file(&drop, "note.txt", b"note de service");
    let summary = rig.pass().await;
    let why = summary.retry.expect("waits");
    assert!(why.contains("contributeur"), "{why}");
    assert_eq!(names(&en_cours(&drop)), ["note.txt"]);
    assert!(names(&erreur(&drop)).is_empty());
    grant(&app, &boss).await;
    let summary = rig.pass().await;
    assert_eq!(summary.filed, 1, "{summary:?}");
    let d = document(&app, &boss, "Flux/note.txt").await;
    assert_eq!(d.doc_type, None);
}

/// Writes `b` as a bundle directory `name` in `drop`, with its marker.
fn drop_directory(drop: &Path, name: &str, b: &ActesBuilder) -> std::path::PathBuf {
    let dir = drop.join(name);
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("enveloppe.xml"), b.envelope_xml()).expect("envelope");
    std::fs::write(dir.join("acte.xml"), b.acte_xml()).expect("act");
    std::fs::write(dir.join(&b.document.0), &b.document.1).expect("document");
    for (n, bytes) in &b.annexes {
        std::fs::write(dir.join(n), bytes).expect("annex");
    }
    dir
}

#[tokio::test]
async fn an_actes_bundle_dropped_as_a_directory_is_filed_and_a_link_inside_refuses_it() {
    let mut rig = Rig::new(FlowKind::Actes, true).await;
    let (drop, app, boss) = (rig.drop.clone(), rig.app.clone(), rig.boss.clone());
    let b = ActesBuilder::default();
    drop_directory(&drop, "DEL2026_014", &b);
    write(&drop, "DEL2026_014.ok", b"");
    let hostile = ActesBuilder {
        numero: "DEL2026_099".into(),
        ..ActesBuilder::default()
    };
    let bad = drop_directory(&drop, "DEL2026_099", &hostile);
    std::os::unix::fs::symlink("/etc/passwd", bad.join("annexe-secrete.pdf")).expect("link");
    write(&drop, "DEL2026_099.ok", b"");
    for _ in 0..2 {
        rig.pass().await;
    }
    let act = document(&app, &boss, &format!("Flux/DEL2026_014/{}", b.document.0)).await;
    assert_eq!(act.doc_type.as_deref(), Some("deliberation"));
    let links = app.document_links(&boss, act.id).await.expect("links");
    assert_eq!(links.len(), 1, "the annex, linked to its act");
    let text = read(&erreur(&drop).join("DEL2026_099.err.txt"));
    assert!(text.contains("fichier ordinaire"), "{text}");
    let source = DropName::parse("helios").expect("name");
    assert_eq!(app.flows().count_filed(&source).await.expect("count"), 1);
}

#[tokio::test]
async fn a_pes_flow_needs_no_scratch_directory() {
    let mut rig = Rig::new(FlowKind::Pes, true).await;
    // Its attachments go straight to the blob store: a staging path that
    // cannot be a directory does not hold it back.
    std::fs::write(&rig.staging, b"not a directory").expect("file");
    drop_file(
        &rig.drop,
        "PES_2026_0043.xml",
        &PesBuilder::default().build(),
    );
    let summary = rig.pass().await;
    assert_eq!((summary.filed, &summary.retry), (1, &None), "{summary:?}");
    let r = receipt(&rig.drop, "PES_2026_0043.xml");
    assert_eq!(r["documents"].as_array().expect("documents").len(), 3);
}

#[tokio::test]
async fn a_flow_filed_already_gets_its_receipt_even_if_its_parse_now_fails() {
    let mut rig = Rig::new(FlowKind::Pes, true).await;
    let bytes = PesBuilder::default().build();
    drop_file(&rig.drop, "flux.xml", &bytes);
    rig.pass().await;
    // The same bytes, to a filer whose limits now refuse its attachment:
    // the ledger, asked with the staged flow's hash, answers first.
    let strict = Filer::new(
        rig.app.clone(),
        DropTarget {
            source: DropName::parse("helios").expect("name"),
            kind: FlowKind::Pes,
            service: "helios".into(),
            space: "finances".into(),
            folder: vec!["Flux".into()],
            limits: Limits {
                max_attachment_bytes: 1,
                ..Limits::default()
            },
        },
        rig.staging.clone(),
    );
    drop_file(&rig.drop, "flux-bis.xml", &bytes);
    let summary = rig.scanner.pass(&strict, t0()).await.expect("pass");
    assert_eq!((summary.filed, summary.refused), (1, 0), "{summary:?}");
    let (first, second) = (
        receipt(&rig.drop, "flux.xml"),
        receipt(&rig.drop, "flux-bis.xml"),
    );
    assert_eq!(second["deja_classe"], json!(true));
    assert_eq!(first["documents"], second["documents"]);
}

/// The node's blocking pool is bounded (four threads): parses waiting for
/// their stages must not hold it, or the stages never get to write.
#[test]
fn a_large_attachment_is_filed_with_a_blocking_pool_of_one_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let passed = runtime.block_on(async {
        let mut rig = Rig::over(FlowKind::Pes, true, |dir| {
            Arc::new(FsBlobStore::open(dir.join("blobs")).expect("blobs"))
        })
        .await;
        // Past what the stage's channel holds (about 1.25 MiB): the
        // parser waits for the stage.
        rig.scanner = Scanner::new(passerelle_watch::DropFolder {
            max_bytes: 16 << 20,
            ..folder(&rig.drop)
        });
        let mut pes = PesBuilder::default();
        pes.attachments.push(PesAttachment {
            name: "dossier.pdf".into(),
            media_type: "application/pdf".into(),
            content: PesContent::Generated { len: 4 << 20 },
        });
        drop_file(&rig.drop, "PES_2026_0044.xml", &pes.build());
        tokio::time::timeout(std::time::Duration::from_secs(120), rig.pass()).await
    });
    // Stuck, a parse would hold the pool's thread for ever: not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let summary = passed.expect("filed, not stuck");
    assert_eq!(summary.filed, 1, "{summary:?}");
}
