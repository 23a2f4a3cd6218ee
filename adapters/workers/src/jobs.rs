//! The periodic jobs of the nodes, each a core use case run by a worker:
//! written once here, registered by each node that needs it.

use std::time::Duration;

use passerelle_core::{EdgeApp, Passerelle};

use crate::Workers;

/// How often expired sessions are deleted. A session past its expiry is
/// already refused; deleting it only keeps the table small, so a few
/// minutes late is nothing.
pub const SWEEP_SESSIONS_EVERY: Duration = Duration::from_secs(300);

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
