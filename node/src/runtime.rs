//! The async runtime of both node binaries, built in one place so that its
//! bounds cannot drift apart, and glibc's malloc arenas bounded however
//! the node is started.

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

/// glibc's malloc arenas a node runs with. glibc's default is eight per
/// core, and each thread that allocates may get one and keep the pages it
/// freed: the internal node indexing 20,000 documents peaked at 497 MiB
/// with the default and 178 MiB with two (docs/benchmarks.md, issue 14).
/// The systemd units set `MALLOC_ARENA_MAX=2`; [`bound_malloc_arenas`]
/// sets it for a node started any other way.
pub const MALLOC_ARENA_MAX: &str = "2";

/// When `MALLOC_ARENA_MAX` is not set, executes this same program again,
/// with the same arguments and that variable set to [`MALLOC_ARENA_MAX`]:
/// glibc reads it once, before `main`, so setting it in-process would come
/// too late (and `mallopt` would need the unsafe code the workspace
/// forbids). `exec` keeps the process id, so a supervisor or a test sees
/// one process. Returns only when nothing was done (the variable set: by
/// the unit, by the operator to another value, or by the first run) or
/// the `exec` failed (the node then runs with glibc's default, and the
/// caller says so). Call it first thing in `main`, before any thread.
pub fn bound_malloc_arenas() -> Option<io::Error> {
    use std::os::unix::process::CommandExt;
    if !cfg!(target_env = "gnu") || std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Some(e),
    };
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        again.arg0(arg0);
    }
    Some(
        again
            .args(args)
            .env("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)
            .exec(),
    )
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
