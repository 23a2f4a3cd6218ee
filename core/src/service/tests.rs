//! Use-case tests on the in-memory fakes. The authorization matrix checks
//! every role × action × (own space, other space) against DESIGN §2.

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

fn app() -> (Passerelle, Arc<MemBlobStore>) {
    let blobs = Arc::new(MemBlobStore::new());
    let app = Passerelle::new(
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

async fn agent(app: &Passerelle, login: &str, admin: bool) -> Actor {
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

async fn space(app: &Passerelle, by: &Actor, slug: &str) -> SpaceId {
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
    app: &Passerelle,
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

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Member(Role),
    NonMember,
    Admin,
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Read,
    Create,
    EditOwn,
    EditOther,
    DeleteOwn,
    DeleteOther,
    RestoreVersion,
    ChangeMetadata,
    ManageMembers,
    TrashRestore,
    TrashPurge,
}

const ACTS: [Act; 11] = [
    Act::Read,
    Act::Create,
    Act::EditOwn,
    Act::EditOther,
    Act::DeleteOwn,
    Act::DeleteOther,
    Act::RestoreVersion,
    Act::ChangeMetadata,
    Act::ManageMembers,
    Act::TrashRestore,
    Act::TrashPurge,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Ok,
    Forbidden,
    NotFound,
}

/// DESIGN §2, written out by hand (not derived from `Role::allows`).
fn expected(who: Who, act: Act) -> Expect {
    use Expect::*;
    let row: [Expect; 11] = match who {
        Who::Admin | Who::Member(Role::Manager) => [Ok; 11],
        Who::Member(Role::Collaborator) => [
            Ok, Ok, Ok, Ok, Ok, Forbidden, Ok, Ok, Forbidden, Forbidden, Forbidden,
        ],
        Who::Member(Role::Contributor) => [
            Ok, Ok, Ok, Forbidden, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden,
        ],
        Who::Member(Role::Reader) => [
            Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden, Forbidden, Forbidden,
        ],
        Who::NonMember => [NotFound; 11],
    };
    row[ACTS
        .iter()
        .position(|a| std::mem::discriminant(a) == std::mem::discriminant(&act))
        .expect("listed")]
}

/// The targets of one scenario, in one space.
struct Targets {
    space: SpaceId,
    own: DocumentId,
    other: DocumentId,
    trashed: DocumentId,
}

/// A space where `user` holds `who`; `own` was created by `user` while a
/// contributor (so "own" exists for readers and ex-members too).
async fn targets(app: &Passerelle, boss: &Actor, user: &Actor, slug: &str, who: Who) -> Targets {
    let s = space(app, boss, slug).await;
    let login = user.principal().expect("principal").login.to_string();
    if who != Who::Admin {
        app.set_member(boss, s, &login, Role::Contributor)
            .await
            .expect("member");
    }
    let own = upload(app, user, s, "own.txt")
        .await
        .expect("own")
        .document
        .id;
    match who {
        Who::Member(r) => {
            app.set_member(boss, s, &login, r).await.expect("role");
        }
        Who::NonMember => {
            let id = user.id().expect("id");
            app.remove_member(boss, s, id).await.expect("remove");
        }
        Who::Admin => {}
    }
    let other = upload(app, boss, s, "other.txt")
        .await
        .expect("other")
        .document
        .id;
    app.new_version(boss, other, NewVersion::default(), content("v2"))
        .await
        .expect("v2");
    let trashed = upload(app, boss, s, "trashed.txt")
        .await
        .expect("trashed")
        .document
        .id;
    app.delete_document(boss, trashed).await.expect("trash");
    Targets {
        space: s,
        own,
        other,
        trashed,
    }
}

async fn perform(app: &Passerelle, user: &Actor, t: &Targets, act: Act) -> Result<(), CoreError> {
    let facture = json!({"numero": "F1", "fournisseur": "ACME", "montant_ttc": "10", "date_emission": "2026-01-02"});
    match act {
        Act::Read => app.get_document(user, t.other).await.map(drop),
        Act::Create => upload(app, user, t.space, "new.txt").await.map(drop),
        Act::EditOwn => app
            .update_document(user, t.own, Some("own-renamed.txt"), None)
            .await
            .map(drop),
        Act::EditOther => app
            .update_document(user, t.other, Some("other-renamed.txt"), None)
            .await
            .map(drop),
        Act::DeleteOwn => app.delete_document(user, t.own).await,
        Act::DeleteOther => app.delete_document(user, t.other).await,
        Act::RestoreVersion => app.restore_version(user, t.other, 1).await.map(drop),
        Act::ChangeMetadata => app
            .update_metadata(user, t.other, Some("facture".into()), obj(facture))
            .await
            .map(drop),
        Act::ManageMembers => app
            .set_member(user, t.space, "boss", Role::Manager)
            .await
            .map(drop),
        Act::TrashRestore => app.restore_document(user, t.trashed).await.map(drop),
        Act::TrashPurge => app.purge_document(user, t.trashed).await,
    }
}

fn outcome(r: Result<(), CoreError>) -> Expect {
    match r {
        Ok(()) => Expect::Ok,
        Err(CoreError::Forbidden(_)) => Expect::Forbidden,
        Err(CoreError::NotFound(_)) => Expect::NotFound,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[test]
fn authorization_matrix_matches_the_design_table() {
    block_on(async {
        let whos = [
            Who::Member(Role::Manager),
            Who::Member(Role::Collaborator),
            Who::Member(Role::Contributor),
            Who::Member(Role::Reader),
            Who::NonMember,
            Who::Admin,
        ];
        let mut failures = Vec::new();
        for who in whos {
            for act in ACTS {
                // A fresh world per cell: actions change state.
                let (app, _) = app();
                for t in crate::doctype::default_catalogue() {
                    app.save_document_type(&Actor::System, t)
                        .await
                        .expect("type");
                }
                let boss = agent(&app, "boss", false).await;
                let user = agent(&app, "user", who == Who::Admin).await;
                let mine = targets(&app, &boss, &user, "own-space", who).await;
                let got = outcome(perform(&app, &user, &mine, act).await);
                if got != expected(who, act) {
                    failures.push(format!(
                        "{who:?} {act:?} in own space: got {got:?}, want {:?}",
                        expected(who, act)
                    ));
                }
                // Another space where the user is not (or no longer) a member.
                let theirs = targets(
                    &app,
                    &boss,
                    &user,
                    "other-space",
                    if who == Who::Admin {
                        Who::Admin
                    } else {
                        Who::NonMember
                    },
                )
                .await;
                let want = if who == Who::Admin {
                    Expect::Ok
                } else {
                    Expect::NotFound
                };
                let got = outcome(perform(&app, &user, &theirs, act).await);
                if got != want {
                    failures.push(format!(
                        "{who:?} {act:?} in other space: got {got:?}, want {want:?}"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

#[test]
fn denials_are_recorded_in_the_audit_log() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let eve = agent(&app, "eve", false).await;
        let s = space(&app, &boss, "secret").await;
        assert!(matches!(
            app.get_space(&eve, s).await,
            Err(CoreError::NotFound(_))
        ));
        let log = app
            .space_audit(&boss, s, Page::default())
            .await
            .expect("audit");
        let denial = log
            .items
            .iter()
            .find(|e| e.action == "access.denied")
            .expect("denial recorded");
        assert_eq!(denial.actor, eve.id());
        assert!(app.verify_audit().await.expect("verify").broken.is_none());
    });
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
fn login_failures_look_alike_are_audited_and_throttled() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        for _ in 0..5 {
            assert!(matches!(
                app.login("alice", "wrong password!", Some("192.0.2.1"))
                    .await,
                Err(CoreError::Unauthenticated)
            ));
        }
        assert!(matches!(
            app.login("alice", "correct horse battery", None).await,
            Err(CoreError::Throttled { .. })
        ));
        assert!(matches!(
            app.login("nobody", "whatever", None).await,
            Err(CoreError::Unauthenticated)
        ));
        let log = app
            .global_audit(&Actor::System, Page::default())
            .await
            .expect("audit");
        assert_eq!(
            log.items
                .iter()
                .filter(|e| e.action == "login.failed")
                .count(),
            6
        );
    });
}

#[test]
fn sessions_rotate_at_login_and_end_at_logout() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        let a = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        let b = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        assert_ne!(a.token, b.token);
        app.authenticate_session(&a.token).await.expect("valid");
        app.logout(&a.token).await.expect("logout");
        assert!(matches!(
            app.authenticate_session(&a.token).await,
            Err(CoreError::Unauthenticated)
        ));
        app.authenticate_session(&b.token)
            .await
            .expect("other session lives");
    });
}

#[test]
fn disabling_an_account_ends_its_sessions_and_tokens() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        let s = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        let t = app
            .create_token(&Actor::System, "alice", "erp", None)
            .await
            .expect("token");
        app.authenticate_token(&t.secret)
            .await
            .expect("token works");
        app.set_disabled(&Actor::System, "alice", true)
            .await
            .expect("disable");
        assert!(app.authenticate_session(&s.token).await.is_err());
        assert!(app.authenticate_token(&t.secret).await.is_err());
    });
}

#[test]
fn weak_passwords_are_refused() {
    block_on(async {
        let (app, _) = app();
        let err = app
            .create_agent(
                &Actor::System,
                NewAgent {
                    login: "bob".into(),
                    display_name: "Bob".into(),
                    email: String::new(),
                    is_admin: false,
                    password: Some("short".into()),
                },
            )
            .await
            .expect_err("weak");
        assert!(matches!(
            err,
            CoreError::Invalid {
                code: "weak_password",
                ..
            }
        ));
    });
}

#[test]
fn non_admins_cannot_create_accounts_or_types() {
    block_on(async {
        let (app, _) = app();
        let bob = agent(&app, "bob", false).await;
        let err = app
            .create_agent(
                &bob,
                NewAgent {
                    login: "x".into(),
                    display_name: "X".into(),
                    email: String::new(),
                    is_admin: true,
                    password: None,
                },
            )
            .await
            .expect_err("not admin");
        assert!(matches!(err, CoreError::Forbidden(_)));
        let t = crate::doctype::default_catalogue().remove(0);
        assert!(matches!(
            app.save_document_type(&bob, t).await,
            Err(CoreError::Forbidden(_))
        ));
    });
}
#[test]
fn a_user_sets_only_their_own_language_and_the_session_carries_it() {
    block_on(async {
        use crate::model::Language;
        let (app, _) = app();
        let alice = agent(&app, "alice", false).await;
        let root = agent(&app, "root", true).await;
        let alice_id = alice.id().expect("a principal");
        let session = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        assert_eq!(
            app.authenticate_session(&session.token)
                .await
                .expect("session")
                .language,
            None
        );
        app.set_preferred_language(&alice, alice_id, Some(Language::En))
            .await
            .expect("her own");
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            Some(Language::En)
        );
        assert_eq!(
            app.authenticate_session(&session.token)
                .await
                .expect("session")
                .language,
            Some(Language::En)
        );
        // Nobody else, administrators included, and the attempt is audited.
        assert!(matches!(
            app.set_preferred_language(&root, alice_id, Some(Language::Fr))
                .await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            app.preferred_language(&root, alice_id).await,
            Err(CoreError::Forbidden(_))
        ));
        let log = app
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        assert!(log.items.iter().any(|e| e.action == "access.denied"
            && e.target.as_deref() == Some(alice_id.to_string().as_str())));
        assert!(log.items.iter().any(|e| e.action == "principal.language"));
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            Some(Language::En)
        );
        app.set_preferred_language(&alice, alice_id, None)
            .await
            .expect("cleared");
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            None
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

mod model;
mod replication;
mod sequences;
