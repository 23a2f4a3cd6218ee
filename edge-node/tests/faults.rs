//! Replication under faults, with real processes (see `support/cluster.rs`):
//! `kill -9` of the edge in the middle of a large blob transfer, `kill -9`
//! of the internal node while it applies contractors' operations, an edge
//! stopped while both sides keep changing, an un-share after a transfer
//! cut between the blobs and their batch, and the edge's disk filled by one
//! shared space (on a tmpfs the test mounts).
//!
//! The tests run one at a time (`SERIAL`): each starts two nodes and the
//! first moves 200 MiB, which is all a 2-core machine can take at once.
//! Their entry points stay here, in one list under one lock, and keep
//! their names; each scenario's steps are in its module (`kill_edge`,
//! `kill_internal`, `edge_outage`, `disk_full`), the calls they share in
//! `api` and `content`.

#[path = "faults/api.rs"]
mod api;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "faults/content.rs"]
mod content;
#[path = "faults/disk_full.rs"]
mod disk_full;
#[path = "faults/edge_outage.rs"]
mod edge_outage;
#[path = "faults/kill_edge.rs"]
mod kill_edge;
#[path = "faults/kill_internal.rs"]
mod kill_internal;

use std::time::Instant;

use cluster::Cluster;
use disk_full::{EDGE_DISK, EDGE_FLOOR, MountRefused, SmallDisk, a_full_edge_disk, under_ci};
use edge_outage::both_sides_converge_after_an_edge_outage;
use kill_edge::{transfer_resumes_after_kill_9_of_the_edge, unshare_after_a_cut_before_the_batch};
use kill_internal::operations_apply_once_across_kill_9_of_the_internal_node;

const MIB: u64 = 1024 * 1024;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs a test body on a fresh cluster; on failure, panics while the cluster
/// is alive so that its processes' logs are printed (see `Proc::drop`).
macro_rules! on_fresh_cluster {
    ($body:ident) => {{
        let _serial = SERIAL.lock().await;
        let started = Instant::now();
        let mut c = Cluster::start().await?;
        if let Err(e) = $body(&mut c).await {
            panic!("{e:?}");
        }
        eprintln!("{} took {:?}", stringify!($body), started.elapsed());
        Ok(())
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_transfer_cut_by_kill_9_of_the_edge_resumes_from_what_the_edge_kept()
-> anyhow::Result<()> {
    on_fresh_cluster!(transfer_resumes_after_kill_9_of_the_edge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_internal_node_while_it_applies_edge_operations_applies_none_twice()
-> anyhow::Result<()> {
    on_fresh_cluster!(operations_apply_once_across_kill_9_of_the_internal_node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_converge_after_the_edge_was_stopped_while_both_changed() -> anyhow::Result<()> {
    on_fresh_cluster!(both_sides_converge_after_an_edge_outage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsharing_after_a_transfer_cut_before_its_batch_leaves_no_byte_of_the_space_on_the_edge()
-> anyhow::Result<()> {
    on_fresh_cluster!(unshare_after_a_cut_before_the_batch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_edge_disk_stops_only_the_space_that_filled_it_and_its_unshare_frees_it()
-> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let edge_toml = format!("min_free_bytes = {EDGE_FLOOR}\n");
    let mounted = Cluster::start_with(|edir| SmallDisk::mount(edir, EDGE_DISK), Some(&edge_toml));
    let mut c = match mounted.await {
        Ok(c) => c,
        Err(e) if e.downcast_ref::<MountRefused>().is_some() && !under_ci() => {
            eprintln!("SKIPPED (set CI=true to make this a failure): {e:#}");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if let Err(e) = a_full_edge_disk(&mut c).await {
        panic!("{e:?}");
    }
    Ok(())
}
