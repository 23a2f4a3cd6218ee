//! The internal node's `/metrics` follows the edge: a shared space's
//! replication lag is 0 once the edge holds it, rises while the edge is
//! stopped and the space changes, and falls back to 0 once the edge runs
//! again; and both nodes' `status` list the running node's workers.
//! No timed assertion: each step waits for its state with `eventually`.

use std::collections::BTreeMap;

use anyhow::{Context, ensure};
use passerelle_testing::parse_openmetrics;
use serde_json::{Value, json};

use super::cluster::{self, Cluster, eventually};

/// One scrape of `node`'s `/metrics` (loopback may read it), parsed strictly.
async fn scrape(http: &reqwest::Client, node: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let text = http
        .get(format!("{node}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    parse_openmetrics(&text)
}

/// The lag families of one space: revisions, backlog rows, seconds.
fn lag(samples: &BTreeMap<String, f64>, space: &str) -> [Option<f64>; 3] {
    let series = |family: &str| {
        samples
            .get(&format!(
                r#"passerelle_replication_{family}{{edge="{}",space="{space}"}}"#,
                cluster::EDGE_ID
            ))
            .copied()
    };
    [
        series("lag_revisions"),
        series("backlog_rows"),
        series("lag_seconds"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lag_gauge_rises_while_the_edge_is_away_and_falls_back_to_zero() -> anyhow::Result<()> {
    let mut c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let node = c.node.as_ref().context("internal node")?.lines[0].clone();

    let space: Value = c
        .api(&http, reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": "mesures", "title": "Mesures", "domain": "Voirie"}))
        .send()
        .await?
        .json()
        .await?;
    let space = space["id"]
        .as_str()
        .or(space["space"]["id"].as_str())
        .context("space id")?
        .to_owned();
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/share"),
        )
        .json(&json!({"edge": cluster::EDGE_ID}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "share: {}", r.status());
    eventually("the shared space on the edge: lag 0", || async {
        let now = lag(&scrape(&http, &node).await?, &space);
        ensure!(now == [Some(0.0); 3], "lag {now:?}");
        Ok(())
    })
    .await?;

    // Both nodes' `status` list their running node's workers.
    let internal_status =
        c.internal_cli(&["status", "--address", node.trim_start_matches("http://")])?;
    ensure!(
        internal_status.contains("ready")
            && internal_status.contains("sessions")
            && internal_status.contains(&format!("replication:{}", cluster::EDGE_ID)),
        "{internal_status}"
    );
    let edge_status = cluster::run(
        std::path::Path::new(cluster::EDGE_BIN),
        &[
            "--data-dir",
            c.edir.to_str().context("utf-8")?,
            "status",
            "--address",
            c.edge_http.trim_start_matches("http://"),
        ],
    )?;
    ensure!(
        edge_status.contains("ready")
            && edge_status.contains("outbox-prune")
            && edge_status.contains("blob-gc"),
        "{edge_status}"
    );

    // The edge away, the space changes: the lag shows it at once.
    c.stop_edge()?;
    for n in 0..3 {
        let r = c
            .api(
                &http,
                reqwest::Method::POST,
                &format!("/spaces/{space}/documents?name=releve-{n}.txt"),
            )
            .body(format!("relevé {n}"))
            .send()
            .await?;
        ensure!(r.status() == 201, "upload: {}", r.status());
    }
    let [revisions, rows, seconds] = lag(&scrape(&http, &node).await?, &space);
    ensure!(
        revisions.is_some_and(|r| r >= 3.0),
        "revisions {revisions:?}"
    );
    // A document and its version per upload.
    ensure!(rows.is_some_and(|r| r >= 6.0), "rows {rows:?}");
    ensure!(seconds.is_some_and(|s| s >= 0.0), "seconds {seconds:?}");

    // Back: the link catches up and the lag falls back to 0.
    c.start_edge()?;
    eventually("the edge caught up again: lag 0", || async {
        let now = lag(&scrape(&http, &node).await?, &space);
        ensure!(now == [Some(0.0); 3], "lag {now:?}");
        Ok(())
    })
    .await?;
    Ok(())
}
