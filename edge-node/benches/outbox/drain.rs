//! Part 1, the outbox drain: a contractor's uploads queued on the edge
//! while the internal node is stopped, timed from its restart until all
//! are listed inside and every verdict is back on the edge.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};

use super::api::{contractor, internal_total, operations_tally, small_doc, upload_edge};
use super::cluster::Cluster;
use super::measures::{in_flight, secs};
use super::processes::{keep_log, keep_logs, with_log_tails};
use super::support::{create_space, loadavg, replication, wait_for};

pub(crate) struct Drain {
    pub(crate) ops: usize,
    pub(crate) enqueue: Duration,
    pub(crate) first_applied: Duration,
    pub(crate) all_listed: Duration,
    pub(crate) all_decided: Duration,
    pub(crate) warnings: Vec<String>,
}

pub(crate) async fn drain(log_dir: &Path, ops: usize) -> anyhow::Result<Drain> {
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
