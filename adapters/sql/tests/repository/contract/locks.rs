//! The `LockStore` part of the transaction: locks round trip exactly, are
//! found by token, by resource and by space in one order, deleted by
//! token, by resource and by expiry, need their owner and space, and live
//! and die with the transaction that wrote them.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::locks::{Lock, LockDepth, LockScope, LockToken};
use passerelle_core::model::{Principal, Resource, Space};
use passerelle_core::ports::Repository;
use uuid::Uuid;

use super::{Outcome, T0, assert_storage, at, read, seed_space, write};

/// A lock of `owner` on `resource` of `space`, created at `T0 + created`,
/// expiring at `T0 + expires`.
fn lock(
    owner: &Principal,
    space: &Space,
    resource: Resource,
    created: i128,
    expires: i128,
) -> Lock {
    Lock {
        token: LockToken::new(),
        resource,
        space: space.id,
        owner: owner.id,
        owner_info: Some(
            "<D:href>mailto:paul.martin@metropole.example</D:href> « LibreOffice »".into(),
        ),
        scope: LockScope::Exclusive,
        depth: LockDepth::Zero,
        created_at: at(T0 + created),
        refreshed_at: at(T0 + created + 7),
        expires_at: at(T0 + expires),
    }
}

async fn save_locks(repo: &dyn Repository, locks: &[&Lock]) -> Outcome {
    let mut tx = write(repo).await?;
    for l in locks {
        tx.save_lock(l).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn locks_round_trip_exactly_and_are_found_by_token(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "locks").await?;
    let on_space = lock(&p, &s, Resource::Space(s.id), 0, 1_000);
    let on_folder = Lock {
        scope: LockScope::Shared,
        depth: LockDepth::Infinity,
        owner_info: None,
        ..lock(&p, &s, Resource::Folder(FolderId::new()), 1, 1_001)
    };
    let on_doc = lock(&p, &s, Resource::Document(DocumentId::new()), 2, 1_002);
    save_locks(repo, &[&on_space, &on_folder, &on_doc]).await?;
    let mut tx = read(repo).await?;
    for l in [&on_space, &on_folder, &on_doc] {
        assert_eq!(tx.lock_by_token(l.token).await?.as_ref(), Some(l));
    }
    assert_eq!(tx.lock_by_token(LockToken::new()).await?, None);
    Ok(())
}

pub async fn saving_a_lock_again_replaces_it(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "refresh").await?;
    let first = lock(&p, &s, Resource::Document(DocumentId::new()), 0, 100);
    save_locks(repo, &[&first]).await?;
    let refreshed = Lock {
        refreshed_at: at(T0 + 90),
        expires_at: at(T0 + 10_000),
        ..first.clone()
    };
    save_locks(repo, &[&refreshed]).await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.lock_by_token(first.token).await?, Some(refreshed));
    assert_eq!(tx.space_locks(s.id).await?.len(), 1);
    Ok(())
}

pub async fn locks_are_found_by_resource_and_by_space_oldest_first_then_by_token(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "finds").await?;
    let (_, other) = seed_space(repo, "other").await?;
    let doc = Resource::Document(DocumentId::new());
    let folder = Resource::Folder(FolderId::new());
    let late = lock(&p, &s, doc, 50, 500);
    // Two created at the same instant: the token decides, as UUID bytes.
    let mut tied = [
        Lock {
            token: LockToken::from_uuid(Uuid::from_u128(u128::MAX - 1)),
            ..lock(&p, &s, folder, 10, 500)
        },
        Lock {
            token: LockToken::from_uuid(Uuid::from_u128(1)),
            ..lock(&p, &s, doc, 10, 500)
        },
    ];
    let elsewhere = lock(&p, &other, Resource::Space(other.id), 0, 500);
    // A lock on an id of another kind is not a lock on this resource.
    let same_id_other_kind = match doc {
        Resource::Document(id) => lock(
            &p,
            &s,
            Resource::Folder(FolderId::from_uuid(id.as_uuid())),
            5,
            500,
        ),
        _ => unreachable!("doc is a document"),
    };
    save_locks(
        repo,
        &[&late, &tied[0], &elsewhere, &tied[1], &same_id_other_kind],
    )
    .await?;
    tied.sort_by_key(|l| l.token);
    let mut tx = read(repo).await?;
    assert_eq!(
        tx.locks_of(&[doc, folder]).await?,
        [tied[0].clone(), tied[1].clone(), late.clone()]
    );
    assert_eq!(tx.locks_of(&[doc]).await?, [tied[0].clone(), late.clone()]);
    assert_eq!(tx.locks_of(&[]).await?, []);
    assert_eq!(tx.locks_of(&[Resource::Space(SpaceId::new())]).await?, []);
    assert_eq!(
        tx.space_locks(s.id).await?,
        [same_id_other_kind, tied[0].clone(), tied[1].clone(), late]
    );
    assert_eq!(tx.space_locks(other.id).await?, [elsewhere]);
    Ok(())
}

pub async fn locks_are_deleted_by_token_by_resource_and_once_expired(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "deletes").await?;
    let (a, b, c) = (
        Resource::Document(DocumentId::new()),
        Resource::Document(DocumentId::new()),
        Resource::Folder(FolderId::new()),
    );
    let one = lock(&p, &s, a, 0, 100);
    let two = lock(&p, &s, b, 1, 200);
    let three = lock(&p, &s, c, 2, 300);
    let four = lock(&p, &s, c, 3, 400);
    save_locks(repo, &[&one, &two, &three, &four]).await?;
    let mut tx = write(repo).await?;
    assert!(tx.delete_lock(one.token).await?);
    assert!(!tx.delete_lock(one.token).await?, "idempotent");
    assert_eq!(tx.delete_locks_of(&[b, a]).await?, 1);
    assert_eq!(tx.delete_locks_of(&[b]).await?, 0);
    // At its expiry instant a lock is over.
    assert_eq!(tx.delete_expired_locks(at(T0 + 299)).await?, 0);
    assert_eq!(tx.delete_expired_locks(at(T0 + 300)).await?, 1);
    assert_eq!(tx.delete_expired_locks(at(T0 + 300)).await?, 0);
    tx.commit().await?;
    assert_eq!(read(repo).await?.space_locks(s.id).await?, [four]);
    Ok(())
}

pub async fn a_lock_needs_its_owner_and_space_and_a_write_transaction(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "keys").await?;
    let doc = Resource::Document(DocumentId::new());
    let mut tx = write(repo).await?;
    let no_owner = Lock {
        owner: PrincipalId::new(),
        ..lock(&p, &s, doc, 0, 100)
    };
    assert_storage(tx.save_lock(&no_owner).await, "unknown owner");
    drop(tx);
    let mut tx = write(repo).await?;
    let no_space = Lock {
        space: SpaceId::new(),
        ..lock(&p, &s, doc, 0, 100)
    };
    assert_storage(tx.save_lock(&no_space).await, "unknown space");
    drop(tx);
    let l = lock(&p, &s, doc, 0, 100);
    let mut tx = read(repo).await?;
    assert_storage(tx.save_lock(&l).await, "save in a read transaction");
    assert_storage(
        tx.delete_lock(l.token).await,
        "delete in a read transaction",
    );
    assert_storage(tx.delete_locks_of(&[doc]).await, "delete by resource");
    assert_storage(tx.delete_expired_locks(at(T0)).await, "sweep");
    Ok(())
}

pub async fn a_dropped_transaction_keeps_no_lock_and_a_purge_takes_the_spaces_locks(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "rollback").await?;
    let l = lock(&p, &s, Resource::Space(s.id), 0, 100);
    let mut tx = write(repo).await?;
    tx.save_lock(&l).await?;
    drop(tx);
    assert_eq!(read(repo).await?.lock_by_token(l.token).await?, None);
    save_locks(repo, &[&l]).await?;
    let mut tx = write(repo).await?;
    // The owner held no membership there: only the space and its lock go.
    assert_eq!(tx.purge_space(s.id).await?, 2, "the space and its lock");
    tx.commit().await?;
    assert_eq!(read(repo).await?.lock_by_token(l.token).await?, None);
    Ok(())
}
