//! The index's own threads: one that writes and a small pool that searches,
//! fed by bounded channels and answering through oneshots.
//!
//! Why not tokio's blocking pool: since the index's files are read with
//! `pread` into heap buffers (`directory`), every tantivy call allocates
//! megabytes on the thread that runs it. On the blocking pool that is any
//! of dozens of threads, and glibc gives each busy thread an arena of its
//! own (up to eight per core) that keeps the pages it freed: the node
//! peaked at 497 MiB while indexing with glibc's default arenas, against
//! 178 MiB with `MALLOC_ARENA_MAX=2` (docs/benchmarks.md). `unsafe_code` is
//! forbidden, so `mallopt` is out; the index's calls instead stay on the
//! same few threads, whose arenas are reused from one call to the next.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use passerelle_core::search::IndexError;
use tokio::sync::{mpsc, oneshot};

/// Work for a lane: a closure over the state its threads share.
type Job<S> = Box<dyn FnOnce(&S) + Send>;

/// Jobs waiting for a lane's threads. A search waits here rather than
/// starting a thread of its own: the queue, not the allocator, absorbs
/// bursts.
const QUEUED_JOBS: usize = 64;

/// A lane's threads are gone (one panicked, or the index is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the search index's {0} thread stopped")]
pub(crate) struct LaneStopped(&'static str);

/// A fixed set of named threads running the jobs of one channel, in the
/// order they were sent (a single thread runs them one after the other).
pub(crate) struct Lane<S> {
    name: &'static str,
    /// Closed on drop, which ends the threads once the queue is empty.
    jobs: Option<mpsc::Sender<Job<S>>>,
    threads: Vec<JoinHandle<()>>,
}

impl<S: Send + Sync + 'static> Lane<S> {
    /// Starts `count` threads named `passerelle-<name>-<n>` over `state`.
    ///
    /// # Errors
    /// `Engine` when the system refuses a thread.
    pub(crate) fn start(
        name: &'static str,
        count: usize,
        state: Arc<S>,
    ) -> Result<Self, IndexError> {
        let (sender, receiver) = mpsc::channel::<Job<S>>(QUEUED_JOBS);
        // The threads take turns at the one receiver: whoever holds the lock
        // waits for the next job, the others wait for the lock.
        let receiver = Arc::new(Mutex::new(receiver));
        let mut lane = Lane {
            name,
            jobs: Some(sender),
            threads: Vec::with_capacity(count),
        };
        for n in 0..count.max(1) {
            let receiver = Arc::clone(&receiver);
            let state = Arc::clone(&state);
            let thread = std::thread::Builder::new()
                .name(format!("passerelle-{name}-{n}"))
                .spawn(move || run(&receiver, &state))
                .map_err(|e| IndexError::Engine(Box::new(e)))?;
            lane.threads.push(thread);
        }
        Ok(lane)
    }

    /// Runs `work` on one of the lane's threads and waits for its answer.
    /// Cancel-safe in the sense that matters: dropped while queued or
    /// running, the job still runs to its end, and its answer is dropped.
    ///
    /// # Errors
    /// Those of `work`, and `Engine` when the lane's threads are gone.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&S) -> Result<T, IndexError> + Send + 'static,
    {
        let stopped = || IndexError::Engine(Box::new(LaneStopped(self.name)));
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        let (answer, answered) = oneshot::channel();
        let job: Job<S> = Box::new(move |state| {
            // The caller may have gone: nobody to tell.
            let _ = answer.send(work(state));
        });
        jobs.send(job).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// A lane thread's loop: jobs until the channel closes.
fn run<S>(receiver: &Mutex<mpsc::Receiver<Job<S>>>, state: &S) {
    loop {
        // A poisoned lock only means another thread of the lane panicked
        // while waiting, which leaves the receiver itself sound.
        let next = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocking_recv();
        match next {
            Some(job) => job(state),
            None => return,
        }
    }
}

impl<S> Drop for Lane<S> {
    /// Closes the queue and waits for the threads: when the index is
    /// dropped, its writer (and the directory's lock) is released before
    /// this returns, so the same directory can be opened again at once, as
    /// when tantivy's writer was dropped in place.
    fn drop(&mut self) {
        self.jobs.take();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!(lane = self.name, "a search index thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn jobs_run_on_the_lanes_own_threads_only() {
        let lane = Arc::new(Lane::start("probe", 2, Arc::new(())).expect("threads start"));
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..200 {
            let lane = Arc::clone(&lane);
            calls.spawn(async move {
                lane.run(|()| {
                    // Long enough that calls overlap.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    Ok(std::thread::current().name().map(str::to_owned))
                })
                .await
            });
        }
        let mut names = BTreeSet::new();
        while let Some(answer) = calls.join_next().await {
            names.insert(answer.expect("task ends").expect("job answers"));
        }
        let expected: BTreeSet<_> = ["passerelle-probe-0", "passerelle-probe-1"]
            .into_iter()
            .map(|n| Some(n.to_owned()))
            .collect();
        assert!(names.is_subset(&expected), "jobs ran on {names:?}");
    }

    #[tokio::test]
    async fn a_job_s_error_comes_back_to_its_caller() {
        let lane = Lane::start("probe", 1, Arc::new(7_u32)).expect("threads start");
        let seven = lane.run(|n| Ok(*n)).await.expect("answers");
        assert_eq!(seven, 7);
        let failed = lane
            .run(|_| -> Result<(), IndexError> {
                Err(IndexError::Engine(Box::new(LaneStopped("probe"))))
            })
            .await;
        assert!(failed.is_err());
    }

    #[test]
    fn dropping_the_lane_drops_its_state_before_returning() {
        let state = Arc::new(());
        let lane = Lane::start("probe", 2, Arc::clone(&state)).expect("threads start");
        assert_eq!(Arc::strong_count(&state), 3);
        drop(lane);
        assert_eq!(Arc::strong_count(&state), 1);
    }
}
