//! The edge stopped while both sides change (its queued operations, new
//! documents and a role change inside): once it runs again both sides
//! converge through the feed alone, without anti-entropy re-sending.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::api::{
    accept_and_login, edge_documents, internal_documents, invite, new_space, operations,
    replication, share, upload_internal,
};
use super::cluster::{Cluster, eventually, plain};

pub(crate) async fn both_sides_converge_after_an_edge_outage(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let space = new_space(c, &http, "rehabilitation-gymnase").await?;
    let planning = upload_internal(c, &http, &space, "Planning.txt", "planning v1".into()).await?;
    let planning = planning["document"]["id"]
        .as_str()
        .context("doc id")?
        .to_owned();
    share(c, &http, &space).await?;
    let secret = invite(c, &http, &space, "lea@charpente.fr", "collaborator").await?;
    let lea = accept_and_login(c, &http, &space, &secret, "lea@charpente.fr").await?;

    // A document of the contractor's, round-tripped, to version later.
    let r = lea
        .req(
            Method::POST,
            &format!("/spaces/{space}/documents?name=Devis.txt"),
        )
        .body("devis v1")
        .send()
        .await?;
    ensure!(r.status() == 202, "edge upload: {}", r.status());
    let devis = eventually("the contractor's document back on the edge", || async {
        let docs = edge_documents(&lea, &space).await?;
        let d = docs
            .iter()
            .find(|d| d["name"] == "Devis.txt")
            .context("not yet")?;
        Ok(d["id"].as_str().context("id")?.to_owned())
    })
    .await?;

    // Operations queued on the edge while nothing pulls them (the internal
    // node is down), then the edge stops too (SIGTERM, graceful).
    c.stop_internal()?;
    let mut queued = Vec::new();
    for n in ["Photo chantier 1.txt", "Photo chantier 2.txt"] {
        let r = lea
            .req(Method::POST, &format!("/spaces/{space}/documents?name={n}"))
            .body(format!("contenu de {n}"))
            .send()
            .await?;
        ensure!(r.status() == 202, "edge upload {n}: {}", r.status());
        queued.push(r.json::<Value>().await?);
    }
    let r = lea
        .req(Method::POST, &format!("/documents/{devis}/versions"))
        .body("devis v2, révisé")
        .send()
        .await?;
    ensure!(r.status() == 202, "edge version: {}", r.status());
    queued.push(r.json::<Value>().await?);
    ensure!(
        queued.iter().all(|o| o["status"] == "pending"),
        "{queued:?}"
    );
    c.stop_edge()?;

    // Meanwhile on the internal node: new documents, a new version, and the
    // contractor's membership changed (collaborator → contributor: still
    // allowed to add documents and versions of her own).
    c.start_internal()?;
    for n in ["Note interne 1.txt", "Note interne 2.txt"] {
        upload_internal(c, &http, &space, n, format!("contenu de {n}").into()).await?;
    }
    let r = c
        .api(
            &http,
            Method::POST,
            &format!("/documents/{planning}/versions"),
        )
        .body("planning v2, décalé d'une semaine")
        .send()
        .await?;
    ensure!(r.status() == 201, "new version: {}", r.status());
    let r = c
        .api(
            &http,
            Method::PUT,
            &format!("/spaces/{space}/members/lea@charpente.fr"),
        )
        .json(&json!({"role": "contributor"}))
        .send()
        .await?;
    ensure!(r.status() == 200, "role change: {}", r.status());
    // The internal node knows the edge is behind and unreachable.
    eventually("the outage in the replication status", || async {
        let s = replication(c, &http, &space).await?;
        ensure!(s["lag_revisions"].as_i64().unwrap_or(0) > 0, "{s}");
        ensure!(!s["last_error"].is_null(), "{s}");
        Ok(())
    })
    .await?;

    c.start_edge()?;
    let lea = lea.login_again(c).await?;
    let t = Instant::now();
    // Converged: the edge's operations applied and come back, the internal
    // changes on the edge, lag 0, the same listing on both sides.
    let (inside, outside) = eventually("both sides to converge", || async {
        let s = replication(c, &http, &space).await?;
        ensure!(s["lag_revisions"] == 0 && s["last_error"].is_null(), "{s}");
        let ops = operations(&lea, &space).await?;
        ensure!(
            ops.iter().all(|o| o["status"] == "decided"),
            "pending on the edge"
        );
        let inside = internal_documents(c, &http, &space).await?;
        let outside = edge_documents(&lea, &space).await?;
        ensure!(inside.len() == 6, "{} documents inside", inside.len());
        ensure!(summaries(&inside) == summaries(&outside), "listings differ");
        Ok((inside, outside))
    })
    .await?;
    eprintln!("converged {:?} after the edge's restart", t.elapsed());

    for o in operations(&lea, &space).await? {
        ensure!(o["outcome"] == "applied", "operation decided as {o}");
    }
    let names: BTreeSet<&str> = inside.iter().filter_map(|d| d["name"].as_str()).collect();
    let want: BTreeSet<&str> = [
        "Planning.txt",
        "Devis.txt",
        "Photo chantier 1.txt",
        "Photo chantier 2.txt",
        "Note interne 1.txt",
        "Note interne 2.txt",
    ]
    .into();
    ensure!(names == want, "documents: {names:?}");
    // Same current version, same content hash, on both sides.
    for d in &inside {
        let id = d["id"].as_str().context("id")?;
        let a: Value = c
            .api(&http, Method::GET, &format!("/documents/{id}"))
            .send()
            .await?
            .json()
            .await?;
        let b: Value = lea
            .req(Method::GET, &format!("/documents/{id}"))
            .send()
            .await?
            .json()
            .await?;
        ensure!(
            a["version"]["number"] == b["version"]["number"]
                && a["version"]["hash"] == b["version"]["hash"],
            "{id}: internal {} / edge {}",
            a["version"],
            b["version"]
        );
    }
    let version_of = |id: &str| {
        outside
            .iter()
            .find(|d| d["id"] == id)
            .map(|d| d["current_version"].clone())
    };
    ensure!(
        version_of(&planning) == Some(json!(2)),
        "Planning on the edge"
    );
    ensure!(
        version_of(&devis) == Some(json!(2)),
        "Devis on the internal node"
    );
    // The membership change reached the edge.
    let s: Value = lea
        .req(Method::GET, &format!("/spaces/{space}"))
        .send()
        .await?
        .json()
        .await?;
    ensure!(s["role"] == "contributor", "role on the edge: {s}");
    // Caught up through the feed alone: anti-entropy never had to re-send.
    let log = plain(&c.internal_log());
    ensure!(
        !log.contains("edge diverged"),
        "the digests disagreed after the outage"
    );
    Ok(())
}

/// What both sides must agree on, per document, keyed by id.
fn summaries(docs: &[Value]) -> BTreeMap<String, Value> {
    docs.iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or_default().to_owned(),
                json!({
                    "name": d["name"],
                    "folder": d["folder"],
                    "current_version": d["current_version"],
                    "created_by": d["created_by"],
                    "updated_at": d["updated_at"],
                    "type": d["type"],
                    "metadata": d["metadata"],
                }),
            )
        })
        .collect()
}
