//! An internal node and an edge node as two real processes on loopback, with
//! a PKI made by the CLI in a temp dir: sharing, invitation, a contractor's
//! upload coming back, a space never shared never reaching the edge, and
//! un-sharing leaving nothing of the space on the edge; in `conflicts`,
//! concurrent edits and revoked rights; in `check`, the edge's `check`
//! command on bad TLS material; in `lag`, the replication lag on the
//! internal node's `/metrics` and both `status`; in `search`, what a
//! contractor finds on the edge; in `locks`, an agent's check-out seen and
//! enforced on the edge; in `dav`, WebDAV on the edge; in `access`, a
//! contractor's access ending at its date on both nodes; in `antivirus`,
//! contractors' uploads scanned by a real clamd on the internal node.

#[path = "two_nodes/access.rs"]
mod access;
#[path = "two_nodes/antivirus.rs"]
mod antivirus;
#[path = "two_nodes/check.rs"]
mod check;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "two_nodes/conflicts.rs"]
mod conflicts;
#[path = "two_nodes/dav.rs"]
mod dav;
#[path = "two_nodes/lag.rs"]
mod lag;
#[path = "two_nodes/locks.rs"]
mod locks;
#[path = "two_nodes/notices.rs"]
mod notices;
#[path = "two_nodes/search.rs"]
mod search;

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use cluster::{Cluster, blob_files, eventually, eventually_within, files_under, holds};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_space_round_trips_through_the_edge_and_unsharing_leaves_nothing()
-> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let (edir, edge_http, ebase) = (c.edir.clone(), c.edge_http.clone(), c.ebase.clone());
    let http = reqwest::Client::new();
    let api = |m: reqwest::Method, path: &str| c.api(&http, m, path);

    // A shared space with a document in two versions, and a space never shared.
    let space: Value = api(reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": "piscine", "title": "Piscine", "domain": "Sports"}))
        .send()
        .await?
        .json()
        .await?;
    let space = space["id"]
        .as_str()
        .or(space["space"]["id"].as_str())
        .context("space id")?
        .to_owned();
    let doc: Value = api(
        reqwest::Method::POST,
        &format!("/spaces/{space}/documents?name=CCTP.txt"),
    )
    .body("version 1")
    .send()
    .await?
    .json()
    .await?;
    let doc = doc["document"]["id"].as_str().context("doc id")?.to_owned();
    let r = api(reqwest::Method::POST, &format!("/documents/{doc}/versions"))
        .body("version 2 du CCTP")
        .send()
        .await?;
    ensure!(r.status() == 201, "new version: {}", r.status());
    let secret_space: Value = api(reqwest::Method::POST, "/spaces")
        .json(&json!({"slug": "interne", "title": "Interne", "domain": "RH"}))
        .send()
        .await?
        .json()
        .await?;
    let secret_space = secret_space["id"]
        .as_str()
        .or(secret_space["space"]["id"].as_str())
        .context("id")?
        .to_owned();
    let secret_content = format!("confidentiel-{}", uuid_like());
    let r = api(
        reqwest::Method::POST,
        &format!("/spaces/{secret_space}/documents?name=jamais-partage.txt"),
    )
    .body(secret_content.clone())
    .send()
    .await?;
    ensure!(r.status() == 201);

    // Share, invite.
    let r = api(reqwest::Method::POST, &format!("/spaces/{space}/share"))
        .json(&json!({"edge": "edge-1"}))
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "share: {} {}",
        r.status(),
        r.text().await?
    );
    let inv: Value = api(reqwest::Method::POST, &format!("/spaces/{space}/contractors"))
        .json(&json!({"email": "jean@btp-rhone.fr", "display_name": "Jean Bâtisseur", "organisation": "BTP Rhône", "role": "collaborator"}))
        .send()
        .await?
        .json()
        .await?;
    let url = inv["invitation_url"].as_str().context("invitation url")?;
    ensure!(url.starts_with(&edge_http), "link to the edge: {url}");
    let secret = url
        .split('#')
        .nth(1)
        .context("secret in the link")?
        .to_owned();

    // The contractor accepts on the edge once the invitation got there.
    eventually("the invitation on the edge", || {
        let (http, ebase, secret) = (http.clone(), ebase.clone(), secret.clone());
        async move {
            let r = http
                .post(format!("{ebase}/invitations/accept"))
                .json(&json!({"secret": secret, "password": "mot de passe du prestataire"}))
                .send()
                .await?;
            ensure!(r.status() == 200, "accept: {}", r.status());
            Ok(())
        }
    })
    .await?;
    // The edge requires a second factor: the first login enrols.
    let session = passerelle_testing::edge_login::edge_login(
        &http,
        &ebase,
        "jean@btp-rhone.fr",
        "mot de passe du prestataire",
        &passerelle_testing::edge_login::Factor::default(),
    )
    .await?;
    // The edge reports the acceptance through its outbox: the internal
    // node's API shows the invitation accepted within seconds.
    let invitation_id = inv["invitation"]["id"]
        .as_str()
        .context("invitation id")?
        .to_owned();
    eventually_within(
        "the acceptance on the internal node",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || {
            let req = api(
                reqwest::Method::GET,
                &format!("/spaces/{space}/invitations"),
            );
            let invitation_id = invitation_id.clone();
            async move {
                let v: Value = req.send().await?.json().await?;
                let i = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| i["id"] == invitation_id.as_str())
                    .context("invitation listed")?;
                ensure!(i["state"] == "accepted", "not yet: {i}");
                ensure!(i["accepted_at"].is_string(), "{i}");
                Ok(())
            }
        },
    )
    .await?;
    let (cookie, csrf) = (session.cookie, session.csrf);
    let edge_api = |m: reqwest::Method, path: &str| {
        http.request(m, format!("{ebase}{path}"))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
    };

    // Only that space, with the same content hashes.
    let spaces: Value = edge_api(reqwest::Method::GET, "/spaces")
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        spaces["items"].as_array().map(Vec::len) == Some(1),
        "{spaces}"
    );
    let on_edge: Value = edge_api(reqwest::Method::GET, &format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    let on_internal: Value = api(reqwest::Method::GET, &format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(on_edge["version"]["hash"], on_internal["version"]["hash"]);
    assert_eq!(on_edge["version"]["number"], 2);

    // A contractor upload and a new version come back with the contractor as author.
    let r = edge_api(
        reqwest::Method::POST,
        &format!("/spaces/{space}/documents?name=Plan%20masse.pdf"),
    )
    .body("plan du prestataire")
    .send()
    .await?;
    ensure!(r.status() == 202, "edge upload: {}", r.status());
    let r = edge_api(reqwest::Method::POST, &format!("/documents/{doc}/versions"))
        .body("version 3 par le prestataire")
        .send()
        .await?;
    ensure!(r.status() == 202, "edge version: {}", r.status());
    let me: Value = edge_api(reqwest::Method::GET, "/auth/me")
        .send()
        .await?
        .json()
        .await?;
    let contractor = me["user"]["id"]
        .as_str()
        .context("contractor id")?
        .to_owned();
    let started = Instant::now();
    let plan = eventually("the contractor's upload on the internal node", || {
        let req = api(reqwest::Method::GET, &format!("/spaces/{space}/children"));
        async move {
            let v: Value = req.send().await?.json().await?;
            let docs = v["documents"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let plan = docs
                .into_iter()
                .find(|d| d["name"] == "Plan masse.pdf")
                .context("not yet")?;
            Ok(plan)
        }
    })
    .await?;
    assert_eq!(plan["created_by"], contractor.as_str());
    eventually("the contractor's version on the internal node", || {
        let req = api(reqwest::Method::GET, &format!("/documents/{doc}"));
        async move {
            let v: Value = req.send().await?.json().await?;
            ensure!(v["version"]["number"] == 3, "not yet");
            Ok(())
        }
    })
    .await?;
    eprintln!(
        "contractor upload visible on the internal node after {:?}",
        started.elapsed()
    );

    // The internal node dials out and listens on nothing but its HTTP port;
    // the edge listens on its public and peer ports.
    let node_pid = c.node.as_ref().context("internal")?.child.id();
    let http_port: u16 = c
        .base
        .trim_end_matches("/api/v1")
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .parse()?;
    assert_eq!(
        cluster::listening_ports(node_pid)?,
        vec![http_port],
        "no replication listener on the internal node"
    );
    let edge_pid = c.edge.as_ref().context("edge")?.child.id();
    assert_eq!(cluster::listening_ports(edge_pid)?.len(), 2);

    // Ops on the edge: what it holds, and a sanity check of its setup.
    let edge_cli = |args: &[&str]| {
        let mut v = vec!["--data-dir", c.edir.to_str().unwrap_or_default()];
        v.extend_from_slice(args);
        cluster::run(std::path::Path::new(cluster::EDGE_BIN), &v)
    };
    let held = edge_cli(&["status"])?;
    assert!(
        held.contains("holds 1 shared space") && held.contains(&space),
        "{held}"
    );
    assert!(edge_cli(&["check"])?.starts_with("ok:"));
    // Every blob the space needs is here and true; nothing recent is
    // collected beside the running edge.
    let verify = edge_cli(&["blobs", "verify"])?;
    assert!(verify.contains("blobs ok"), "{verify}");
    let gc = edge_cli(&["blobs", "gc"])?;
    assert!(gc.contains(" 0 deleted"), "{gc}");

    // Ops see the link and the lag from the CLI.
    let status = eventually("lag 0 in the CLI status", || {
        let out = c.internal_cli(&[
            "--config",
            c.config.to_str().unwrap_or_default(),
            "replication",
            "status",
        ]);
        async move {
            let out = out?;
            ensure!(out.contains("piscine") && out.contains("lag 0 "), "{out}");
            Ok(out)
        }
    })
    .await?;
    assert!(status.contains("edge edge-1"), "{status}");

    // Never shared: nothing of it on the edge, neither rows nor blob.
    let secret_hash = blake3::hash(secret_content.as_bytes()).to_hex().to_string();
    let scan = files_under(&edir);
    assert!(
        !blob_files(&edir).contains(&secret_hash),
        "the unshared blob reached the edge"
    );
    assert_eq!(
        holds(&scan, b"jamais-partage"),
        None,
        "a name of the unshared space reached the edge"
    );
    assert_eq!(holds(&scan, secret_space.as_bytes()), None);
    assert_eq!(holds(&scan, secret_content.as_bytes()), None);

    // Un-share: the edge ends up holding nothing of the space.
    let hashes: Vec<String> = {
        let v: Value = api(reqwest::Method::GET, &format!("/documents/{doc}/versions"))
            .send()
            .await?
            .json()
            .await?;
        v.as_array()
            .or(v["items"].as_array())
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|x| x["hash"].as_str().map(str::to_owned))
            .collect()
    };
    ensure!(hashes.len() == 3);
    let r = api(reqwest::Method::POST, &format!("/spaces/{space}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success());
    eventually("the purge of the edge", || {
        let edir = edir.clone();
        let hashes = hashes.clone();
        async move {
            let left: Vec<_> = blob_files(&edir)
                .into_iter()
                .filter(|b| hashes.contains(b))
                .collect();
            ensure!(left.is_empty(), "blobs still on the edge: {left:?}");
            Ok(())
        }
    })
    .await?;
    // The edge deletes the files inside its purge; the internal node
    // records the receipt when the answer reaches it, a moment later.
    let receipt = eventually("the purge receipt in the audit log", || async {
        let audit: Value = api(reqwest::Method::GET, "/audit?limit=500")
            .send()
            .await?
            .json()
            .await?;
        audit["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["action"] == "space.unshare")
            .cloned()
            .context("no purge receipt yet")
    })
    .await?;
    assert!(receipt["detail"]["rows_removed"].as_u64().unwrap_or(0) > 0);
    let verify = edge_cli(&["blobs", "verify"])?;
    assert!(
        verify.starts_with("0 needed by the shared spaces, 0 stored"),
        "{verify}"
    );
    // The edge's indexer drops the purged space from the search index
    // (rewriting its segments, so that no byte of it stays on disk).
    let search_dir = edir.join("search");
    eventually("the space gone from the edge's search index", || {
        let search_dir = search_dir.clone();
        async move {
            let scan = files_under(&search_dir);
            ensure!(
                holds(&scan, b"version 2 du CCTP").is_none() && holds(&scan, b"CCTP.txt").is_none(),
                "the search index still holds the space"
            );
            Ok(())
        }
    })
    .await?;
    let r = edge_api(reqwest::Method::GET, "/spaces").send().await?;
    ensure!(
        r.status() == 401 || r.json::<Value>().await?["items"].as_array().map(Vec::len) == Some(0),
        "the contractor still sees something"
    );
    // Anti-entropy ran after the first sync: both nodes must have agreed.
    let log = std::fs::read_to_string(&c.node.as_ref().context("internal")?.log)?;
    assert!(
        !log.contains("diverged"),
        "digests disagreed on an in-sync space"
    );
    drop(c);
    let scan = files_under(&edir);
    for h in &hashes {
        assert!(!blob_files(&edir).contains(h));
    }
    assert_eq!(
        holds(&scan, b"CCTP.txt"),
        None,
        "a document name of the space is still in the edge's files"
    );
    assert_eq!(holds(&scan, b"Plan masse.pdf"), None);
    assert_eq!(holds(&scan, b"version 2 du CCTP"), None);
    Ok(())
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
