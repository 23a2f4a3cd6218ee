//! The async runtime of both node binaries, built in one place so that its
//! bounds cannot drift apart.

use std::io;

use tokio::runtime::{Builder, Runtime};

/// Threads of tokio's blocking pool (its default is 512). The pool runs
/// `tokio::fs` (every blob chunk written or read), content hashing and
/// extraction; each of its threads that allocates gets a glibc arena of
/// its own, up to eight per core, and keeps what it freed. With the
/// default pool and glibc's default arenas the node indexing 10,000
/// documents while 6 clients upload peaked at 337 MiB (VmHWM, debug
/// build); with four threads, 179 MiB, the uploads no slower
/// (docs/benchmarks.md). Four keep both cores busy with file I/O while one
/// thread extracts a document; work past them queues.
pub const BLOCKING_THREADS: usize = 4;

/// The multi-threaded runtime a node runs on.
///
/// # Errors
/// The system refused a thread or an I/O driver.
pub fn runtime() -> io::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    #[test]
    fn blocking_work_runs_on_at_most_the_bounded_threads() {
        let runtime = runtime().expect("runtime");
        let seen = Arc::new(Mutex::new(HashSet::new()));
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..32 {
                let seen = Arc::clone(&seen);
                tasks.push(tokio::task::spawn_blocking(move || {
                    // Long enough that, unbounded, each task gets a thread.
                    std::thread::sleep(Duration::from_millis(20));
                    seen.lock()
                        .expect("not poisoned")
                        .insert(std::thread::current().id());
                }));
            }
            for task in tasks {
                task.await.expect("task ends");
            }
        });
        let threads = seen.lock().expect("not poisoned").len();
        assert!(
            (1..=BLOCKING_THREADS).contains(&threads),
            "{threads} blocking threads"
        );
    }
}
