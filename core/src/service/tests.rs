//! Use-case tests on the in-memory fakes, and the helpers their submodules
//! share. Here: documents, folders and spaces. The authorization matrix
//! (every role × action × (own space, other space) against DESIGN §2) is in
//! `authorization`, the tests of accounts in `accounts`.

use std::sync::Arc;

use bytes::Bytes;
use futures::executor::block_on;
use serde_json::{Map, Value, json};

use super::*;
use crate::blob::ByteStream;
use crate::fakes::{FastPasswords, MemBlobStore, MemRepository};
use crate::ids::DocumentId;
use crate::model::{Page, Visibility};
use crate::role::Role;

fn app() -> (InternalApp, Arc<MemBlobStore>) {
    let blobs = Arc::new(MemBlobStore::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        Arc::new(crate::ports::SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            max_upload_bytes: 1024,
            ..CoreSettings::default()
        },
    );
    (app, blobs)
}

fn content(s: &str) -> ByteStream {
    let b = Bytes::from(s.to_owned());
    Box::pin(futures::stream::once(async move { Ok(b) }))
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

async fn agent(app: &InternalApp, login: &str, admin: bool) -> Actor {
    let p = app
        .create_agent(
            &Actor::System,
            NewAgent {
                login: login.into(),
                display_name: login.into(),
                email: String::new(),
                is_admin: admin,
                password: Some("correct horse battery".into()),
            },
        )
        .await
        .expect("agent");
    Actor::Principal(p)
}

async fn space(app: &InternalApp, by: &Actor, slug: &str) -> SpaceId {
    app.create_space(
        by,
        NewSpace {
            slug: slug.into(),
            title: slug.into(),
            description: String::new(),
            domain: "Finances".into(),
            visibility: Visibility::Private,
            manager: None,
        },
    )
    .await
    .expect("space")
    .space
    .id
}

async fn upload(
    app: &InternalApp,
    by: &Actor,
    space: SpaceId,
    name: &str,
) -> Result<DocumentView, CoreError> {
    app.upload(
        by,
        NewDocument {
            space,
            name: name.into(),
            ..NewDocument::default()
        },
        content(name),
    )
    .await
}

#[test]
fn names_are_unique_per_folder_case_insensitively_and_after_nfc() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        upload(&app, &boss, s, "Résumé.pdf").await.expect("first");
        for dup in ["résumé.PDF", "Re\u{301}sume\u{301}.pdf"] {
            let err = upload(&app, &boss, s, dup).await.expect_err("duplicate");
            assert!(
                matches!(
                    err,
                    CoreError::Conflict {
                        code: "name_taken",
                        ..
                    }
                ),
                "{dup}: {err:?}"
            );
        }
        // A folder with the same name is refused too.
        let err = app
            .create_folder(&boss, s, None, "RÉSUMÉ.pdf")
            .await
            .expect_err("dup folder");
        assert!(matches!(
            err,
            CoreError::Conflict {
                code: "name_taken",
                ..
            }
        ));
    });
}

#[test]
fn hostile_names_are_refused_and_nothing_is_stored() {
    block_on(async {
        let (app, blobs) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let long = "a".repeat(300);
        for name in [
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a\0b",
            "a\u{7}b",
            "CON",
            "nul.txt",
            long.as_str(),
        ] {
            let err = upload(&app, &boss, s, name).await.expect_err(name);
            assert!(
                matches!(
                    err,
                    CoreError::Invalid {
                        code: "invalid_name",
                        ..
                    }
                ),
                "{name:?}: {err:?}"
            );
        }
        assert_eq!(blobs.len(), 0, "no content stored for refused names");
        let listing = app
            .list_folder(&boss, s, None, Page::default())
            .await
            .expect("list");
        assert_eq!(listing.documents.total, 0);
    });
}

#[test]
fn uploads_past_the_limit_store_nothing() {
    block_on(async {
        let (app, blobs) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let big = "x".repeat(2000);
        let err = upload(&app, &boss, s, &big[..10]).await.map(drop);
        assert!(err.is_ok());
        let err = app
            .upload(
                &boss,
                NewDocument {
                    space: s,
                    name: "big.bin".into(),
                    ..NewDocument::default()
                },
                content(&big),
            )
            .await
            .expect_err("too large");
        assert!(matches!(err, CoreError::TooLarge { limit: 1024 }));
        assert_eq!(blobs.len(), 1, "only the small upload's blob");
        assert_eq!(
            app.list_folder(&boss, s, None, Page::default())
                .await
                .expect("list")
                .documents
                .total,
            1
        );
    });
}

#[test]
fn metadata_is_validated_against_the_document_type() {
    block_on(async {
        let (app, _) = app();
        for t in crate::doctype::default_catalogue() {
            app.save_document_type(&Actor::System, t)
                .await
                .expect("type");
        }
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let doc = upload(&app, &boss, s, "f.pdf")
            .await
            .expect("doc")
            .document
            .id;
        let err = app
            .update_metadata(
                &boss,
                doc,
                Some("facture".into()),
                obj(json!({"montant_ttc": "abc"})),
            )
            .await
            .expect_err("invalid");
        let CoreError::Invalid { code, fields, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(code, "invalid_metadata");
        assert!(
            fields
                .iter()
                .any(|f| f.field == "numero" && f.problem == "required")
        );
        assert!(fields.iter().any(|f| f.field == "montant_ttc"));
        let err = app
            .update_metadata(&boss, doc, Some("nope".into()), Map::new())
            .await
            .expect_err("unknown");
        assert!(matches!(
            err,
            CoreError::Invalid {
                code: "unknown_document_type",
                ..
            }
        ));
        // Nothing changed.
        assert_eq!(
            app.get_document(&boss, doc)
                .await
                .expect("doc")
                .document
                .doc_type,
            None
        );
    });
}

#[test]
fn a_role_change_applies_to_the_next_request() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let user = agent(&app, "user", false).await;
        let s = space(&app, &boss, "s1").await;
        app.set_member(&boss, s, "user", Role::Contributor)
            .await
            .expect("add");
        upload(&app, &user, s, "a.txt")
            .await
            .expect("contributor creates");
        app.set_member(&boss, s, "user", Role::Reader)
            .await
            .expect("demote");
        assert!(matches!(
            upload(&app, &user, s, "b.txt").await,
            Err(CoreError::Forbidden(_))
        ));
        app.remove_member(&boss, s, user.id().expect("id"))
            .await
            .expect("remove");
        assert!(matches!(
            app.get_space(&user, s).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn a_space_keeps_at_least_one_manager() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let err = app
            .set_member(&boss, s, "boss", Role::Reader)
            .await
            .expect_err("last manager");
        assert!(matches!(
            err,
            CoreError::Conflict {
                code: "last_manager",
                ..
            }
        ));
        let err = app
            .remove_member(&boss, s, boss.id().expect("id"))
            .await
            .expect_err("last manager");
        assert!(matches!(
            err,
            CoreError::Conflict {
                code: "last_manager",
                ..
            }
        ));
    });
}

#[test]
fn an_archived_space_is_read_only() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let d = upload(&app, &boss, s, "a.txt")
            .await
            .expect("doc")
            .document
            .id;
        app.set_archived(&boss, s, true).await.expect("archive");
        assert!(matches!(
            upload(&app, &boss, s, "b.txt").await,
            Err(CoreError::Conflict {
                code: "space_archived",
                ..
            })
        ));
        app.get_document(&boss, d).await.expect("still readable");
        app.set_archived(&boss, s, false).await.expect("unarchive");
        upload(&app, &boss, s, "b.txt")
            .await
            .expect("writable again");
    });
}

#[test]
fn deleting_a_folder_trashes_its_content_and_restoring_brings_it_back() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let f = app
            .create_folder(&boss, s, None, "Marchés")
            .await
            .expect("folder");
        let sub = app
            .create_folder(&boss, s, Some(f.id), "2026")
            .await
            .expect("sub");
        let d = app
            .upload(
                &boss,
                NewDocument {
                    space: s,
                    folder: Some(sub.id),
                    name: "a.txt".into(),
                    ..NewDocument::default()
                },
                content("a"),
            )
            .await
            .expect("doc")
            .document
            .id;
        app.delete_folder(&boss, f.id).await.expect("delete");
        assert!(matches!(
            app.get_document(&boss, d).await,
            Err(CoreError::NotFound(_))
        ));
        let trash = app.list_trash(&boss, s).await.expect("trash");
        assert_eq!(
            trash.folders.len(),
            1,
            "only the deleted folder is listed, not its content"
        );
        assert!(trash.documents.is_empty());
        app.restore_folder(&boss, f.id).await.expect("restore");
        app.get_document(&boss, d).await.expect("back");
    });
}

#[test]
fn purging_releases_blob_references_and_restoring_a_version_appends_one() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s1").await;
        let d = upload(&app, &boss, s, "a.txt")
            .await
            .expect("doc")
            .document
            .id;
        app.new_version(&boss, d, NewVersion::default(), content("second"))
            .await
            .expect("v2");
        let v = app.restore_version(&boss, d, 1).await.expect("restore");
        assert_eq!(v.version.number, 3);
        let versions = app.list_versions(&boss, d).await.expect("versions");
        assert_eq!(versions[0].hash, versions[2].hash);
        assert_eq!(
            app.referenced_hashes(&Actor::System)
                .await
                .expect("refs")
                .len(),
            2
        );
        app.delete_document(&boss, d).await.expect("trash");
        app.purge_document(&boss, d).await.expect("purge");
        assert!(
            app.referenced_hashes(&Actor::System)
                .await
                .expect("refs")
                .is_empty()
        );
    });
}

#[test]
fn a_folder_is_browsed_filtered_and_sorted_over_all_its_documents() {
    block_on(async {
        use crate::ports::{DocumentQuery, DocumentSort};
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "finances").await;
        for name in ["b.txt", "A.txt", "c.pdf"] {
            upload(&app, &boss, s, name).await.expect("upload");
        }
        let q = DocumentQuery::default()
            .name_contains("TXT")
            .sorted_by(DocumentSort::Name, true);
        let l = app
            .browse_folder(&boss, s, None, &q, Page::new(0, 1))
            .await
            .expect("listing");
        assert_eq!(l.documents.total, 2);
        assert_eq!(l.documents.items[0].name.as_str(), "b.txt");
        let stranger = agent(&app, "stranger", false).await;
        assert!(matches!(
            app.browse_folder(&stranger, s, None, &q, Page::default())
                .await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            app.folder_tree(&stranger, s).await,
            Err(CoreError::NotFound(_))
        ));
        let top = app
            .create_folder(&boss, s, None, "Marchés")
            .await
            .expect("folder");
        let sub = app
            .create_folder(&boss, s, Some(top.id), "Lot 1")
            .await
            .expect("folder");
        let gone = app
            .create_folder(&boss, s, None, "Ancien")
            .await
            .expect("folder");
        app.create_folder(&boss, s, Some(gone.id), "Dessous")
            .await
            .expect("folder");
        app.delete_folder(&boss, gone.id).await.expect("trash");
        let tree = app.folder_tree(&boss, s).await.expect("tree");
        let ids: Vec<_> = tree.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            [sub.id, top.id],
            "live folders by name, trashed subtree left out"
        );
    });
}

mod accounts;
mod antivirus;
mod authorization;
mod basic;
mod directory;
mod directory_groups;
mod flows;
mod indexing;
mod links;
mod locks;
mod model;
mod notifications;
mod own_second_factor;
mod replication;
mod search;
mod sequences;
mod webdav;
