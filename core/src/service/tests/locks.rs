//! Locks over several users (ADR 0007 §1): a check-out refuses every
//! write of the others on every path and lets the holder's through;
//! expiry by the clock; shared and exclusive; depth infinity on folders;
//! who may lock, see, release and force; purges take locks along.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;

use super::*;
use crate::fakes::FakeClock;
use crate::locks::{Lock, LockDepth, LockRequest, LockScope, LockToken};
use crate::model::Resource;

/// A space managed by `boss`, with a document and a folder, and three
/// members: `alice` and `bob` collaborators, `rita` a reader; and `eve`,
/// an agent of no membership. The clock stands still until moved.
struct Office {
    app: InternalApp,
    locks: Locks,
    clock: Arc<FakeClock>,
    blobs: Arc<MemBlobStore>,
    boss: Actor,
    alice: Actor,
    bob: Actor,
    rita: Actor,
    eve: Actor,
    space: SpaceId,
    doc: DocumentId,
    folder: crate::ids::FolderId,
}

async fn office() -> Office {
    let clock = Arc::new(FakeClock::new(datetime!(2026-12-07 09:00 UTC)));
    let blobs = Arc::new(MemBlobStore::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings::default(),
    );
    let boss = agent(&app, "boss", false).await;
    let space = space(&app, &boss, "urbanisme").await;
    let mut members = Vec::new();
    for (login, role) in [
        ("alice", Role::Collaborator),
        ("bob", Role::Collaborator),
        ("rita", Role::Reader),
    ] {
        let a = agent(&app, login, false).await;
        app.set_member(&boss, space, login, role)
            .await
            .expect("member");
        members.push(a);
    }
    let eve = agent(&app, "eve", false).await;
    let doc = upload(&app, &boss, space, "PLU.odt")
        .await
        .expect("doc")
        .document
        .id;
    let folder = app
        .create_folder(&boss, space, None, "Plans")
        .await
        .expect("folder")
        .id;
    let [alice, bob, rita] = members.try_into().expect("three members");
    Office {
        locks: app.locks(),
        app,
        clock,
        blobs,
        boss,
        alice,
        bob,
        rita,
        eve,
        space,
        doc,
        folder,
    }
}

fn exclusive(depth: LockDepth) -> LockRequest {
    LockRequest {
        scope: LockScope::Exclusive,
        depth,
        timeout: Some(Duration::hours(1)),
        owner_info: Some("LibreOffice".into()),
    }
}

fn shared() -> LockRequest {
    LockRequest {
        scope: LockScope::Shared,
        ..exclusive(LockDepth::Zero)
    }
}

/// The error is `Locked` by `holder`'s lock, ending at `until`.
fn assert_locked_by<T: std::fmt::Debug>(r: Result<T, CoreError>, holder: &Actor, lock: &Lock) {
    match r {
        Err(CoreError::Locked {
            holder: h,
            holder_name,
            until,
        }) => {
            assert_eq!(Some(h), holder.id());
            assert_eq!(until, lock.expires_at);
            assert!(!holder_name.is_empty());
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn a_checked_out_document_refuses_every_write_of_the_others_and_takes_its_holders() {
    block_on(async {
        let o = office().await;
        let lock = o
            .locks
            .check_out(&o.alice, o.doc, None, Some("relecture".into()))
            .await
            .expect("check-out");
        assert_eq!(lock.expires_at, datetime!(2026-12-07 17:00 UTC), "8 h");
        let (app, bob) = (&o.app, &o.bob);
        let stored = o.blobs.len();
        assert_locked_by(
            app.new_version(bob, o.doc, NewVersion::default(), content("b"))
                .await,
            &o.alice,
            &lock,
        );
        assert_eq!(
            o.blobs.len(),
            stored,
            "refused before its content is stored"
        );
        assert_locked_by(
            app.update_document(bob, o.doc, Some("Autre.odt"), None)
                .await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            app.update_document(bob, o.doc, None, Some(Some(o.folder)))
                .await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            app.update_metadata(bob, o.doc, None, Map::new()).await,
            &o.alice,
            &lock,
        );
        // Deleting another's document is a manager's right: the manager
        // meets the lock.
        assert_locked_by(app.delete_document(&o.boss, o.doc).await, &o.alice, &lock);
        assert_locked_by(app.restore_version(bob, o.doc, 1).await, &o.alice, &lock);
        // A manager is refused too: forcing is a separate, audited act.
        assert_locked_by(
            app.update_document(&o.boss, o.doc, Some("X.odt"), None)
                .await,
            &o.alice,
            &lock,
        );

        let a = &o.alice;
        app.new_version(a, o.doc, NewVersion::default(), content("a2"))
            .await
            .expect("the holder's version");
        app.update_document(a, o.doc, Some("PLU v2.odt"), None)
            .await
            .expect("the holder's rename");
        app.update_document(a, o.doc, None, Some(Some(o.folder)))
            .await
            .expect("the holder's move");
        let view = app
            .update_metadata(a, o.doc, None, Map::new())
            .await
            .expect("the holder's metadata");
        assert_eq!(view.version.number, 2);
        let shown = view.lock.expect("the lock stays");
        assert_eq!(shown.lock.map(|l| l.token), Some(lock.token));
        assert_eq!(shown.summary.holder_name, "alice");
        let seen_by_bob = app.get_document(bob, o.doc).await.expect("bob reads");
        assert_eq!(
            seen_by_bob.lock.and_then(|l| l.lock).map(|l| l.token),
            Some(lock.token)
        );
        assert_eq!(
            o.locks
                .locks_on(bob, Resource::Document(o.doc))
                .await
                .expect("locks"),
            vec![lock.clone()]
        );

        // Checking out again is the holder's refresh, not a conflict.
        o.clock.advance(Duration::hours(1));
        let again = o
            .locks
            .check_out(a, o.doc, Some(Duration::hours(2)), None)
            .await
            .expect("a second check-out by the holder");
        assert_eq!(again.token, lock.token);
        assert_eq!(again.expires_at, datetime!(2026-12-07 12:00 UTC));
        assert_eq!(again.owner_info.as_deref(), Some("relecture"));
        o.locks.check_in(a, o.doc).await.expect("check-in");
        app.update_document(bob, o.doc, Some("Bob.odt"), None)
            .await
            .expect("free again");
        assert!(
            app.get_document(bob, o.doc)
                .await
                .expect("doc")
                .lock
                .is_none()
        );
    });
}

#[test]
fn an_expired_lock_excludes_nothing_before_the_sweep_and_is_swept() {
    block_on(async {
        let o = office().await;
        let lock = o
            .locks
            .check_out(&o.alice, o.doc, Some(Duration::minutes(10)), None)
            .await
            .expect("check-out");
        o.clock.advance(Duration::minutes(9));
        assert_locked_by(
            o.app
                .update_document(&o.bob, o.doc, Some("B.odt"), None)
                .await,
            &o.alice,
            &lock,
        );
        o.clock.advance(Duration::minutes(1));
        o.app
            .update_document(&o.bob, o.doc, Some("B.odt"), None)
            .await
            .expect("expired at its time");
        assert_eq!(
            o.locks
                .unlock(&o.alice, lock.token)
                .await
                .map_err(|e| e.to_string()),
            Err("lock not found".into()),
            "an expired lock is gone for its holder too"
        );
        assert_eq!(o.locks.sweep().await.expect("sweep"), 1);
        assert_eq!(o.locks.sweep().await.expect("sweep"), 0);
    });
}

#[test]
fn a_refresh_extends_a_lock_and_only_its_holder_releases_it() {
    block_on(async {
        let o = office().await;
        let lock = o
            .locks
            .lock(
                &o.alice,
                Resource::Document(o.doc),
                exclusive(LockDepth::Zero),
            )
            .await
            .expect("lock");
        o.clock.advance(Duration::minutes(50));
        let refreshed = o
            .locks
            .refresh(&o.alice, lock.token, Some(Duration::hours(1)))
            .await
            .expect("refresh");
        assert_eq!(refreshed.expires_at, datetime!(2026-12-07 10:50 UTC));
        assert!(matches!(
            o.locks.refresh(&o.bob, lock.token, None).await,
            Err(CoreError::Conflict {
                code: "not_lock_holder",
                ..
            })
        ));
        assert!(matches!(
            o.locks.unlock(&o.bob, lock.token).await,
            Err(CoreError::Conflict {
                code: "not_lock_holder",
                ..
            })
        ));
        assert!(matches!(
            o.locks.check_in(&o.bob, o.doc).await,
            Err(CoreError::Conflict {
                code: "not_lock_holder",
                ..
            })
        ));
        assert!(matches!(
            o.locks.unlock(&o.alice, LockToken::new()).await,
            Err(CoreError::NotFound("lock"))
        ));
        o.clock.advance(Duration::minutes(30));
        assert_locked_by(
            o.app.update_metadata(&o.bob, o.doc, None, Map::new()).await,
            &o.alice,
            &refreshed,
        );
        o.locks.unlock(&o.alice, lock.token).await.expect("unlock");
        assert!(matches!(
            o.locks.check_in(&o.alice, o.doc).await,
            Err(CoreError::NotFound("lock"))
        ));
    });
}

#[test]
fn shared_locks_coexist_and_exclude_an_exclusive_one() {
    block_on(async {
        let o = office().await;
        let r = Resource::Document(o.doc);
        let a = o.locks.lock(&o.alice, r, shared()).await.expect("alice");
        // Later, so alice's is the oldest, the one a refusal names.
        o.clock.advance(Duration::minutes(1));
        o.locks.lock(&o.bob, r, shared()).await.expect("bob beside");
        assert_locked_by(
            o.locks.lock(&o.boss, r, exclusive(LockDepth::Zero)).await,
            &o.alice,
            &a,
        );
        // Each holder of a shared lock writes; someone holding none does not.
        o.app
            .update_document(&o.bob, o.doc, Some("Bob.odt"), None)
            .await
            .expect("a shared holder writes");
        assert_locked_by(
            o.app
                .update_document(&o.boss, o.doc, Some("X.odt"), None)
                .await,
            &o.alice,
            &a,
        );
        assert_eq!(o.locks.locks_on(&o.rita, r).await.expect("on").len(), 2);
        // An exclusive lock excludes even a shared one.
        let other = upload(&o.app, &o.boss, o.space, "Autre.odt")
            .await
            .expect("doc")
            .document
            .id;
        let r2 = Resource::Document(other);
        let x = o
            .locks
            .lock(&o.boss, r2, exclusive(LockDepth::Zero))
            .await
            .expect("exclusive");
        assert_locked_by(o.locks.lock(&o.alice, r2, shared()).await, &o.boss, &x);
    });
}

#[test]
fn a_reader_cannot_lock_and_a_stranger_finds_nothing() {
    block_on(async {
        let o = office().await;
        let r = Resource::Document(o.doc);
        assert!(matches!(
            o.locks.lock(&o.rita, r, exclusive(LockDepth::Zero)).await,
            Err(CoreError::Forbidden(_))
        ));
        let absent = Resource::Document(DocumentId::new());
        let stranger = o
            .locks
            .lock(&o.eve, r, exclusive(LockDepth::Zero))
            .await
            .map_err(|e| e.to_string());
        let nothing = o
            .locks
            .lock(&o.eve, absent, exclusive(LockDepth::Zero))
            .await
            .map_err(|e| e.to_string());
        assert_eq!(stranger, Err("document not found".into()));
        assert_eq!(stranger, nothing, "indistinguishable from an absent id");
        let lock = o
            .locks
            .check_out(&o.alice, o.doc, None, None)
            .await
            .expect("lock");
        assert_eq!(
            o.locks.locks_on(&o.eve, r).await.map_err(|e| e.to_string()),
            Err("document not found".into())
        );
        assert_eq!(
            o.locks
                .unlock(&o.eve, lock.token)
                .await
                .map_err(|e| e.to_string()),
            Err("lock not found".into()),
            "a stranger learns nothing of a token either"
        );
        assert!(matches!(
            o.locks.force_unlock(&o.eve, r).await,
            Err(CoreError::NotFound("document"))
        ));
    });
}

#[test]
fn force_unlock_is_for_managers_and_audited_with_the_previous_holder() {
    block_on(async {
        let o = office().await;
        let r = Resource::Document(o.doc);
        let lock = o
            .locks
            .check_out(&o.alice, o.doc, None, None)
            .await
            .expect("lock");
        assert!(matches!(
            o.locks.force_unlock(&o.bob, r).await,
            Err(CoreError::Forbidden(_))
        ));
        assert_eq!(
            o.locks.force_unlock(&o.boss, r).await.expect("forced"),
            vec![lock.clone()]
        );
        o.app
            .update_document(&o.bob, o.doc, Some("Libre.odt"), None)
            .await
            .expect("free after the force");
        let audit = o
            .app
            .space_audit(&o.boss, o.space, Page::default())
            .await
            .expect("audit")
            .items;
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"lock.create"), "{actions:?}");
        assert!(actions.contains(&"access.denied"), "bob's try: {actions:?}");
        let forced = audit
            .iter()
            .find(|e| e.action == "lock.force_release")
            .expect("the force is audited");
        assert_eq!(forced.actor, o.boss.id());
        assert_eq!(
            forced.detail["holder"],
            Value::from(o.alice.id().expect("id").to_string())
        );
        assert_eq!(forced.target, Some(o.doc.to_string()));
        assert!(
            o.locks
                .force_unlock(&o.boss, r)
                .await
                .expect("nothing")
                .is_empty(),
            "nothing left to force"
        );
    });
}

#[test]
fn purging_a_document_removes_its_lock() {
    block_on(async {
        let o = office().await;
        o.locks
            .check_out(&o.boss, o.doc, None, None)
            .await
            .expect("lock");
        o.app
            .delete_document(&o.boss, o.doc)
            .await
            .expect("the holder trashes it");
        let space = Resource::Space(o.space);
        assert_eq!(
            o.locks
                .locks_below(&o.boss, space)
                .await
                .expect("below")
                .len(),
            1
        );
        o.app.purge_document(&o.boss, o.doc).await.expect("purge");
        assert!(
            o.locks
                .locks_below(&o.boss, space)
                .await
                .expect("below")
                .is_empty()
        );
        o.clock.advance(Duration::days(2));
        assert_eq!(
            o.locks.sweep().await.expect("sweep"),
            0,
            "no row left behind"
        );
    });
}

mod folders;
