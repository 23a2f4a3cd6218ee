//! Outbox drain, edge memory and convergence after a silent cut, each
//! beside a reference measured in the same run (issue 12).
//!
//! `cargo bench -p passerelle-edge --bench outbox`
//! (`PASSERELLE_BENCH_OPS=2000 PASSERELLE_BENCH_DOCS=3000
//! PASSERELLE_BENCH_CUT_S=20` for a quick try; defaults 20000, 30000, 120;
//! `PASSERELLE_BENCH_PARTS=12` runs only the parts named, default `123`).
//!
//! Three parts, each on its own pair of real processes (the two-node test
//! harness, release build), so that one part's leftovers weigh on no other:
//!
//! 1. Outbox drain: a shared space with a contractor; the internal node is
//!    stopped (the link is down); the contractor makes `OPS` small uploads
//!    on the edge (8 in flight, each answered 202 queued); the internal node
//!    starts again. The window runs from its start to the first internal
//!    listing that holds all the documents; then every operation must be
//!    decided `applied` on the edge, and none quarantined. Reference: the
//!    same kind of documents uploaded straight to the internal node's API,
//!    8 in flight (part 2's uploads): how fast the internal node takes them
//!    when nothing stands between.
//! 2. Edge memory: `DOCS` small documents uploaded to a space on the
//!    internal node, the space shared, the edge left to hold all of them
//!    (every blob, and the internal node's status caught up); the edge's
//!    `VmRSS`/`VmHWM` are read, the space is un-shared, and once the purge
//!    receipt is in and no blob is left, `VmRSS` is read again (and 10 s
//!    later). Reference: the same edge's `VmRSS` right after its start.
//! 3. Convergence after a silent cut: the internal node dials the edge
//!    through the bench's own TCP proxy. Cut, it forwards nothing either
//!    way and closes nothing; a connection accepted while cut waits, and is
//!    dropped at the restore if its client gave up meanwhile (what a
//!    dropped network looks like to TCP: nothing arrives, nothing is
//!    refused). During the cut one document is uploaded on each side; the
//!    window runs from the restore until each side lists the other's.
//!    Reference: the same two uploads on the healthy link.
//!
//! Logs and the proxy's counts go under `target/bench-outbox/` (the logs
//! are kept; the nodes' data is removed with each part); every wait is
//! bounded, and every process is killed when its guard drops.

#[path = "../tests/support/cluster.rs"]
mod cluster;
mod support;
// `cluster` keeps its `nodes` private; part 3 rewrites the internal node's
// configuration with the harness's own function, so that the file stays
// the harness's format. (A second copy of the module: `cluster` does not
// export it, and the harness is shared with the tests as it is.)
#[allow(clippy::duplicate_mod)]
#[path = "../tests/support/nodes.rs"]
mod nodes;

use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use cluster::{Cluster, Contractor};
use reqwest::Method;
use serde_json::{Value, json};
use support::{dir_bytes, loadavg, tail, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CONTRACTOR: &str = "bench@prestataire.fr";
const CONTRACTOR_PASSWORD: &str = "mot de passe du prestataire bench";
/// Requests in flight while filling a space (either node).
const IN_FLIGHT: usize = 8;

// ---------------------------------------------------------------- data

/// 200 to 500 bytes, distinct for every `(kind, i)`: no two documents
/// share a blob, so nothing is saved by dedup.
fn small_doc(kind: &str, i: usize) -> Vec<u8> {
    let size = 200 + (i * 37) % 301;
    let mut v = format!("{kind} {i} of the outbox bench\n").into_bytes();
    let mut x = i as u64 ^ 0x9e37_79b9_7f4a_7c15;
    while v.len() < size {
        // xorshift: cheap filler that differs from one document to the next.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(b'a' + (x % 26) as u8);
    }
    v
}

fn env_or(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v}: not a number")),
        Err(_) => Ok(default),
    }
}

// ---------------------------------------------------------------- processes

/// Newest modification time of the sources `passerelle-internal` is built
/// from (the workspace manifest and every crate but the edge's; not
/// `Cargo.lock`, which the edge's dev-dependencies also change).
fn newest_source(workspace: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut stack: Vec<_> = ["Cargo.toml", "core", "adapters", "proto", "internal-node"]
        .iter()
        .map(|p| workspace.join(p))
        .collect();
    while let Some(p) = stack.pop() {
        let Ok(m) = std::fs::metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            stack.extend(
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if let Ok(t) = m.modified() {
            newest = newest.max(t);
        }
    }
    newest
}

/// Under `cargo bench` the edge binary is the release one: the harness looks
/// for `passerelle-internal` beside it, so build it in release when it is
/// missing or older than its sources. (Not older than the edge binary, as
/// `replication.rs` checks: `cargo bench` relinks the edge with the
/// dev-dependencies' features, and a build of the internal node alone then
/// recompiles half the workspace with other features, for nothing.)
fn ensure_internal_release(log_dir: &Path) -> anyhow::Result<()> {
    let internal = cluster::internal_bin();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let fresh = std::fs::metadata(&internal)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= newest_source(workspace));
    if fresh {
        return Ok(());
    }
    let release = internal
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace).args([
        "build",
        "-p",
        "passerelle-internal",
        "--bin",
        "passerelle-internal",
    ]);
    if release {
        cmd.arg("--release");
    }
    println!("building passerelle-internal beside {}…", cluster::EDGE_BIN);
    let log = log_dir.join("cargo-build-internal.log");
    let out = std::fs::File::create(&log)?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("cannot start cargo build")?;
    let end = Instant::now() + Duration::from_secs(1800);
    loop {
        if let Some(status) = child.try_wait()? {
            ensure!(status.success(), "cargo build failed: {}", tail(&log, 30));
            break;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "cargo build did not finish within 30 min: {}",
                tail(&log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    ensure!(internal.exists(), "{} was not built", internal.display());
    Ok(())
}

/// Keeps a node's log under the bench's log directory (a restart of the
/// node truncates the harness's file), and returns its WARN/ERROR lines.
fn keep_log(text: &str, log_dir: &Path, name: &str) -> anyhow::Result<Vec<String>> {
    let text = cluster::plain(text);
    std::fs::write(log_dir.join(name), &text)?;
    Ok(text
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .map(|l| format!("{name}: {l}"))
        .collect())
}

/// Keeps both running nodes' logs (at the end of a part).
fn keep_logs(c: &Cluster, log_dir: &Path, part: &str) -> anyhow::Result<Vec<String>> {
    let mut out = keep_log(&c.edge_log(), log_dir, &format!("{part}-edge.log"))?;
    out.extend(keep_log(
        &c.internal_log(),
        log_dir,
        &format!("{part}-internal.log"),
    )?);
    Ok(out)
}

/// A failed part's error, with the tails of its nodes' logs.
fn with_log_tails(e: anyhow::Error, c: &Cluster) -> anyhow::Error {
    let t = |s: String| {
        let s = cluster::plain(&s);
        let all: Vec<&str> = s.lines().collect();
        all[all.len().saturating_sub(30)..].join("\n")
    };
    e.context(format!(
        "--- edge log (tail) ---\n{}\n--- internal log (tail) ---\n{}",
        t(c.edge_log()),
        t(c.internal_log())
    ))
}

// ---------------------------------------------------------------- measures

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn memory(pid: u32) -> anyhow::Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("{name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Files under `dir` (the edge's blobs: one file per blob).
fn file_count(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => n += 1,
                Err(_) => {}
            }
        }
    }
    n
}

/// Runs `one(i)` for every `i < n`, `IN_FLIGHT` at a time (workers taking
/// the next index; the first error stops everything).
async fn in_flight<F, Fut>(n: usize, one: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let next = AtomicUsize::new(0);
    let worker = || async {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return anyhow::Ok(());
            }
            one(i).await?;
        }
    };
    futures::future::try_join_all((0..IN_FLIGHT).map(|_| worker())).await?;
    Ok(())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

// ---------------------------------------------------------------- the API

async fn create_space(c: &Cluster, http: &reqwest::Client, slug: &str) -> anyhow::Result<String> {
    let r = c
        .api(http, Method::POST, "/spaces")
        .json(&json!({"slug": slug, "title": slug, "domain": "Bench"}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "create space: {}", r.status());
    let v: Value = r.json().await?;
    Ok(v["id"]
        .as_str()
        .or(v["space"]["id"].as_str())
        .context("space id")?
        .to_owned())
}

async fn upload_internal(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/documents"))
        .query(&[("name", name)])
        .body(body)
        .send()
        .await?;
    ensure!(r.status() == 201, "internal upload {name}: {}", r.status());
    Ok(())
}

async fn upload_edge(
    who: &Contractor,
    http: &reqwest::Client,
    space: &str,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    let r = who
        .req(http, Method::POST, &format!("/spaces/{space}/documents"))
        .query(&[("name", name)])
        .body(body)
        .send()
        .await?;
    ensure!(
        r.status() == 202,
        "edge upload {name}: {} {}",
        r.status(),
        r.text().await.unwrap_or_default()
    );
    Ok(())
}

async fn share(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/share"))
        .json(&json!({"edge": cluster::EDGE_ID}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "share: {}", r.status());
    Ok(())
}

async fn unshare(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success(), "unshare: {}", r.status());
    Ok(())
}

async fn replication(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<Value> {
    let r = c
        .api(http, Method::GET, &format!("/spaces/{space}/replication"))
        .send()
        .await?;
    ensure!(r.status() == 200, "replication status: {}", r.status());
    Ok(r.json().await?)
}

/// The edge acknowledged the space up to its last revision.
async fn caught_up(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<bool> {
    let v = replication(c, http, space).await?;
    if let Some(e) = v["error"].as_str() {
        bail!("the space's replication fails: {e}");
    }
    Ok(v["lag_revisions"] == 0 && !v["acknowledged_revision"].is_null())
}

/// Documents at the root of the space on the internal node.
async fn internal_total(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<u64> {
    let r = c
        .api(http, Method::GET, &format!("/spaces/{space}/children"))
        .query(&[("limit", "1")])
        .send()
        .await?;
    ensure!(r.status() == 200, "internal listing: {}", r.status());
    let v: Value = r.json().await?;
    v["documents"]["total"].as_u64().context("listing total")
}

/// The names of a listing, up to 500 documents.
fn names(v: &Value) -> Vec<String> {
    v["documents"]["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn internal_names(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Vec<String>> {
    let r = c
        .api(http, Method::GET, &format!("/spaces/{space}/children"))
        .query(&[("limit", "500")])
        .send()
        .await?;
    ensure!(r.status() == 200, "internal listing: {}", r.status());
    Ok(names(&r.json().await?))
}

async fn edge_names(
    who: &Contractor,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Vec<String>> {
    let r = who
        .req(http, Method::GET, &format!("/spaces/{space}/children"))
        .query(&[("limit", "500")])
        .send()
        .await?;
    ensure!(r.status() == 200, "edge listing: {}", r.status());
    Ok(names(&r.json().await?))
}

/// Shares the space, invites the bench's contractor, waits for the edge to
/// hold the space, accepts the invitation there and logs in. (Waiting
/// first: failed acceptances are throttled.)
async fn contractor(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Contractor> {
    share(c, http, space).await?;
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/contractors"))
        .json(&json!({"email": CONTRACTOR, "display_name": "Prestataire Bench", "organisation": "Bench SARL", "role": "collaborator"}))
        .send()
        .await?;
    ensure!(r.status() == 201, "invite: {}", r.status());
    let v: Value = r.json().await?;
    let secret = v["invitation_url"]
        .as_str()
        .and_then(|u| u.split('#').nth(1))
        .context("secret in the invitation link")?
        .to_owned();
    wait_for(
        "the edge to hold the space",
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async { Ok(caught_up(c, http, space).await?.then_some(())) },
    )
    .await?;
    let r = http
        .post(format!("{}/invitations/accept", c.ebase))
        .json(&json!({"secret": secret, "password": CONTRACTOR_PASSWORD}))
        .send()
        .await?;
    ensure!(r.status() == 200, "accept: {}", r.status());
    let login = http
        .post(format!("{}/auth/login", c.ebase))
        .json(&json!({"login": CONTRACTOR, "password": CONTRACTOR_PASSWORD}))
        .send()
        .await?;
    ensure!(
        login.status() == 200,
        "contractor login: {}",
        login.status()
    );
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .context("session cookie")?
        .to_owned();
    let v: Value = login.json().await?;
    Ok(Contractor {
        id: v["user"]["id"].as_str().context("user id")?.to_owned(),
        cookie,
        csrf: v["csrf_token"].as_str().context("csrf token")?.to_owned(),
        ebase: c.ebase.clone(),
    })
}

/// The contractor's operations in the space as the edge lists them.
struct Tally {
    pending: u64,
    applied: u64,
    /// Decided otherwise (conflict, rejected): how many, and five of them.
    other: u64,
    examples: Vec<Value>,
    total: u64,
}

async fn operations_tally(
    who: &Contractor,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Tally> {
    let mut t = Tally {
        pending: 0,
        applied: 0,
        other: 0,
        examples: Vec::new(),
        total: 0,
    };
    let mut seen = 0u64;
    loop {
        let r = who
            .req(http, Method::GET, &format!("/spaces/{space}/operations"))
            .query(&[("limit", "500".to_owned()), ("offset", seen.to_string())])
            .send()
            .await?;
        ensure!(r.status() == 200, "operations: {}", r.status());
        let v: Value = r.json().await?;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            t.total = v["total"].as_u64().unwrap_or(seen);
            return Ok(t);
        }
        seen += items.len() as u64;
        for o in items {
            if o["status"] == "pending" {
                t.pending += 1;
            } else if o["outcome"] == "applied" {
                t.applied += 1;
            } else {
                t.other += 1;
                if t.examples.len() < 5 {
                    t.examples.push(o);
                }
            }
        }
    }
}

/// The receipts of the space's un-share purges in the audit log's last
/// entries (oldest first: the last ones are read).
async fn purge_receipts(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<usize> {
    let page = |offset: u64| {
        c.api(http, Method::GET, "/audit")
            .query(&[("limit", "50".to_owned()), ("offset", offset.to_string())])
            .send()
    };
    let v: Value = page(0).await?.json().await?;
    let total = v["total"].as_u64().context("audit total")?;
    let v: Value = page(total.saturating_sub(50)).await?.json().await?;
    Ok(v["items"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|e| e["action"] == "space.unshare" && e.to_string().contains(space))
            .count()
    }))
}

// ---------------------------------------------------------------- 1. drain

struct Drain {
    ops: usize,
    enqueue: Duration,
    first_applied: Duration,
    all_listed: Duration,
    all_decided: Duration,
    warnings: Vec<String>,
}

async fn drain(log_dir: &Path, ops: usize) -> anyhow::Result<Drain> {
    // The default outbox bound (10,000 pending) would refuse the issue's
    // 20,000 with 503 `outbox_full`: the bench raises it above the run.
    let toml = format!("[outbox]\nmax_pending = {}\n", ops + 1000);
    let mut c = Cluster::start_with(|_| Ok(()), Some(&toml)).await?;
    match drain_on(&mut c, log_dir, ops).await {
        Ok(mut d) => {
            d.warnings.extend(keep_logs(&c, log_dir, "1-drain")?);
            Ok(d)
        }
        Err(e) => Err(with_log_tails(e, &c)),
    }
}

async fn drain_on(c: &mut Cluster, log_dir: &Path, ops: usize) -> anyhow::Result<Drain> {
    let http = reqwest::Client::new();
    let space = create_space(c, &http, "depot-prestataire").await?;
    let who = contractor(c, &http, &space).await?;

    let first_life = c.stop_internal()?;
    let warnings = keep_log(&first_life, log_dir, "1-drain-internal-before-stop.log")?;
    println!(
        "internal node stopped; {ops} contractor uploads on the edge… (load {})",
        loadavg()
    );
    let t = Instant::now();
    in_flight(ops, |i| {
        let (who, http, space) = (&who, &http, &space);
        async move {
            let name = format!("op-{i:05}.txt");
            upload_edge(who, http, space, &name, small_doc("operation", i)).await
        }
    })
    .await?;
    let enqueue = t.elapsed();
    let pending = operations_tally(&who, &http, &space).await?.pending;
    ensure!(
        pending == ops as u64,
        "{pending} operations pending on the edge, {ops} expected"
    );

    println!(
        "{ops} operations queued in {}; starting the internal node… (load {})",
        secs(enqueue),
        loadavg()
    );
    let t = Instant::now();
    c.start_internal()?;
    let first_applied = std::cell::Cell::new(None);
    // Generous bound: ten times the rate the issue measured before the
    // speed-up (70–90/s) would still finish well inside it.
    let limit = Duration::from_secs(300 + ops as u64 / 7);
    wait_for(
        "every contractor upload on the internal node",
        limit,
        Duration::from_millis(200),
        || async {
            let n = internal_total(c, &http, &space).await?;
            if n > 0 && first_applied.get().is_none() {
                first_applied.set(Some(t.elapsed()));
            }
            let v = replication(c, &http, &space).await?;
            let quarantined = v["quarantine"].as_array().map_or(0, Vec::len);
            if quarantined > 0 {
                bail!(
                    "{quarantined} operation(s) refused into quarantine: {}",
                    v["quarantine"]
                );
            }
            ensure!(n <= ops as u64, "{n} documents for {ops} operations");
            Ok((n == ops as u64).then_some(()))
        },
    )
    .await?;
    let all_listed = t.elapsed();
    println!(
        "all {ops} documents on the internal node after {}; waiting for every verdict on the edge…",
        secs(all_listed)
    );
    wait_for(
        "every operation decided on the edge",
        Duration::from_secs(300),
        Duration::from_millis(500),
        || async {
            let pending = operations_tally(&who, &http, &space).await?.pending;
            Ok((pending == 0).then_some(()))
        },
    )
    .await?;
    let all_decided = t.elapsed();
    let t = operations_tally(&who, &http, &space).await?;
    ensure!(
        t.pending == 0 && t.applied == ops as u64 && t.total == ops as u64 && t.other == 0,
        "outcomes on the edge: {} applied, {} pending, {} decided otherwise, {} listed; for example {:?}",
        t.applied,
        t.pending,
        t.other,
        t.total,
        t.examples
    );
    let listed = internal_total(c, &http, &space).await?;
    ensure!(
        listed == ops as u64,
        "{listed} documents on the internal node, {ops} expected"
    );
    Ok(Drain {
        ops,
        enqueue,
        first_applied: first_applied.get().unwrap_or(all_listed),
        all_listed,
        all_decided,
        warnings,
    })
}

// ---------------------------------------------------------------- 2. memory

struct Memory {
    docs: usize,
    fresh_rss: u64,
    after_upload_rss: u64,
    upload: Duration,
    share: Duration,
    shared_rss: u64,
    shared_hwm: u64,
    purge: Duration,
    purged_rss: u64,
    purged_hwm: u64,
    settled_rss: u64,
    /// The second share and un-share of the same space.
    again_shared_rss: u64,
    again_settled_rss: u64,
    internal_hwm: u64,
    edge_db_shared: u64,
    edge_db_purged: u64,
    warnings: Vec<String>,
}

async fn memory_part(log_dir: &Path, docs: usize) -> anyhow::Result<Memory> {
    let c = Cluster::start().await?;
    match memory_on(&c, docs).await {
        Ok(mut m) => {
            m.warnings.extend(keep_logs(&c, log_dir, "2-memory")?);
            Ok(m)
        }
        Err(e) => Err(with_log_tails(e, &c)),
    }
}

/// Bytes of the edge's database files (`edge.db`, its WAL and shm).
fn edge_db_bytes(edir: &Path) -> u64 {
    std::fs::read_dir(edir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("edge.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

async fn memory_on(c: &Cluster, docs: usize) -> anyhow::Result<Memory> {
    let http = reqwest::Client::new();
    let edge = c.edge.as_ref().context("edge process")?.pid();
    let internal = c.node.as_ref().context("internal process")?.pid();
    // Right after start: the edge has connected with the internal node and
    // holds nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (fresh_rss, _) = memory(edge)?;

    let space = create_space(c, &http, "grand-espace").await?;
    println!("{docs} uploads to the internal node… (load {})", loadavg());
    let t = Instant::now();
    in_flight(docs, |i| {
        let (http, space) = (&http, &space);
        async move {
            let name = format!("doc-{i:05}.txt");
            upload_internal(c, http, space, &name, small_doc("document", i)).await
        }
    })
    .await?;
    let upload = t.elapsed();
    let (after_upload_rss, _) = memory(edge)?;

    println!(
        "{docs} documents uploaded in {}; sharing… (load {})",
        secs(upload),
        loadavg()
    );
    let blobs = c.edir.join("blobs");
    let t = Instant::now();
    share(c, &http, &space).await?;
    wait_for(
        "the edge to hold every document of the space",
        Duration::from_secs(300 + docs as u64 / 10),
        Duration::from_millis(250),
        || async {
            if !caught_up(c, &http, &space).await? {
                return Ok(None);
            }
            let held = file_count(&blobs);
            ensure!(held == docs, "{held} blobs on the edge, {docs} expected");
            Ok(Some(()))
        },
    )
    .await?;
    let share_time = t.elapsed();
    let (shared_rss, shared_hwm) = memory(edge)?;
    let edge_db_shared = edge_db_bytes(&c.edir);

    println!(
        "the edge holds {docs} documents after {}; un-sharing… (load {})",
        secs(share_time),
        loadavg()
    );
    let t = Instant::now();
    unshare(c, &http, &space).await?;
    wait_for(
        "the edge to purge the space",
        Duration::from_secs(300 + docs as u64 / 10),
        Duration::from_millis(250),
        || async {
            if purge_receipts(c, &http, &space).await? < 1 {
                return Ok(None);
            }
            let held = file_count(&blobs);
            ensure!(held == 0, "{held} blobs left on the edge after the receipt");
            Ok(Some(()))
        },
    )
    .await?;
    let purge = t.elapsed();
    let (purged_rss, purged_hwm) = memory(edge)?;
    let edge_db_purged = edge_db_bytes(&c.edir);
    // Whether what the purge left is the allocator's to give back later.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (settled_rss, _) = memory(edge)?;

    // The same space shared and un-shared again: memory that stays bounded
    // ends this cycle near where the first one ended.
    println!("second share of the space… (load {})", loadavg());
    share(c, &http, &space).await?;
    wait_for(
        "the edge to hold every document of the space again",
        Duration::from_secs(300 + docs as u64 / 10),
        Duration::from_millis(250),
        || async {
            if !caught_up(c, &http, &space).await? {
                return Ok(None);
            }
            let held = file_count(&blobs);
            ensure!(held == docs, "{held} blobs on the edge, {docs} expected");
            Ok(Some(()))
        },
    )
    .await?;
    let (again_shared_rss, _) = memory(edge)?;
    unshare(c, &http, &space).await?;
    wait_for(
        "the edge to purge the space again",
        Duration::from_secs(300 + docs as u64 / 10),
        Duration::from_millis(250),
        || async {
            if purge_receipts(c, &http, &space).await? < 2 {
                return Ok(None);
            }
            let held = file_count(&blobs);
            ensure!(held == 0, "{held} blobs left on the edge after the receipt");
            Ok(Some(()))
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (again_settled_rss, _) = memory(edge)?;
    let (_, internal_hwm) = memory(internal)?;
    ensure!(
        dir_bytes(&c.edir.join("partial")) == 0,
        "bytes left in the edge's partial/ after the purge"
    );
    Ok(Memory {
        docs,
        fresh_rss,
        after_upload_rss,
        upload,
        share: share_time,
        shared_rss,
        shared_hwm,
        purge,
        purged_rss,
        purged_hwm,
        settled_rss,
        again_shared_rss,
        again_settled_rss,
        internal_hwm,
        edge_db_shared,
        edge_db_purged,
        warnings: Vec::new(),
    })
}

// ---------------------------------------------------------------- 3. cut

/// A TCP relay that can be cut silently: while cut it forwards no byte in
/// either direction and closes nothing, and the connections it accepts wait.
struct CutProxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
    /// Connections accepted while cut, and how many of them were given up
    /// by their client before the restore (dropped then, never forwarded).
    held: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
    /// The accept loop; it owns the connections' tasks, so aborting it
    /// (on drop) closes every relayed connection.
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CutProxy {
    async fn start(upstream: String) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, rx) = watch::channel(false);
        let held = Arc::new(AtomicUsize::new(0));
        let abandoned = Arc::new(AtomicUsize::new(0));
        let (h, a) = (held.clone(), abandoned.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let (rx, upstream, h, a) = (rx.clone(), upstream.clone(), h.clone(), a.clone());
                        conns.spawn(async move {
                            // A relay error only ends that connection, as a
                            // network error would.
                            let _ = relay(client, upstream, rx, h, a).await;
                        });
                    }
                    // Reap finished connections so the set stays small.
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self {
            addr,
            cut,
            held,
            abandoned,
            task,
        })
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: String,
    mut cut: watch::Receiver<bool>,
    held: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut first = Vec::new();
    if *cut.borrow() {
        held.fetch_add(1, Ordering::Relaxed);
        cut.wait_for(|c| !*c).await?;
        // On a dropped network a client that gave up (its connect or
        // handshake timed out) never reaches the server: what it sent and
        // its close are all in the socket by now. Forward the connection
        // only if it is still open.
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match tokio::time::timeout(Duration::from_millis(20), client.read(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    abandoned.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(Ok(n)) => first.extend_from_slice(&buf[..n]),
            }
        }
    }
    let mut server = TcpStream::connect(&upstream).await?;
    server.write_all(&first).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Either direction failing drops both (the connection resets); an end
    // of stream is passed on and the other direction goes on.
    tokio::try_join!(pipe(cr, sw, cut.clone()), pipe(sr, cw, cut))?;
    Ok(())
}

/// Copies `from` to `to`, holding every byte (and the end of stream) while
/// the proxy is cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        cut.wait_for(|c| !*c).await?;
        let n = from.read(&mut buf).await?;
        // Read just as the cut came: held too.
        cut.wait_for(|c| !*c).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
    }
}

struct Convergence {
    cut: Duration,
    healthy_inside: Duration,
    healthy_outside: Duration,
    noticed_down: Option<Duration>,
    inside: Duration,
    outside: Duration,
    held: usize,
    abandoned: usize,
    warnings: Vec<String>,
}

async fn convergence(log_dir: &Path, cut: Duration) -> anyhow::Result<Convergence> {
    let mut c = Cluster::start().await?;
    match convergence_on(&mut c, cut).await {
        Ok(mut v) => {
            v.warnings.extend(keep_logs(&c, log_dir, "3-cut")?);
            Ok(v)
        }
        Err(e) => Err(with_log_tails(e, &c)),
    }
}

/// Uploads one document on the internal node, then one as the contractor
/// on the edge; returns their names (internal's, edge's). `what` names them.
async fn cross_uploads(
    c: &Cluster,
    http: &reqwest::Client,
    who: &Contractor,
    space: &str,
    what: &str,
) -> anyhow::Result<(String, String)> {
    let (inside, outside) = (format!("{what}-interne.txt"), format!("{what}-edge.txt"));
    upload_internal(c, http, space, &inside, small_doc(&inside, 0)).await?;
    upload_edge(who, http, space, &outside, small_doc(&outside, 0)).await?;
    Ok((inside, outside))
}

/// Polls both sides every 20 ms until each lists the other's document;
/// returns how long each took from `from`.
async fn both_see(
    c: &Cluster,
    http: &reqwest::Client,
    who: &Contractor,
    space: &str,
    docs: &(String, String),
    from: Instant,
    timeout: Duration,
) -> anyhow::Result<(Duration, Duration)> {
    // Each side is timed on its own: the first poll that lists the document.
    let (inside, outside) = (std::cell::Cell::new(None), std::cell::Cell::new(None));
    wait_for(
        "each side to list the other's document",
        timeout,
        Duration::from_millis(20),
        || async {
            if inside.get().is_none() && internal_names(c, http, space).await?.contains(&docs.1) {
                inside.set(Some(from.elapsed()));
            }
            if outside.get().is_none() && edge_names(who, http, space).await?.contains(&docs.0) {
                outside.set(Some(from.elapsed()));
            }
            Ok(inside.get().zip(outside.get()))
        },
    )
    .await
    .with_context(|| {
        format!(
            "internal node saw the edge's document: {}; edge saw the internal node's: {}",
            inside.get().is_some(),
            outside.get().is_some()
        )
    })
}

async fn convergence_on(c: &mut Cluster, cut: Duration) -> anyhow::Result<Convergence> {
    let http = reqwest::Client::new();
    let proxy = CutProxy::start(c.edge_peer.clone()).await?;
    c.config = nodes::write_internal_config(&c.idir, &proxy.addr.to_string(), &c.edge_http)?;
    // SIGTERM right after the harness started it kills the internal node
    // by the default disposition ("exited with signal 15": its handler is
    // not installed yet), which `stop_internal` takes for a failure. It
    // holds nothing yet: kill -9 and start it on the proxy.
    c.kill_internal()?;
    c.start_internal()?;
    let space = create_space(c, &http, "coupure").await?;
    let who = contractor(c, &http, &space).await?;

    println!("two uploads on the healthy link… (load {})", loadavg());
    let t = Instant::now();
    let docs = cross_uploads(c, &http, &who, &space, "sain").await?;
    let (healthy_inside, healthy_outside) =
        both_see(c, &http, &who, &space, &docs, t, Duration::from_secs(60)).await?;

    println!(
        "cutting the link for {} s (uploads on both sides)… (load {})",
        cut.as_secs(),
        loadavg()
    );
    proxy.set_cut(true);
    let t = Instant::now();
    let docs = cross_uploads(c, &http, &who, &space, "coupe").await?;
    let mut noticed_down = None;
    while t.elapsed() < cut {
        if noticed_down.is_none() {
            let v = replication(c, &http, &space).await?;
            if !v["last_error"].is_null() {
                noticed_down = Some(t.elapsed());
            }
        }
        // The cut must hold: neither side may see the other's document.
        ensure!(
            !internal_names(c, &http, &space).await?.contains(&docs.1),
            "the edge's document reached the internal node during the cut: the proxy leaks"
        );
        ensure!(
            !edge_names(&who, &http, &space).await?.contains(&docs.0),
            "the internal node's document reached the edge during the cut: the proxy leaks"
        );
        tokio::time::sleep(Duration::from_millis(500).min(cut.saturating_sub(t.elapsed()))).await;
    }
    proxy.set_cut(false);
    let t = Instant::now();
    println!("link restored… (load {})", loadavg());
    let (inside, outside) =
        both_see(c, &http, &who, &space, &docs, t, Duration::from_secs(180)).await?;
    Ok(Convergence {
        cut,
        healthy_inside,
        healthy_outside,
        noticed_down,
        inside,
        outside,
        held: proxy.held.load(Ordering::Relaxed),
        abandoned: proxy.abandoned.load(Ordering::Relaxed),
        warnings: Vec::new(),
    })
}

// ---------------------------------------------------------------- main

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let ops = usize::try_from(env_or("PASSERELLE_BENCH_OPS", 20_000)?)?;
    let docs = usize::try_from(env_or("PASSERELLE_BENCH_DOCS", 30_000)?)?;
    let cut = Duration::from_secs(env_or("PASSERELLE_BENCH_CUT_S", 120)?);
    // Which parts to run ("13": the drain and the cut); all by default.
    let parts = std::env::var("PASSERELLE_BENCH_PARTS").unwrap_or_else(|_| "123".to_owned());
    ensure!(
        ops > 0 && docs > 0 && parts.contains(['1', '2', '3']),
        "nothing to measure"
    );
    let target = Path::new(cluster::EDGE_BIN)
        .parent()
        .and_then(Path::parent)
        .context("target directory")?;
    let root = target.join("bench-outbox");
    let _ = std::fs::remove_dir_all(&root);
    let (log_dir, tmp) = (root.join("logs"), root.join("tmp"));
    std::fs::create_dir_all(&log_dir)?;
    std::fs::create_dir_all(&tmp)?;
    // The harness makes its directories with `tempfile::tempdir()`.
    let _ = tempfile::env::override_temp_dir(&tmp);

    let started = time::OffsetDateTime::now_utc();
    let load_start = loadavg();
    match run(&log_dir, &parts, ops, docs, cut).await {
        Ok(report) => {
            println!("{report}");
            println!(
                "run started {started} (load average at start {load_start}, at the end {}); nodes' logs in {}",
                loadavg(),
                log_dir.display()
            );
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            eprintln!("bench failed; logs kept in {}", root.display());
            Err(e)
        }
    }
}

async fn run(
    log_dir: &Path,
    parts: &str,
    ops: usize,
    docs: usize,
    cut: Duration,
) -> anyhow::Result<String> {
    ensure_internal_release(log_dir)?;

    let mut d = None;
    if parts.contains('1') {
        println!("part 1: outbox drain of {ops} operations");
        d = Some(drain(log_dir, ops).await?);
    }
    let mut m = None;
    if parts.contains('2') {
        println!("part 2: edge memory with a {docs}-document space");
        m = Some(memory_part(log_dir, docs).await?);
    }
    let mut v = None;
    if parts.contains('3') {
        println!("part 3: convergence after a {} s silent cut", cut.as_secs());
        v = Some(convergence(log_dir, cut).await?);
    }

    let mut out = String::new();
    writeln!(
        out,
        "\nOutbox drain, edge memory, convergence after a silent cut (issue 12)"
    )?;
    writeln!(
        out,
        "{:<48} {:>28} {:>32} {:>8}",
        "measure", "figure", "reference", "ratio"
    )?;
    // The drain's reference is part 2's uploads (same documents, same
    // concurrency, straight to the internal node's API).
    let api_rate = m.as_ref().map(|m| rate(m.docs, m.upload));
    if let Some(d) = &d {
        summary_drain(&mut out, d, api_rate)?;
    }
    if let Some(m) = &m {
        summary_memory(&mut out, m)?;
    }
    if let Some(v) = &v {
        summary_cut(&mut out, v)?;
    }
    writeln!(out)?;
    if let Some(d) = &d {
        writeln!(
            out,
            "drain: {} uploads queued on the edge in {} ({:.0}/s, {IN_FLIGHT} in flight); first document on the internal node {} after its start, all {} at {}, every verdict back on the edge at {}; all applied, none refused",
            d.ops,
            secs(d.enqueue),
            rate(d.ops, d.enqueue),
            secs(d.first_applied),
            d.ops,
            secs(d.all_listed),
            secs(d.all_decided),
        )?;
    }
    if let Some(m) = &m {
        writeln!(
            out,
            "memory: {} uploads to the internal node in {} ({:.0}/s, {IN_FLIGHT} in flight; edge VmRSS then {}); share → edge holds all in {}; un-share → purge receipt and no blob left in {}; edge VmHWM after the purge {}; edge database {} shared, {} purged; internal node VmHWM {}",
            m.docs,
            secs(m.upload),
            rate(m.docs, m.upload),
            mib(m.after_upload_rss),
            secs(m.share),
            secs(m.purge),
            mib(m.purged_hwm),
            fmt_bytes(m.edge_db_shared),
            fmt_bytes(m.edge_db_purged),
            mib(m.internal_hwm),
        )?;
    }
    if let Some(v) = &v {
        let worst = v.inside.max(v.outside);
        writeln!(
            out,
            "cut: {} s; the internal node reported the link down {} into the cut; {} connection(s) accepted while cut, {} given up by their client before the restore; converged {} after the restore (target < 15 s: {})",
            v.cut.as_secs(),
            v.noticed_down
                .map_or("never".to_owned(), |d| format!("{} s", d.as_secs())),
            v.held,
            v.abandoned,
            secs(worst),
            if worst < Duration::from_secs(15) {
                "met"
            } else {
                "missed"
            }
        )?;
    }
    for (part, w) in [
        ("drain", d.as_ref().map(|d| &d.warnings)),
        ("memory", m.as_ref().map(|m| &m.warnings)),
        (
            "cut (link-down warnings expected)",
            v.as_ref().map(|v| &v.warnings),
        ),
    ] {
        let Some(w) = w else { continue };
        writeln!(
            out,
            "warnings and errors in the nodes' logs, {part}: {}",
            w.len()
        )?;
        for l in w.iter().take(8) {
            let l: String = l.chars().take(400).collect();
            writeln!(out, "  {l}")?;
        }
    }
    Ok(out)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn summary_drain(out: &mut String, d: &Drain, api_rate: Option<f64>) -> anyhow::Result<()> {
    let drain_rate = rate(d.ops, d.all_listed);
    writeln!(
        out,
        "{:<48} {:>28} {:>32} {:>8}",
        format!("1. drain of {} contractor operations", d.ops),
        format!("{drain_rate:.0} ops/s ({})", secs(d.all_listed)),
        api_rate.map_or("(part 2 not run)".to_owned(), |r| format!(
            "{r:.0} docs/s via internal API"
        )),
        api_rate.map_or(String::new(), |r| format!(
            "{:.0} %",
            100.0 * drain_rate / r
        )),
    )?;
    writeln!(
        out,
        "{:<48} {:>28} {:>32} {:>8}",
        "   issue's figure before the speed-up",
        "",
        "70–90 ops/s",
        format!("{:.2}×", drain_rate / 80.0)
    )?;
    Ok(())
}

fn summary_memory(out: &mut String, m: &Memory) -> anyhow::Result<()> {
    let fresh = format!("{} fresh", mib(m.fresh_rss));
    for (what, kib) in [
        (
            format!("2. edge VmRSS holding {} documents", m.docs),
            m.shared_rss,
        ),
        (
            "   edge VmHWM (peak) at that point".to_owned(),
            m.shared_hwm,
        ),
        (
            "   edge VmRSS after the un-share's purge".to_owned(),
            m.purged_rss,
        ),
        ("   edge VmRSS 10 s later".to_owned(), m.settled_rss),
        (
            "   edge VmRSS holding it again (second share)".to_owned(),
            m.again_shared_rss,
        ),
        (
            "   edge VmRSS 10 s after the second purge".to_owned(),
            m.again_settled_rss,
        ),
    ] {
        writeln!(
            out,
            "{what:<48} {:>28} {fresh:>32} {:>8}",
            mib(kib),
            format!("{:.2}×", kib as f64 / m.fresh_rss as f64)
        )?;
    }
    Ok(())
}

fn summary_cut(out: &mut String, v: &Convergence) -> anyhow::Result<()> {
    for (side, after, healthy) in [
        (
            "3. edge's document on the internal node",
            v.inside,
            v.healthy_inside,
        ),
        (
            "   internal node's document on the edge",
            v.outside,
            v.healthy_outside,
        ),
    ] {
        writeln!(
            out,
            "{side:<48} {:>28} {:>32} {:>8}",
            format!("{} after the restore", secs(after)),
            format!("{} on a healthy link", secs(healthy)),
            format!("{:.0}×", after.as_secs_f64() / healthy.as_secs_f64())
        )?;
    }
    Ok(())
}

fn fmt_bytes(b: u64) -> String {
    mib(b / 1024)
}
