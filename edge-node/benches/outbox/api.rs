//! The API calls the parts make on both nodes, beyond those shared with
//! the replication bench (`support`), and the small documents they upload.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::cluster::{self, Cluster, Contractor};
use super::support::{CONTRACTOR, CONTRACTOR_PASSWORD, replication, wait_for};

/// 200 to 500 bytes, distinct for every `(kind, i)`: no two documents
/// share a blob, so nothing is saved by dedup.
pub(crate) fn small_doc(kind: &str, i: usize) -> Vec<u8> {
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

pub(crate) async fn upload_internal(
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

pub(crate) async fn upload_edge(
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

pub(crate) async fn share(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/share"))
        .json(&json!({"edge": cluster::EDGE_ID}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "share: {}", r.status());
    Ok(())
}

pub(crate) async fn unshare(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success(), "unshare: {}", r.status());
    Ok(())
}

/// The edge acknowledged the space up to its last revision.
pub(crate) async fn caught_up(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<bool> {
    let v = replication(c, http, space).await?;
    if let Some(e) = v["error"].as_str() {
        bail!("the space's replication fails: {e}");
    }
    Ok(v["lag_revisions"] == 0 && !v["acknowledged_revision"].is_null())
}

/// Documents at the root of the space on the internal node.
pub(crate) async fn internal_total(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<u64> {
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

pub(crate) async fn internal_names(
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

pub(crate) async fn edge_names(
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
pub(crate) async fn contractor(
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
    // The edge requires a second factor: this first login enrols.
    let factor = passerelle_testing::edge_login::Factor::default();
    let s = passerelle_testing::edge_login::edge_login(
        http,
        &c.ebase,
        CONTRACTOR,
        CONTRACTOR_PASSWORD,
        &factor,
    )
    .await?;
    let app_password =
        passerelle_testing::edge_login::app_password(http, &c.ebase, &s, "bench").await?;
    Ok(Contractor {
        id: s.user["id"].as_str().context("user id")?.to_owned(),
        login: CONTRACTOR.to_owned(),
        cookie: s.cookie,
        csrf: s.csrf,
        ebase: c.ebase.clone(),
        factor,
        app_password,
    })
}

/// The contractor's operations in the space as the edge lists them.
pub(crate) struct Tally {
    pub(crate) pending: u64,
    pub(crate) applied: u64,
    /// Decided otherwise (conflict, rejected): how many, and five of them.
    pub(crate) other: u64,
    pub(crate) examples: Vec<Value>,
    pub(crate) total: u64,
}

pub(crate) async fn operations_tally(
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
pub(crate) async fn purge_receipts(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<usize> {
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
