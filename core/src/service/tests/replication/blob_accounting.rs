//! Every blob on the edge is accounted to the spaces that need it from the
//! moment it is offered (issue 12): a purge removes every blob of the space
//! no other space needs, whatever point its transfer reached, and the
//! collection removes what no space needs.

use std::time::Duration;

use super::*;
use crate::ContentHash;

/// The hashes the versions of `space` name on the internal node.
async fn version_hashes(internal: &Internal, space: SpaceId) -> Vec<ContentHash> {
    internal
        .app
        .feed(space, Revision::ZERO, 10_000)
        .await
        .expect("feed")
        .rows
        .into_iter()
        .filter_map(|r| match r {
            ChangeRow::Version(v) => Some(v.hash),
            _ => None,
        })
        .collect()
}

/// What the link does before a batch: have/want for `space`, then each
/// blob pushed whole, or only its first `cut` bytes when given (a cut).
async fn push(
    internal: &Internal,
    edge: &Edge,
    space: SpaceId,
    hashes: &[ContentHash],
    cut: Option<u64>,
) {
    edge.app
        .offered_blobs(Some(space), hashes)
        .await
        .expect("have/want");
    for hash in hashes {
        let size = internal
            .blobs
            .size(hash)
            .await
            .expect("size")
            .expect("on the internal node");
        let end = cut.unwrap_or(size).min(size);
        let content = internal.blobs.get(hash, Some(0..end)).await.expect("get");
        edge.app
            .receive_blob(Some(space), hash, size, 0, content)
            .await
            .expect("received");
    }
}

/// A shared space with a document of each of `contents`.
async fn space_with(
    internal: &Internal,
    manager: &Actor,
    slug: &str,
    contents: &[&str],
) -> SpaceId {
    let space = shared_space(&internal.app, manager, slug, slug).await;
    for (i, c) in contents.iter().enumerate() {
        internal
            .app
            .upload(
                manager,
                NewDocument {
                    space,
                    name: format!("document {i}.txt"),
                    ..NewDocument::default()
                },
                content(c),
            )
            .await
            .expect("upload");
    }
    space
}

#[test]
fn blobs_pushed_for_a_space_whose_batch_never_came_are_purged_with_it() {
    block_on(async {
        let internal = internal_node();
        let edge = edge_node();
        let manager = agent(&internal.app, "marie").await;
        let contents = ["plan", "devis", "CCTP", "planning", "une grande maquette"];
        let space = space_with(&internal, &manager, "voirie", &contents).await;
        let hashes = version_hashes(&internal, space).await;
        // The link pushed four blobs whole and cut the fifth, then went
        // down before `ApplyChanges`: no row of the space names any.
        push(&internal, &edge, space, &hashes[..4], None).await;
        push(&internal, &edge, space, &hashes[4..], Some(3)).await;
        assert_eq!(edge.blobs.len(), 4);
        assert_eq!(edge.blobs.partials().await.expect("partials").len(), 1);

        internal
            .app
            .unshare_space(&manager, space)
            .await
            .expect("unshare");
        let report = edge.app.purge_shared_space(space).await.expect("purge");
        assert_eq!(report.blobs, 5, "four whole and the partial one");
        assert!(edge.blobs.is_empty(), "a blob of the space is left");
        assert!(edge.blobs.partials().await.expect("partials").is_empty());
        assert!(edge.app.cursors().await.expect("cursors").is_empty());
    });
}

/// A blob sent for one space (never applied there) and named by a version
/// of another is needed by both: whichever is purged first, it stays for
/// the other; the second purge removes it.
#[test]
fn a_blob_two_spaces_need_survives_the_purge_of_either() {
    for sent_for_first in [true, false] {
        block_on(async {
            let internal = internal_node();
            let edge = edge_node();
            let manager = agent(&internal.app, "marie").await;
            let sent_for = space_with(&internal, &manager, "nord", &["plan commun"]).await;
            let named_by = space_with(&internal, &manager, "sud", &["plan commun"]).await;
            let hashes = version_hashes(&internal, sent_for).await;
            assert_eq!(hashes, version_hashes(&internal, named_by).await);
            push(&internal, &edge, sent_for, &hashes, None).await;
            down(&internal, &edge, named_by).await;

            let (first, second) = if sent_for_first {
                (sent_for, named_by)
            } else {
                (named_by, sent_for)
            };
            for space in [first, second] {
                internal
                    .app
                    .unshare_space(&manager, space)
                    .await
                    .expect("unshare");
            }
            let report = edge.app.purge_shared_space(first).await.expect("purge");
            assert_eq!(report.blobs, 0, "purging {first} first");
            assert_eq!(
                edge.blobs.size(&hashes[0]).await.expect("size"),
                Some("plan commun".len() as u64),
                "the other space still needs it"
            );
            let report = edge.app.purge_shared_space(second).await.expect("purge");
            assert_eq!(report.blobs, 1);
            assert!(edge.blobs.is_empty());
        });
    }
}

#[test]
fn the_collection_removes_what_no_space_needs_and_keeps_the_rest() {
    block_on(async {
        let w = world().await;
        let applied = version_hashes(&w.internal, w.space).await;
        // A contractor's upload, pending.
        let pending = w
            .edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "relevé.txt".into(),
                    ..NewDocument::default()
                },
                content("relevé du prestataire"),
            )
            .await
            .expect("upload")
            .op
            .blob()
            .expect("content")
            .hash;
        // Sent for the space, whole and cut, batch not applied yet.
        for name in ["annexe", "une grande annexe"] {
            w.internal
                .app
                .upload(
                    &w.manager,
                    NewDocument {
                        space: w.space,
                        name: format!("{name}.txt"),
                        ..NewDocument::default()
                    },
                    content(name),
                )
                .await
                .expect("upload");
        }
        let sent = ContentHash::of(b"annexe");
        let cut = ContentHash::of(b"une grande annexe");
        push(&w.internal, &w.edge, w.space, &[sent], None).await;
        push(&w.internal, &w.edge, w.space, &[cut], Some(4)).await;
        // Needed by nothing: a blob, and a partial one no space claims.
        let orphan = w
            .edge
            .blobs
            .put(content("orphelin"), None)
            .await
            .expect("put")
            .hash;
        let stray = ContentHash::of(b"la moitie de rien");
        w.edge
            .blobs
            .put_resumable(&stray, 17, 0, content("la moi"))
            .await
            .expect("partial");

        // Within the grace period the orphan is spared (an upload whose
        // operation is not committed yet looks the same).
        let spared = w
            .edge
            .app
            .collect_blobs(Duration::from_secs(3600))
            .await
            .expect("collect");
        assert_eq!((spared.deleted, spared.recent, spared.partials), (0, 1, 1));
        let report = w
            .edge
            .app
            .collect_blobs(Duration::ZERO)
            .await
            .expect("collect");
        assert_eq!((report.deleted, report.recent, report.partials), (1, 0, 0));
        assert_eq!(report.bytes_freed, "orphelin".len() as u64);

        let mut left = w.edge.blobs.list().await.expect("list");
        left.sort();
        let mut needed = [applied.as_slice(), &[pending, sent]].concat();
        needed.sort();
        assert_eq!(left, needed);
        assert_eq!(w.edge.blobs.size(&orphan).await.expect("size"), None);
        let partials: Vec<_> = w
            .edge
            .blobs
            .partials()
            .await
            .expect("partials")
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        assert_eq!(partials, [cut], "the claimed partial stays");
    });
}

#[test]
fn the_edge_blob_check_counts_needed_and_unneeded_blobs_and_finds_corrupt_ones() {
    block_on(async {
        let w = world().await;
        let applied = version_hashes(&w.internal, w.space).await;
        // Sent for the space, its batch not applied yet: needed.
        w.internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    name: "annexe.txt".into(),
                    ..NewDocument::default()
                },
                content("annexe"),
            )
            .await
            .expect("upload");
        push(
            &w.internal,
            &w.edge,
            w.space,
            &[ContentHash::of(b"annexe")],
            None,
        )
        .await;
        w.edge
            .blobs
            .put(content("orphelin"), None)
            .await
            .expect("put");
        let check = w.edge.app.check_edge_blobs(true).await.expect("check");
        assert_eq!(
            (check.referenced, check.stored, check.unreferenced),
            (applied.len() + 1, applied.len() + 2, 1)
        );
        assert!(check.is_clean(), "{check:?}");

        assert!(w.edge.blobs.corrupt(&applied[0]));
        let check = w.edge.app.check_edge_blobs(true).await.expect("check");
        assert_eq!(check.corrupt, [applied[0]]);
        let quick = w.edge.app.check_edge_blobs(false).await.expect("check");
        assert!(quick.corrupt.is_empty(), "presence only");
    });
}
