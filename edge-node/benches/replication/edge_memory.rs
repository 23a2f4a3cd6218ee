//! The edge's memory while it receives and indexes a space (issue 14: the
//! node's RSS under 300 MiB while indexing; the edge runs the same index
//! as the internal node, on what it holds). A space shared with a real
//! edge, French prose documents (2–48 KiB) uploaded on the internal node by
//! 6 clients, the edge replicating them and its indexer following the
//! applied batches; the edge process's memory sampled all along, until it
//! has acknowledged the space's last revision and its index lag is zero.
//!
//! `PASSERELLE_BENCH_EDGE_MEMORY=<documents>` runs this part alone (the
//! rest of the replication bench does not run it: 20,000 documents take a
//! few minutes). The edge inherits the bench's environment: run it with
//! `MALLOC_ARENA_MAX=2` to measure it as the systemd units deploy it.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use passerelle_testing::memory::{Peaks, Sampler, peak_rss_kib};
use passerelle_testing::parse_openmetrics;
use passerelle_testing::prose::text;

use super::api::{caught_up, share, upload_internal};
use super::cluster::Cluster;
use super::support::{create_space, loadavg, wait_for};

/// Concurrent uploads on the internal node (as the indexing bench).
const CLIENTS: usize = 6;

/// Issue 14's target for a node's resident memory while indexing, MiB.
const TARGET_MIB: f64 = 300.0;

pub(crate) struct EdgeMemory {
    docs: usize,
    bytes: u64,
    /// From the first upload to the edge caught up and indexed.
    elapsed: Duration,
    peaks: Peaks,
    hwm_kib: u64,
    /// `MALLOC_ARENA_MAX` in the edge's own environment (the node sets it
    /// when started without it).
    arenas: String,
}

pub(crate) async fn edge_memory(docs: usize) -> anyhow::Result<EdgeMemory> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let space = create_space(&c, &http, "memoire-edge").await?;
    share(&c, &http, &space).await?;
    let pid = c.edge.as_ref().context("the edge runs")?.pid();
    println!(
        "edge memory: {docs} documents uploaded on the internal node, replicated and indexed on the edge… (load {})",
        loadavg()
    );
    let arenas = std::fs::read(format!("/proc/{pid}/environ"))?
        .split(|&b| b == 0)
        .find_map(|v| {
            v.strip_prefix(b"MALLOC_ARENA_MAX=")
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .unwrap_or_else(|| "unset (glibc's default)".into());
    let sampler = Sampler::start(pid);
    let t = Instant::now();
    let sizes: Vec<u64> = futures::stream::iter(0..docs)
        .map(|i| {
            let (c, http, space) = (&c, &http, &space);
            async move {
                let body = text(i);
                let n = body.len() as u64;
                upload_internal(c, http, space, &format!("doc-{i}.txt"), body).await?;
                anyhow::Ok(n)
            }
        })
        .buffer_unordered(CLIENTS)
        .try_collect()
        .await?;
    wait_for(
        "the edge caught up and its index with it",
        Duration::from_secs(1800),
        Duration::from_millis(250),
        || async {
            if !caught_up(&c, &http, &space).await? {
                return Ok(None);
            }
            Ok((edge_index_lag(&c, &http).await? == Some(0.0)).then_some(()))
        },
    )
    .await
    .map_err(|e| e.context(c.edge_log()))?;
    let elapsed = t.elapsed();
    let peaks = sampler.stop()?;
    Ok(EdgeMemory {
        docs,
        bytes: sizes.iter().sum(),
        elapsed,
        peaks,
        hwm_kib: peak_rss_kib(pid)?,
        arenas,
    })
}

/// The edge index's lag behind what the edge holds, summed over spaces;
/// `None` before the indexer has reported any.
async fn edge_index_lag(c: &Cluster, http: &reqwest::Client) -> anyhow::Result<Option<f64>> {
    let text = http
        .get(format!("{}/metrics", c.edge_http))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let lags: Vec<f64> = parse_openmetrics(&text)?
        .into_iter()
        .filter(|(name, _)| name.starts_with("passerelle_search_index_lag_rows{"))
        .map(|(_, v)| v)
        .collect();
    Ok((!lags.is_empty()).then(|| lags.iter().sum()))
}

pub(crate) fn edge_memory_report(m: &EdgeMemory) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let given = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "unset".into());
    format!(
        "\nThe edge receiving and indexing a space: {} documents ({:.0} MiB); MALLOC_ARENA_MAX given {given}, in the edge's environment {}\n\
         uploaded on the internal node by {CLIENTS} clients, replicated and indexed on the edge in {:.1} s ({:.0} documents/s)\n\
         {:<24} {:>9} {:>9} {:>9} {:>9} {:>8}\n\
         {:<24} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>7.2}×\n\
         (peaks sampled every 0.2 s, each column its own; × = VmHWM ÷ the {TARGET_MIB:.0} MiB target)",
        m.docs,
        m.bytes as f64 / 1024.0 / 1024.0,
        m.arenas,
        m.elapsed.as_secs_f64(),
        m.docs as f64 / m.elapsed.as_secs_f64(),
        "edge memory (MiB)",
        "VmHWM",
        "VmRSS",
        "RssAnon",
        "RssFile",
        "target",
        "replicating + indexing",
        mib(m.hwm_kib),
        mib(m.peaks.rss),
        mib(m.peaks.anon),
        mib(m.peaks.file),
        mib(m.hwm_kib) / TARGET_MIB,
    )
}
