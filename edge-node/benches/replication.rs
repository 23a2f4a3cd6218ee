//! Replication internal → edge vs `rsync -a` over ssh on loopback, on the
//! same generated files, in one run (issue #3).
//!
//! `cargo bench -p passerelle-edge --bench replication`
//! (`PASSERELLE_BENCH_BIG_MIB=64` for a quick try; default 1024 MiB).
//!
//! - Reference: `rsync -a` of the files to a fresh directory through the
//!   bench's own `sshd` on 127.0.0.1 (generated host and client keys). It
//!   runs before and after the Passerelle runs; the faster run is kept,
//!   which makes the ratios conservative. `rsync --fsync` is shown beside it
//!   for information (Passerelle makes every blob durable; plain rsync does
//!   not flush anything).
//! - Passerelle: real `passerelle-internal` and `passerelle-edge` processes
//!   (the two-node test harness). The documents are uploaded to a space
//!   through the internal API first (not timed). The timed window starts
//!   when `POST /spaces/{id}/share` is sent, and ends when a contractor,
//!   logged in on the edge, lists the space with all its documents. The
//!   contractor is invited to the space right after the share (inside the
//!   window: one small write); the membership has a later revision than
//!   every document, the edge applies a batch in one transaction and
//!   refuses a batch whose blobs it does not hold, so seeing the space
//!   with all its documents means every row and blob is there. Afterwards
//!   (not timed) every document is checked on the edge: version hash, and
//!   content downloaded and re-hashed.
//! - Dedup: a second space holding the same bytes as the 1000 small files
//!   is shared; the bench reports the bytes added under the edge's
//!   `blobs/`, what is left in `partial/`, and the bytes the edge process
//!   wrote to disk (`/proc/<pid>/io`, SQLite included). The same figures,
//!   and the CPU time of both nodes, are shown for every share; for the big
//!   file, also when it was whole in `partial/` and then in `blobs/`.
//! - Contractor upload → visible on the internal node: 100 uploads of 4 KiB
//!   on the edge, one after the other; each latency runs from the upload
//!   request to the first internal listing that shows the document.
//! - Antivirus (ADR 0010): 1,000 × 64 KiB edge → internal with a real
//!   clamd scanning each upload vs none, side by side (`scan`; target: the
//!   scan adds ≤ 20 %). `PASSERELLE_BENCH_SCAN_ONLY=1` runs this part
//!   alone (no rsync, no big file).
//! - The edge's memory while it receives and indexes a space of French
//!   prose (`edge_memory`, issue 14's RSS target on the edge):
//!   `PASSERELLE_BENCH_EDGE_MEMORY=<documents>` runs this part alone; the
//!   full run leaves it out (minutes for 20,000 documents).
//!
//! Everything lives under `target/bench-replication/` (removed at the end
//! of a successful run, kept after a failure); every wait is bounded, and
//! every process is killed when its guard drops.

// The outbox bench's API calls (contractor, edge uploads, listings), for
// the antivirus part; the rest of them is not used here.
#[allow(dead_code)]
#[path = "outbox/api.rs"]
mod api;
#[path = "../tests/support/cluster.rs"]
mod cluster;
#[path = "replication/data.rs"]
mod data;
#[path = "replication/edge_memory.rs"]
mod edge_memory;
#[path = "replication/measures.rs"]
mod measures;
#[path = "replication/passerelle.rs"]
mod passerelle;
#[path = "replication/processes.rs"]
mod processes;
#[path = "replication/rsync.rs"]
mod rsync;
#[path = "replication/scan.rs"]
mod scan;
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use cluster::Cluster;
use data::generate;
use measures::{fmt_bytes, mib_s, percentile};
use passerelle::passerelle;
use processes::{ensure_internal_release, ensure_tools, warnings_in_logs};
use rsync::{RsyncFigures, Sshd, rsync_round};
use support::{bench_dirs, loadavg, tail};

const MIB: u64 = 1024 * 1024;
const SMALL: usize = 64 * 1024;
const SMALL_COUNT: usize = 1000;
const UPLOADS: usize = 100;
const UPLOAD_BYTES: usize = 4 * 1024;
const SSHD: &str = "/usr/sbin/sshd";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let big_mib: u64 = std::env::var("PASSERELLE_BENCH_BIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let (root, log_dir, _tmp) = bench_dirs("bench-replication")?;
    if let Some(docs) = std::env::var("PASSERELLE_BENCH_EDGE_MEMORY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        ensure_internal_release(&log_dir)?;
        let m = edge_memory::edge_memory(docs).await?;
        println!("{}", edge_memory::edge_memory_report(&m));
        let _ = std::fs::remove_dir_all(&root);
        return Ok(());
    }
    if std::env::var_os("PASSERELLE_BENCH_SCAN_ONLY").is_some() {
        ensure_internal_release(&log_dir)?;
        let s = scan::scan_side_by_side().await?;
        println!("{}", scan_report(&s));
        let _ = std::fs::remove_dir_all(&root);
        return Ok(());
    }

    let started = time::OffsetDateTime::now_utc();
    let load_start = loadavg();
    match run(&root, &log_dir, big_mib).await {
        Ok(report) => {
            println!("{report}");
            println!(
                "run started {started} (load average at start {load_start}, at the end {})",
                loadavg()
            );
            let _ = std::fs::remove_dir_all(&root);
            Ok(())
        }
        Err(e) => {
            eprintln!("bench failed; logs kept in {}", root.display());
            Err(e)
        }
    }
}

async fn run(root: &Path, log_dir: &Path, big_mib: u64) -> anyhow::Result<String> {
    ensure_tools(log_dir)?;
    ensure_internal_release(log_dir)?;

    let (small_dir, big_dir) = (root.join("data/small"), root.join("data/big"));
    println!(
        "generating 1000 × 64 KiB and 1 × {big_mib} MiB under {}…",
        root.display()
    );
    let big_hash = generate(&small_dir, &big_dir, big_mib)?;
    let big_file = big_dir.join("big.bin");

    let sshd = Sshd::start(&root.join("ssh"))?;
    let mut rs = RsyncFigures::default();
    println!("rsync over ssh, first round… (load {})", loadavg());
    rsync_round(&sshd, &mut rs, &small_dir, &big_dir, root, log_dir)?;

    let (p, log_findings) = {
        let c = Cluster::start().await?;
        let result = passerelle(&c, &small_dir, &big_file, &big_hash, log_dir).await;
        match result {
            Ok(p) => (p, warnings_in_logs(c.tmp.path())),
            Err(e) => {
                let logs = c.tmp.path();
                let msg = format!(
                    "--- edge.log (tail) ---\n{}\n--- internal.log (tail) ---\n{}",
                    tail(&logs.join("edge.log"), 40),
                    tail(&logs.join("internal.log"), 40)
                );
                return Err(e.context(msg));
            }
        }
    };

    let scanned = scan::scan_side_by_side().await?;

    println!("rsync over ssh, second round… (load {})", loadavg());
    rsync_round(&sshd, &mut rs, &small_dir, &big_dir, root, log_dir)?;
    drop(sshd);

    let small_bytes = (SMALL * SMALL_COUNT) as u64;
    let big_bytes = big_mib * MIB;
    let get = |d: Option<Duration>| d.context("rsync figure");
    let (rs_small, rs_big) = (get(rs.small)?, get(rs.big)?);
    let (rs_small_f, rs_big_f) = (get(rs.small_fsync)?, get(rs.big_fsync)?);

    let mut out = String::new();
    writeln!(
        out,
        "\nReplication internal → edge vs rsync -a over ssh on loopback (same files, same disk)"
    )?;
    writeln!(
        out,
        "{:<34} {:>22} {:>22} {:>9}",
        "workload", "Passerelle", "rsync over ssh", "speed-up"
    )?;
    let row = |out: &mut String, name: &str, bytes: u64, p: Duration, r: Duration| {
        writeln!(
            out,
            "{name:<34} {:>22} {:>22} {:>8.2}×",
            format!("{:.2} s ({:.1} MiB/s)", p.as_secs_f64(), mib_s(bytes, p)),
            format!("{:.2} s ({:.1} MiB/s)", r.as_secs_f64(), mib_s(bytes, r)),
            r.as_secs_f64() / p.as_secs_f64()
        )
    };
    row(
        &mut out,
        "share 1000 × 64 KiB",
        small_bytes,
        p.small.elapsed,
        rs_small,
    )?;
    row(
        &mut out,
        &format!("share 1 × {big_mib} MiB"),
        big_bytes,
        p.big.elapsed,
        rs_big,
    )?;
    row(
        &mut out,
        "  (info) vs rsync --fsync, 1000",
        small_bytes,
        p.small.elapsed,
        rs_small_f,
    )?;
    row(
        &mut out,
        &format!("  (info) vs rsync --fsync, {big_mib} MiB"),
        big_bytes,
        p.big.elapsed,
        rs_big_f,
    )?;
    writeln!(
        out,
        "(speed-up = rsync time / Passerelle time; > 1: Passerelle faster. rsync: faster of two rounds.)"
    )?;
    writeln!(out)?;
    for (name, payload, r) in [
        ("1000 × 64 KiB", small_bytes, &p.small),
        (&*format!("1 × {big_mib} MiB"), big_bytes, &p.big),
        ("same 1000 contents again", small_bytes, &p.dedup),
    ] {
        writeln!(
            out,
            "share of {name:<24}: {:.2} s; edge blobs +{}, partial/ left {}, edge wrote {} to disk ({:.2}× the payload of {}); CPU edge {:.2} s, internal {:.2} s",
            r.elapsed.as_secs_f64(),
            fmt_bytes(r.blob_bytes_added),
            fmt_bytes(r.partial_left),
            fmt_bytes(r.edge_disk_writes),
            r.edge_disk_writes as f64 / payload as f64,
            fmt_bytes(payload),
            r.edge_cpu.as_secs_f64(),
            r.internal_cpu.as_secs_f64(),
        )?;
    }
    let secs =
        |d: Option<Duration>| d.map_or("?".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()));
    writeln!(
        out,
        "big file on the edge: whole in partial/ at {}, whole in blobs/ at {}, listed at {:.2} s (from the share; 20 ms polls)",
        // Direct writes fill the partial in whole blocks and add its tail
        // last, just before the commit: a poll may never see it whole.
        p.big.big_received.map_or(
            "not seen (committed within a poll)".to_owned(),
            |d| format!("{:.2} s", d.as_secs_f64())
        ),
        secs(p.big.big_committed),
        p.big.elapsed.as_secs_f64(),
    )?;
    writeln!(
        out,
        "per 64 KiB document: {:.2} ms with its blob, {:.2} ms when the edge already holds the blob",
        p.small.elapsed.as_secs_f64() * 1000.0 / SMALL_COUNT as f64,
        p.dedup.elapsed.as_secs_f64() * 1000.0 / SMALL_COUNT as f64,
    )?;
    let l = &p.latencies;
    writeln!(
        out,
        "contractor upload (4 KiB) on the edge → listed on the internal node, {} uploads: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 < 1 s: {})",
        l.len(),
        percentile(l, 0.50).as_secs_f64() * 1000.0,
        percentile(l, 0.95).as_secs_f64() * 1000.0,
        percentile(l, 1.0).as_secs_f64() * 1000.0,
        if percentile(l, 0.95) < Duration::from_secs(1) {
            "met"
        } else {
            "missed"
        }
    )?;
    writeln!(out, "{}", scan_report(&scanned))?;
    writeln!(
        out,
        "warnings and errors in the nodes' logs: {}",
        log_findings.len()
    )?;
    for l in log_findings.iter().take(10) {
        writeln!(out, "  {l}")?;
    }
    writeln!(
        out,
        "targets: faster than rsync on 1000 × 64 KiB: {}; on 1 × {big_mib} MiB: {}",
        if p.small.elapsed < rs_small {
            "met"
        } else {
            "missed"
        },
        if p.big.elapsed < rs_big {
            "met"
        } else {
            "missed"
        },
    )?;
    Ok(out)
}

/// The antivirus part's lines: both drains and their ratio.
fn scan_report(s: &scan::ScanFigures) -> String {
    use scan::ScanFigures as F;
    let line = |what: &str, off: Duration, on: Duration| {
        let ratio = on.as_secs_f64() / off.as_secs_f64();
        format!(
            "contractor uploads edge → internal, {SMALL_COUNT} × 64 KiB, {what}: antivirus off {:.2} s ({:.0} docs/s), on {:.2} s ({:.0} docs/s); on/off {ratio:.2}× (+{:.0} %; target ≤ +20 %: {})",
            off.as_secs_f64(),
            SMALL_COUNT as f64 / off.as_secs_f64(),
            on.as_secs_f64(),
            SMALL_COUNT as f64 / on.as_secs_f64(),
            (ratio - 1.0) * 100.0,
            if ratio <= 1.2 { "met" } else { "missed" },
        )
    };
    format!(
        "{}\n{}",
        line("best rounds", F::best(&s.off), F::best(&s.on)),
        line(
            &format!("median of {} rounds each", s.off.len()),
            F::median(&s.off),
            F::median(&s.on)
        )
    )
}
