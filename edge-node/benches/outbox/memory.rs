//! Part 2, the edge's memory: read fresh, holding a large space, after its
//! un-share's purge and 10 s later, then over a second share and purge of
//! the same space (memory that stays bounded ends both cycles alike).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use super::api::{caught_up, purge_receipts, share, small_doc, unshare, upload_internal};
use super::cluster::Cluster;
use super::measures::{file_count, in_flight, memory, secs};
use super::processes::{keep_logs, with_log_tails};
use super::support::{create_space, dir_bytes, loadavg, wait_for};

pub(crate) struct Memory {
    pub(crate) docs: usize,
    pub(crate) fresh_rss: u64,
    pub(crate) after_upload_rss: u64,
    pub(crate) upload: Duration,
    pub(crate) share: Duration,
    pub(crate) shared_rss: u64,
    pub(crate) shared_hwm: u64,
    pub(crate) purge: Duration,
    pub(crate) purged_rss: u64,
    pub(crate) purged_hwm: u64,
    pub(crate) settled_rss: u64,
    /// The second share and un-share of the same space.
    pub(crate) again_shared_rss: u64,
    pub(crate) again_settled_rss: u64,
    pub(crate) internal_hwm: u64,
    pub(crate) edge_db_shared: u64,
    pub(crate) edge_db_purged: u64,
    pub(crate) warnings: Vec<String>,
}

pub(crate) async fn memory_part(log_dir: &Path, docs: usize) -> anyhow::Result<Memory> {
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
