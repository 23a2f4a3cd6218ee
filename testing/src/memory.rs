//! A process's memory as benches report it, from `/proc/<pid>/status`: one
//! field now (`VmHWM`, the peak resident set the kernel keeps), and the
//! peaks of `VmRSS`, `RssAnon` and `RssFile` sampled over a phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

/// One field of the process's status, in KiB (`"VmHWM:"`, `"VmRSS:"`…).
pub fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{field} of {pid}"))
}

/// Peak resident memory of a process so far, in KiB.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// Peaks of a process's memory over a phase, in KiB, each its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Peaks {
    pub rss: u64,
    pub anon: u64,
    pub file: u64,
}

/// Samples a process's memory every 0.2 s on a thread of its own, until
/// [`Sampler::stop`].
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Peaks>,
}

impl Sampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let until = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut p = Peaks::default();
            while !until.load(Ordering::Relaxed) {
                let field = |name| status_kib(pid, name).unwrap_or(0);
                p.rss = p.rss.max(field("VmRSS:"));
                p.anon = p.anon.max(field("RssAnon:"));
                p.file = p.file.max(field("RssFile:"));
                std::thread::sleep(Duration::from_millis(200));
            }
            p
        });
        Self { stop, thread }
    }

    /// The peaks seen since [`Sampler::start`].
    pub fn stop(self) -> anyhow::Result<Peaks> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the memory sampler panicked"))
    }
}
