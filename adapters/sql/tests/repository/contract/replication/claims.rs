//! Edge: blob claims, the record of which space a blob was sent for until a
//! batch of the space names it (issue 12).

use passerelle_core::ContentHash;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::ports::Repository;

use super::super::{Outcome, assert_storage, read, seed_space, write};

/// Claims are kept per space and listed by space then hash, whether or not
/// the space row exists yet; claiming again changes nothing; releasing
/// ends only that space's claims; the purge of a space deletes its claims
/// and counts them; writes in a read transaction are refused.
pub async fn blob_claims_are_kept_per_space_released_and_purged_with_it(
    repo: &dyn Repository,
) -> Outcome {
    // `here` has its row; `other` and `held` are held before their first
    // batch (no row yet), `held` by its cursor.
    let (_, seeded) = seed_space(repo, "espace").await?;
    let (here, other, held) = (seeded.id, SpaceId::new(), SpaceId::new());
    let [a, b, c] = [&b"a"[..], b"b", b"c"].map(ContentHash::of);
    let mut tx = write(repo).await?;
    tx.claim_blobs(here, &[a, b]).await?;
    tx.claim_blobs(other, &[b, c]).await?;
    tx.claim_blobs(held, &[c]).await?;
    tx.claim_blobs(here, &[a]).await?;
    tx.claim_blobs(other, &[]).await?;
    tx.set_cursor(held, Revision::ZERO).await?;
    tx.commit().await?;
    let mut expected = vec![(here, a), (here, b), (other, b), (other, c), (held, c)];
    expected.sort();
    assert_eq!(read(repo).await?.blob_claims().await?, expected);
    let mut tx = read(repo).await?;
    assert!(tx.blob_claimed(here, &a).await?);
    assert!(!tx.blob_claimed(other, &a).await?);
    assert!(!tx.blob_claimed(SpaceId::new(), &c).await?);
    assert_storage(tx.claim_blobs(here, &[c]).await, "claim");
    assert_storage(tx.release_blob_claims(here, &[a]).await, "release");
    drop(tx);

    // Released for one space (an unclaimed hash is no error): the other
    // space's claim on the same blob stays.
    let mut tx = write(repo).await?;
    tx.release_blob_claims(here, &[b, ContentHash::of(b"jamais")])
        .await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert!(!tx.blob_claimed(here, &b).await?);
    assert!(tx.blob_claimed(other, &b).await?);
    assert!(tx.blob_claimed(here, &a).await?);
    drop(tx);

    // A space held only by its cursor and a claim: the purge deletes both
    // and counts them; purging `here` takes its claims with its rows.
    let mut tx = write(repo).await?;
    assert_eq!(tx.purge_space(held).await?, 2);
    tx.purge_space(here).await?;
    tx.commit().await?;
    let mut left = vec![(other, b), (other, c)];
    left.sort();
    assert_eq!(read(repo).await?.blob_claims().await?, left);
    Ok(())
}

/// A batch claims and releases more blobs than one statement binds.
pub async fn blob_claims_of_a_large_batch_are_claimed_and_released_whole(
    repo: &dyn Repository,
) -> Outcome {
    let space = SpaceId::new();
    let hashes: Vec<ContentHash> = (0..1234u32)
        .map(|i| ContentHash::of(&i.to_le_bytes()))
        .collect();
    let mut tx = write(repo).await?;
    tx.claim_blobs(space, &hashes).await?;
    tx.commit().await?;
    assert_eq!(read(repo).await?.blob_claims().await?.len(), hashes.len());
    let mut tx = write(repo).await?;
    tx.release_blob_claims(space, &hashes[1..]).await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.blob_claims().await?,
        vec![(space, hashes[0])]
    );
    Ok(())
}
