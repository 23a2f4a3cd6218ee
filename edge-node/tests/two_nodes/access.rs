//! Access that ends (ADR 0011) on two real processes: a manager sets the
//! end of a contractor's access a few seconds ahead through the internal
//! node's API; once it passes, the edge refuses the contractor the space
//! and logs them out, and the internal node's sweep removes the
//! membership, each within a minute. No timed assertion: each step waits
//! for its state.

use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::cluster::{Cluster, eventually_within};

const WITHIN: Duration = Duration::from_secs(90);
const EVERY: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contractor_s_access_ends_on_both_nodes_at_its_date() -> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "fin-de-contrat").await?;
    c.upload(&http, &space, "plan.txt", "plan").await?;
    let jean = c
        .contractor(&http, &space, "jean@btp.example", "contributor")
        .await?;
    let listed = jean
        .req(&http, reqwest::Method::GET, &format!("/spaces/{space}"))
        .send()
        .await?;
    ensure!(listed.status() == 200, "before: {}", listed.status());

    // In the past: refused, nothing changed.
    let path = format!("/spaces/{space}/members/{}/end", jean.id);
    let past = c
        .api(&http, reqwest::Method::PUT, &path)
        .json(&json!({ "ends_at": "2020-01-01T00:00:00Z" }))
        .send()
        .await?;
    ensure!(past.status() == 400, "past: {}", past.status());
    let problem: Value = past.json().await?;
    ensure!(problem["code"] == "end_in_past", "{problem}");

    let end = OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let end_text = end.format(&time::format_description::well_known::Rfc3339)?;
    let set = c
        .api(&http, reqwest::Method::PUT, &path)
        .json(&json!({ "ends_at": end_text }))
        .send()
        .await?;
    ensure!(set.status() == 200, "set: {}", set.status());
    let member: Value = set.json().await?;
    ensure!(member["ends_at"].is_string(), "{member}");

    // Once the date has passed, the edge shows the space no more: as if
    // it did not exist, then the contractor is logged out.
    eventually_within("the space gone for the contractor", WITHIN, EVERY, || {
        let r = jean
            .req(&http, reqwest::Method::GET, &format!("/spaces/{space}"))
            .send();
        async move {
            let status = r.await?.status();
            ensure!(status == 404 || status == 401, "still {status} on the edge");
            Ok(())
        }
    })
    .await?;
    ensure!(OffsetDateTime::now_utc() >= end, "refused before the date");
    eventually_within("the contractor logged out", WITHIN, EVERY, || {
        let r = jean.req(&http, reqwest::Method::GET, "/auth/me").send();
        async move {
            let status = r.await?.status();
            ensure!(status == 401, "session still {status}");
            Ok(())
        }
    })
    .await?;

    // The internal node's sweep removed the membership, audited.
    eventually_within("the membership removed", WITHIN, EVERY, || {
        let r = c
            .api(
                &http,
                reqwest::Method::GET,
                &format!("/spaces/{space}/members"),
            )
            .send();
        let id = jean.id.clone();
        async move {
            let members: Value = r.await?.json().await?;
            let still = members
                .as_array()
                .context("members")?
                .iter()
                .any(|m| m["principal"] == id.as_str());
            ensure!(!still, "still a member: {members}");
            Ok(())
        }
    })
    .await?;
    Ok(())
}
