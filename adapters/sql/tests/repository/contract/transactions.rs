//! Transactions: revisions, rollback, isolation, read-only reads,
//! conflicts, concurrent writers.

use std::sync::Arc;
use std::time::Duration;

use passerelle_core::audit::{AuditEvent, chain};
use passerelle_core::ids::Revision;
use passerelle_core::model::Page;
use passerelle_core::ports::{AuditFilter, Repository};
use serde_json::json;

use super::{Outcome, T0, agent, assert_conflict, assert_storage, at, read, seed_space, write};

/// How long a reader may wait while a writer holds its transaction open.
const NOT_BLOCKED: Duration = Duration::from_secs(5);

pub async fn revisions_strictly_increase_across_transactions(repo: &dyn Repository) -> Outcome {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut tx = write(repo).await?;
        seen.push(tx.next_revision().await?);
        seen.push(tx.next_revision().await?);
        tx.commit().await?;
    }
    assert_eq!(seen, (1..=6).map(Revision).collect::<Vec<_>>());
    Ok(())
}

pub async fn a_dropped_write_transaction_leaves_nothing(repo: &dyn Repository) -> Outcome {
    let mut tx = write(repo).await?;
    assert_eq!(tx.next_revision().await?, Revision(1));
    let p = agent("fantome");
    tx.save_principal(&p).await?;
    let entry = chain(
        None,
        at(T0),
        AuditEvent {
            actor: Some(p.id),
            action: "principal.create",
            space: None,
            target: None,
            detail: json!({}),
        },
    );
    tx.append_audit(&entry).await?;
    drop(tx);

    let mut tx = read(repo).await?;
    assert_eq!(tx.principal(p.id).await?, None);
    assert_eq!(tx.count_principals().await?, 0);
    assert_eq!(tx.audit_head().await?, None);
    drop(tx);
    let mut tx = write(repo).await?;
    assert_eq!(
        tx.next_revision().await?,
        Revision(1),
        "the revision was rolled back too"
    );
    tx.commit().await?;
    Ok(())
}

pub async fn a_reader_is_not_blocked_by_a_writer_and_sees_only_committed_rows(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let mut writer = write(repo).await?;
    let p = agent("pendant");
    writer.save_principal(&p).await?;
    let mut renamed = s.clone();
    renamed.title = "Renommé".into();
    writer.save_space(&renamed).await?;

    let mut reader = tokio::time::timeout(NOT_BLOCKED, read(repo)).await??;
    assert_eq!(reader.principal(p.id).await?, None);
    assert_eq!(reader.space(s.id).await?, Some(s.clone()));
    drop(reader);

    writer.commit().await?;
    let mut reader = read(repo).await?;
    assert_eq!(reader.principal(p.id).await?, Some(p));
    assert_eq!(reader.space(s.id).await?, Some(renamed));
    Ok(())
}

pub async fn writes_in_a_read_transaction_are_refused(repo: &dyn Repository) -> Outcome {
    let mut tx = read(repo).await?;
    assert_storage(tx.next_revision().await, "next_revision");
    assert_storage(tx.save_principal(&agent("lecteur")).await, "save_principal");
    assert_storage(
        tx.delete_expired_sessions(at(T0)).await,
        "delete_expired_sessions",
    );
    drop(tx);
    assert_eq!(read(repo).await?.count_principals().await?, 0);
    Ok(())
}

pub async fn a_conflict_leaves_the_transaction_usable(repo: &dyn Repository) -> Outcome {
    let (first, twin, other) = (agent("meme"), agent("meme"), agent("autre"));
    let mut tx = write(repo).await?;
    tx.save_principal(&first).await?;
    assert_conflict(
        tx.save_principal(&twin).await,
        "same login in one transaction",
    );
    tx.save_principal(&other).await?;
    let revision = tx.next_revision().await?;
    tx.commit().await?;

    let mut tx = read(repo).await?;
    let all = tx.list_principals(Page::all()).await?;
    assert_eq!(all.items, vec![other, first]);
    assert_eq!(tx.principal(twin.id).await?, None);
    assert_eq!(revision, Revision(1));
    Ok(())
}

/// Two tasks, 50 write transactions each: every revision is taken once, the
/// sequence has no gap, and no `Busy` reaches the caller.
pub async fn concurrent_writers_take_distinct_gapless_revisions(
    repo: Arc<dyn Repository>,
) -> Outcome {
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..2 {
        let repo = Arc::clone(&repo);
        tasks.spawn(async move {
            let mut taken = Vec::new();
            for n in 0..50 {
                let mut tx = repo.begin(passerelle_core::ports::TxMode::Write).await?;
                let revision = tx.next_revision().await?;
                let head = tx.audit_head().await?;
                let entry = chain(
                    head,
                    at(T0 + n),
                    AuditEvent {
                        actor: None,
                        action: "test.write",
                        space: None,
                        target: Some(format!("writer-{writer}")),
                        detail: json!({"revision": revision.0}),
                    },
                );
                tx.append_audit(&entry).await?;
                tx.commit().await?;
                taken.push(revision);
            }
            anyhow::Ok(taken)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let taken = joined??;
        assert!(
            taken.windows(2).all(|w| w[0] < w[1]),
            "increasing within a writer"
        );
        all.extend(taken);
    }
    all.sort();
    assert_eq!(all, (1..=100).map(Revision).collect::<Vec<_>>());
    let log = read(&*repo)
        .await?
        .list_audit(AuditFilter::default(), Page::all())
        .await?;
    assert_eq!(log.total, 100, "a linear chain of 100 entries");
    let mut verifier = passerelle_core::audit::ChainVerifier::default();
    for e in &log.items {
        verifier.push(e)?;
    }
    Ok(())
}
