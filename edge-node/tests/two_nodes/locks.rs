//! Locks seen on the edge (ADR 0007, "Locks seen on the edge"), with two
//! real nodes over mutual TLS: an agent's check-out on the internal node
//! shows on the edge's API within seconds, a contractor's new version
//! there is refused 423 `locked` with nothing queued; once checked in, the
//! contractor's version queues and is applied.

use std::time::Duration;

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::cluster::{Cluster, eventually, eventually_within};

/// A lock taken or released reaches the edge this fast (the link is woken
/// by the lock, not by a poll of the spaces).
const LOCK_REACHES_EDGE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_out_refuses_the_contractors_version_on_the_edge_until_the_check_in()
-> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "voirie").await?;
    let doc = c.upload(&http, &space, "CCTP.txt", "v1").await?;
    let jean = c
        .contractor(&http, &space, "jean@btp.example", "collaborator")
        .await?;
    eventually("the document on the edge", || {
        let r = jean.req(&http, Method::GET, &format!("/documents/{doc}"));
        async move {
            ensure!(r.send().await?.status() == 200, "not yet");
            Ok(())
        }
    })
    .await?;

    // The agent checks the document out on the internal node…
    let r = c
        .api(&http, Method::POST, &format!("/documents/{doc}/lock"))
        .json(&json!({"note": "relecture"}))
        .send()
        .await?;
    ensure!(r.status() == 201, "check-out: {}", r.status());
    let held: Value = r.json().await?;
    // …and within seconds the edge shows it locked, without its token.
    let shown = eventually_within(
        "the lock on the edge",
        LOCK_REACHES_EDGE,
        Duration::from_millis(100),
        || {
            let r = jean.req(&http, Method::GET, &format!("/documents/{doc}"));
            async move {
                let v: Value = r.send().await?.json().await?;
                ensure!(!v["lock"].is_null(), "not yet");
                Ok(v["lock"].clone())
            }
        },
    )
    .await?;
    assert_eq!(shown["holder_name"], held["holder_name"], "{shown}");
    assert_eq!(shown["until"], held["until"], "{shown}");
    assert!(shown["token"].is_null(), "no token on the edge: {shown}");
    assert!(shown["note"].is_null(), "no note on the edge: {shown}");

    // The contractor's new version is refused there and then, 423 `locked`.
    let r = jean
        .req(&http, Method::POST, &format!("/documents/{doc}/versions"))
        .body("v2 prestataire")
        .send()
        .await?;
    ensure!(r.status() == 423, "expected 423, got {}", r.status());
    let problem: Value = r.json().await?;
    assert_eq!(problem["code"], "locked", "{problem}");
    assert_eq!(
        problem["lock"]["holder_name"], held["holder_name"],
        "{problem}"
    );
    let ops: Value = jean
        .req(&http, Method::GET, &format!("/spaces/{space}/operations"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ops["total"], 0, "nothing queued: {ops}");

    // The agent checks in: the edge shows it unlocked, and the contractor's
    // version queues and is applied.
    let r = c
        .api(&http, Method::DELETE, &format!("/documents/{doc}/lock"))
        .send()
        .await?;
    ensure!(r.status() == 204, "check-in: {}", r.status());
    eventually_within(
        "the edge unlocked",
        LOCK_REACHES_EDGE,
        Duration::from_millis(100),
        || {
            let r = jean.req(&http, Method::GET, &format!("/documents/{doc}"));
            async move {
                let v: Value = r.send().await?.json().await?;
                ensure!(v["lock"].is_null(), "still locked: {}", v["lock"]);
                Ok(())
            }
        },
    )
    .await?;
    let r = jean
        .req(&http, Method::POST, &format!("/documents/{doc}/versions"))
        .body("v2 prestataire")
        .send()
        .await?;
    ensure!(r.status() == 202, "queued: {}", r.status());
    eventually("the contractor's version applied", || {
        let r = c.api(&http, Method::GET, &format!("/documents/{doc}/content"));
        async move {
            let body = r.send().await?.text().await?;
            ensure!(body == "v2 prestataire", "not yet: {body}");
            Ok(())
        }
    })
    .await
    .context("applied on the internal node")?;
    Ok(())
}
