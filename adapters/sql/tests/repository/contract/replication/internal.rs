//! Internal node: the exactly-once ledger of edge operations, the
//! quarantine, and the state of each edge.

use passerelle_core::ids::{DocumentId, FolderId, Revision, SpaceId};
use passerelle_core::ports::{QuarantineCount, Repository};
use passerelle_core::replication::{EdgeStatus, OpOutcome, OutboxOp};
use uuid::Uuid;

use super::super::{Outcome, T0, at, read, seed_space, write};
use super::{accept_invitation, applied, metadata, new_document, new_version, rename};

pub async fn applied_ops_round_trip_and_the_quarantine_lists_rejected_ones_newest_first(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let mut done = applied(s.id, OpOutcome::Applied, 1, new_document("a"));
    done.document = Some(DocumentId::new());
    let old_reject = applied(s.id, OpOutcome::Rejected, 2, rename());
    let new_reject = applied(
        s.id,
        OpOutcome::Rejected,
        3,
        OutboxOp::SetMetadata {
            document: DocumentId::new(),
            doc_type: None,
            metadata: metadata(),
        },
    );
    let conflict = applied(s.id, OpOutcome::Conflict, 4, new_version("b"));
    let accepted = applied(s.id, OpOutcome::Applied, 6, accept_invitation());
    // No space row needed: an operation naming an unknown space is recorded
    // (rejected) like any other.
    let unknown_space = applied(
        SpaceId::new(),
        OpOutcome::Rejected,
        5,
        OutboxOp::NewFolder {
            folder: FolderId::new(),
            parent: None,
            name: "Dossier".into(),
        },
    );
    let all = [
        &done,
        &old_reject,
        &new_reject,
        &conflict,
        &unknown_space,
        &accepted,
    ];
    let mut tx = write(repo).await?;
    for op in all {
        tx.save_applied_op(op).await?;
    }
    tx.commit().await?;

    let mut tx = read(repo).await?;
    for op in all {
        assert_eq!(tx.applied_op(op.op_id).await?.as_ref(), Some(op));
    }
    assert_eq!(tx.applied_op(Uuid::now_v7()).await?, None);
    assert_eq!(
        tx.list_quarantine(s.id).await?,
        vec![new_reject.clone(), old_reject.clone()]
    );
    assert_eq!(
        tx.list_quarantine(unknown_space.space).await?,
        vec![unknown_space.clone()]
    );
    drop(tx);

    let mut released = new_reject.clone();
    released.outcome = OpOutcome::Applied;
    released.detail = "appliquée après revue".into();
    let mut tx = write(repo).await?;
    tx.save_applied_op(&released).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.applied_op(released.op_id).await?, Some(released));
    assert_eq!(tx.list_quarantine(s.id).await?, vec![old_reject]);
    Ok(())
}

pub async fn edge_states_are_upserted_and_listed_by_edge(repo: &dyn Repository) -> Outcome {
    let (s1, s2) = (SpaceId::new(), SpaceId::new());
    let connected = EdgeStatus {
        edge: "edgea".parse().expect("node id"),
        last_contact: Some(at(T0 + 1)),
        last_error: None,
        cursors: vec![(s2, Revision(5)), (s1, Revision(3))],
        space_errors: vec![(
            s2,
            "edgea: disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
        )],
        updated_at: at(T0 + 2),
    };
    let never = EdgeStatus {
        edge: "edge-b".parse().expect("node id"),
        last_contact: None,
        last_error: Some("connexion refusée : « certificat inconnu »".into()),
        cursors: vec![],
        space_errors: vec![],
        updated_at: at(T0 + 3),
    };
    let mut tx = write(repo).await?;
    tx.save_edge_status(&connected).await?;
    tx.save_edge_status(&never).await?;
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(
        tx.edge_status(&"edgea".parse().expect("node id")).await?,
        Some(connected.clone())
    );
    assert_eq!(
        tx.edge_status(&"edge-b".parse().expect("node id")).await?,
        Some(never.clone())
    );
    assert_eq!(
        tx.edge_status(&"edge".parse().expect("node id")).await?,
        None,
        "ids are exact, not prefixes"
    );
    assert_eq!(
        tx.list_edge_status().await?,
        vec![never.clone(), connected.clone()],
        // A collation that skips punctuation would put `edgea` first.
        "by code point"
    );
    drop(tx);

    let mut later = connected.clone();
    later.last_error = Some("timeout".into());
    later.cursors = vec![(s1, Revision(9))];
    // The space recovered: its error goes.
    later.space_errors = vec![];
    later.updated_at = at(T0 + 4);
    let mut tx = write(repo).await?;
    tx.save_edge_status(&later).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.list_edge_status().await?, vec![never, later]);
    Ok(())
}

pub async fn the_quarantine_is_counted_per_edge_and_space(repo: &dyn Repository) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let other = SpaceId::new();
    let from = |edge: &str, space, outcome, n| {
        let mut op = applied(space, outcome, n, rename());
        op.edge = edge.parse().expect("node id");
        op
    };
    let ops = [
        from("edge-b", s.id, OpOutcome::Rejected, 1),
        from("edge-b", s.id, OpOutcome::Rejected, 2),
        from("edge-b", s.id, OpOutcome::Applied, 3),
        from("edge-b", s.id, OpOutcome::Conflict, 4),
        // No space row needed, as for the ledger itself.
        from("edge-b", other, OpOutcome::Rejected, 5),
        from("edgea", s.id, OpOutcome::Rejected, 6),
        from("edge-c", s.id, OpOutcome::Applied, 7),
    ];
    let mut tx = read(repo).await?;
    assert_eq!(tx.count_quarantine().await?, vec![], "nothing yet");
    drop(tx);
    let mut tx = write(repo).await?;
    for op in &ops {
        tx.save_applied_op(op).await?;
    }
    tx.commit().await?;

    let count = |edge: &str, space, operations| QuarantineCount {
        edge: edge.parse().expect("node id"),
        space,
        operations,
    };
    let mut b = vec![count("edge-b", s.id, 2), count("edge-b", other, 1)];
    b.sort_by_key(|c| c.space);
    // `edge-b` before `edgea` by code point; a collation that skips
    // punctuation would sort them the other way.
    let mut expected = b;
    expected.push(count("edgea", s.id, 1));
    let mut tx = read(repo).await?;
    assert_eq!(
        tx.count_quarantine().await?,
        expected,
        "by edge (code point), then space; edge-c has none"
    );
    Ok(())
}
