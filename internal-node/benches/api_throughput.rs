//! Upload/download through the HTTP API vs raw disk writes, side by side.
//!
//! `cargo bench -p passerelle-internal --bench api_throughput`
//! (`PASSERELLE_BENCH_BIG_MIB=256` for a shorter run; default 1024 MiB).
//! Prints a table of throughputs and ratios, and the server's peak RSS after
//! small files and after the big file (it must not grow with file size).

#[path = "support/node.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;

use support::{first_space, peak_rss_kib, prepare, rss_kib, start};
const MIB: u64 = 1024 * 1024;
const SMALL: usize = 64 * 1024;
const SMALL_COUNT: usize = 1000;

fn chunk(i: u64) -> Bytes {
    // Distinct content per chunk so dedup cannot help.
    let mut v = vec![0u8; MIB as usize];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (j as u64).wrapping_mul(31).wrapping_add(i) as u8;
    }
    v[..8].copy_from_slice(&i.to_le_bytes());
    Bytes::from(v)
}

fn small(i: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..SMALL).map(|j| (j ^ i) as u8).collect();
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

fn raw_big(dir: &Path, mib: u64) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let mut f = std::fs::File::create(dir.join("raw-big"))?;
    for i in 0..mib {
        f.write_all(&chunk(i))?;
    }
    f.sync_all()?;
    let d = t.elapsed();
    std::fs::remove_file(dir.join("raw-big"))?;
    Ok(d)
}

fn raw_small(dir: &Path) -> anyhow::Result<Duration> {
    let sub = dir.join("raw-small");
    std::fs::create_dir_all(&sub)?;
    let t = Instant::now();
    for i in 0..SMALL_COUNT {
        let mut f = std::fs::File::create(sub.join(i.to_string()))?;
        f.write_all(&small(i))?;
        f.sync_all()?;
    }
    std::fs::File::open(&sub)?.sync_all()?;
    let d = t.elapsed();
    std::fs::remove_dir_all(&sub)?;
    Ok(d)
}

fn rate(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let big_mib: u64 = std::env::var("PASSERELLE_BENCH_BIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let root = std::env::current_dir()?.join("target").join("bench-api");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let dir = tempfile::tempdir_in(&root)?;
    let d = dir.path();

    // The raw reference runs before and after the API runs; the faster of
    // the two is kept (this VM's disk varies a lot between runs), which
    // makes the ratios conservative.
    let raw_big_1 = raw_big(d, big_mib)?;
    let raw_small_1 = raw_small(d)?;

    let token = prepare(d, "bench")?;
    let (server, base) = start(d)?;
    let pid = server.0.id();
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let space = first_space(&http, &base, &auth).await?;

    // 1,000 × 64 KiB, sequential.
    let t = Instant::now();
    let mut ids = Vec::with_capacity(SMALL_COUNT);
    for i in 0..SMALL_COUNT {
        let r = http
            .post(format!(
                "{base}/api/v1/spaces/{space}/documents?name=small-{i}.bin"
            ))
            .header("Authorization", &auth)
            .body(small(i))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "small upload {i}: {}", r.status());
        let v: serde_json::Value = r.json().await?;
        ids.push(v["document"]["id"].as_str().context("id")?.to_owned());
    }
    let up_small_t = t.elapsed();
    let t = Instant::now();
    for id in &ids {
        let r = http
            .get(format!("{base}/api/v1/documents/{id}/content"))
            .header("Authorization", &auth)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200);
        r.bytes().await?;
    }
    let down_small_t = t.elapsed();
    let rss_after_small = peak_rss_kib(pid)?;

    // One big file, streamed from a generator (never held in memory here either).
    let stream = futures::stream::iter((0..big_mib).map(|i| Ok::<_, std::io::Error>(chunk(i))));
    let t = Instant::now();
    let r = http
        .post(format!(
            "{base}/api/v1/spaces/{space}/documents?name=big.bin"
        ))
        .header("Authorization", &auth)
        .header("Content-Length", (big_mib * MIB).to_string())
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "big upload: {}", r.status());
    let up_big_t = t.elapsed();
    let v: serde_json::Value = r.json().await?;
    let big_id = v["document"]["id"].as_str().context("id")?.to_owned();
    let rss_after_big_up = peak_rss_kib(pid)?;
    let t = Instant::now();
    let mut r = http
        .get(format!("{base}/api/v1/documents/{big_id}/content"))
        .header("Authorization", &auth)
        .send()
        .await?;
    let mut got = 0u64;
    while let Some(c) = r.chunk().await? {
        got += c.len() as u64;
    }
    anyhow::ensure!(got == big_mib * MIB, "downloaded {got} bytes");
    let down_big_t = t.elapsed();
    let rss_after_big = peak_rss_kib(pid)?;
    let rss_now = rss_kib(pid)?;
    drop(server);
    let raw_big_t = raw_big_1.min(raw_big(d, big_mib)?);
    let raw_small_t = raw_small_1.min(raw_small(d)?);

    let big_bytes = big_mib * MIB;
    let small_bytes = (SMALL * SMALL_COUNT) as u64;
    println!(
        "\nPasserelle API throughput vs raw disk (same run, same disk: {})",
        root.display()
    );
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "workload", "API MiB/s", "raw MiB/s", "ratio"
    );
    let row = |name: &str, api: f64, raw: f64| {
        println!(
            "{name:<44} {api:>12.1} {raw:>12.1} {:>7.0}%",
            api / raw * 100.0
        )
    };
    row(
        &format!("upload 1 × {big_mib} MiB (vs write+fsync)"),
        rate(big_bytes, up_big_t),
        rate(big_bytes, raw_big_t),
    );
    row(
        &format!("download 1 × {big_mib} MiB (vs write+fsync)"),
        rate(big_bytes, down_big_t),
        rate(big_bytes, raw_big_t),
    );
    row(
        "upload 1000 × 64 KiB (vs 1000 write+fsync)",
        rate(small_bytes, up_small_t),
        rate(small_bytes, raw_small_t),
    );
    row(
        "download 1000 × 64 KiB (vs 1000 write+fsync)",
        rate(small_bytes, down_small_t),
        rate(small_bytes, raw_small_t),
    );
    println!(
        "uploads per second, 64 KiB: API {:.0}/s, raw {:.0}/s",
        SMALL_COUNT as f64 / up_small_t.as_secs_f64(),
        SMALL_COUNT as f64 / raw_small_t.as_secs_f64()
    );
    println!(
        "server peak RSS: {:.1} MiB after 1000 small files, {:.1} MiB after the {big_mib} MiB upload, {:.1} MiB after its download (current {:.1} MiB)",
        rss_after_small as f64 / 1024.0,
        rss_after_big_up as f64 / 1024.0,
        rss_after_big as f64 / 1024.0,
        rss_now as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
