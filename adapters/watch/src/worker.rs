//! The long-running worker of one drop folder: passes at start, at every
//! rescan, early when notify sees a change, and after a backoff while the
//! ingestion asks to retry; its health on the registry's board.

use std::sync::Arc;
use std::time::Duration;

use notify::{Config, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use passerelle_core::ports::Clock;
use passerelle_workers::{Report, Workers};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::layout::blocking;
use crate::{DropFolder, Ingest, PassSummary, Scanner, WatchMode};

/// The first wait after a `Retry`, doubled at each further one.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait after a `Retry`: an outage is noticed over within it.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// After an event, how long to let the burst it belongs to pass: a file
/// being copied raises an event per write, and each pass lists the folder.
const EVENT_GAP: Duration = Duration::from_millis(250);

/// Registers the worker `watch:<name>` of `folder` on `workers`: it files
/// through `ingest` until the node's cancellation token is cancelled
/// (a file under way is settled first).
///
/// Its status says `"12 classés, 1 refusé, 3 en attente"` (totals since
/// start, files waiting now); `retrying` while the ingestion asks to
/// retry; `failing` while the folder is missing or unreadable, tried
/// again at each rescan.
pub fn spawn(workers: &Workers, folder: DropFolder, ingest: Arc<dyn Ingest>) {
    let clock = workers.clock();
    let name = format!("watch:{}", folder.name);
    // A zero period from a configuration would spin on the folder.
    let folder = DropFolder {
        rescan: folder.rescan.max(EVENT_GAP),
        ..folder
    };
    workers.spawn(&name, move |report, cancel| {
        run(folder, ingest, clock, report, cancel)
    });
}

/// What the loop waits for after a pass.
enum Wait {
    /// A change (notify) or this long, whichever comes first.
    Change(Duration),
    /// This long, whatever changes: the ingestion asked to retry, and
    /// waking on every new file would defeat the backoff.
    Backoff(Duration),
}

async fn run(
    folder: DropFolder,
    ingest: Arc<dyn Ingest>,
    clock: Arc<dyn Clock>,
    report: Report,
    cancel: CancellationToken,
) {
    // Capacity 1: an event only means "look again", and one pending
    // wake says that for any number of events.
    let (wake_tx, mut wake) = mpsc::channel::<()>(1);
    // Kept alive for the loop's life: dropping it stops the events.
    let mut watcher: Option<Box<dyn Watcher + Send>> = None;
    let mut scanner = Scanner::new(folder.clone());
    let mut totals = Totals::default();
    let mut backoff: Option<Duration> = None;
    loop {
        if watcher.is_none() {
            watcher = start_watcher(&folder, wake_tx.clone()).await;
        }
        let pass = scanner.pass_until(&*ingest, clock.now(), &cancel).await;
        if cancel.is_cancelled() {
            break;
        }
        let wait = match pass {
            Ok(summary) => after_pass(&folder, &report, &mut totals, &mut backoff, &summary),
            Err(error) => {
                tracing::warn!(folder = %folder.name, path = %folder.path.display(), %error,
                    "drop folder unreadable: tried again at the next rescan");
                report.failed(format!(
                    "dossier de dépôt {} illisible : {error}",
                    folder.path.display()
                ));
                // The folder may come back as a new directory (a mount
                // restored): watch it afresh then.
                watcher = None;
                Wait::Change(folder.rescan)
            }
        };
        // Every branch is cancel-safe: a token, a timer, a channel receive.
        match wait {
            Wait::Backoff(delay) => tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            },
            Wait::Change(delay) => tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = wake.recv() => {
                    tokio::select! {
                        biased;
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(EVENT_GAP) => {}
                    }
                    while wake.try_recv().is_ok() {}
                }
                () = tokio::time::sleep(delay) => {}
            },
        }
    }
    tracing::debug!(folder = %folder.name, "drop folder worker stopped");
}

/// Reports a pass and says how long to wait before the next.
fn after_pass(
    folder: &DropFolder,
    report: &Report,
    totals: &mut Totals,
    backoff: &mut Option<Duration>,
    summary: &PassSummary,
) -> Wait {
    totals.filed += summary.filed;
    totals.refused += summary.refused;
    if let Some(error) = &summary.retry {
        let delay = backoff.map_or(FIRST_BACKOFF, |d| (d * 2).min(MAX_BACKOFF));
        *backoff = Some(delay);
        report.retrying(format!("{error} (nouvel essai dans {} s)", delay.as_secs()));
        return Wait::Backoff(delay);
    }
    *backoff = None;
    report.ok(totals.detail(summary.waiting));
    // A file waiting to be stable raises no event once its writer is done:
    // come back when it may be.
    let next = summary
        .next_check
        .map_or(folder.rescan, |n| n.min(folder.rescan));
    Wait::Change(next)
}

/// Files settled since the worker started.
#[derive(Debug, Default)]
struct Totals {
    filed: u64,
    refused: u64,
}

impl Totals {
    /// `12 classés, 1 refusé, 3 en attente` (French puts 0 and 1 in the
    /// singular).
    fn detail(&self, waiting: u64) -> String {
        let plural = |n: u64| if n > 1 { "s" } else { "" };
        format!(
            "{} classé{}, {} refusé{}, {waiting} en attente",
            self.filed,
            plural(self.filed),
            self.refused,
            plural(self.refused),
        )
    }
}

/// Watches the drop folder (not its subdirectories: `traite/` only grows,
/// and a bundle being written is judged by the rescans). `None` if it
/// cannot: the rescans alone then find the files, and watching is tried
/// again after the next failed pass.
async fn start_watcher(
    folder: &DropFolder,
    wake: mpsc::Sender<()>,
) -> Option<Box<dyn Watcher + Send>> {
    let (mode, path) = (folder.mode, folder.path.clone());
    // PollWatcher scans the folder when it starts watching: off the runtime.
    let started = blocking(move || {
        let handler = move |_event: notify::Result<notify::Event>| {
            // Full: a wake is pending already. An error event (an inotify
            // overflow) wakes too: a pass is the answer to lost events.
            let _ = wake.try_send(());
        };
        let mut watcher: Box<dyn Watcher + Send> = match mode {
            WatchMode::Inotify => Box::new(
                RecommendedWatcher::new(handler, Config::default())
                    .map_err(std::io::Error::other)?,
            ),
            WatchMode::Poll { interval } => Box::new(
                PollWatcher::new(
                    handler,
                    Config::default()
                        .with_poll_interval(interval)
                        .with_follow_symlinks(false),
                )
                .map_err(std::io::Error::other)?,
            ),
        };
        watcher
            .watch(&path, RecursiveMode::NonRecursive)
            .map_err(std::io::Error::other)?;
        Ok(watcher)
    })
    .await;
    match started {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(folder = %folder.name, %error, "cannot watch the drop folder: rescans only");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_speaks_french_plurals() {
        let totals = Totals {
            filed: 12,
            refused: 1,
        };
        assert_eq!(totals.detail(3), "12 classés, 1 refusé, 3 en attente");
        assert_eq!(
            Totals::default().detail(0),
            "0 classé, 0 refusé, 0 en attente"
        );
    }
}
