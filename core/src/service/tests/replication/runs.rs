//! The internal node applies a contractor's operations in runs sharing one
//! transaction (issue 12): every operation still applies exactly once and
//! in order, a refused one is quarantined alone without undoing the others,
//! and a blob not yet fetched stops the run where it is, keeping what came
//! before.

use super::*;
use crate::ids::FolderId;
use crate::replication::{AppliedOp, OutboxItem};

/// The contractor's pending operations on the edge, in order.
async fn pending(w: &World) -> Vec<OutboxItem> {
    w.edge
        .app
        .pending_operations(0, 100)
        .await
        .expect("pending")
}

/// Copies the content of `items` to the internal node, as the link does
/// before applying them.
async fn fetch(w: &World, items: &[OutboxItem]) {
    for i in items {
        if let Some(b) = i.op.blob() {
            copy_blob(&w.edge.blobs, &w.internal.blobs, &b.hash).await;
        }
    }
}

/// A folder operation whose parent exists nowhere: the internal node
/// refuses it (a hostile or stale edge could send one).
fn orphan_folder(like: &OutboxItem) -> OutboxItem {
    OutboxItem {
        op_id: uuid::Uuid::now_v7(),
        seq: like.seq + 1,
        op: OutboxOp::NewFolder {
            folder: FolderId::new(),
            parent: Some(FolderId::new()),
            name: "Orphelin".into(),
        },
        ..like.clone()
    }
}

async fn upload(w: &World, name: &str, text: &str) -> OutboxItem {
    w.edge
        .app
        .edge_upload(
            &w.contractor,
            NewDocument {
                space: w.space,
                name: name.into(),
                ..NewDocument::default()
            },
            content(text),
        )
        .await
        .expect("uploaded on the edge")
}

async fn save(w: &World, text: &str) -> OutboxItem {
    w.edge
        .app
        .edge_new_version(&w.contractor, w.doc, None, "", content(text))
        .await
        .expect("saved on the edge")
}

fn outcomes(applied: &[AppliedOp]) -> Vec<OpOutcome> {
    applied.iter().map(|a| a.outcome).collect()
}

async fn root_names(w: &World) -> Vec<String> {
    let mut names: Vec<String> = w
        .internal
        .app
        .list_folder(&w.manager, w.space, None, Page::default())
        .await
        .expect("list")
        .documents
        .items
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_run_with_a_refused_operation_applies_the_others_once_and_in_order() {
    block_on(async {
        let w = world().await;
        save(&w, "premier jet").await;
        upload(&w, "A.txt", "a").await;
        let mut items = pending(&w).await;
        let refused = orphan_folder(&items[1]);
        items.push(refused.clone());
        items.push(save(&w, "version relue").await);
        items.push(upload(&w, "B.txt", "b").await);
        fetch(&w, &items).await;

        let applied = w
            .internal
            .app
            .apply_edge_ops(&"edge-1".parse().expect("node id"), &items)
            .await
            .expect("applied");
        assert_eq!(
            outcomes(&applied),
            [
                OpOutcome::Applied,
                OpOutcome::Applied,
                OpOutcome::Rejected,
                OpOutcome::Applied,
                OpOutcome::Applied
            ]
        );
        let ids: Vec<_> = applied.iter().map(|a| a.op_id).collect();
        let sent: Vec<_> = items.iter().map(|i| i.op_id).collect();
        assert_eq!(ids, sent, "one record per operation, in order");
        // The second save chained on the first, applied in the same run.
        let versions = w
            .internal
            .app
            .list_versions(&w.manager, w.doc)
            .await
            .expect("versions");
        assert_eq!(versions.len(), 3, "v1, then both saves: {versions:?}");
        assert_eq!(root_names(&w).await, ["A.txt", "B.txt", "CCTP.txt"]);

        // Exactly once: the same run again records nothing new.
        let again = w
            .internal
            .app
            .apply_edge_ops(&"edge-1".parse().expect("node id"), &items)
            .await
            .expect("again");
        assert_eq!(again, applied);
        assert_eq!(root_names(&w).await, ["A.txt", "B.txt", "CCTP.txt"]);
        let status = w
            .internal
            .app
            .space_replication(&w.manager, w.space)
            .await
            .expect("status");
        assert_eq!(status.quarantine.len(), 1, "only the refused one");
        assert_eq!(status.quarantine[0].op_id, refused.op_id);
    });
}

#[test]
fn a_blob_not_fetched_yet_stops_the_run_there_and_keeps_what_came_before() {
    block_on(async {
        let w = world().await;
        upload(&w, "A.txt", "a").await;
        upload(&w, "B.txt", "b").await;
        upload(&w, "C.txt", "c").await;
        let items = pending(&w).await;
        // B's content has not come up yet.
        fetch(&w, &[items[0].clone(), items[2].clone()]).await;
        let e = w
            .internal
            .app
            .apply_edge_ops(&"edge-1".parse().expect("node id"), &items)
            .await
            .expect_err("B's blob is missing");
        assert!(e.to_string().contains("not here yet"), "{e}");
        assert_eq!(root_names(&w).await, ["A.txt", "CCTP.txt"]);

        fetch(&w, &items).await;
        let applied = w
            .internal
            .app
            .apply_edge_ops(&"edge-1".parse().expect("node id"), &items)
            .await
            .expect("applied");
        assert_eq!(outcomes(&applied), [OpOutcome::Applied; 3]);
        assert_eq!(
            root_names(&w).await,
            ["A.txt", "B.txt", "C.txt", "CCTP.txt"]
        );
    });
}

#[test]
fn more_operations_than_a_run_holds_all_apply() {
    block_on(async {
        let w = world().await;
        let n = crate::service::APPLY_RUN + 5;
        let mut items = Vec::new();
        for i in 0..n {
            let op = OutboxOp::NewFolder {
                folder: w.edge.app.new_folder_id(),
                parent: None,
                name: format!("Lot {i:03}"),
            };
            items.push(
                w.edge
                    .app
                    .edge_operation(&w.contractor, w.space, op)
                    .await
                    .expect("queued"),
            );
        }
        let applied = w
            .internal
            .app
            .apply_edge_ops(&"edge-1".parse().expect("node id"), &items)
            .await
            .expect("applied");
        assert_eq!(outcomes(&applied), vec![OpOutcome::Applied; n]);
        let folders = w
            .internal
            .app
            .list_folder(&w.manager, w.space, None, Page::default())
            .await
            .expect("list")
            .folders;
        assert_eq!(folders.len(), n, "{n} folders");
    });
}
