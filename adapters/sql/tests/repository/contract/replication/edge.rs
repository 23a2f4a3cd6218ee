//! Edge node: cursors, the outbox, the hashes it keeps alive, and the purge
//! of a space that is no longer shared.

use std::collections::HashSet;

use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, Revision, SpaceId, TokenId};
use passerelle_core::model::{ApiToken, Page, Session, TokenKind};
use passerelle_core::ports::Repository;
use passerelle_core::replication::{OpOutcome, OutboxItem, OutboxOp};
use passerelle_core::role::Role;
use uuid::Uuid;

use super::super::{
    Outcome, Row, T0, agent, assert_conflict, assert_storage, at, document, folder, member, read,
    save, seed_space, space, version, write,
};
use super::{
    accept_invitation, contractor, invitation, new_document, new_version, outbox_item, rename,
};

pub async fn cursors_are_set_per_space_and_listed_by_space(repo: &dyn Repository) -> Outcome {
    assert_eq!(read(repo).await?.cursors().await?, vec![]);
    let mut spaces = [SpaceId::new(), SpaceId::new(), SpaceId::new()];
    spaces.sort();
    let mut tx = write(repo).await?;
    tx.set_cursor(spaces[2], Revision(7)).await?;
    tx.set_cursor(spaces[0], Revision(5)).await?;
    tx.set_cursor(spaces[0], Revision(9)).await?;
    tx.set_cursor(spaces[1], Revision(0)).await?;
    tx.commit().await?;
    let expected = vec![
        (spaces[0], Revision(9)),
        (spaces[1], Revision(0)),
        (spaces[2], Revision(7)),
    ];
    assert_eq!(read(repo).await?.cursors().await?, expected);
    Ok(())
}

pub async fn the_outbox_assigns_increasing_seqs_and_tracks_outcomes(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    let c = contractor("c.martin");
    save(repo, [Row::from(&c)]).await?;
    let mut items = vec![
        outbox_item(&s, &c, new_document("plan")),
        outbox_item(&s, &c, rename()),
        outbox_item(&other, &c, new_version("devis")),
        outbox_item(
            &s,
            &c,
            OutboxOp::Delete {
                document: DocumentId::new(),
                base_version: 2,
            },
        ),
    ];
    let mut tx = write(repo).await?;
    for item in &mut items[..2] {
        item.seq = tx.append_outbox(item).await?;
    }
    tx.commit().await?;
    let mut tx = write(repo).await?;
    for item in &mut items[2..] {
        item.seq = tx.append_outbox(item).await?;
    }
    assert_conflict(
        tx.append_outbox(&OutboxItem {
            op_id: items[0].op_id,
            ..outbox_item(&s, &c, rename())
        })
        .await,
        "duplicate op_id",
    );
    let mut late = outbox_item(&s, &c, accept_invitation());
    late.seq = tx.append_outbox(&late).await?;
    tx.commit().await?;
    items.push(late);
    let seqs: Vec<i64> = items.iter().map(|i| i.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let mut tx = read(repo).await?;
    for item in &items {
        assert_eq!(tx.outbox_item(item.op_id).await?.as_ref(), Some(item));
    }
    assert_eq!(tx.outbox_item(Uuid::now_v7()).await?, None);
    assert_eq!(tx.pending_outbox(0, 100).await?, items);
    assert_eq!(tx.pending_outbox(items[0].seq, 2).await?, items[1..3]);
    assert_eq!(tx.pending_outbox(items[4].seq, 10).await?, vec![]);
    drop(tx);

    let mut tx = write(repo).await?;
    tx.set_outbox_outcome(items[1].op_id, OpOutcome::Applied, "", at(T0 + 30))
        .await?;
    tx.set_outbox_outcome(
        items[3].op_id,
        OpOutcome::Rejected,
        "droits retirés",
        at(T0 + 30),
    )
    .await?;
    tx.set_outbox_outcome(
        items[3].op_id,
        OpOutcome::Rejected,
        "droits retirés",
        at(T0 + 30),
    )
    .await?;
    tx.set_outbox_outcome(Uuid::now_v7(), OpOutcome::Applied, "", at(T0 + 30))
        .await?;
    tx.commit().await?;
    items[1].outcome = Some(OpOutcome::Applied);
    items[3].outcome = Some(OpOutcome::Rejected);
    items[3].detail = "droits retirés".into();

    let mut tx = read(repo).await?;
    assert_eq!(
        tx.outbox_item(items[3].op_id).await?.as_ref(),
        Some(&items[3])
    );
    let pending = vec![items[0].clone(), items[2].clone(), items[4].clone()];
    assert_eq!(tx.pending_outbox(0, 100).await?, pending);
    assert_eq!(tx.pending_outbox(items[0].seq, 1).await?, pending[1..2]);
    let of_s: Vec<OutboxItem> = [4, 3, 1, 0].iter().map(|&i| items[i].clone()).collect();
    assert_eq!(tx.list_outbox(s.id).await?, of_s, "newest first");
    assert_eq!(tx.list_outbox(other.id).await?, vec![items[2].clone()]);
    drop(tx);

    let ghost = space("ghost", "Ghost", c.id);
    assert_storage(
        write(repo)
            .await?
            .append_outbox(&outbox_item(&ghost, &c, rename()))
            .await,
        "outbox item of a missing space",
    );
    Ok(())
}

pub async fn referenced_hashes_include_pending_outbox_content_until_decided(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let c = contractor("c.petit");
    let doc = document(&s, None, "a.pdf");
    save(
        repo,
        [
            Row::from(&c),
            Row::from(&doc),
            Row::from(&version(&doc, 1, "stocké")),
        ],
    )
    .await?;
    let items = [
        outbox_item(&s, &c, new_document("nouveau")),
        outbox_item(&s, &c, new_version("version")),
        outbox_item(&s, &c, rename()),
        outbox_item(&s, &c, new_document("stocké")),
        // Pending, no content: keeps nothing alive.
        outbox_item(&s, &c, accept_invitation()),
    ];
    let mut tx = write(repo).await?;
    for item in &items {
        tx.append_outbox(item).await?;
    }
    tx.commit().await?;
    let hashes = |contents: &[&str]| -> HashSet<ContentHash> {
        contents
            .iter()
            .map(|c| ContentHash::of(c.as_bytes()))
            .collect()
    };
    assert_eq!(
        read(repo).await?.referenced_hashes().await?,
        hashes(&["stocké", "nouveau", "version"])
    );

    let mut tx = write(repo).await?;
    tx.set_outbox_outcome(items[1].op_id, OpOutcome::Applied, "", at(T0 + 30))
        .await?;
    tx.set_outbox_outcome(items[3].op_id, OpOutcome::Conflict, "", at(T0 + 30))
        .await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.referenced_hashes().await?,
        hashes(&["stocké", "nouveau"])
    );
    let mut tx = write(repo).await?;
    tx.set_outbox_outcome(items[0].op_id, OpOutcome::Rejected, "", at(T0 + 30))
        .await?;
    tx.commit().await?;
    assert_eq!(
        read(repo).await?.referenced_hashes().await?,
        hashes(&["stocké"])
    );
    Ok(())
}

/// The space's rows go, its members that are members nowhere else go (with
/// their sessions and tokens); other spaces and their members stay.
pub async fn purging_a_space_deletes_its_rows_and_the_principals_left_without_membership(
    repo: &dyn Repository,
) -> Outcome {
    let (owner, s) = seed_space(repo, "partage").await?;
    let (_, o) = seed_space(repo, "autre").await?;
    let only_here = contractor("c.seul");
    let both = contractor("c.deux");
    let only_there = contractor("c.ailleurs");
    let nowhere = agent("admin.edge");
    let formerly = contractor("c.ancien");
    let mut gone_member = member(&s, &formerly, Role::Reader);
    gone_member.removed = true;
    let f = folder(&s, None, "Plans");
    let (d1, d2) = (document(&s, Some(&f), "a.pdf"), document(&s, None, "b.pdf"));
    let o_folder = folder(&o, None, "Plans");
    let o_doc = document(&o, None, "a.pdf");
    let o_version = version(&o_doc, 1, "o");
    let o_invitation = invitation(&o, &both, "o");
    save(
        repo,
        [
            Row::from(&only_here),
            Row::from(&both),
            Row::from(&only_there),
            Row::from(&nowhere),
            Row::from(&formerly),
            Row::from(&member(&s, &only_here, Role::Contributor)),
            Row::from(&member(&s, &both, Role::Reader)),
            Row::from(&gone_member),
            Row::from(&member(&o, &both, Role::Reader)),
            Row::from(&member(&o, &only_there, Role::Reader)),
            Row::from(&f),
            Row::from(&d1),
            Row::from(&d2),
            Row::from(&version(&d1, 1, "1")),
            Row::from(&version(&d1, 2, "2")),
            Row::from(&version(&d2, 1, "3")),
            Row::from(&invitation(&s, &only_here, "s")),
            Row::from(&o_folder),
            Row::from(&o_doc),
            Row::from(&o_version),
            Row::from(&o_invitation),
        ],
    )
    .await?;
    let session = Session {
        token_hash: ContentHash::of(b"session"),
        principal: only_here.id,
        csrf: "csrf".into(),
        created_at: at(T0),
        expires_at: at(T0 + 1),
    };
    let kept_session = Session {
        token_hash: ContentHash::of(b"kept"),
        principal: both.id,
        ..session.clone()
    };
    let token = ApiToken {
        id: TokenId::new(),
        principal: only_here.id,
        kind: TokenKind::Api,
        name: "app".into(),
        token_hash: ContentHash::of(b"token"),
        created_at: at(T0),
        expires_at: None,
        revoked: false,
    };
    let s_items = [
        outbox_item(&s, &only_here, new_document("p")),
        outbox_item(&s, &both, rename()),
    ];
    let o_item = outbox_item(&o, &both, rename());
    let mut tx = write(repo).await?;
    tx.save_session(&session).await?;
    tx.save_session(&kept_session).await?;
    tx.save_token(&token).await?;
    for item in s_items.iter().chain([&o_item]) {
        tx.append_outbox(item).await?;
    }
    tx.set_cursor(s.id, Revision(40)).await?;
    tx.set_cursor(o.id, Revision(41)).await?;
    tx.commit().await?;

    let mut tx = write(repo).await?;
    // 3 versions, 2 documents, 1 folder, 1 invitation, 3 memberships,
    // 2 outbox items, 1 cursor, 1 space; then 2 orphan principals with
    // 1 session and 1 token.
    assert_eq!(tx.purge_space(s.id).await?, 18);
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.space(s.id).await?, None);
    assert_eq!(tx.folder(f.id).await?, None);
    assert_eq!(tx.document(d1.id).await?, None);
    assert_eq!(tx.list_versions(d1.id).await?, vec![]);
    assert_eq!(tx.list_invitations(s.id).await?, vec![]);
    assert_eq!(tx.membership(s.id, both.id).await?, None);
    assert_eq!(tx.list_outbox(s.id).await?, vec![]);
    assert_eq!(tx.outbox_item(s_items[0].op_id).await?, None);
    assert_eq!(tx.cursors().await?, vec![(o.id, Revision(41))]);
    assert_eq!(tx.principal(only_here.id).await?, None);
    assert_eq!(
        tx.principal(formerly.id).await?,
        None,
        "removed counts as none"
    );
    assert_eq!(tx.session(&session.token_hash).await?, None);
    assert_eq!(tx.token(token.id).await?, None);
    for kept in [&owner, &both, &only_there, &nowhere] {
        assert_eq!(tx.principal(kept.id).await?.as_ref(), Some(kept));
    }
    assert!(tx.session(&kept_session.token_hash).await?.is_some());
    assert_eq!(tx.space(o.id).await?, Some(o.clone()));
    assert_eq!(tx.list_members(o.id).await?.len(), 2);
    assert_eq!(tx.folder(o_folder.id).await?, Some(o_folder));
    assert_eq!(tx.document(o_doc.id).await?, Some(o_doc.clone()));
    assert_eq!(tx.list_versions(o_doc.id).await?, vec![o_version]);
    assert_eq!(tx.list_invitations(o.id).await?, vec![o_invitation]);
    assert_eq!(tx.list_outbox(o.id).await?.len(), 1);
    drop(tx);

    let mut tx = write(repo).await?;
    assert_eq!(tx.purge_space(s.id).await?, 0, "nothing left to purge");
    assert_eq!(tx.purge_space(SpaceId::new()).await?, 0);
    Ok(())
}

/// ADR 0002, invariant 7, at the storage level: the edge checks "nothing
/// pending" and purges a space in one write transaction, so a contractor's
/// operation appended meanwhile must wait for that transaction and then
/// find the space gone — it is never written and then deleted by the purge.
/// A writer that began during the purge waits for it (write transactions
/// are serialised on every engine).
pub async fn an_outbox_append_begun_during_a_purge_waits_and_finds_the_space_gone(
    repo: std::sync::Arc<dyn Repository>,
) -> Outcome {
    let (_, s) = seed_space(&*repo, "partage").await?;
    let c = contractor("c.rapide");
    save(
        &*repo,
        [Row::from(&c), Row::from(&member(&s, &c, Role::Contributor))],
    )
    .await?;
    let mut purge = write(&*repo).await?;
    assert!(purge.list_outbox(s.id).await?.is_empty(), "nothing pending");
    let appender = {
        let repo = std::sync::Arc::clone(&repo);
        let (s, c) = (s.clone(), c.clone());
        tokio::spawn(async move {
            let mut tx = repo.begin(passerelle_core::ports::TxMode::Write).await?;
            // The edge's use case checks the space in the same transaction.
            if tx.space(s.id).await?.is_none() {
                return anyhow::Ok(false);
            }
            tx.append_outbox(&outbox_item(&s, &c, new_document("plan")))
                .await?;
            tx.commit().await?;
            anyhow::Ok(true)
        })
    };
    // Give the appender time to start and block on the writer lock.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!appender.is_finished(), "the appender waits for the purge");
    purge.purge_space(s.id).await?;
    purge.commit().await?;
    let appended = appender.await??;
    assert!(!appended, "the space was gone when the appender looked");
    assert!(read(&*repo).await?.list_outbox(s.id).await?.is_empty());
    Ok(())
}

/// A contractor's page of their writes to one space: newest first, decided
/// ones included, their acceptance left out of the items and the total.
pub async fn a_contractors_outbox_pages_newest_first_without_their_acceptance(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    let c = contractor("c.martin");
    let d = contractor("d.durand");
    save(repo, [Row::from(&c), Row::from(&d)]).await?;
    let mut mine = [
        outbox_item(&s, &c, new_document("plan")),
        outbox_item(&s, &c, rename()),
        outbox_item(&s, &c, new_version("devis")),
        outbox_item(&s, &c, rename()),
    ];
    let mut tx = write(repo).await?;
    tx.append_outbox(&outbox_item(&s, &c, accept_invitation()))
        .await?;
    for (n, item) in mine.iter_mut().enumerate() {
        item.seq = tx.append_outbox(item).await?;
        // Others' items and other spaces' in between.
        if n == 1 {
            tx.append_outbox(&outbox_item(&s, &d, rename())).await?;
            tx.append_outbox(&outbox_item(&other, &c, rename())).await?;
        }
    }
    tx.set_outbox_outcome(mine[1].op_id, OpOutcome::Rejected, "refusé", at(T0 + 30))
        .await?;
    tx.commit().await?;
    mine[1].outcome = Some(OpOutcome::Rejected);
    mine[1].detail = "refusé".into();
    mine.reverse();

    let mut tx = read(repo).await?;
    let first = tx.list_outbox_of(s.id, c.id, Page::new(0, 3)).await?;
    assert_eq!((first.items.as_slice(), first.total), (&mine[..3], 4));
    let rest = tx.list_outbox_of(s.id, c.id, Page::new(3, 3)).await?;
    assert_eq!((rest.items.as_slice(), rest.total), (&mine[3..], 4));
    let past = tx.list_outbox_of(s.id, c.id, Page::new(4, 3)).await?;
    assert_eq!((past.items.len(), past.total), (0, 4));
    assert_eq!(tx.list_outbox_of(s.id, d.id, Page::all()).await?.total, 1);
    assert_eq!(
        tx.list_outbox_of(other.id, c.id, Page::all()).await?.total,
        1
    );
    let nobody = tx
        .list_outbox_of(SpaceId::new(), c.id, Page::default())
        .await?;
    assert_eq!((nobody.items.len(), nobody.total), (0, 0));
    Ok(())
}

/// Pending items are counted across spaces; the prune deletes decided items
/// by the time of their first verdict, never a pending one however old.
pub async fn pending_items_are_counted_and_decided_ones_pruned_by_verdict_time(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    let c = contractor("c.martin");
    save(repo, [Row::from(&c)]).await?;
    // Every item was made at T0 + 20, long before any cutoff below.
    let items = [
        outbox_item(&s, &c, new_document("plan")),
        outbox_item(&other, &c, rename()),
        outbox_item(&s, &c, accept_invitation()),
        outbox_item(&s, &c, rename()),
    ];
    let mut tx = write(repo).await?;
    assert_eq!(tx.count_pending_outbox().await?, 0);
    for item in &items {
        tx.append_outbox(item).await?;
    }
    assert_eq!(
        tx.count_pending_outbox().await?,
        4,
        "within the transaction"
    );
    tx.commit().await?;
    assert_eq!(read(repo).await?.count_pending_outbox().await?, 4);

    let mut tx = write(repo).await?;
    tx.set_outbox_outcome(items[0].op_id, OpOutcome::Applied, "", at(T0 + 100))
        .await?;
    tx.set_outbox_outcome(items[1].op_id, OpOutcome::Rejected, "", at(T0 + 200))
        .await?;
    // A repeated verdict keeps the time of the first.
    tx.set_outbox_outcome(items[0].op_id, OpOutcome::Applied, "", at(T0 + 900))
        .await?;
    tx.commit().await?;
    assert_eq!(read(repo).await?.count_pending_outbox().await?, 2);

    let mut tx = write(repo).await?;
    assert_eq!(tx.prune_outbox(at(T0 + 100)).await?, 0, "strictly before");
    assert_eq!(tx.prune_outbox(at(T0 + 101)).await?, 1);
    assert_eq!(tx.outbox_item(items[0].op_id).await?, None);
    assert!(tx.outbox_item(items[1].op_id).await?.is_some());
    tx.commit().await?;

    let mut tx = write(repo).await?;
    assert_eq!(tx.prune_outbox(at(T0 + 1_000_000_000_000)).await?, 1);
    assert_eq!(tx.prune_outbox(at(T0 + 1_000_000_000_000)).await?, 0);
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.outbox_item(items[1].op_id).await?, None);
    for pending in &items[2..] {
        assert!(
            tx.outbox_item(pending.op_id).await?.is_some(),
            "pending kept"
        );
    }
    assert_eq!(tx.count_pending_outbox().await?, 2);
    Ok(())
}
