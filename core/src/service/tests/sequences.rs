//! Regression tests for chains of legal steps that reached what no single
//! step allows (issue 11, ADR 0002 "Sequence invariants"): each test plays
//! the chain an outside tester used and checks it now stops where the rule
//! says.

use std::sync::Arc;

use futures::executor::block_on;

use super::{agent, content, space, upload};
use crate::error::CoreError;
use crate::fakes::{FastPasswords, MemBlobStore, MemRepository};
use crate::ids::{DocumentId, FolderId, PrincipalId, TokenId};
use crate::model::{ApiToken, Membership, Session, TokenKind};
use crate::ports::{Repository, SystemClock, TxMode};
use crate::role::Role;
use crate::service::{Actor, CoreSettings, InternalApp, NewContractor};

const EDGE: &str = "edge-1";

/// An internal node that may share with `edge-1`, and its repository (to
/// plant rows no use case would write, as a tampered database or an older
/// version could have left them).
fn internal() -> (InternalApp, Arc<MemRepository>) {
    let repo = Arc::new(MemRepository::new());
    let app = InternalApp::new(
        repo.clone(),
        Arc::new(MemBlobStore::new()),
        Arc::new(SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            edges: vec![EDGE.parse().expect("node id")],
            ..CoreSettings::default()
        },
    );
    (app, repo)
}

/// Invites a contractor into a shared space; returns the contractor.
async fn contractor(app: &InternalApp, manager: &Actor, space: crate::ids::SpaceId) -> Actor {
    let issued = app
        .invite_contractor(
            manager,
            space,
            NewContractor {
                email: "jean@btp-rhone.fr".into(),
                display_name: "Jean Bâtisseur".into(),
                organisation: "BTP Rhône".into(),
                role: Role::Collaborator,
            },
        )
        .await
        .expect("invite");
    Actor::Principal(issued.principal)
}

fn code(r: Result<impl std::fmt::Debug, CoreError>) -> &'static str {
    match r {
        Err(CoreError::Conflict { code, .. }) | Err(CoreError::Invalid { code, .. }) => code,
        Err(CoreError::Forbidden(_)) => "forbidden",
        Err(CoreError::NotFound(_)) => "not_found",
        Err(CoreError::Unauthenticated) => "unauthenticated",
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// What the caller is told: the error's text, or "ok".
fn text(r: Result<(), CoreError>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(()) => "ok".into(),
    }
}

fn id(a: &Actor) -> PrincipalId {
    a.id().expect("a principal")
}

#[test]
fn a_contractor_is_never_made_manager_nor_added_to_an_unshared_space() {
    block_on(async {
        let (app, _) = internal();
        let marie = agent(&app, "marie", false).await;
        let shared = space(&app, &marie, "piscine").await;
        app.share_space(&marie, shared, EDGE).await.expect("share");
        let jean = contractor(&app, &marie, shared).await;
        assert_eq!(
            code(
                app.set_member(&marie, shared, "jean@btp-rhone.fr", Role::Manager)
                    .await
            ),
            "contractor_role"
        );
        let private = space(&app, &marie, "budget").await;
        assert_eq!(
            code(
                app.set_member(&marie, private, "jean@btp-rhone.fr", Role::Reader)
                    .await
            ),
            "not_shared"
        );
        // A non-manager role in the shared space is still a manager's call.
        app.set_member(&marie, shared, "jean@btp-rhone.fr", Role::Reader)
            .await
            .expect("reader");
        let role = |s| {
            let app = app.clone();
            let jean = id(&jean);
            async move {
                app.list_members(&Actor::System, s)
                    .await
                    .expect("members")
                    .into_iter()
                    .find(|m| m.principal.id == jean)
                    .map(|m| m.role)
            }
        };
        assert_eq!(role(shared).await, Some(Role::Reader));
        assert_eq!(role(private).await, None);
    });
}

#[test]
fn the_last_agent_manager_stays_even_when_a_contractor_row_says_manager() {
    block_on(async {
        let (app, repo) = internal();
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "piscine").await;
        app.share_space(&marie, s, EDGE).await.expect("share");
        let jean = contractor(&app, &marie, s).await;
        // A row no use case writes any more: the contractor as manager.
        let mut tx = repo.begin(TxMode::Write).await.expect("tx");
        let revision = tx.next_revision().await.expect("rev");
        tx.save_membership(&Membership::granted(s, id(&jean), Role::Manager, revision))
            .await
            .expect("plant");
        tx.commit().await.expect("commit");
        assert_eq!(
            code(app.set_member(&marie, s, "marie", Role::Reader).await),
            "last_manager"
        );
        assert_eq!(
            code(app.remove_member(&marie, s, id(&marie)).await),
            "last_manager"
        );
        // With a second agent manager, Marie may step down.
        let paul = agent(&app, "paul", false).await;
        app.set_member(&marie, s, "paul", Role::Manager)
            .await
            .expect("paul manages");
        app.set_member(&marie, s, "marie", Role::Reader)
            .await
            .expect("marie steps down");
        let _ = paul;
    });
}

#[test]
fn deleting_ones_own_folder_never_trashes_what_one_could_not_delete() {
    block_on(async {
        let (app, _) = internal();
        let marie = agent(&app, "marie", false).await;
        let claire = agent(&app, "claire", false).await;
        let karim = agent(&app, "karim", false).await;
        let s = space(&app, &marie, "piscine").await;
        app.set_member(&marie, s, "claire", Role::Collaborator)
            .await
            .expect("claire");
        app.set_member(&marie, s, "karim", Role::Contributor)
            .await
            .expect("karim");
        let plan = upload(&app, &marie, s, "plan.txt")
            .await
            .expect("plan")
            .document
            .id;

        // A collaborator moves the manager's document into her folder, then
        // deletes the folder.
        let mine = app
            .create_folder(&claire, s, None, "brouillons")
            .await
            .expect("folder");
        app.update_document(&claire, plan, None, Some(Some(mine.id)))
            .await
            .expect("a collaborator edits any document");
        assert_eq!(code(app.delete_folder(&claire, mine.id).await), "forbidden");
        assert_live(&app, &marie, plan, mine.id).await;

        // A contributor's folder where a colleague dropped a file.
        let his = app
            .create_folder(&karim, s, None, "rendus")
            .await
            .expect("folder");
        let dropped = app
            .upload(
                &claire,
                crate::service::NewDocument {
                    space: s,
                    folder: Some(his.id),
                    name: "note.txt".into(),
                    ..Default::default()
                },
                content("note"),
            )
            .await
            .expect("dropped")
            .document
            .id;
        assert_eq!(code(app.delete_folder(&karim, his.id).await), "forbidden");
        assert_live(&app, &marie, dropped, his.id).await;

        // Everything in it his own: the cascade goes.
        let own = app
            .create_folder(&karim, s, None, "perso")
            .await
            .expect("folder");
        let sub = app
            .create_folder(&karim, s, Some(own.id), "sous")
            .await
            .expect("sub");
        app.upload(
            &karim,
            crate::service::NewDocument {
                space: s,
                folder: Some(sub.id),
                name: "a.txt".into(),
                ..Default::default()
            },
            content("a"),
        )
        .await
        .expect("own doc");
        app.delete_folder(&karim, own.id)
            .await
            .expect("own cascade");
        // A manager deletes any cascade.
        app.delete_folder(&marie, mine.id)
            .await
            .expect("manager cascade");
        assert_eq!(
            code(app.get_document(&marie, plan).await),
            "not_found",
            "trashed with the folder"
        );
    });
}

async fn assert_live(app: &InternalApp, by: &Actor, doc: DocumentId, folder: FolderId) {
    app.get_document(by, doc).await.expect("document kept");
    let listing = app
        .list_folder(
            by,
            app.get_document(by, doc).await.expect("doc").document.space,
            Some(folder),
            crate::model::Page::default(),
        )
        .await
        .expect("folder kept");
    assert!(listing.documents.items.iter().any(|d| d.id == doc));
}

#[test]
fn nothing_is_purged_in_an_archived_space() {
    block_on(async {
        let (app, _) = internal();
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "archives").await;
        let doc = upload(&app, &marie, s, "acte.txt")
            .await
            .expect("doc")
            .document
            .id;
        let folder = app
            .create_folder(&marie, s, None, "2025")
            .await
            .expect("folder");
        app.delete_document(&marie, doc).await.expect("trash doc");
        app.delete_folder(&marie, folder.id)
            .await
            .expect("trash folder");
        app.set_archived(&marie, s, true).await.expect("archive");
        assert_eq!(
            code(app.purge_document(&marie, doc).await),
            "space_archived"
        );
        assert_eq!(
            code(app.purge_folder(&marie, folder.id).await),
            "space_archived"
        );
        let trash = app.list_trash(&marie, s).await.expect("trash");
        assert_eq!(trash.documents.len(), 1, "still in the trash");
        assert_eq!(trash.folders.len(), 1, "still in the trash");
        app.set_archived(&marie, s, false).await.expect("unarchive");
        app.purge_document(&marie, doc).await.expect("purge");
        app.purge_folder(&marie, folder.id).await.expect("purge");
    });
}

#[test]
fn a_contractor_never_authenticates_on_the_internal_node() {
    block_on(async {
        let (app, repo) = internal();
        let admin = agent(&app, "admin", true).await;
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "piscine").await;
        app.share_space(&marie, s, EDGE).await.expect("share");
        let jean = contractor(&app, &marie, s).await;
        assert_eq!(
            code(
                app.create_token(&admin, "jean@btp-rhone.fr", "erp", None)
                    .await
            ),
            "contractor_token"
        );
        assert_eq!(
            code(
                app.set_password(&admin, "jean@btp-rhone.fr", "un mot de passe sûr")
                    .await
            ),
            "contractor_password"
        );
        // Rows left by an older version, or written into the database: a
        // password, a session and a token of the contractor.
        let secret = "psr_planted-token-of-the-contractor";
        let mut tx = repo.begin(TxMode::Write).await.expect("tx");
        let mut p = jean.principal().expect("p").clone();
        p.password_hash = Some(
            crate::ports::PasswordHasher::hash(&FastPasswords, "un mot de passe sûr")
                .await
                .expect("hash"),
        );
        tx.save_principal(&p).await.expect("password");
        let now = time::OffsetDateTime::now_utc();
        tx.save_session(&Session {
            token_hash: crate::ContentHash::of(b"planted-session"),
            principal: p.id,
            csrf: "x".into(),
            created_at: now,
            expires_at: now + time::Duration::hours(1),
        })
        .await
        .expect("session");
        tx.save_token(&ApiToken {
            id: TokenId::new(),
            principal: p.id,
            kind: TokenKind::Api,
            name: "planted".into(),
            token_hash: crate::ContentHash::of(secret.as_bytes()),
            created_at: now,
            expires_at: None,
            revoked: false,
        })
        .await
        .expect("token");
        tx.commit().await.expect("commit");
        assert_eq!(
            code(
                app.login("jean@btp-rhone.fr", "un mot de passe sûr", None)
                    .await
            ),
            "unauthenticated"
        );
        assert_eq!(
            code(app.authenticate_session("planted-session").await),
            "unauthenticated"
        );
        assert_eq!(
            code(app.authenticate_token(secret).await),
            "unauthenticated"
        );
    });
}

#[test]
fn the_purge_receipt_ends_contractors_memberships_and_a_reshare_starts_without_them() {
    block_on(async {
        let (app, _) = internal();
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "piscine").await;
        app.share_space(&marie, s, EDGE).await.expect("share");
        let jean = contractor(&app, &marie, s).await;
        let second = app
            .invite_contractor(
                &marie,
                s,
                NewContractor {
                    email: "luc@plomberie.fr".into(),
                    display_name: "Luc".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("second invite");
        app.unshare_space(&marie, s).await.expect("unshare");
        let members = |app: InternalApp| async move {
            app.list_members(&Actor::System, s)
                .await
                .expect("members")
                .into_iter()
                .map(|m| m.principal.login.to_string())
                .collect::<Vec<_>>()
        };
        // Dormant until the edge confirms: its outbox may still be drained.
        assert!(
            members(app.clone())
                .await
                .contains(&"jean@btp-rhone.fr".into())
        );
        app.record_purge_receipt(
            &EDGE.parse().expect("node id"),
            s,
            serde_json::json!({ "rows_removed": 3 }),
        )
        .await
        .expect("receipt");
        assert_eq!(members(app.clone()).await, ["marie"]);
        let invitations = app.list_invitations(&marie, s).await.expect("invitations");
        let luc = invitations
            .iter()
            .find(|i| i.principal == second.principal.id)
            .expect("luc's invitation");
        assert!(luc.revoked, "an unused link dies with the share");
        app.share_space(&marie, s, EDGE).await.expect("reshare");
        assert_eq!(
            members(app.clone()).await,
            ["marie"],
            "invited again, or not"
        );
        let _ = jean;
    });
}

#[test]
fn what_a_user_may_not_see_answers_exactly_as_what_does_not_exist() {
    block_on(async {
        let (app, _) = internal();
        let marie = agent(&app, "marie", false).await;
        let eve = agent(&app, "eve", false).await;
        let s = space(&app, &marie, "rh").await;
        let doc = upload(&app, &marie, s, "paie.txt")
            .await
            .expect("doc")
            .document
            .id;
        let trashed = upload(&app, &marie, s, "ancien.txt")
            .await
            .expect("doc")
            .document
            .id;
        app.delete_document(&marie, trashed).await.expect("trash");
        let folder = app
            .create_folder(&marie, s, None, "dossiers")
            .await
            .expect("folder");
        let gone = DocumentId::new();
        let no_folder = FolderId::new();
        let pairs = [
            (
                text(app.get_document(&eve, doc).await.map(|_| ())),
                text(app.get_document(&eve, gone).await.map(|_| ())),
            ),
            (
                text(app.list_versions(&eve, doc).await.map(|_| ())),
                text(app.list_versions(&eve, gone).await.map(|_| ())),
            ),
            (
                text(app.delete_document(&eve, doc).await),
                text(app.delete_document(&eve, gone).await),
            ),
            (
                text(app.restore_document(&eve, trashed).await.map(|_| ())),
                text(app.restore_document(&eve, gone).await.map(|_| ())),
            ),
            (
                text(app.purge_document(&eve, trashed).await),
                text(app.purge_document(&eve, gone).await),
            ),
            (
                text(
                    app.update_folder(&eve, folder.id, Some("x"), None)
                        .await
                        .map(|_| ()),
                ),
                text(
                    app.update_folder(&eve, no_folder, Some("x"), None)
                        .await
                        .map(|_| ()),
                ),
            ),
            (
                text(app.delete_folder(&eve, folder.id).await),
                text(app.delete_folder(&eve, no_folder).await),
            ),
        ];
        for (invisible, absent) in pairs {
            assert_eq!(invisible, absent);
            assert!(invisible.ends_with("not found"), "{invisible}");
        }
    });
}

#[test]
fn asking_a_token_for_another_login_is_forbidden_whether_it_exists_or_not() {
    block_on(async {
        let (app, _) = internal();
        let eve = agent(&app, "eve", false).await;
        agent(&app, "marie", false).await;
        let exists = app.create_token(&eve, "marie", "vol", None).await;
        let absent = app.create_token(&eve, "personne", "vol", None).await;
        let malformed = app.create_token(&eve, "Not A Login!", "vol", None).await;
        assert_eq!(code(exists), "forbidden");
        assert_eq!(code(absent), "forbidden");
        assert_eq!(code(malformed), "forbidden");
        // One's own token still works.
        app.create_token(&eve, "EVE", "mon script", None)
            .await
            .expect("own token");
    });
}
