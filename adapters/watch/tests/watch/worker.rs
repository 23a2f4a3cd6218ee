//! The spawned worker end to end, on the real clock and file system: a
//! dropped file reaches `traite/` in both watch modes, the board shows the
//! counts, a missing folder is reported then recovered from, a retry is
//! reported, and cancelling stops the worker.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;
use passerelle_core::ports::SystemClock;
use passerelle_testing::eventually;
use passerelle_watch::{DropFolder, Ingested, WatchMode};
use passerelle_workers::{Board, WorkerState, WorkerStatus, Workers};
use tokio_util::sync::CancellationToken;

use crate::support::*;

fn quick(path: &Path, mode: WatchMode) -> DropFolder {
    DropFolder {
        // Long: only events, and the wait for stability, may find the file.
        rescan: Duration::from_secs(600),
        stable_for: Duration::from_millis(200),
        mode,
        ..folder(path)
    }
}

fn status(board: &Board) -> anyhow::Result<WorkerStatus> {
    board
        .status("watch:essai")
        .ok_or_else(|| anyhow::anyhow!("not registered"))
}

/// Drops a file as applications do (a temporary name, then renamed) and
/// waits for it in `traite/`.
async fn dropped_file_is_filed(mode: WatchMode) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let drop = dir.path().to_owned();
    let workers = Workers::new(Arc::new(SystemClock), CancellationToken::new());
    let ingest = Arc::new(Recorder::default());
    passerelle_watch::spawn(&workers, quick(&drop, mode), ingest.clone());
    let board = workers.board();
    eventually("the first pass", || async {
        let s = status(&board)?;
        ensure!(s.state == WorkerState::Running, "{s:?}");
        Ok(())
    })
    .await?;

    write(&drop, "flux.xml.tmp", b"<PES/>");
    fs::rename(drop.join("flux.xml.tmp"), drop.join("flux.xml"))?;
    eventually("the file in traite", || async {
        let filed = fs::read_dir(drop.join("traite"))?
            .filter_map(Result::ok)
            .any(|day| day.path().join("flux.xml.recu.json").is_file());
        ensure!(filed, "not filed: drop holds {:?}", dropped(&drop));
        Ok(())
    })
    .await?;
    eventually("the counts on the board", || async {
        let s = status(&board)?;
        ensure!(s.detail == "1 classé, 0 refusé, 0 en attente", "{s:?}");
        Ok(())
    })
    .await?;
    assert_eq!(ingest.names(), ["flux.xml"]);

    tokio::time::timeout(Duration::from_secs(10), workers.stop()).await?;
    assert_eq!(status(&board)?.state, WorkerState::Stopped);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inotify_mode_files_a_dropped_file_and_stops_when_cancelled() -> anyhow::Result<()> {
    dropped_file_is_filed(WatchMode::Inotify).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_mode_files_a_dropped_file_and_stops_when_cancelled() -> anyhow::Result<()> {
    dropped_file_is_filed(WatchMode::Poll {
        interval: Duration::from_millis(100),
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_folder_is_reported_failing_then_watched_once_it_exists() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let drop = dir.path().join("montage");
    let workers = Workers::new(Arc::new(SystemClock), CancellationToken::new());
    let ingest = Arc::new(Recorder::default());
    let folder = DropFolder {
        rescan: Duration::from_millis(200),
        ..quick(&drop, WatchMode::Inotify)
    };
    passerelle_watch::spawn(&workers, folder, ingest.clone());
    let board = workers.board();
    eventually("a failure for the missing folder", || async {
        let s = status(&board)?;
        ensure!(s.state == WorkerState::Failing, "{s:?}");
        ensure!(
            s.last_error
                .as_deref()
                .is_some_and(|e| e.contains("montage")),
            "{s:?}"
        );
        Ok(())
    })
    .await?;
    assert!(!drop.exists(), "the drop folder itself is never created");

    fs::create_dir(&drop)?;
    write(&drop, "a.xml", b"a");
    write(&drop, "a.xml.ok", b"");
    eventually("the file filed once the folder is there", || async {
        let s = status(&board)?;
        ensure!(s.state == WorkerState::Running, "{s:?}");
        ensure!(ingest.names() == ["a.xml"], "{:?}", ingest.names());
        Ok(())
    })
    .await?;
    workers.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_reported_then_the_file_is_filed_after_the_backoff() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let drop = dir.path().to_owned();
    let workers = Workers::new(Arc::new(SystemClock), CancellationToken::new());
    let ingest = Arc::new(Recorder::answering([Ingested::Retry {
        error: "base de données injoignable".into(),
    }]));
    write(&drop, "a.xml", b"a");
    write(&drop, "a.xml.ok", b"");
    passerelle_watch::spawn(&workers, quick(&drop, WatchMode::Inotify), ingest.clone());
    let board = workers.board();
    eventually("the retry on the board", || async {
        let s = status(&board)?;
        ensure!(s.state == WorkerState::Retrying, "{s:?}");
        Ok(())
    })
    .await?;
    eventually("the file filed after the backoff", || async {
        let s = status(&board)?;
        ensure!(s.detail == "1 classé, 0 refusé, 0 en attente", "{s:?}");
        Ok(())
    })
    .await?;
    let s = status(&board)?;
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("a.xml : base de données injoignable")),
        "{s:?}"
    );
    assert_eq!(ingest.names(), ["a.xml", "a.xml"]);
    workers.stop().await;
    Ok(())
}
