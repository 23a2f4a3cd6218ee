//! A node's background work, in one registry: each worker has a name and a
//! health (state, runs, last run, last error, next wake), is started with
//! the node and stopped with its cancellation token.
//!
//! This is a driving adapter: time drives core's use cases here as requests
//! do in the HTTP adapter. Periodic jobs (session sweeping, blob collection,
//! outbox pruning, later the search indexer) are [`Workers::every`];
//! long-running loops that report their own health (the replication links,
//! later hot-folder watchers) are [`Workers::spawn`] with a [`Report`].
//! What the registry knows is read through a [`Board`], which `/readyz` and
//! `status` show. The jobs both nodes run are in [`jobs`].

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use passerelle_core::ports::Clock;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where a worker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Registered, not run yet.
    Starting,
    /// Running a job (periodic) or up (long-running).
    Running,
    /// Waiting for its next run; the last one succeeded.
    Idle,
    /// The last run failed (or the loop reports a failure): see
    /// `last_error`. A periodic worker tries again at its next wake.
    Failing,
    /// A long-running worker waits for something outside this node (an
    /// edge unreachable) and retries on its own: listed with its error,
    /// but the node stays ready, since it serves its users meanwhile.
    Retrying,
    /// Stopped: the node is shutting down, or the loop ended.
    Stopped,
}

impl WorkerState {
    /// Every state, for gauges that give each one a label value.
    pub const ALL: [WorkerState; 6] = [
        WorkerState::Starting,
        WorkerState::Running,
        WorkerState::Idle,
        WorkerState::Failing,
        WorkerState::Retrying,
        WorkerState::Stopped,
    ];

    /// The state's name, as it is serialised (`/readyz`, metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerState::Starting => "starting",
            WorkerState::Running => "running",
            WorkerState::Idle => "idle",
            WorkerState::Failing => "failing",
            WorkerState::Retrying => "retrying",
            WorkerState::Stopped => "stopped",
        }
    }
}

/// What the registry knows of one worker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkerStatus {
    pub name: String,
    pub state: WorkerState,
    /// Runs finished, successful or not.
    pub runs: u64,
    /// When the last run ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_run: Option<OffsetDateTime>,
    /// What the last successful run said ("3 expired sessions deleted").
    pub detail: String,
    /// The last failure, kept after a later success (with `last_error_at`)
    /// so that an intermittent fault stays visible.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_error_at: Option<OffsetDateTime>,
    /// When it runs next (periodic workers).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_wake: Option<OffsetDateTime>,
}

impl WorkerStatus {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            state: WorkerState::Starting,
            runs: 0,
            last_run: None,
            detail: String::new(),
            last_error: None,
            last_error_at: None,
            next_wake: None,
        }
    }

    /// Failing now, or stopped while the node runs.
    pub fn is_healthy(&self) -> bool {
        !matches!(self.state, WorkerState::Failing | WorkerState::Stopped)
    }
}

/// A read handle on the registry's statuses, cheap to clone (the HTTP
/// adapter keeps one).
#[derive(Clone, Debug, Default)]
pub struct Board {
    workers: Arc<Mutex<BTreeMap<String, WorkerStatus>>>,
}

impl Board {
    /// Every worker, by name.
    pub fn statuses(&self) -> Vec<WorkerStatus> {
        self.lock().values().cloned().collect()
    }

    /// One worker, by name.
    pub fn status(&self, name: &str) -> Option<WorkerStatus> {
        self.lock().get(name).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, WorkerStatus>> {
        // Each update replaces fields whole: a panic elsewhere cannot leave
        // a status half-written.
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut WorkerStatus)) {
        let mut workers = self.lock();
        let status = workers
            .entry(name.to_owned())
            .or_insert_with(|| WorkerStatus::new(name));
        f(status);
    }
}

/// How a long-running worker tells the registry how it is.
#[derive(Clone, Debug)]
pub struct Report {
    name: String,
    board: Board,
    clock: Arc<dyn Clock>,
}

impl Report {
    /// Up and working; `detail` says how ("connected, 3 spaces").
    pub fn ok(&self, detail: impl Into<String>) {
        let (now, detail) = (self.clock.now(), detail.into());
        self.board.update(&self.name, |s| {
            s.state = WorkerState::Running;
            s.runs += 1;
            s.last_run = Some(now);
            s.detail = detail;
        });
    }

    /// Waiting for something outside the node (`why`), retrying on its
    /// own: the node stays ready ([`WorkerState::Retrying`]).
    pub fn retrying(&self, why: impl Display) {
        let now = self.clock.now();
        self.board.update(&self.name, |s| {
            s.state = WorkerState::Retrying;
            s.runs += 1;
            s.last_run = Some(now);
            s.last_error = Some(why.to_string());
            s.last_error_at = Some(now);
        });
    }

    /// Failing; it keeps trying (or the loop would have ended).
    pub fn failed(&self, error: impl Display) {
        let now = self.clock.now();
        self.board.update(&self.name, |s| {
            s.state = WorkerState::Failing;
            s.runs += 1;
            s.last_run = Some(now);
            s.last_error = Some(error.to_string());
            s.last_error_at = Some(now);
        });
    }
}

/// The registry: starts workers, records their health, stops them all.
#[derive(Debug)]
pub struct Workers {
    board: Board,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
    tasks: TaskTracker,
}

impl Workers {
    /// Workers stopped by `cancel` (the node's), timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>, cancel: CancellationToken) -> Self {
        Self {
            board: Board::default(),
            clock,
            cancel,
            tasks: TaskTracker::new(),
        }
    }

    /// The clock the workers' statuses are timed by.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// What the workers are doing.
    pub fn board(&self) -> Board {
        self.board.clone()
    }

    /// Runs `job` now, then every `period`, until the node stops. A run
    /// under way when it stops finishes first (jobs are short and
    /// transactional; cutting one would only waste it). A failed or
    /// panicking run is recorded and logged, and the job runs again at its
    /// next wake. `Ok` carries what the run did, for the status.
    pub fn every<F, Fut, E>(&self, name: &str, period: Duration, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, E>> + Send + 'static,
        E: Display,
    {
        let (name, board, clock, cancel) = self.parts(name);
        self.tasks.spawn(async move {
            let mut ticks = tokio::time::interval(period);
            // After a long run, wait a whole period: runs never pile up.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                // Both branches are cancel-safe: a token and a tick.
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => break,
                    _ = ticks.tick() => {}
                }
                board.update(&name, |s| s.state = WorkerState::Running);
                let outcome = AssertUnwindSafe(job()).catch_unwind().await;
                let now = clock.now();
                let next = now + period;
                match outcome {
                    Ok(Ok(detail)) => {
                        tracing::debug!(worker = %name, %detail, "worker run done");
                        board.update(&name, |s| {
                            s.state = WorkerState::Idle;
                            s.detail = detail;
                            s.runs += 1;
                            s.last_run = Some(now);
                            s.next_wake = Some(next);
                        });
                    }
                    Ok(Err(e)) => failed(&board, &name, now, next, e.to_string()),
                    Err(_) => failed(&board, &name, now, next, "the run panicked".into()),
                }
            }
            board.update(&name, |s| {
                s.state = WorkerState::Stopped;
                s.next_wake = None;
            });
        });
    }

    /// Runs a long-running worker until it returns; it watches `cancel`
    /// (the node's) itself and tells its health through the [`Report`].
    pub fn spawn<F, Fut>(&self, name: &str, worker: F)
    where
        F: FnOnce(Report, CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (name, board, clock, cancel) = self.parts(name);
        let report = Report {
            name: name.clone(),
            board: board.clone(),
            clock,
        };
        let run = worker(report, cancel);
        self.tasks.spawn(async move {
            let ended = AssertUnwindSafe(run).catch_unwind().await;
            board.update(&name, |s| {
                s.state = WorkerState::Stopped;
                if ended.is_err() {
                    tracing::error!(worker = %name, "worker panicked");
                    s.last_error = Some("the worker panicked".into());
                }
            });
        });
    }

    /// Stops every worker and waits for them (runs under way finish).
    pub async fn stop(&self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    fn parts(&self, name: &str) -> (String, Board, Arc<dyn Clock>, CancellationToken) {
        self.board.update(name, |_| {});
        (
            name.to_owned(),
            self.board.clone(),
            self.clock.clone(),
            self.cancel.clone(),
        )
    }
}

fn failed(board: &Board, name: &str, now: OffsetDateTime, next: OffsetDateTime, error: String) {
    tracing::warn!(worker = %name, %error, "worker run failed: tried again at its next wake");
    board.update(name, |s| {
        s.state = WorkerState::Failing;
        s.runs += 1;
        s.last_run = Some(now);
        s.last_error = Some(error);
        s.last_error_at = Some(now);
        s.next_wake = Some(next);
    });
}

pub mod jobs;

#[cfg(test)]
mod tests;
