//! Contractors' uploads edge → internal with and without the antivirus
//! (ADR 0010), side by side in one run: 1,000 × 64 KiB documents queued on
//! the edge while the internal node is stopped, timed from its start to the
//! first internal listing that holds all of them; without `[antivirus]`,
//! then with a real clamd (`passerelle_testing::clamd`, Unix socket),
//! rounds in the order off, on, on, off so that a drift of the machine
//! weighs on both alike; the faster round of each is kept, and with
//! `PASSERELLE_BENCH_SCAN_CYCLES=N` (default 1) that order runs N times and
//! the medians are given too (rounds on two shared cores spread by ±20 %). clamd is handed
//! each stored file by descriptor, as the node does by default;
//! `PASSERELLE_BENCH_SCAN_STREAM=1` streams the bytes instead (INSTREAM,
//! `fd_passing = false`), to compare the two.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use passerelle_testing::clamd;

use super::api::{contractor, internal_total, upload_edge};
use super::cluster::Cluster;
use super::data::small;
use super::support::{create_space, loadavg, replication, wait_for};
use super::{SMALL, SMALL_COUNT};

/// Uploads queued on the edge at once.
const IN_FLIGHT: usize = 8;

/// The drains of each mode, fastest first.
pub(crate) struct ScanFigures {
    pub(crate) off: Vec<Duration>,
    pub(crate) on: Vec<Duration>,
}

impl ScanFigures {
    pub(crate) fn best(rounds: &[Duration]) -> Duration {
        rounds.first().copied().unwrap_or(Duration::MAX)
    }

    pub(crate) fn median(rounds: &[Duration]) -> Duration {
        let n = rounds.len();
        match n {
            0 => Duration::MAX,
            _ if n % 2 == 1 => rounds[n / 2],
            _ => (rounds[n / 2 - 1] + rounds[n / 2]) / 2,
        }
    }
}

pub(crate) async fn scan_side_by_side() -> anyhow::Result<ScanFigures> {
    let cycles: usize = std::env::var("PASSERELLE_BENCH_SCAN_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let order = [false, true, true, false];
    for scanning in order.into_iter().cycle().take(order.len() * cycles.max(1)) {
        println!(
            "edge → internal, {SMALL_COUNT} × {} KiB, antivirus {}… (load {})",
            SMALL / 1024,
            if scanning { "on" } else { "off" },
            loadavg()
        );
        let d = round(scanning).await?;
        println!("  {:.2} s", d.as_secs_f64());
        if scanning { &mut on } else { &mut off }.push(d);
    }
    off.sort();
    on.sort();
    Ok(ScanFigures { off, on })
}

/// One drain, on a fresh pair of nodes (and a fresh clamd when scanning).
async fn round(scanning: bool) -> anyhow::Result<Duration> {
    // Above every document: none is refused as unscannable.
    let av = if scanning {
        let limit = (SMALL as u64) * 4;
        Some(
            tokio::task::block_in_place(|| clamd::start_unix(limit))?
                .context("clamd is not installed")?,
        )
    } else {
        None
    };
    let toml = av.as_ref().map_or(String::new(), |av| {
        format!(
            "[antivirus]\nclamd = \"unix:{}\"\nmax_stream_bytes = {}\nfd_passing = {}\n",
            av.unix.display(),
            av.max_stream_bytes,
            std::env::var_os("PASSERELLE_BENCH_SCAN_STREAM").is_none()
        )
    });
    let mut c = Cluster::start_internal_with(&toml).await?;
    let http = reqwest::Client::new();
    let space = create_space(&c, &http, "depot-analyse").await?;
    let who = contractor(&c, &http, &space).await?;
    c.stop_internal()?;
    futures::stream::iter(0..SMALL_COUNT)
        .map(|i| {
            let (who, http, space) = (&who, &http, &space);
            async move { upload_edge(who, http, space, &format!("doc-{i:04}.bin"), small(i)).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let t = Instant::now();
    c.start_internal()?;
    let ready = t.elapsed();
    wait_for(
        "every contractor upload on the internal node",
        Duration::from_secs(600),
        Duration::from_millis(100),
        || async {
            let n = internal_total(&c, &http, &space).await?;
            if n == SMALL_COUNT as u64 {
                return Ok(Some(()));
            }
            let v = replication(&c, &http, &space).await?;
            if let Some(q) = v["quarantine"].as_array().filter(|q| !q.is_empty()) {
                bail!("{} operation(s) refused: {}", q.len(), q[0]);
            }
            Ok(None)
        },
    )
    .await
    .map_err(|e| e.context(c.internal_log()))?;
    let elapsed = t.elapsed();
    println!(
        "  (of which the internal node's start: {:.2} s)",
        ready.as_secs_f64()
    );
    if let Some(av) = &av {
        let status = replication(&c, &http, &space).await?;
        ensure!(
            status["antivirus"]["reachable"] == true,
            "the antivirus was not used: {status}\n{}",
            av.log()
        );
    }
    Ok(elapsed)
}
