//! Search on the edge (issue 14): a contractor finds, by an accent-free
//! inflected word, the documents of the spaces shared with them and
//! nothing of the others; their own upload is found on the edge once the
//! internal node applied it, and on the internal node too; the internal
//! node's agents search both.

use anyhow::{Context, ensure};
use serde_json::Value;

use crate::cluster::{Cluster, eventually};

/// The names a search finds, from a search reply.
fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["document"]["name"].as_str().map(str::to_owned))
        .collect();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contractor_searches_the_shared_spaces_only() -> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let shared = c.space(&http, "piscine").await?;
    let private = c.space(&http, "budget").await?;
    c.upload(
        &http,
        &shared,
        "CCTP bassin.txt",
        "Les bassins olympiques de la piscine métropolitaine",
    )
    .await?;
    c.upload(&http, &private, "Budget bassin.txt", "Bassin de rétention")
        .await?;
    let jean = c
        .contractor(&http, &shared, "jean@btp-rhone.fr", "collaborator")
        .await?;
    let on_edge = |q: &'static str| {
        let req = jean
            .req(&http, reqwest::Method::GET, "/search")
            .query(&[("q", q)]);
        async move {
            let r = req.send().await?;
            ensure!(r.status() == 200, "edge search: {}", r.status());
            Ok::<Value, anyhow::Error>(r.json().await?)
        }
    };
    let found = eventually("the shared document in the edge's index", || async {
        let v = on_edge("bassin olympique").await?;
        ensure!(v["total"] == 1, "not yet: {v}");
        Ok(v)
    })
    .await?;
    assert_eq!(names(&found), ["CCTP bassin.txt"]);
    // The private space's document exists on the internal node only: the
    // edge holds nothing of it, so no search there can reach it.
    assert_eq!(on_edge("retention").await?["total"], 0);
    let everything = on_edge("bassin").await?;
    assert_eq!(names(&everything), ["CCTP bassin.txt"]);
    assert_eq!(
        everything["facets"]["space"].as_array().map(Vec::len),
        Some(1)
    );

    // The contractor's upload, applied by the internal node, comes back
    // and is found on both nodes.
    let r = jean
        .req(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{shared}/documents"),
        )
        .query(&[("name", "Plan des vestiaires.txt")])
        .body("Plan des vestiaires et des douches de la piscine")
        .send()
        .await?;
    ensure!(r.status() == 202, "contractor upload: {}", r.status());
    eventually("the contractor's upload found on the edge", || async {
        let v = on_edge("vestiaire").await?;
        ensure!(names(&v) == ["Plan des vestiaires.txt"], "not yet: {v}");
        Ok(())
    })
    .await?;
    let internal: Value = eventually("the contractor's upload found inside", || async {
        let v: Value = c
            .api(&http, reqwest::Method::GET, "/search")
            .query(&[("q", "douches")])
            .send()
            .await?
            .json()
            .await?;
        ensure!(v["total"] == 1, "not yet: {v}");
        Ok(v)
    })
    .await?;
    assert_eq!(
        internal["hits"][0]["space"]["slug"]
            .as_str()
            .context("slug")?,
        "piscine"
    );
    Ok(())
}
