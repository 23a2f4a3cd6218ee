//! The `LockMirror` part of the transaction (an edge's mirror of the
//! internal node's locks): a snapshot round trips exactly in one order,
//! replaces its space's mirror and no other, is found by resource, needs
//! its space (not its holder) and a write transaction, rolls back with
//! its transaction and goes with an un-share purge.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::locks::{LockDepth, LockScope, LockSummary};
use passerelle_core::model::{Resource, Space};
use passerelle_core::ports::Repository;

use super::{Outcome, T0, assert_storage, at, read, seed_space, write};

/// A lock of an agent the edge does not know, on `resource` of `space`,
/// taken at `T0 + since`, ending at `T0 + until`.
fn mirrored(space: &Space, resource: Resource, since: i128, until: i128) -> LockSummary {
    LockSummary {
        resource,
        space: space.id,
        holder: PrincipalId::new(),
        holder_name: "Paul Martin « Urbanisme »".into(),
        scope: LockScope::Exclusive,
        depth: LockDepth::Zero,
        since: at(T0 + since),
        until: at(T0 + until),
    }
}

pub async fn a_snapshot_round_trips_in_order_and_replaces_only_its_spaces_mirror(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "mirror").await?;
    let (_, other) = seed_space(repo, "mirror-other").await?;
    let on_space = LockSummary {
        scope: LockScope::Shared,
        depth: LockDepth::Infinity,
        ..mirrored(&s, Resource::Space(s.id), 5, 1_005)
    };
    // Two taken at the same instant keep the snapshot's order.
    let on_folder = mirrored(&s, Resource::Folder(FolderId::new()), 1, 1_001);
    let on_doc = mirrored(&s, Resource::Document(DocumentId::new()), 1, 1_002);
    let theirs = mirrored(&other, Resource::Space(other.id), 0, 1_000);
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, &[on_space.clone(), on_folder.clone(), on_doc.clone()])
        .await?;
    tx.replace_lock_mirror(other.id, std::slice::from_ref(&theirs))
        .await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.space_lock_mirror(s.id).await?,
        [on_folder.clone(), on_doc.clone(), on_space.clone()],
        "by since, then as the snapshot gave them; exact to the nanosecond"
    );

    // The same snapshot again changes nothing; a new one replaces it.
    let mut tx = write(repo).await?;
    let snapshot = [on_space.clone(), on_folder.clone(), on_doc.clone()];
    tx.replace_lock_mirror(s.id, &snapshot).await?;
    tx.replace_lock_mirror(s.id, &snapshot).await?;
    tx.commit().await?;
    assert_eq!(read(repo).await?.space_lock_mirror(s.id).await?.len(), 3);
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, std::slice::from_ref(&on_doc))
        .await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.space_lock_mirror(s.id).await?,
        std::slice::from_ref(&on_doc)
    );
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, &[]).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert!(tx.space_lock_mirror(s.id).await?.is_empty(), "cleared");
    assert_eq!(
        tx.space_lock_mirror(other.id).await?,
        [theirs],
        "another space's mirror is untouched"
    );
    Ok(())
}

pub async fn mirrored_locks_are_found_by_resource_of_the_right_kind(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "mirror-find").await?;
    let folder = Resource::Folder(FolderId::new());
    let doc = Resource::Document(DocumentId::new());
    let a = mirrored(&s, folder, 2, 100);
    let b = mirrored(&s, doc, 1, 100);
    let c = mirrored(&s, Resource::Space(s.id), 3, 100);
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, &[a.clone(), b.clone(), c.clone()])
        .await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.mirrored_locks_of(&[folder, doc]).await?, [b.clone(), a]);
    assert_eq!(
        tx.mirrored_locks_of(&[doc, Resource::Space(s.id)]).await?,
        [b, c]
    );
    assert!(tx.mirrored_locks_of(&[]).await?.is_empty());
    // The same id named as another kind is another resource.
    let Resource::Folder(f) = folder else {
        unreachable!("a folder")
    };
    assert!(
        tx.mirrored_locks_of(&[Resource::Document(DocumentId::from_uuid(f.as_uuid()))])
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn a_mirror_needs_its_space_and_a_write_transaction_and_goes_with_a_purge(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "mirror-keys").await?;
    let l = mirrored(&s, Resource::Document(DocumentId::new()), 0, 100);
    let mut tx = write(repo).await?;
    let nowhere = SpaceId::new();
    assert_storage(
        tx.replace_lock_mirror(
            nowhere,
            &[LockSummary {
                space: nowhere,
                ..l.clone()
            }],
        )
        .await,
        "unknown space",
    );
    drop(tx);
    let mut tx = read(repo).await?;
    assert_storage(
        tx.replace_lock_mirror(s.id, std::slice::from_ref(&l)).await,
        "write in a read transaction",
    );
    drop(tx);
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, std::slice::from_ref(&l))
        .await?;
    drop(tx);
    assert!(
        read(repo).await?.space_lock_mirror(s.id).await?.is_empty(),
        "rolled back with its transaction"
    );
    let mut tx = write(repo).await?;
    tx.replace_lock_mirror(s.id, std::slice::from_ref(&l))
        .await?;
    tx.commit().await?;
    let mut tx = write(repo).await?;
    // Its owner held no membership there: the space and its mirror go.
    assert_eq!(tx.purge_space(s.id).await?, 2, "the space and its mirror");
    tx.commit().await?;
    assert!(read(repo).await?.space_lock_mirror(s.id).await?.is_empty());
    Ok(())
}
