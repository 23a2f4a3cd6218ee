//! The edge's disk filled by one shared space, on a tmpfs the test mounts
//! (issue 12): only that space stops, contractors get 507, `/readyz` and
//! `status` say why, and its un-share frees the disk.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::Value;

use super::MIB;
use super::api::{
    accept_and_login, edge_documents, invite, new_space, replication, share, upload_internal,
};
use super::cluster::{self, Cluster, eventually, plain};
use super::content::{generated_body, unique};

/// The edge's data directory in the fifth test: a tmpfs of this size, of
/// which the edge keeps `EDGE_FLOOR` free.
pub(crate) const EDGE_DISK: &str = "16m";
pub(crate) const EDGE_FLOOR: u64 = 4 * MIB;
/// The space that fills the edge's disk: more than it can hold. Two fit
/// above the floor, the third is refused with megabytes to spare either
/// way, so the store stays short whatever its database's log does (with
/// 3 MiB blobs a WAL checkpoint could free just enough for the refused
/// blob to count as fitting between two retries, and `/readyz` said 200).
const FILLING: usize = 4;
const FILLING_SIZE: u64 = 5 * MIB;

/// Issue 12: a full edge disk stopped every space, un-sharing freed
/// nothing, contractors got 500 and `/readyz` said nothing.
pub(crate) async fn a_full_edge_disk(c: &mut Cluster) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    // Created first, sent first: the space that cannot fit comes before the
    // other at every pass of the link.
    let big = new_space(c, &http, "dalle").await?;
    for i in 0..FILLING {
        let seed = format!("coulage {i} {}", unique());
        let body = generated_body(&seed, FILLING_SIZE);
        upload_internal(c, &http, &big, &format!("coulage-{i}.bin"), body).await?;
    }
    let small = new_space(c, &http, "cloture").await?;
    upload_internal(c, &http, &small, "Devis.txt", "devis de clôture".into()).await?;
    share(c, &http, &small).await?;
    let secret = invite(c, &http, &small, "paul@cloture.fr", "collaborator").await?;
    let paul = accept_and_login(c, &http, &small, &secret, "paul@cloture.fr").await?;
    share(c, &http, &big).await?;

    // The big space fails on its own, with why, in words naming the disk.
    let edir = c.edir.display().to_string();
    let why = eventually("the big space's failure recorded", || async {
        let r = replication(c, &http, &big).await?;
        let error = r["error"].as_str().with_context(|| format!("{r}"))?;
        Ok(error.to_owned())
    })
    .await?;
    ensure!(
        why.starts_with("edge-1: disk") && why.contains("full") && why.contains(&edir),
        "{why}"
    );
    let edges: Value = c
        .api(&http, Method::GET, "/edges")
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        edges[0]["last_error"].is_null(),
        "the link stays up: {edges}"
    );
    let listed = edges[0]["spaces"].as_array().cloned().unwrap_or_default();
    ensure!(
        listed
            .iter()
            .any(|s| s["space"] == big.as_str() && s["error"] == why.as_str()),
        "GET /edges names the failing space: {edges}"
    );

    // The other space goes on: a new document reaches the edge.
    upload_internal(c, &http, &small, "Avenant.txt", "avenant n°1".into()).await?;
    eventually(
        "the new document of the other space on the edge",
        || async {
            let docs = edge_documents(&paul, &small).await?;
            ensure!(docs.iter().any(|d| d["name"] == "Avenant.txt"), "not yet");
            Ok(())
        },
    )
    .await?;

    // The edge says it is short of room, and why, without naming the disk.
    // Once the blobs that fit are whole: until then a failed pass may have
    // cut their transfers (their reservations given back), and the refused
    // blob counts as fitting until they resume and the next refusal.
    let ready = eventually(
        "the edge short of room, the blobs that fit whole",
        || async {
            let partial = cluster::files_under(&c.edir.join("partial"));
            ensure!(
                partial.is_empty(),
                "{} transfer(s) under way",
                partial.len()
            );
            let ready = http.get(format!("{}/readyz", c.edge_http)).send().await?;
            ensure!(ready.status() == 503, "readyz: {}", ready.status());
            Ok(ready.json::<Value>().await?)
        },
    )
    .await?;
    ensure!(ready["code"] == "storage_full", "{ready}");
    let said = ready["detail"].as_str().unwrap_or_default();
    ensure!(
        said.contains("MiB free") && !said.contains(&edir),
        "{ready}"
    );
    // A contractor's upload takes the disk just past the floor (an upload
    // is checked when it starts, then every 4 MiB: this one is smaller);
    // the next is refused before it is read: 507, nothing kept. (A body
    // refused midway may cut the connection before the client reads the
    // answer: the test keeps to answers it can read.)
    let past_the_floor = free_bytes(&c.edir)?.saturating_sub(EDGE_FLOOR) + MIB / 4;
    ensure!(
        past_the_floor < 4 * MIB,
        "{past_the_floor} bytes above the floor"
    );
    let r = paul
        .req(
            Method::POST,
            &format!("/spaces/{small}/documents?name=Photos-1.bin"),
        )
        .body(generated_body(
            &format!("photos {}", unique()),
            past_the_floor,
        ))
        .send()
        .await?;
    ensure!(
        r.status() == 202,
        "contractor upload above the floor: {}",
        r.status()
    );
    let r = paul
        .req(
            Method::POST,
            &format!("/spaces/{small}/documents?name=Photos-2.bin"),
        )
        .body(generated_body(&format!("photos {}", unique()), 64 * 1024))
        .send()
        .await?;
    ensure!(
        r.status() == 507,
        "contractor upload below the floor: {}",
        r.status()
    );
    let p: Value = r.json().await?;
    ensure!(p["code"] == "storage_full", "{p}");
    ensure!(
        std::fs::read_dir(c.edir.join("tmp"))?.count() == 0,
        "the refused upload left a temporary"
    );

    // Below the floor, `status` (its own process, with the edge's floor)
    // says why, and fails: monitoring reads its exit status.
    let config = c.edge_config.clone().context("the edge's config file")?;
    let status = std::process::Command::new(cluster::EDGE_BIN)
        .arg("--config")
        .arg(&config)
        .args(["--data-dir", &edir, "status"])
        .output()?;
    let said = String::from_utf8_lossy(&status.stdout);
    ensure!(
        !status.status.success() && said.contains("DISK PRESSURE"),
        "{:?}: {said}",
        status.status
    );

    // Un-sharing the big space purges it first, and frees the disk.
    let r = c
        .api(&http, Method::POST, &format!("/spaces/{big}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success(), "unshare: {}", r.status());
    eventually("the edge ready again", || async {
        let ready = http.get(format!("{}/readyz", c.edge_http)).send().await?;
        ensure!(ready.status() == 200, "readyz: {}", ready.status());
        Ok(())
    })
    .await?;
    // Ready again as soon as the disk is back above the floor, which can
    // be before the purge has deleted its last blobs: wait for the end.
    // The other space's documents and the contractor's photos stay.
    eventually("the big space's blobs gone from the edge", || async {
        let held: u64 = cluster::files_under(&c.edir.join("blobs"))
            .iter()
            .chain(&cluster::files_under(&c.edir.join("partial")))
            .map(|(_, bytes)| bytes.len() as u64)
            .sum();
        ensure!(
            held < past_the_floor + MIB,
            "{held} bytes of blobs left on the edge"
        );
        Ok(())
    })
    .await?;
    ensure!(
        free_bytes(&c.edir)? > EDGE_FLOOR + FILLING_SIZE,
        "the purge freed the disk"
    );
    let status = std::process::Command::new(cluster::EDGE_BIN)
        .arg("--config")
        .arg(&config)
        .args(["--data-dir", &edir, "status"])
        .output()?;
    ensure!(
        status.status.success(),
        "status after the purge: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let r = paul
        .req(
            Method::POST,
            &format!("/spaces/{small}/documents?name=Photos.bin"),
        )
        .body(generated_body(&format!("photos {}", unique()), 2 * MIB))
        .send()
        .await?;
    ensure!(
        r.status() == 202,
        "contractor upload after the purge: {}",
        r.status()
    );

    // Logged once, not at every retry.
    let log = plain(&c.internal_log());
    let warned = log
        .lines()
        .filter(|l| l.contains("replication of a space fails") && l.contains(&big))
        .count();
    let retried = log
        .lines()
        .filter(|l| l.contains("replication of a space still fails") && l.contains(&big))
        .count();
    ensure!(
        warned == 1,
        "{warned} warnings for the big space ({retried} retries)"
    );
    ensure!(
        !log.contains("replication link down"),
        "the link went down over one space's failure"
    );
    eprintln!("the big space was retried {retried} time(s) after its first failure");
    Ok(())
}

/// A tmpfs mounted on a directory: a disk small enough to fill. Unmounted
/// on drop, lazily (a process may still hold one of its files).
pub(crate) struct SmallDisk {
    at: PathBuf,
}

/// Mounting was refused (not root, no `CAP_SYS_ADMIN`, no `mount`).
#[derive(Debug, thiserror::Error)]
#[error("cannot mount a tmpfs on {at}: {why}")]
pub(crate) struct MountRefused {
    at: String,
    why: String,
}

impl SmallDisk {
    pub(crate) fn mount(at: &Path, size: &str) -> anyhow::Result<Self> {
        let refused = |why: String| MountRefused {
            at: at.display().to_string(),
            why,
        };
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(at)
            .output()
            .map_err(|e| refused(e.to_string()))?;
        if !out.status.success() {
            return Err(refused(String::from_utf8_lossy(&out.stderr).trim().to_owned()).into());
        }
        Ok(Self {
            at: at.to_path_buf(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let done = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status();
        if !done.is_ok_and(|s| s.success()) {
            eprintln!("cannot unmount the tmpfs on {}", self.at.display());
        }
    }
}

/// Bytes available on the filesystem holding `dir` (`df`).
fn free_bytes(dir: &Path) -> anyhow::Result<u64> {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()?;
    ensure!(out.status.success(), "df {}", dir.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let avail = text.lines().nth(1).context("df output")?.trim();
    Ok(avail.parse()?)
}

/// Under CI a test that cannot set itself up fails instead of skipping.
pub(crate) fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
