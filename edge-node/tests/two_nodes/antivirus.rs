//! Contractors' uploads scanned by a real clamd on the internal node
//! (ADR 0010), both nodes real processes: a clean file arrives; the
//! infected sample is refused, the contractor reads the verdict on the
//! edge and the managers in quarantine; with clamd stopped an upload waits
//! (pending on the edge, `passerelle_antivirus_up 0` and the waiting
//! operations on `/metrics`, the status on the sharing API), then lands
//! once clamd is back, nothing lost.

use std::collections::BTreeMap;

use anyhow::{Context, ensure};
use passerelle_testing::{clamd, parse_openmetrics};
use serde_json::Value;

use super::cluster::{Cluster, Contractor, eventually};

/// clamd's `StreamMaxLength` here.
const LIMIT: u64 = 1024 * 1024;

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

/// The contractor uploads `name` on the edge (queued: 202).
async fn upload(
    http: &reqwest::Client,
    jean: &Contractor,
    space: &str,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    let r = jean
        .req(
            http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/documents"),
        )
        .query(&[("name", name)])
        .body(body)
        .send()
        .await?;
    ensure!(
        r.status() == 202,
        "upload {name} on the edge: {}",
        r.status()
    );
    Ok(())
}

/// The contractor's operation that created `name`, as the edge lists it.
async fn operation(
    http: &reqwest::Client,
    jean: &Contractor,
    space: &str,
    name: &str,
) -> anyhow::Result<Value> {
    let v: Value = jean
        .req(
            http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/operations"),
        )
        .send()
        .await?
        .json()
        .await?;
    v["items"]
        .as_array()
        .and_then(|items| items.iter().find(|o| o["name"] == name))
        .cloned()
        .with_context(|| format!("no operation for {name}: {v}"))
}

/// The names of the space's root documents on the internal node.
async fn names_inside(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Vec<String>> {
    let v: Value = c
        .api(
            http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/children"),
        )
        .send()
        .await?
        .json()
        .await?;
    Ok(v["documents"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_scanned_infected_ones_refused_and_an_outage_only_delays_them()
-> anyhow::Result<()> {
    let Some(mut av) = tokio::task::block_in_place(|| clamd::start_unix(LIMIT))? else {
        return Ok(());
    };
    let c = Cluster::start_internal_with(&format!(
        "[antivirus]\nclamd = \"unix:{}\"\ntimeout_secs = 5\nmax_stream_bytes = {LIMIT}\n",
        av.unix.display()
    ))
    .await?;
    let http = reqwest::Client::new();
    let node = c.node.as_ref().context("internal node")?.lines[0].clone();
    let space = c.space(&http, "chantier").await?;
    let jean = c
        .contractor(&http, &space, "jean@btp.example", "collaborator")
        .await?;

    // A clean file arrives.
    upload(
        &http,
        &jean,
        &space,
        "plan.txt",
        b"plan du chantier".to_vec(),
    )
    .await?;
    eventually("the clean file on the internal node", || async {
        let names = names_inside(&c, &http, &space).await?;
        ensure!(names.iter().any(|n| n == "plan.txt"), "{names:?}");
        Ok(())
    })
    .await?;

    // The sample is refused: the contractor reads why on the edge…
    upload(&http, &jean, &space, "facture.exe", av.sample.clone()).await?;
    let verdict = format!("refusé : fichier infecté ({})", av.signature);
    eventually("the refusal on the edge", || async {
        let op = operation(&http, &jean, &space, "facture.exe").await?;
        ensure!(op["outcome"] == "rejected", "{op}");
        ensure!(op["detail"] == verdict.as_str(), "{op}");
        Ok(())
    })
    .await?;
    // …the managers in quarantine, and nothing was applied.
    let status: Value = c
        .api(
            &http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/replication"),
        )
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        status["quarantine"][0]["detail"] == verdict.as_str(),
        "{status}"
    );
    ensure!(status["antivirus"]["reachable"] == true, "{status}");
    let names = names_inside(&c, &http, &space).await?;
    ensure!(!names.iter().any(|n| n == "facture.exe"), "{names:?}");
    let m = scrape(&http, &node).await?;
    ensure!(
        m.get("passerelle_antivirus_infected_total") == Some(&1.0),
        "{m:?}"
    );

    // clamd stops: the next upload waits, visibly, and is not refused.
    tokio::task::block_in_place(|| av.stop());
    upload(
        &http,
        &jean,
        &space,
        "compte-rendu.txt",
        b"compte rendu".to_vec(),
    )
    .await?;
    eventually("the outage on /metrics", || async {
        let m = scrape(&http, &node).await?;
        ensure!(m.get("passerelle_antivirus_up") == Some(&0.0), "up: {m:?}");
        ensure!(
            m.get("passerelle_antivirus_waiting_operations") >= Some(&1.0),
            "waiting: {m:?}"
        );
        Ok(())
    })
    .await?;
    let status: Value = c
        .api(
            &http,
            reqwest::Method::GET,
            &format!("/spaces/{space}/replication"),
        )
        .send()
        .await?
        .json()
        .await?;
    ensure!(status["antivirus"]["reachable"] == false, "{status}");
    ensure!(
        status["antivirus"]["unreachable_since"].is_string(),
        "{status}"
    );
    ensure!(
        status["quarantine"].as_array().map(Vec::len) == Some(1),
        "{status}"
    );
    let op = operation(&http, &jean, &space, "compte-rendu.txt").await?;
    ensure!(op["status"] == "pending", "still pending on the edge: {op}");
    let names = names_inside(&c, &http, &space).await?;
    ensure!(!names.iter().any(|n| n == "compte-rendu.txt"), "{names:?}");

    // clamd is back: it lands, once.
    tokio::task::block_in_place(|| av.restart())?;
    eventually("the waiting upload on the internal node", || async {
        let names = names_inside(&c, &http, &space).await?;
        ensure!(names.iter().any(|n| n == "compte-rendu.txt"), "{names:?}");
        Ok(())
    })
    .await?;
    eventually("the edge told it was applied", || async {
        let op = operation(&http, &jean, &space, "compte-rendu.txt").await?;
        ensure!(op["outcome"] == "applied", "{op}");
        Ok(())
    })
    .await?;
    let m = scrape(&http, &node).await?;
    ensure!(m.get("passerelle_antivirus_up") == Some(&1.0), "{m:?}");
    ensure!(
        m.get("passerelle_antivirus_waiting_operations") == Some(&0.0),
        "{m:?}"
    );
    let names = names_inside(&c, &http, &space).await?;
    ensure!(
        names.iter().filter(|n| *n == "compte-rendu.txt").count() == 1,
        "{names:?}"
    );
    Ok(())
}
