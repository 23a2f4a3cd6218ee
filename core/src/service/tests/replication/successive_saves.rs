//! A contractor's successive saves of one document on the edge chain on
//! one another (ADR 0003, "Successive saves"): they never conflict with
//! themselves, and someone else's version in between still makes a
//! conflict copy.

use super::*;
use crate::ContentHash;
use crate::ids::{DocumentId, PrincipalId};
use crate::replication::OutboxItem;

/// The contractor saves `text` as a new version of the world's document,
/// on the edge.
async fn save(w: &World, text: &str) -> OutboxItem {
    w.edge
        .app
        .edge_new_version(&w.contractor, w.doc, None, "", content(text))
        .await
        .expect("saved on the edge")
}

/// The previous save an item follows and its base, as the edge set them.
fn chain(item: &OutboxItem) -> (Option<uuid::Uuid>, u32) {
    match &item.op {
        OutboxOp::NewVersion {
            after_op,
            base_version,
            ..
        } => (*after_op, *base_version),
        other => panic!("not a new version: {other:?}"),
    }
}

/// Each version of a document on the internal node: its number, content
/// and author.
async fn versions(w: &World, doc: DocumentId) -> Vec<(u32, ContentHash, PrincipalId)> {
    w.internal
        .app
        .list_versions(&w.manager, doc)
        .await
        .expect("versions")
        .into_iter()
        .map(|v| (v.number, v.hash, v.author))
        .collect()
}

/// What a version saved with `text` by `who` looks like in `versions`.
fn by(number: u32, text: &str, who: &Actor) -> (u32, ContentHash, PrincipalId) {
    (
        number,
        ContentHash::of(text.as_bytes()),
        who.id().expect("a principal"),
    )
}

/// The names of the documents at the root of the space, internal node.
async fn names(w: &World) -> Vec<String> {
    w.internal
        .app
        .list_folder(&w.manager, w.space, None, Page::default())
        .await
        .expect("list")
        .documents
        .items
        .iter()
        .map(|d| d.name.to_string())
        .collect()
}

#[test]
fn two_saves_in_a_row_become_versions_2_and_3_without_a_conflict_copy() {
    block_on(async {
        let w = world().await;
        let first = save(&w, "premier jet").await;
        let second = save(&w, "version relue").await;
        assert_eq!(chain(&second), (Some(first.op_id), 2), "based on the first");
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied, OpOutcome::Applied]
        );
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [
                by(2, "premier jet", &w.contractor),
                by(3, "version relue", &w.contractor)
            ]
        );
        assert_eq!(names(&w).await, ["CCTP.txt"], "no conflict copy");
        down(&w.internal, &w.edge, w.space).await;
        assert_eq!(
            w.edge.app.space_digest(w.space).await.expect("digest"),
            w.internal.app.space_digest(w.space).await.expect("digest"),
            "both versions came back down"
        );
    });
}

#[test]
fn three_saves_in_a_row_become_versions_2_3_and_4() {
    block_on(async {
        let w = world().await;
        for text in ["un", "deux", "trois"] {
            save(&w, text).await;
        }
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied; 3]
        );
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [
                by(2, "un", &w.contractor),
                by(3, "deux", &w.contractor),
                by(4, "trois", &w.contractor)
            ]
        );
        assert_eq!(names(&w).await, ["CCTP.txt"]);
    });
}

#[test]
fn after_an_agents_version_both_saves_go_to_one_conflict_copy() {
    block_on(async {
        let w = world().await;
        // The agent's version 2 lands before the contractor's first save.
        w.internal
            .app
            .new_version(&w.manager, w.doc, NewVersion::default(), content("agent"))
            .await
            .expect("agent's version");
        save(&w, "premier jet").await;
        save(&w, "version relue").await;
        let applied = up(&w.internal, &w.edge).await;
        let outcomes: Vec<_> = applied.iter().map(|a| a.outcome).collect();
        // The second is not on the document the contractor edited either.
        assert_eq!(outcomes, [OpOutcome::Conflict, OpOutcome::Conflict]);
        let copy = applied[0].document.expect("the conflict copy");
        assert_eq!(applied[1].document, Some(copy), "not a second copy");
        assert_eq!(
            versions(&w, copy).await,
            [
                by(1, "premier jet", &w.contractor),
                by(2, "version relue", &w.contractor)
            ]
        );
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [by(2, "agent", &w.manager)],
            "nothing of the contractor's on the original"
        );
        assert_eq!(names(&w).await.len(), 2, "{:?}", names(&w).await);
    });
}

#[test]
fn a_save_made_before_the_previous_one_came_back_down_follows_it() {
    block_on(async {
        let w = world().await;
        let first = save(&w, "premier jet").await;
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        // Acknowledged, but version 2 is not on the edge yet.
        let second = save(&w, "version relue").await;
        assert_eq!(chain(&second), (Some(first.op_id), 2));
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [
                by(2, "premier jet", &w.contractor),
                by(3, "version relue", &w.contractor)
            ]
        );
        // Once back down, a save is based on the head again.
        down(&w.internal, &w.edge, w.space).await;
        assert_eq!(chain(&save(&w, "troisième").await), (None, 3));
    });
}

#[test]
fn an_agents_version_between_two_saves_still_makes_a_conflict_copy() {
    block_on(async {
        let w = world().await;
        let first = save(&w, "premier jet").await;
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        w.internal
            .app
            .new_version(&w.manager, w.doc, NewVersion::default(), content("agent"))
            .await
            .expect("agent's version 3");
        let second = save(&w, "version relue").await;
        assert_eq!(chain(&second), (Some(first.op_id), 2));
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Conflict);
        let copy = applied[0].document.expect("the conflict copy");
        assert_eq!(
            versions(&w, copy).await,
            [by(1, "version relue", &w.contractor)]
        );
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [
                by(2, "premier jet", &w.contractor),
                by(3, "agent", &w.manager)
            ]
        );
    });
}

#[test]
fn a_save_following_a_rejected_one_is_judged_against_that_ones_base() {
    block_on(async {
        let w = world().await;
        let item = |op_id, op| OutboxItem {
            seq: 1,
            op_id,
            space: w.space,
            contractor: w.contractor.id().expect("id"),
            created_at: time::OffsetDateTime::now_utc(),
            op,
            outcome: None,
            detail: String::new(),
        };
        let new_version = |base_version, hash, size, after_op| OutboxOp::NewVersion {
            document: w.doc,
            base_version,
            hash,
            size,
            media_type: "text/plain".into(),
            comment: String::new(),
            after_op,
        };
        // The first save is over the internal node's limit: refused.
        let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let limit = w.internal.app.settings().max_upload_bytes;
        let huge = new_version(1, ContentHash::of(b"never sent"), limit + 1, None);
        let r = w
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &item(first, huge))
            .await
            .expect("recorded");
        assert_eq!(r.outcome, OpOutcome::Rejected);
        let blob = w
            .internal
            .blobs
            .put(content("version relue"), None)
            .await
            .expect("blob");
        let small = new_version(2, blob.hash, blob.size, Some(first));
        let r = w
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &item(second, small))
            .await
            .expect("applied");
        assert_eq!((r.outcome, r.detail.as_str()), (OpOutcome::Applied, ""));
        assert_eq!(
            versions(&w, w.doc).await[1..],
            [by(2, "version relue", &w.contractor)]
        );
    });
}
