//! Throughput of `FsBlobStore` against the raw disk, side by side.
//!
//! `cargo bench -p passerelle-blobs --bench throughput` (release build).
//! Alternates a raw sequential write (1 MiB `write`s then `fsync`, what `dd
//! conv=fsync` does) and a `put` of the same amount of content, several
//! times, because a virtual disk's speed drifts from one second to the next;
//! prints each pair, the median ratio and the ratio of the fastest runs.
//! DESIGN §6 asks for ≥ 70 %.
//! Reads are from the page cache unless `PASSERELLE_BENCH_COLD=1`.
//! `PASSERELLE_BENCH_MIB` sets the size (default 1024), `PASSERELLE_BENCH_DIR`
//! the directory (default: a temp dir, which must be on the disk measured).

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use passerelle_blobs::FsBlobStore;
use passerelle_blobs::contract::{hash_stream, pattern};
use passerelle_core::blob::{BlobStore, ByteStream};

const MIB: usize = 1 << 20;
/// Chunk size of the simulated upload: what an HTTP body tends to yield.
const NETWORK_CHUNK: usize = 64 * 1024;
const ROUNDS: usize = 7;

fn main() -> anyhow::Result<()> {
    let mib: usize = std::env::var("PASSERELLE_BENCH_MIB")
        .ok()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(1024);
    let dir = match std::env::var_os("PASSERELLE_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let store = FsBlobStore::open(dir.path().join("store"))?;
    let block = Bytes::from(pattern(MIB, 42));

    let started = Instant::now();
    runtime.block_on(hash_stream(upload(&block, mib, 0)))?;
    println!("hashing alone: {}", rate(mib, started.elapsed()));

    let mut write_ratios = Vec::new();
    let mut read_ratios = Vec::new();
    // Fastest of each, in seconds: raw write, put, raw read, get.
    let mut best = [f64::INFINITY; 4];
    for round in 0..ROUNDS {
        // Alternate which goes first: the disk may still be busy with the
        // previous writer's data.
        let (raw_write, raw_read, put, get) = if round % 2 == 0 {
            let (raw_write, raw_read) = raw_round(dir.path(), &block, mib)?;
            let (put, get) = runtime.block_on(store_round(&store, &block, mib, round))?;
            (raw_write, raw_read, put, get)
        } else {
            let (put, get) = runtime.block_on(store_round(&store, &block, mib, round))?;
            let (raw_write, raw_read) = raw_round(dir.path(), &block, mib)?;
            (raw_write, raw_read, put, get)
        };
        let write_ratio = raw_write.as_secs_f64() / put.as_secs_f64();
        let read_ratio = raw_read.as_secs_f64() / get.as_secs_f64();
        println!(
            "round {round}: write raw {} / put {} = {:.0} %   read raw {} / get {} = {:.0} %",
            rate(mib, raw_write),
            rate(mib, put),
            100.0 * write_ratio,
            rate(mib, raw_read),
            rate(mib, get),
            100.0 * read_ratio,
        );
        for (best, time) in best.iter_mut().zip([raw_write, put, raw_read, get]) {
            *best = best.min(time.as_secs_f64());
        }
        write_ratios.push(write_ratio);
        read_ratios.push(read_ratio);
    }
    println!(
        "median: put {:.0} % of raw write, get {:.0} % of raw read ",
        100.0 * median(&mut write_ratios),
        100.0 * median(&mut read_ratios)
    );
    println!(
        "best of {ROUNDS}: put {:.0} % of raw write, get {:.0} % of raw read",
        100.0 * best[0] / best[1],
        100.0 * best[2] / best[3]
    );
    Ok(())
}

/// Writes then reads a plain file.
fn raw_round(dir: &Path, block: &[u8], mib: usize) -> anyhow::Result<(Duration, Duration)> {
    let path = dir.join("raw");
    let write = raw_write(&path, block, mib)?;
    drop_caches()?;
    let read = raw_read(&path)?;
    std::fs::remove_file(&path)?;
    Ok((write, read))
}

/// Puts then gets (without hashing, as a download does) a blob.
async fn store_round(
    store: &FsBlobStore,
    block: &Bytes,
    mib: usize,
    round: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let info = store.put(upload(block, mib, round), None).await?;
    let put = started.elapsed();
    drop_caches()?;
    let started = Instant::now();
    let mut download = store.get(&info.hash, None).await?;
    while let Some(chunk) = download.next().await {
        chunk?;
    }
    let get = started.elapsed();
    store.delete(&info.hash).await?;
    Ok((put, get))
}

/// With `PASSERELLE_BENCH_COLD=1` (root only), reads come from the disk, not
/// from the page cache.
fn drop_caches() -> std::io::Result<()> {
    if std::env::var_os("PASSERELLE_BENCH_COLD").is_some_and(|v| v == "1") {
        std::fs::write("/proc/sys/vm/drop_caches", "3")?;
    }
    Ok(())
}

/// `mib` MiB in chunks of `NETWORK_CHUNK`, zero-copy slices of one block;
/// the first chunk names the round so that no two rounds dedup.
fn upload(block: &Bytes, mib: usize, round: usize) -> ByteStream {
    let block = block.clone();
    let chunks = (0..mib * MIB / NETWORK_CHUNK).map(move |i| {
        let at = (i * NETWORK_CHUNK) % MIB;
        let chunk = block.slice(at..at + NETWORK_CHUNK);
        if i == 0 {
            let mut first = chunk.to_vec();
            first[..8].copy_from_slice(&(round as u64).to_le_bytes());
            return Ok(Bytes::from(first));
        }
        Ok(chunk)
    });
    Box::pin(futures::stream::iter(chunks).boxed())
}

fn raw_write(path: &Path, block: &[u8], mib: usize) -> std::io::Result<Duration> {
    let started = Instant::now();
    let mut file = std::fs::File::create(path)?;
    for _ in 0..mib {
        file.write_all(block)?;
    }
    file.sync_all()?;
    Ok(started.elapsed())
}

fn raw_read(path: &Path) -> std::io::Result<Duration> {
    let started = Instant::now();
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; MIB];
    while file.read(&mut buffer)? > 0 {}
    Ok(started.elapsed())
}

fn rate(mib: usize, time: Duration) -> String {
    format!("{:>6.0} MiB/s", mib as f64 / time.as_secs_f64())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
