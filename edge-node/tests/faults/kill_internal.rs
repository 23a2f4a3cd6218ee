//! `kill -9` of the internal node while it applies a contractor's queued
//! uploads: after its restart every operation is applied exactly once,
//! by the ledger, the audit log and both lives' logs.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::Value;

use super::api::{
    accept_and_login, audit_log, internal_documents, invite, new_space, operations, share,
};
use super::cluster::{Cluster, eventually, eventually_within, plain};

/// Operations queued on the edge in the second test.
const UPLOADS: usize = 30;

pub(crate) async fn operations_apply_once_across_kill_9_of_the_internal_node(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let space = new_space(c, &http, "lot-gros-oeuvre").await?;
    share(c, &http, &space).await?;
    let secret = invite(c, &http, &space, "marc@macon.fr", "collaborator").await?;
    let marc = accept_and_login(c, &http, &space, &secret, "marc@macon.fr").await?;
    let names: Vec<String> = (0..UPLOADS).map(|i| format!("releve-{i:02}.txt")).collect();

    // The contractor queues his uploads as fast as the edge takes them...
    let queue = {
        let (marc, space, names) = (marc.clone(), space.clone(), names.clone());
        tokio::spawn(async move {
            let mut ops = Vec::new();
            for n in &names {
                let r = marc
                    .req(Method::POST, &format!("/spaces/{space}/documents?name={n}"))
                    .body(format!("relevé {n} du maçon"))
                    .send()
                    .await?;
                ensure!(r.status() == 202, "edge upload {n}: {}", r.status());
                let op: Value = r.json().await?;
                ops.push(op["op_id"].as_str().context("op_id")?.to_owned());
            }
            anyhow::Ok(ops)
        })
    };
    // ...and the internal node is killed while it pulls them: right after
    // its third commit (logged before the acknowledgement goes to the edge,
    // so the kill often lands between the two).
    let applied_before = eventually_within(
        "the first uploads applied on the internal node",
        Duration::from_secs(30),
        Duration::from_millis(1),
        || async {
            let n = c.internal_log().matches("edge operation applied").count();
            ensure!(n >= 3, "{n} so far");
            Ok(n)
        },
    )
    .await?;
    let first_log = plain(&c.kill_internal()?);
    let ops = queue.await??;
    let pending = operations(&marc, &space)
        .await?
        .iter()
        .filter(|o| o["status"] == "pending")
        .count();
    eprintln!(
        "internal node killed with {applied_before}+ documents applied, {pending} of {UPLOADS} operations pending on the edge"
    );
    ensure!(
        pending > 0,
        "every operation was acknowledged before the kill: nothing was in flight"
    );

    c.start_internal()?;
    let docs = eventually("every upload on the internal node", || async {
        let docs = internal_documents(c, &http, &space).await?;
        ensure!(docs.len() >= UPLOADS, "{} of {UPLOADS}", docs.len());
        Ok(docs)
    })
    .await?;
    let decided = eventually("every operation decided on the edge", || async {
        let ops = operations(&marc, &space).await?;
        ensure!(
            ops.len() == UPLOADS && ops.iter().all(|o| o["status"] == "decided"),
            "not yet"
        );
        Ok(ops)
    })
    .await?;

    // Each name exactly once, no conflict copy.
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for d in &docs {
        *count
            .entry(d["name"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = names.iter().map(|n| (n.clone(), 1)).collect();
    ensure!(
        count == expected,
        "documents on the internal node: {count:?}"
    );
    for o in &decided {
        ensure!(o["outcome"] == "applied", "operation decided as {o}");
    }

    // The audit log (written in the same transaction as the op ledger):
    // one upload per operation, by the contractor, no conflict, no refusal.
    let audit = audit_log(c, &http).await?;
    let mut uploads: BTreeMap<String, usize> = BTreeMap::new();
    for e in &audit {
        let action = e["action"].as_str().unwrap_or_default();
        ensure!(
            action != "replication.conflict" && action != "replication.rejected",
            "{e}"
        );
        if action == "document.upload" && e["actor"] == marc.id.as_str() {
            *uploads
                .entry(e["detail"]["name"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    ensure!(uploads == expected, "uploads in the audit log: {uploads:?}");

    // The ledger's trace in the logs of both lives of the internal node:
    // "edge operation applied" is logged after the commit, at most once.
    // (One commit may have gone unlogged: the kill can fall right after it.)
    let logs = format!("{first_log}\n{}", plain(&c.internal_log()));
    let mut logged = 0;
    for op in &ops {
        let n = logs
            .lines()
            .filter(|l| l.contains("edge operation applied") && l.contains(op.as_str()))
            .count();
        ensure!(n <= 1, "operation {op} applied {n} times");
        logged += n;
    }
    ensure!(
        logged + 1 >= UPLOADS,
        "only {logged} of {UPLOADS} operations in the logs"
    );
    let first_applied = first_log
        .lines()
        .filter(|l| l.contains("edge operation applied"))
        .count();
    eprintln!(
        "{first_applied} operations applied before the kill ({} of them not acknowledged then, so delivered again), {} after the restart",
        first_applied.saturating_sub(UPLOADS - pending),
        UPLOADS.saturating_sub(first_applied)
    );
    Ok(())
}
