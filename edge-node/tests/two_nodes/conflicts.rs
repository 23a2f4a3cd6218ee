//! Concurrent edits and revoked rights across the two nodes: both sides
//! editing the same version end with the agent's version current and the
//! contractor's as a conflict copy on both nodes, and an operation made
//! before its author's rights were revoked goes to quarantine, unapplied.

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use super::cluster::{Cluster, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_give_a_conflict_copy_on_both_nodes_and_revoked_rights_quarantine()
-> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "chantier").await?;
    let doc = c.upload(&http, &space, "Planning.txt", "v1").await?;
    let jean = c
        .contractor(&http, &space, "jean@btp.example", "collaborator")
        .await?;
    eventually("the document on the edge", || {
        let r = jean.req(&http, reqwest::Method::GET, &format!("/documents/{doc}"));
        async move {
            ensure!(r.send().await?.status() == 200, "not yet");
            Ok(())
        }
    })
    .await?;

    // Both sides edit version 1 at once: the agent on the internal node, the
    // contractor on the edge.
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/documents/{doc}/versions"),
        )
        .body("v2 agent")
        .send()
        .await?;
    ensure!(r.status() == 201);
    let r = jean
        .req(
            &http,
            reqwest::Method::POST,
            &format!("/documents/{doc}/versions"),
        )
        .body("v2 prestataire")
        .send()
        .await?;
    ensure!(r.status() == 202);
    let copy = eventually("the conflict copy on the internal node", || {
        let req = c.api(
            &http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/children"),
        );
        async move {
            let v: Value = req.send().await?.json().await?;
            let docs = v["documents"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let copy = docs
                .into_iter()
                .find(|d| {
                    d["name"]
                        .as_str()
                        .is_some_and(|n| n.contains("(conflit jean@btp.example"))
                })
                .context("not yet")?;
            Ok(copy["id"].as_str().unwrap_or_default().to_owned())
        }
    })
    .await?;
    // Nothing lost: the agent's version is current, the contractor's is the copy.
    let original: Value = c
        .api(
            &http,
            reqwest::Method::GET,
            &format!("/documents/{doc}/content"),
        )
        .send()
        .await?
        .text()
        .await?
        .into();
    assert_eq!(original, "v2 agent");
    let theirs = c
        .api(
            &http,
            reqwest::Method::GET,
            &format!("/documents/{copy}/content"),
        )
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(theirs, "v2 prestataire");
    eventually("the conflict copy on the edge", || {
        let r = jean.req(&http, reqwest::Method::GET, &format!("/documents/{copy}"));
        async move {
            ensure!(r.send().await?.status() == 200, "not yet");
            Ok(())
        }
    })
    .await?;

    // Rights revoked before the internal node pulls the operation: stop the
    // edge's link first so the operation waits, revoke, then let it come.
    let mut c = c;
    if let Some(mut node) = c.node.take() {
        node.child.kill()?;
        node.child.wait()?;
    }
    let r = jean
        .req(&http, reqwest::Method::PATCH, &format!("/documents/{doc}"))
        .json(&json!({"name": "Renommé.txt"}))
        .send()
        .await?;
    ensure!(r.status() == 202, "rename queued: {}", r.status());
    // Revoke while the internal node runs without its edge link, so the
    // operation is certainly still waiting on the edge.
    let with_edges = c.config.clone();
    c.config = c.idir.join("alone.toml");
    std::fs::write(&c.config, "")?;
    c.start_internal()?;
    let r = c
        .api(
            &http,
            reqwest::Method::DELETE,
            &format!("/spaces/{space}/members/{}", jean.id),
        )
        .send()
        .await?;
    ensure!(r.status().is_success(), "revoke: {}", r.status());
    if let Some(mut node) = c.node.take() {
        node.child.kill()?;
        node.child.wait()?;
    }
    c.config = with_edges;
    c.start_internal()?;
    let quarantined = eventually("the operation in quarantine", || {
        let req = c.api(
            &http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/replication"),
        );
        async move {
            let v: Value = req.send().await?.json().await?;
            let q = v["quarantine"].as_array().cloned().unwrap_or_default();
            ensure!(!q.is_empty(), "not yet: {v}");
            Ok(q)
        }
    })
    .await?;
    assert_eq!(quarantined.len(), 1);
    let d: Value = c
        .api(&http, reqwest::Method::GET, &format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        d["document"]["name"], "Planning.txt",
        "the revoked contractor's rename was not applied"
    );
    Ok(())
}
