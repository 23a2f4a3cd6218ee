//! Filing flows from drop folders as a service account (ADR 0008 §2–3):
//! all or nothing, exactly once per (drop folder, content), under the
//! account's rights, and service accounts kept away from every other way
//! in (passwords, sessions, the edge).

use futures::executor::block_on;
use serde_json::{Value, json};

use super::{agent, app, content, obj, space};
use crate::error::CoreError;
use crate::flows::DropName;
use crate::hash::ContentHash;
use crate::model::Page;
use crate::role::Role;
use crate::service::{
    Actor, Filing, FilingReceipt, FlowDocument, FlowReference, InternalApp, PathTarget, Staged,
};

async fn service(app: &InternalApp, login: &str) -> Actor {
    app.create_service(&Actor::System, login, "Helios (finances)")
        .await
        .expect("service");
    app.service_actor(login).await.expect("service actor")
}

async fn staged(app: &InternalApp, by: &Actor, text: &str) -> Staged {
    app.flows().stage(by, content(text)).await.expect("stage")
}

fn doc(folder: &[&str], name: &str, content: Staged) -> FlowDocument {
    FlowDocument {
        folder: folder.iter().map(|s| (*s).to_owned()).collect(),
        name: name.into(),
        doc_type: None,
        metadata: serde_json::Map::new(),
        media_type: Some("application/xml".into()),
        content,
    }
}

fn filing(source: &str, text: &str, documents: Vec<FlowDocument>) -> Filing {
    Filing {
        source: DropName::parse(source).expect("drop name"),
        hash: ContentHash::of(text.as_bytes()),
        file_name: "PES_2026_0042.xml".into(),
        space: "finances".into(),
        folder: vec!["Flux Helios".into()],
        documents,
        comment: "Déposé par Helios".into(),
        reference: None,
        links: Vec::new(),
    }
}

/// A space `finances` managed by `boss`, with `helios` as a contributor.
async fn setup() -> (InternalApp, Actor, Actor) {
    let (app, _) = app();
    let boss = agent(&app, "boss", false).await;
    let s = space(&app, &boss, "finances").await;
    let helios = service(&app, "helios").await;
    app.set_member(&boss, s, "helios", Role::Contributor)
        .await
        .expect("member");
    (app, boss, helios)
}

/// Whether `path` (below the space `finances`) names a live document.
async fn is_document(app: &InternalApp, by: &Actor, path: &str) -> bool {
    let names: Vec<String> = path.split('/').map(str::to_owned).collect();
    matches!(
        app.resolve_path(by, "finances", &names).await,
        Ok(PathTarget::Document(..))
    )
}

#[test]
fn a_filing_creates_its_folders_and_documents_once_per_drop_and_content() {
    block_on(async {
        let (app, boss, helios) = setup().await;
        let flux = staged(&app, &helios, "<PES_Aller/>").await;
        let pj = staged(&app, &helios, "%PDF-1.4").await;
        let docs = vec![
            doc(&["PES_2026_0042"], "PES_2026_0042.xml", flux),
            doc(&["PES_2026_0042", "Pièces"], "facture.pdf", pj),
        ];
        let first = app
            .flows()
            .file(&helios, filing("helios", "<PES_Aller/>", docs.clone()))
            .await
            .expect("filed");
        assert!(!first.already);
        assert_eq!(first.documents.len(), 2);
        let names = [
            "Flux Helios/PES_2026_0042/PES_2026_0042.xml",
            "Flux Helios/PES_2026_0042/Pièces/facture.pdf",
        ];
        for path in names {
            assert!(is_document(&app, &boss, path).await, "{path}");
        }
        let again = app
            .flows()
            .file(&helios, filing("helios", "<PES_Aller/>", docs.clone()))
            .await
            .expect("again");
        assert!(again.already, "the same bytes from the same drop");
        assert_eq!(again.documents, first.documents);
        let source = DropName::parse("helios").expect("name");
        assert_eq!(app.flows().count_filed(&source).await.expect("count"), 1);
        let receipt = app
            .flows()
            .filed(&source, &ContentHash::of(b"<PES_Aller/>"))
            .await
            .expect("filed?")
            .expect("in the ledger");
        assert_eq!(receipt.documents, first.documents);
        for (d, want) in first.documents.iter().zip(names) {
            let view = app.get_document(&boss, d.id).await.expect("document");
            assert_eq!(
                view.document.name.as_str(),
                want.rsplit('/').next().expect("name")
            );
            assert_eq!(view.version.comment, "Déposé par Helios");
        }
        // Another drop folder filing the same bytes files them again: the
        // ledger is per drop folder.
        let other = app
            .flows()
            .file(&helios, filing("helios-2", "<PES_Aller/>", docs))
            .await
            .expect("other drop");
        assert!(!other.already);
        assert_eq!(other.documents[0].name, "PES_2026_0042 (2).xml");
        assert_eq!(other.documents[1].name, "facture (2).pdf");
    });
}

#[test]
fn a_filing_that_fails_anywhere_files_nothing_and_can_be_filed_again() {
    block_on(async {
        let (app, boss, helios) = setup().await;
        let ok = staged(&app, &helios, "ok").await;
        let mut bad = doc(&["Lot"], "facture.pdf", ok);
        bad.doc_type = Some("facture".into());
        bad.metadata = obj(json!({ "montant_ttc": "pas un montant" }));
        let err = app
            .flows()
            .file(
                &helios,
                filing("helios", "flux", vec![doc(&["Lot"], "a.xml", ok), bad]),
            )
            .await
            .expect_err("invalid metadata");
        assert!(matches!(err, CoreError::Invalid { .. }), "{err:?}");
        let s = app
            .space_by_slug(&boss, "finances")
            .await
            .expect("space")
            .space
            .id;
        let root = app
            .list_folder(&boss, s, None, Page::default())
            .await
            .expect("root");
        assert!(
            root.folders.is_empty(),
            "no folder left behind: {:?}",
            root.folders
        );
        let source = DropName::parse("helios").expect("name");
        assert_eq!(app.flows().count_filed(&source).await.expect("count"), 0);
        let fixed = app
            .flows()
            .file(
                &helios,
                filing("helios", "flux", vec![doc(&["Lot"], "a.xml", ok)]),
            )
            .await
            .expect("filed once fixed");
        assert!(!fixed.already);
    });
}

#[test]
fn only_an_enabled_service_account_with_the_right_to_create_files() {
    block_on(async {
        let (app, boss, helios) = setup().await;
        let c = staged(&app, &helios, "x").await;
        let one = || filing("helios", "x", vec![doc(&[], "x.xml", c)]);
        // An agent, even the space's manager, is not a service account.
        let err = app.flows().file(&boss, one()).await.expect_err("agent");
        assert!(
            matches!(
                err,
                CoreError::Conflict {
                    code: "not_a_service_account",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = app
            .flows()
            .stage(&boss, content("x"))
            .await
            .expect_err("agent stages");
        assert!(matches!(err, CoreError::Conflict { .. }), "{err:?}");
        // A service account outside the space sees no space at all.
        let outsider = service(&app, "ged-actes").await;
        let err = app
            .flows()
            .file(&outsider, one())
            .await
            .expect_err("outsider");
        assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");
        // A reader may not create.
        let s = app
            .space_by_slug(&boss, "finances")
            .await
            .expect("space")
            .space
            .id;
        app.set_member(&boss, s, "helios", Role::Reader)
            .await
            .expect("reader");
        let err = app.flows().file(&helios, one()).await.expect_err("reader");
        assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
        let err = app
            .set_member(&boss, s, "helios", Role::Manager)
            .await
            .expect_err("a service manages nothing");
        assert!(
            matches!(
                err,
                CoreError::Conflict {
                    code: "service_manager",
                    ..
                }
            ),
            "{err:?}"
        );
        app.set_member(&boss, s, "helios", Role::Contributor)
            .await
            .expect("back");
        // Disabled after the worker got its actor: refused at the next file.
        app.set_disabled(&Actor::System, "helios", true)
            .await
            .expect("disable");
        let err = app
            .flows()
            .file(&helios, one())
            .await
            .expect_err("disabled");
        assert!(
            matches!(
                err,
                CoreError::Conflict {
                    code: "user_disabled",
                    ..
                }
            ),
            "{err:?}"
        );
        app.set_disabled(&Actor::System, "helios", false)
            .await
            .expect("enable");
        app.flows().file(&helios, one()).await.expect("filed");
    });
}

#[test]
fn a_service_account_has_no_password_no_session_and_works_by_token_only() {
    block_on(async {
        let (app, _boss, _helios) = setup().await;
        let err = app
            .set_password(&Actor::System, "helios", "correct horse battery")
            .await
            .expect_err("password");
        assert!(
            matches!(
                err,
                CoreError::Conflict {
                    code: "service_password",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = app
            .login("helios", "correct horse battery", None)
            .await
            .expect_err("login");
        assert!(
            matches!(
                err,
                CoreError::Unauthenticated | CoreError::Throttled { .. }
            ),
            "{err:?}"
        );
        let issued = app
            .create_token(&Actor::System, "helios", "Helios", None)
            .await
            .expect("token");
        let actor = app
            .authenticate_token(&issued.secret)
            .await
            .expect("token works");
        assert_eq!(
            actor.principal().expect("principal").login.as_str(),
            "helios"
        );
        // Not an administrator's tool: only an administrator creates one.
        let nobody = agent(&app, "nobody", false).await;
        let err = app
            .create_service(&nobody, "sneaky", "Sneaky")
            .await
            .expect_err("not admin");
        assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
        let err = app.service_actor("nobody").await.expect_err("agent");
        assert!(matches!(err, CoreError::Conflict { .. }), "{err:?}");
    });
}

/// A filing of one typed document carrying `reference`.
fn typed(
    text: &str,
    content: Staged,
    doc_type: &str,
    metadata: serde_json::Value,
    reference: FlowReference,
) -> Filing {
    let mut d = doc(&["Actes"], &format!("{text}.pdf"), content);
    d.doc_type = Some(doc_type.into());
    d.metadata = obj(metadata);
    Filing {
        reference: Some(reference),
        ..filing("actes", text, vec![d])
    }
}

async fn file_act(app: &InternalApp, by: &Actor, number: &str) -> FilingReceipt {
    let c = staged(app, by, &format!("acte {number}")).await;
    let f = typed(
        &format!("acte {number}"),
        c,
        "deliberation",
        json!({ "numero": number, "date_decision": "2026-03-02", "objet": "Piscine",
                "nature": "Délibération" }),
        FlowReference::Act {
            number: number.into(),
        },
    );
    app.flows().file(by, f).await.expect("act filed")
}

async fn file_ar(app: &InternalApp, by: &Actor, number: &str, id: &str) -> FilingReceipt {
    let c = staged(app, by, &format!("ar {number}")).await;
    let f = typed(
        &format!("ar {number}"),
        c,
        "accuse-reception-acte",
        json!({ "numero_acte": number, "identifiant_ar": id, "date_reception": "2026-03-14" }),
        FlowReference::Acknowledgement {
            number: number.into(),
        },
    );
    app.flows()
        .file(by, f)
        .await
        .expect("acknowledgement filed")
}

async fn acknowledged(app: &InternalApp, by: &Actor, act: &FilingReceipt) -> (Value, Value) {
    let d = app
        .get_document(by, act.documents[0].id)
        .await
        .expect("act")
        .document;
    let get = |k: &str| d.metadata.get(k).cloned().unwrap_or(Value::Null);
    (get("identifiant_ar"), get("transmis_le"))
}

#[test]
fn an_acknowledgement_fills_its_act_whichever_arrives_first() {
    block_on(async {
        let (app, boss, helios) = setup().await;
        for t in crate::doctype::default_catalogue() {
            app.save_document_type(&Actor::System, t)
                .await
                .expect("type");
        }
        // The act first, then its acknowledgement.
        let act = file_act(&app, &helios, "2026-001").await;
        assert_eq!(
            acknowledged(&app, &boss, &act).await,
            (Value::Null, Value::Null)
        );
        let ar = file_ar(
            &app,
            &helios,
            "2026-001",
            "034-213400000-20260314-2026-001-DE",
        )
        .await;
        assert!(!ar.waiting_for_act);
        assert_eq!(
            acknowledged(&app, &boss, &act).await,
            (
                json!("034-213400000-20260314-2026-001-DE"),
                json!("2026-03-14")
            )
        );
        // The acknowledgement first: it waits, and the act's filing
        // applies it.
        let early = file_ar(&app, &helios, "2026-002", "AR-2").await;
        assert!(early.waiting_for_act);
        let act = file_act(&app, &helios, "2026-002").await;
        assert_eq!(
            acknowledged(&app, &boss, &act).await,
            (json!("AR-2"), json!("2026-03-14"))
        );
        // Linked, from the acknowledgement to its act.
        let links = app
            .document_links(&boss, act.documents[0].id)
            .await
            .expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].other.id, early.documents[0].id);
        assert_eq!(
            links[0].link.kind,
            crate::links::LinkKind::AccuseDeReceptionDe
        );
        assert!(!links[0].outgoing);
        // An acknowledgement of another number fills nothing.
        let stray = file_ar(&app, &helios, "2026-999", "AR-X").await;
        assert!(stray.waiting_for_act);
        assert_eq!(
            acknowledged(&app, &boss, &act).await,
            (json!("AR-2"), json!("2026-03-14"))
        );
    });
}

#[test]
fn a_group_of_filings_files_each_once_and_a_bad_one_is_filed_alone() {
    block_on(async {
        let (app, _boss, helios) = setup().await;
        let source = DropName::parse("helios").expect("name");
        let named = |text: &str, content: Staged| {
            let mut f = filing("helios", text, vec![doc(&[text], "flux.xml", content)]);
            f.file_name = format!("{text}.xml");
            f
        };
        let (a, b) = (
            staged(&app, &helios, "a").await,
            staged(&app, &helios, "b").await,
        );
        // The same bytes twice in one group: the second finds the first's
        // ledger row, written in the same unit of work.
        let group = vec![named("a", a), named("b", b), named("a", a)];
        let results = app.flows().file_all(&helios, group).await;
        let [first, second, again] = results.try_into().expect("three answers");
        let (first, again) = (first.expect("a"), again.expect("a again"));
        assert!(!first.already && !second.expect("b").already);
        assert!(again.already);
        assert_eq!(again.documents, first.documents);
        assert_eq!(app.flows().count_filed(&source).await.expect("count"), 2);

        // One filing refused: the others are filed all the same, and the
        // refused one answers as it would alone.
        let (c, e) = (
            staged(&app, &helios, "c").await,
            staged(&app, &helios, "e").await,
        );
        let mut bad = named("d", c);
        bad.documents[0].doc_type = Some("facture".into());
        bad.documents[0].metadata = obj(json!({ "montant_ttc": "pas un montant" }));
        let results = app
            .flows()
            .file_all(&helios, vec![named("c", c), bad, named("e", e)])
            .await;
        let [c, d, e] = results.try_into().expect("three answers");
        assert!(!c.expect("c").already && !e.expect("e").already);
        let err = d.expect_err("invalid metadata");
        assert!(matches!(err, CoreError::Invalid { .. }), "{err:?}");
        assert_eq!(app.flows().count_filed(&source).await.expect("count"), 4);
    });
}

#[test]
fn a_filing_respects_another_principals_lock_and_links_its_documents() {
    use crate::locks::{LockDepth, LockRequest, LockScope};
    use crate::model::Resource;
    block_on(async {
        let (app, boss, helios) = setup().await;
        let s = app
            .space_by_slug(&boss, "finances")
            .await
            .expect("space")
            .space
            .id;
        let target = app
            .create_folder(&boss, s, None, "Flux Helios")
            .await
            .expect("folder");
        let request = LockRequest {
            scope: LockScope::Exclusive,
            depth: LockDepth::Infinity,
            timeout: Some(time::Duration::hours(1)),
            owner_info: None,
        };
        let lock = app
            .locks()
            .lock(&boss, Resource::Folder(target.id), request)
            .await
            .expect("lock");
        let flux = staged(&app, &helios, "<PES_Aller/>").await;
        let pj = staged(&app, &helios, "%PDF-1.4").await;
        let mut f = filing(
            "helios",
            "<PES_Aller/>",
            vec![
                doc(&["PES_1"], "PES_1.xml", flux),
                doc(&["PES_1", "Pièces"], "facture.pdf", pj),
            ],
        );
        f.links = vec![crate::service::FlowLink {
            from: 1,
            to: 0,
            kind: crate::links::LinkKind::PieceJustificativeDe,
        }];
        let err = app
            .flows()
            .file(&helios, f.clone())
            .await
            .expect_err("the target is locked by another");
        assert!(matches!(err, CoreError::Locked { .. }), "{err:?}");
        let source = DropName::parse("helios").expect("name");
        assert_eq!(app.flows().count_filed(&source).await.expect("count"), 0);

        app.locks().unlock(&boss, lock.token).await.expect("unlock");
        let filed = app.flows().file(&helios, f).await.expect("filed");
        let links = app
            .document_links(&boss, filed.documents[0].id)
            .await
            .expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].other.id, filed.documents[1].id);
        assert!(!links[0].outgoing, "from the attachment to the flow");
        assert_eq!(
            links[0].link.kind,
            crate::links::LinkKind::PieceJustificativeDe
        );
    });
}
