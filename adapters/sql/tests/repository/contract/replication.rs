//! Replication storage, on both nodes: invitations, the node's revision,
//! spaces shared with an edge, read-only transactions; and the helpers of
//! the submodules: `internal` (the applied-ops ledger and quarantine, edge
//! states), `edge` (cursors, the outbox, the purge of an un-shared space),
//! `feed` (the change feed) and `backlog` (how far it runs past a cursor).

mod backlog;
mod claims;
mod edge;
mod feed;
mod internal;

pub use backlog::*;
pub use claims::*;
pub use edge::*;
pub use feed::*;
pub use internal::*;

use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::{Principal, PrincipalKind, Space};
use passerelle_core::ports::Repository;
use passerelle_core::replication::{
    AppliedOp, EdgeStatus, Invitation, OpOutcome, OutboxItem, OutboxOp,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Outcome, Row, T0, agent, assert_conflict, assert_storage, at, read, save, seed_space, space,
    write,
};

pub fn contractor(login: &str) -> Principal {
    Principal {
        kind: PrincipalKind::Contractor,
        display_name: format!("Prestataire {login}"),
        email: format!("{login}@btp.example"),
        organisation: Some("BTP Rhône SARL".into()),
        ..agent(login)
    }
}

pub fn invitation(space: &Space, principal: &Principal, secret: &str) -> Invitation {
    Invitation {
        id: Uuid::now_v7(),
        principal: principal.id,
        space: space.id,
        secret_hash: ContentHash::of(secret.as_bytes()),
        created_by: space.created_by,
        created_at: at(T0 + 10),
        expires_at: at(T0 + 10 + 14 * 86_400_000_000_000),
        accepted_at: None,
        revoked: false,
        revision: Revision(7),
    }
}

pub fn metadata() -> serde_json::Map<String, serde_json::Value> {
    let serde_json::Value::Object(m) = json!({
        "numero": "F-2026-0042",
        "montant_ttc": "1234.50",
        "texte": "guillemets \" et \\ barre, émoji 🏗️",
    }) else {
        unreachable!("a JSON object literal")
    };
    m
}

pub fn new_document(content: &str) -> OutboxOp {
    OutboxOp::NewDocument {
        folder: Some(FolderId::new()),
        name: "Plan de masse (indice B).pdf".into(),
        hash: ContentHash::of(content.as_bytes()),
        size: content.len() as u64,
        media_type: "application/pdf".into(),
        doc_type: Some("facture".into()),
        metadata: metadata(),
        comment: "dépôt".into(),
    }
}

pub fn new_version(content: &str) -> OutboxOp {
    OutboxOp::NewVersion {
        document: DocumentId::new(),
        base_version: 3,
        hash: ContentHash::of(content.as_bytes()),
        size: content.len() as u64,
        media_type: "text/plain".into(),
        comment: String::new(),
        // Stored and read back like every other field.
        after_op: Some(Uuid::now_v7()),
    }
}

pub fn rename() -> OutboxOp {
    OutboxOp::Rename {
        document: DocumentId::new(),
        name: "Nouveau nom.pdf".into(),
    }
}

/// An acceptance: no content, only the invitation's id.
pub fn accept_invitation() -> OutboxOp {
    OutboxOp::AcceptInvitation {
        invitation: Uuid::now_v7(),
    }
}

pub fn outbox_item(space: &Space, by: &Principal, op: OutboxOp) -> OutboxItem {
    OutboxItem {
        seq: 999,
        op_id: Uuid::now_v7(),
        space: space.id,
        contractor: by.id,
        created_at: at(T0 + 20),
        op,
        outcome: None,
        detail: String::new(),
    }
}

pub fn applied(space: SpaceId, outcome: OpOutcome, at_offset: i128, op: OutboxOp) -> AppliedOp {
    AppliedOp {
        op_id: Uuid::now_v7(),
        edge: "edge-1".parse().expect("node id"),
        space,
        contractor: PrincipalId::new(),
        at: at(T0 + at_offset),
        outcome,
        detail: format!("{outcome:?}"),
        document: None,
        op,
    }
}

pub async fn invitations_round_trip_exactly_and_are_found_by_hash(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    let c = contractor("c.dupont");
    let older = invitation(&s, &c, "secret-1");
    let mut newer = invitation(&s, &c, "secret-2");
    newer.created_at = at(T0 + 11);
    newer.accepted_at = Some(at(T0 + 12));
    newer.revoked = true;
    newer.revision = Revision(9);
    let elsewhere = invitation(&other, &c, "secret-3");
    save(
        repo,
        [
            Row::from(&c),
            Row::from(&older),
            Row::from(&newer),
            Row::from(&elsewhere),
        ],
    )
    .await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.invitation(older.id).await?, Some(older.clone()));
    assert_eq!(tx.invitation(newer.id).await?, Some(newer.clone()));
    assert_eq!(tx.invitation(Uuid::now_v7()).await?, None);
    let by_hash = tx.invitation_by_hash(&ContentHash::of(b"secret-2")).await?;
    assert_eq!(by_hash, Some(newer.clone()));
    let unknown = tx.invitation_by_hash(&ContentHash::of(b"nope")).await?;
    assert_eq!(unknown, None);
    assert_eq!(
        tx.list_invitations(s.id).await?,
        vec![newer.clone(), older.clone()],
        "newest first, other spaces excluded"
    );
    assert_eq!(tx.list_invitations(SpaceId::new()).await?, vec![]);
    drop(tx);

    let mut accepted = older.clone();
    accepted.accepted_at = Some(at(T0 + 13));
    accepted.revision = Revision(10);
    save(repo, [Row::from(&accepted)]).await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.invitation(older.id).await?, Some(accepted));
    assert_eq!(tx.list_invitations(s.id).await?.len(), 2);
    Ok(())
}

pub async fn a_duplicate_invitation_secret_is_a_conflict_and_a_space_is_needed(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let c = contractor("c.durand");
    let first = invitation(&s, &c, "même secret");
    save(repo, [Row::from(&c), Row::from(&first)]).await?;

    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_invitation(&invitation(&s, &c, "même secret")).await,
        "same secret hash",
    );
    let other = invitation(&s, &c, "autre secret");
    tx.save_invitation(&other).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.list_invitations(s.id).await?.len(), 2);
    drop(tx);

    let ghost = space("ghost", "Ghost", c.id);
    assert_storage(
        write(repo)
            .await?
            .save_invitation(&invitation(&ghost, &c, "x"))
            .await,
        "invitation into a missing space",
    );
    Ok(())
}

pub async fn the_current_revision_is_read_without_taking_one(repo: &dyn Repository) -> Outcome {
    assert_eq!(read(repo).await?.current_revision().await?, Revision(0));
    let mut tx = write(repo).await?;
    tx.next_revision().await?;
    tx.next_revision().await?;
    assert_eq!(tx.current_revision().await?, Revision(2), "in the same tx");
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.current_revision().await?, Revision(2));
    assert_eq!(tx.current_revision().await?, Revision(2), "nothing taken");
    drop(tx);

    let mut tx = write(repo).await?;
    assert_eq!(tx.current_revision().await?, Revision(2));
    assert_eq!(tx.next_revision().await?, Revision(3));
    drop(tx);
    assert_eq!(read(repo).await?.current_revision().await?, Revision(2));
    Ok(())
}

pub async fn spaces_shared_with_an_edge_are_listed_by_id(repo: &dyn Repository) -> Outcome {
    let p = agent("owner");
    let mut spaces: Vec<Space> = ["s-a", "s-b", "s-c", "s-d", "s-e"]
        .into_iter()
        .map(|slug| space(slug, slug, p.id))
        .collect();
    for (s, edge) in spaces.iter_mut().zip([
        Some("edge-1"),
        Some("edge-2"),
        None,
        Some("edge-1"),
        Some("edge-10"),
    ]) {
        s.edge = edge.map(|e| e.parse().expect("node id"));
    }
    let rows = std::iter::once(Row::from(&p)).chain(spaces.iter().rev().map(Row::from));
    save(repo, rows).await?;

    let mut expected = vec![spaces[0].clone(), spaces[3].clone()];
    expected.sort_by_key(|s| s.id);
    let mut tx = read(repo).await?;
    assert_eq!(
        tx.spaces_shared_with(&"edge-1".parse().expect("node id"))
            .await?,
        expected
    );
    assert_eq!(
        tx.spaces_shared_with(&"edge-2".parse().expect("node id"))
            .await?,
        vec![spaces[1].clone()]
    );
    assert_eq!(
        tx.spaces_shared_with(&"edge-3".parse().expect("node id"))
            .await?,
        vec![]
    );
    Ok(())
}
/// Every replication write is refused in a read transaction, as the others.
pub async fn replication_writes_in_a_read_transaction_are_refused(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let c = contractor("c.lecteur");
    save(repo, [Row::from(&c)]).await?;
    let item = outbox_item(&s, &c, rename());
    let status = EdgeStatus {
        edge: "edge-1".parse().expect("node id"),
        last_contact: None,
        last_error: None,
        cursors: vec![],
        space_errors: vec![],
        updated_at: at(T0),
    };
    let mut tx = read(repo).await?;
    assert_storage(
        tx.save_invitation(&invitation(&s, &c, "x")).await,
        "invitation",
    );
    assert_storage(
        tx.save_applied_op(&applied(s.id, OpOutcome::Applied, 1, rename()))
            .await,
        "applied op",
    );
    assert_storage(tx.save_edge_status(&status).await, "edge status");
    assert_storage(tx.set_cursor(s.id, Revision(1)).await, "cursor");
    assert_storage(tx.append_outbox(&item).await, "outbox");
    assert_storage(
        tx.set_outbox_outcome(item.op_id, OpOutcome::Applied, "", at(T0 + 30))
            .await,
        "outcome",
    );
    assert_storage(tx.purge_space(s.id).await, "purge");
    assert_storage(tx.prune_outbox(at(T0 + 1_000)).await, "prune");
    drop(tx);
    let mut tx = read(repo).await?;
    assert!(tx.space(s.id).await?.is_some());
    assert_eq!(tx.list_outbox(s.id).await?, vec![]);
    assert_eq!(tx.cursors().await?, vec![]);
    Ok(())
}
