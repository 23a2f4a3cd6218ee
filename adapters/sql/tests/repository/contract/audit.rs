//! The audit log: append, head, filtered listing, exact round trip.

use passerelle_core::audit::{AuditEvent, ChainVerifier, GENESIS, chain};
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::{AuditEntry, Page};
use passerelle_core::ports::{AuditFilter, Repository};
use serde_json::json;

use super::{Outcome, T0, assert_conflict, at, read, write};

fn event(space: Option<SpaceId>, n: usize) -> AuditEvent {
    AuditEvent {
        actor: n.is_multiple_of(2).then(PrincipalId::new),
        action: if n.is_multiple_of(3) {
            "login.failed"
        } else {
            "document.upload"
        },
        space,
        target: (n % 2 == 1).then(|| format!("cible-{n}")),
        detail: json!({"n": n, "nom": "Délibération n°12.pdf", "taille": 1_048_576, "ok": n.is_multiple_of(2)}),
    }
}

/// Appends one entry per event, each in its own transaction, as use cases do.
async fn append_all(
    repo: &dyn Repository,
    events: Vec<AuditEvent>,
) -> anyhow::Result<Vec<AuditEntry>> {
    let mut entries = Vec::new();
    for (i, ev) in events.into_iter().enumerate() {
        let mut tx = write(repo).await?;
        let head = tx.audit_head().await?;
        // Nanoseconds on purpose: the chain truncates to microseconds.
        let entry = chain(head, at(T0 + 1_000_000_007 * i as i128), ev);
        tx.append_audit(&entry).await?;
        tx.commit().await?;
        entries.push(entry);
    }
    Ok(entries)
}

pub async fn the_audit_log_starts_empty(repo: &dyn Repository) -> Outcome {
    let mut tx = read(repo).await?;
    assert_eq!(tx.audit_head().await?, None);
    let page = tx.list_audit(AuditFilter::default(), Page::all()).await?;
    assert_eq!((page.items.len(), page.total), (0, 0));
    Ok(())
}

pub async fn audit_entries_round_trip_exactly_and_the_head_follows_appends(
    repo: &dyn Repository,
) -> Outcome {
    let space = SpaceId::new();
    let events = (0..4)
        .map(|n| event((n != 1).then_some(space), n))
        .collect();
    let entries = append_all(repo, events).await?;
    assert_eq!(entries[0].prev_hash, GENESIS);

    let mut tx = read(repo).await?;
    let last = entries.last().expect("entries");
    assert_eq!(tx.audit_head().await?, Some((last.seq, last.hash)));
    let listed = tx.list_audit(AuditFilter::default(), Page::all()).await?;
    assert_eq!((listed.items.clone(), listed.total), (entries, 4));
    let mut verifier = ChainVerifier::default();
    for e in &listed.items {
        verifier.push(e)?;
    }
    assert_eq!(verifier.verified(), 4);
    Ok(())
}

pub async fn audit_entries_are_filtered_by_space_and_paged_after_a_sequence_number(
    repo: &dyn Repository,
) -> Outcome {
    let (s1, s2) = (SpaceId::new(), SpaceId::new());
    let spaces = [Some(s1), Some(s2), None, Some(s1), Some(s2), Some(s1)];
    let events = spaces
        .iter()
        .enumerate()
        .map(|(n, s)| event(*s, n))
        .collect();
    let entries = append_all(repo, events).await?;
    let seqs = |items: &[AuditEntry]| items.iter().map(|e| e.seq).collect::<Vec<_>>();

    let mut tx = read(repo).await?;
    let in_s1 = AuditFilter {
        space: Some(s1),
        after_seq: 0,
    };
    let page = tx.list_audit(in_s1, Page::all()).await?;
    assert_eq!((seqs(&page.items), page.total), (vec![1, 4, 6], 3));
    assert_eq!(page.items[1], entries[3]);
    let page = tx
        .list_audit(
            AuditFilter {
                after_seq: 1,
                ..in_s1
            },
            Page::new(1, 1),
        )
        .await?;
    assert_eq!((seqs(&page.items), page.total), (vec![6], 2));
    let after_two = AuditFilter {
        space: None,
        after_seq: 2,
    };
    let page = tx.list_audit(after_two, Page::new(1, 2)).await?;
    assert_eq!((seqs(&page.items), page.total), (vec![4, 5], 4));
    let page = tx
        .list_audit(
            AuditFilter {
                after_seq: 6,
                ..after_two
            },
            Page::all(),
        )
        .await?;
    assert_eq!((page.items.len(), page.total), (0, 0));
    Ok(())
}

pub async fn a_duplicate_audit_sequence_number_is_a_conflict(repo: &dyn Repository) -> Outcome {
    let entries = append_all(repo, vec![event(None, 0)]).await?;
    let mut again = chain(None, at(T0), event(None, 5));
    again.seq = entries[0].seq;
    let mut tx = write(repo).await?;
    assert_conflict(tx.append_audit(&again).await, "same seq");
    drop(tx);
    let listed = read(repo)
        .await?
        .list_audit(AuditFilter::default(), Page::all())
        .await?;
    assert_eq!(listed.items, entries);
    Ok(())
}
