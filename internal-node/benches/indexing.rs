//! The real node indexing (issue 14): a release `passerelle-internal` on
//! its embedded defaults (SQLite, blobs and search index in its data
//! directory), plain-text documents uploaded through the API by concurrent
//! clients while its indexer follows the change feed, then the index
//! deleted (`search reindex`) and rebuilt from scratch. Its memory is
//! sampled from `/proc/<pid>/status` all along and printed beside the
//! issue's target (RSS < 300 MiB while indexing).
//!
//! `cargo bench -p passerelle-internal --bench indexing`
//! (`PASSERELLE_BENCH_DOCS`, default 20,000; `PASSERELLE_BENCH_CLIENTS`,
//! default 6). The node inherits the environment: run it with
//! `MALLOC_ARENA_MAX=2` to measure as the systemd units deploy it.

#[path = "support/node.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use passerelle_testing::memory::{Sampler, status_kib};
use passerelle_testing::prose::text;
use support::{cli, first_space, prepare, start};

const MIB: f64 = 1024.0 * 1024.0;
/// Issue 14's target for the node's resident memory while indexing.
const TARGET_MIB: f64 = 300.0;

/// The index's lag behind the feed, summed over spaces, from `/metrics`.
async fn lag(http: &reqwest::Client, base: &str) -> anyhow::Result<f64> {
    let body = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(body
        .lines()
        .filter(|l| l.starts_with("passerelle_search_index_lag_rows{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Waits until the index holds every row of the feed.
async fn caught_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    while lag(http, base).await? > 0.0 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The node's search index: the `search` folder of its data directory.
fn index_dir(root: &Path) -> Option<PathBuf> {
    let here = root.join("search");
    if here.join("meta.json").exists() {
        return Some(here);
    }
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_dir())
        .find_map(|e| index_dir(&e.path()))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let docs = env_usize("PASSERELLE_BENCH_DOCS", 20_000);
    let clients = env_usize("PASSERELLE_BENCH_CLIENTS", 6).max(1);
    let root = std::env::current_dir()?
        .join("target")
        .join("bench-indexing");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let dir = tempfile::tempdir_in(&root)?;
    let d = dir.path();
    let token = prepare(d, "bench")?;
    let auth = format!("Bearer {token}");
    let http = reqwest::Client::new();

    // Phase 1: uploads with the indexer running beside them, then its
    // catching up.
    let (server, base) = start(d)?;
    let pid = server.0.id();
    let space = first_space(&http, &base, &auth).await?;
    let sampler = Sampler::start(pid);
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, base, auth, space) = (http.clone(), base.clone(), auth.clone(), space.clone());
        tasks.spawn(async move {
            let mut bytes = 0u64;
            for i in (c..docs).step_by(clients) {
                let body = text(i);
                bytes += body.len() as u64;
                let r = http
                    .post(format!(
                        "{base}/api/v1/spaces/{space}/documents?name=doc-{i}.txt"
                    ))
                    .header("Authorization", &auth)
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "upload {i}: {}", r.status());
            }
            Ok(bytes)
        });
    }
    let mut corpus = 0u64;
    while let Some(done) = tasks.join_next().await {
        corpus += done??;
    }
    let uploads = t.elapsed();
    let lag_after_uploads = lag(&http, &base).await?;
    caught_up(&http, &base).await?;
    let live = t.elapsed();
    let live_peaks = sampler.stop()?;
    let live_hwm = support::peak_rss_kib(pid)?;
    drop(server);

    // Phase 2: the index deleted and rebuilt from the database and blobs.
    cli(d, &["search", "reindex"])?;
    let (server, base) = start(d)?;
    let pid = server.0.id();
    let sampler = Sampler::start(pid);
    let t = Instant::now();
    // The indexer may not have read the feed yet: wait for the lag first.
    while lag(&http, &base).await? == 0.0 && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    caught_up(&http, &base).await?;
    let rebuild = t.elapsed();
    let rebuild_peaks = sampler.stop()?;
    let rebuild_hwm = support::peak_rss_kib(pid)?;

    // A few searches over the whole index, through HTTP.
    let mut latencies = Vec::new();
    for q in [
        "piscine",
        "deliberations",
        "\"conseil municipal\"",
        "transp*",
        "voirie -travaux",
    ] {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/search"))
            .query(&[("q", q)])
            .header("Authorization", &auth)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "search {q}: {}", r.status());
        r.bytes().await?;
        latencies.push((q, t.elapsed()));
    }
    let now = |field| status_kib(pid, field).unwrap_or(0);
    let after_searches = (now("VmRSS:"), now("RssAnon:"), now("RssFile:"));
    drop(server);
    let index_bytes = index_dir(d).map_or(0, |p| dir_bytes(&p));

    let arena = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "glibc default".into());
    println!(
        "\nThe real node indexing: {docs} plain-text documents ({:.0} MiB), {clients} clients, MALLOC_ARENA_MAX={arena}",
        corpus as f64 / MIB
    );
    println!(
        "uploads through the API, indexer beside them: {:.1} s ({:.0} documents/s); index lag when they end: {lag_after_uploads:.0} feed rows",
        uploads.as_secs_f64(),
        docs as f64 / uploads.as_secs_f64()
    );
    println!(
        "caught up {:.1} s after the first upload",
        live.as_secs_f64()
    );
    println!(
        "rebuild from scratch after `search reindex`: {:.1} s, {:.0} documents/s, {:.1} MiB/s (extraction included, start-up included)",
        rebuild.as_secs_f64(),
        docs as f64 / rebuild.as_secs_f64(),
        corpus as f64 / MIB / rebuild.as_secs_f64()
    );
    println!(
        "index size: {:.0} MiB = {:.2} of the corpus",
        index_bytes as f64 / MIB,
        index_bytes as f64 / corpus.max(1) as f64
    );
    println!(
        "\n{:<34} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "peak memory (MiB)", "VmHWM", "VmRSS", "RssAnon", "RssFile", "target"
    );
    for (phase, p, hwm) in [
        ("uploads + catching up", live_peaks, live_hwm),
        ("rebuild from scratch", rebuild_peaks, rebuild_hwm),
    ] {
        println!(
            "{phase:<34} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>7.2}×",
            mib(hwm),
            mib(p.rss),
            mib(p.anon),
            mib(p.file),
            mib(hwm) / TARGET_MIB
        );
    }
    println!(
        "(peaks sampled every 0.2 s, each column its own; × = VmHWM ÷ the {TARGET_MIB:.0} MiB target)"
    );
    println!(
        "after the searches: VmRSS {:.0}, RssAnon {:.0}, RssFile {:.0} MiB",
        mib(after_searches.0),
        mib(after_searches.1),
        mib(after_searches.2)
    );
    for (q, t) in latencies {
        println!(
            "search {q:<24} {:>7.1} ms (first try, through HTTP)",
            t.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
