//! The periodic jobs of the nodes, each a core use case run by a worker:
//! written once here, registered by each node that needs it; and the
//! search indexer's loop, woken by the node's writes.

use std::time::Duration;

use passerelle_core::service::{IndexRun, Indexer, Locks};
use passerelle_core::{EdgeApp, InternalApp, Passerelle};

use crate::Workers;

/// How often expired sessions are deleted. A session past its expiry is
/// already refused; deleting it only keeps the table small, so a few
/// minutes late is nothing.
pub const SWEEP_SESSIONS_EVERY: Duration = Duration::from_secs(300);

/// How often expired locks are deleted. An expired lock already excludes
/// nothing (core compares its expiry at every check); deleting it keeps
/// the table and WebDAV's lock discovery small, so minutes late is nothing.
pub const SWEEP_LOCKS_EVERY: Duration = Duration::from_secs(300);

/// How often access past its end date is swept. Access checks already
/// refuse it from the instant it ends; the sweep turns it into a removal
/// (internal node) and logs out a contractor left with no access (edge),
/// "within a minute" (issue 17 §3).
pub const END_ACCESS_EVERY: Duration = Duration::from_secs(30);

/// How often an edge prunes decided outbox operations (first at start):
/// retention is counted in days, so an hour late is nothing.
pub const PRUNE_OUTBOX_EVERY: Duration = Duration::from_secs(3600);

/// How often an edge collects the blobs no shared space needs (first at
/// start).
pub const COLLECT_BLOBS_EVERY: Duration = Duration::from_secs(3600);

/// Blobs no space needs are spared this long after they were stored: a
/// contractor's upload is stored before the transaction that appends its
/// operation, and a push that names no space (an internal node older than
/// `BlobChunk.space`) is recorded by nothing until its batch lands. Both
/// take seconds; an hour is a wide margin. Blobs pushed for a space are
/// recorded before their first byte and need no grace.
pub const COLLECT_GRACE: Duration = Duration::from_secs(3600);

/// How often notices are planned and handed to the relay: "within a
/// minute" of an event (issue 18), and a relay back up is tried again
/// as soon as its backoff allows.
pub const NOTIFY_EVERY: Duration = Duration::from_secs(15);

/// Plans the notices of new events and of ended digest periods, hands
/// the due ones to the relay, then reads the relay's delivery reports,
/// every [`NOTIFY_EVERY`] (worker
/// `notifications`, both nodes: each mails its own people).
pub fn notify(workers: &Workers, app: &Passerelle) {
    let n = app.notifications();
    workers.every("notifications", NOTIFY_EVERY, move || {
        let n = n.clone();
        async move {
            let planned = n.plan_immediate().await?;
            let digests = n.plan_digests().await?;
            let d = n.deliver_due().await?;
            let b = n.read_bounces().await?;
            Ok::<_, passerelle_core::CoreError>(format!(
                "{} notice(s) and {} digest(s) planned; {} sent, {} delayed, {} refused; {} report(s) read, {} bounce(s)",
                planned.queued, digests.queued, d.sent, d.delayed, d.refused, b.read, b.bounced
            ))
        }
    });
}

/// Deletes expired sessions every `period` (worker `sessions`).
pub fn sweep_sessions(workers: &Workers, app: &Passerelle, period: Duration) {
    let app = app.clone();
    workers.every("sessions", period, move || {
        let app = app.clone();
        async move {
            let n = app.sweep_sessions().await?;
            Ok::<_, passerelle_core::CoreError>(format!("{n} expired session(s) deleted"))
        }
    });
}

/// Ends the memberships whose end date came, every `period` (worker
/// `access`, internal node): removals that replicate, audited; and
/// disables the contractors inactive for longer than the node's period
/// (ADR 0011 §5), which replicates too.
pub fn end_memberships(workers: &Workers, app: &InternalApp, period: Duration) {
    let app = app.clone();
    workers.every("access", period, move || {
        let app = app.clone();
        async move {
            let n = app.end_memberships().await?;
            let idle = app.disable_inactive_contractors().await?;
            Ok::<_, passerelle_core::CoreError>(format!(
                "{n} access(es) ended, {idle} inactive contractor(s) disabled"
            ))
        }
    });
}

/// Logs out the contractors whose last access ended, every `period`
/// (worker `access`, edge), with or without the link.
pub fn end_access_on_edge(workers: &Workers, app: &EdgeApp, period: Duration) {
    let app = app.clone();
    workers.every("access", period, move || {
        let app = app.clone();
        async move {
            let n = app.end_ended_access().await?;
            Ok::<_, passerelle_core::CoreError>(format!("{n} contractor(s) logged out"))
        }
    });
}

/// Asks the directory about every directory account every `period`
/// (worker `directory`; internal node with `[ldap]`): who left or is
/// disabled there is disabled here (ADR 0009). A directory that does not
/// answer leaves everything as it is; the worker shows the error and
/// tries again at the next period.
pub fn sync_directory(workers: &Workers, app: &InternalApp, period: Duration) {
    let app = app.clone();
    workers.every("directory", period, move || {
        let app = app.clone();
        async move {
            let r = app.sync_directory().await?;
            Ok::<_, passerelle_core::CoreError>(format!(
                "{} account(s) checked, {} disabled, {} updated, {} administrator flag(s) and {} membership(s) from groups",
                r.checked, r.disabled, r.updated, r.admins, r.memberships
            ))
        }
    });
}

/// Deletes expired locks every `period` (worker `locks`; internal node:
/// locks are not replicated, an edge has none).
pub fn sweep_locks(workers: &Workers, locks: &Locks, period: Duration) {
    let locks = locks.clone();
    workers.every("locks", period, move || {
        let locks = locks.clone();
        async move {
            let n = locks.sweep().await?;
            Ok::<_, passerelle_core::CoreError>(format!("{n} expired lock(s) deleted"))
        }
    });
}

/// Prunes the edge's decided outbox operations older than its retention
/// (worker `outbox-prune`).
pub fn prune_outbox(workers: &Workers, app: &EdgeApp) {
    let (app, clock) = (app.clone(), workers.clock());
    workers.every("outbox-prune", PRUNE_OUTBOX_EVERY, move || {
        let (app, now) = (app.clone(), clock.now());
        async move {
            let n = app.prune_decided_operations(now).await?;
            Ok::<_, passerelle_core::CoreError>(format!("{n} decided operation(s) pruned"))
        }
    });
}

/// Collects the blobs no shared space needs on an edge (ADR 0003, "Blob
/// accounting"; worker `blob-gc`).
pub fn collect_blobs(workers: &Workers, app: &EdgeApp) {
    let app = app.clone();
    workers.every("blob-gc", COLLECT_BLOBS_EVERY, move || {
        let app = app.clone();
        async move {
            let r = app.collect_blobs(COLLECT_GRACE).await?;
            Ok::<_, passerelle_core::CoreError>(format!(
                "{} blob(s) deleted, {} partial, {} bytes freed",
                r.deleted, r.partials, r.bytes_freed
            ))
        }
    });
}

/// How often the indexer looks for changes no signal told it of (writes
/// made by another process, such as a CLI command beside the node).
pub const INDEX_POLL: Duration = Duration::from_secs(5);

/// Once woken, the indexer waits this long so that a burst of uploads
/// lands in one batch (one commit) rather than one commit each.
pub const INDEX_SETTLE: Duration = Duration::from_millis(300);

/// Retries of failed extractions taken per wake.
const RETRIES_PER_WAKE: u64 = 20;

/// Keeps the search index up to date (ADR 0006 §2, worker
/// `search-indexer`): woken by every write this node commits, and every
/// [`INDEX_POLL`] at the latest, it indexes until caught up, then retries
/// the extractions that are due. A failure (the index's disk, the
/// database) is reported as `retrying`, not `failing`: the node still
/// serves its documents while search catches up.
pub fn index_search(workers: &Workers, indexer: Indexer, app: &Passerelle) {
    let app = app.clone();
    workers.spawn("search-indexer", move |report, cancel| async move {
        loop {
            let seen = app.changes().current();
            match catch_up(&indexer, &cancel).await {
                Ok(detail) => report.ok(detail),
                Err(e) => {
                    tracing::warn!(error = %e, "search indexer: will try again");
                    report.retrying(e);
                }
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                () = app.changes().changed_since(seen) => {
                    tokio::time::sleep(INDEX_SETTLE).await;
                }
                () = tokio::time::sleep(INDEX_POLL) => {}
            }
        }
    });
}

/// Runs the indexer until it has caught up (or the node stops), then the
/// retries due; says what was done.
async fn catch_up(
    indexer: &Indexer,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<String, passerelle_core::CoreError> {
    let mut total = IndexRun::default();
    loop {
        let run = indexer.run().await?;
        total.indexed += run.indexed;
        total.removed += run.removed;
        total.extracted += run.extracted;
        total.dropped += run.dropped;
        if run.caught_up || cancel.is_cancelled() {
            break;
        }
    }
    let retried = indexer.retry_due(RETRIES_PER_WAKE).await?;
    Ok(format!(
        "{} document(s) indexed, {} removed, {} extracted, {} retried",
        total.indexed, total.removed, total.extracted, retried
    ))
}
