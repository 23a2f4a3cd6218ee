//! WebDAV on the edge (issue 15 §4), two real nodes: a contractor sees the
//! spaces shared with them as the same tree the agents have, reads at
//! once, and their writes (a new version, a new document, a folder) are
//! queued in the outbox and land on the internal node; what the outbox
//! cannot carry (a folder's deletion) is refused and changes nothing, and
//! no lock is offered where it could not exclude the agents. While the
//! link is down, what the contractor saved shows to them as saved.

use anyhow::{Context, ensure};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cluster::{CONTRACTOR_PASSWORD, Cluster, Contractor, eventually};

const JEAN: &str = "jean@btp-rhone.fr";

fn method(m: &str) -> anyhow::Result<Method> {
    Ok(Method::from_bytes(m.as_bytes())?)
}

/// A WebDAV request on the edge as `who`, with their app password (the
/// edge requires a second factor: the password alone opens nothing).
fn dav(
    c: &Cluster,
    http: &reqwest::Client,
    m: &str,
    path: &str,
    who: &Contractor,
) -> anyhow::Result<reqwest::RequestBuilder> {
    Ok(http
        .request(method(m)?, format!("{}/dav{path}", c.edge_http))
        .basic_auth(&who.login, Some(&who.app_password)))
}

/// The `href`s a PROPFIND answered, decoded enough to compare.
fn hrefs(body: &str) -> Vec<String> {
    body.split("<D:href>")
        .skip(1)
        .filter_map(|s| s.split("</D:href>").next())
        .map(str::to_owned)
        .collect()
}

/// The names of the documents and folders at a space's root on the
/// internal node.
async fn internal_root(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let v: Value = c
        .api(http, Method::GET, &format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    let names = |arr: &Value| -> Vec<String> {
        arr.as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect()
    };
    Ok((names(&v["documents"]["items"]), names(&v["folders"])))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contractor_reads_and_writes_the_shared_tree_through_the_edge() -> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let shared = c.space(&http, "chantier").await?;
    let private = c.space(&http, "budget").await?;
    let plan = c
        .upload(&http, &shared, "Plan.txt", "plan version un")
        .await?;
    c.upload(&http, &private, "Budget.txt", "confidentiel")
        .await?;
    let jean = c.contractor(&http, &shared, JEAN, "collaborator").await?;

    // Reads at once, from the edge's replica.
    let body = eventually("the shared document over WebDAV on the edge", || async {
        let r = dav(&c, &http, "GET", "/chantier/Plan.txt", &jean)?
            .send()
            .await?;
        ensure!(r.status() == 200, "GET: {}", r.status());
        Ok(r.text().await?)
    })
    .await?;
    assert_eq!(body, "plan version un");
    let r = dav(&c, &http, "PROPFIND", "/", &jean)?
        .header("Depth", "1")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::MULTI_STATUS);
    let listed = hrefs(&r.text().await?);
    assert!(
        listed.iter().any(|h| h.ends_with("/dav/chantier/")),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|h| h.contains("budget")), "{listed:?}");
    // A space never shared is absent from the edge: 404, as anything absent.
    let r = dav(&c, &http, "PROPFIND", "/budget/", &jean)?
        .header("Depth", "0")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A wrong password is refused before anything is read; so is the
    // right one: with a second factor, only app passwords open WebDAV.
    for password in ["pas le bon", CONTRACTOR_PASSWORD] {
        let r = http
            .get(format!("{}/dav/chantier/Plan.txt", c.edge_http))
            .basic_auth(JEAN, Some(password))
            .send()
            .await?;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{password}");
    }

    // No lock is offered on the edge: LOCK is not allowed, and the class
    // advertised says so.
    let r = dav(&c, &http, "OPTIONS", "/chantier/", &jean)?
        .send()
        .await?;
    let class = r
        .headers()
        .get("dav")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(!class.split(',').any(|c| c.trim() == "2"), "DAV: {class}");
    let r = dav(&c, &http, "LOCK", "/chantier/Plan.txt", &jean)?
        .header("Content-Type", "application/xml")
        .body(r#"<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"#)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Writes are queued, answered once queued, and land on the internal
    // node: a new version, a new document, a folder.
    let r = dav(&c, &http, "PUT", "/chantier/Plan.txt", &jean)?
        .body("plan version deux")
        .send()
        .await?;
    assert!(r.status().is_success(), "PUT new version: {}", r.status());
    let r = dav(&c, &http, "PUT", "/chantier/Rapport.txt", &jean)?
        .body("rapport de chantier")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = dav(&c, &http, "MKCOL", "/chantier/Livrables", &jean)?
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::CREATED);
    eventually(
        "the contractor's writes applied on the internal node",
        || async {
            let (docs, folders) = internal_root(&c, &http, &shared).await?;
            ensure!(
                docs.contains(&"Rapport.txt".to_owned()),
                "documents: {docs:?}"
            );
            ensure!(
                folders.contains(&"Livrables".to_owned()),
                "folders: {folders:?}"
            );
            let v: Value = c
                .api(&http, Method::GET, &format!("/documents/{plan}"))
                .send()
                .await?
                .json()
                .await?;
            ensure!(v["version"]["number"] == 2, "plan: {v}");
            Ok(())
        },
    )
    .await?;
    let content = c
        .api(&http, Method::GET, &format!("/documents/{plan}/content"))
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(content, "plan version deux");
    // Back down on the edge, in the same tree.
    let back = eventually("the new document back on the edge", || async {
        let r = dav(&c, &http, "GET", "/chantier/Rapport.txt", &jean)?
            .send()
            .await?;
        ensure!(r.status() == 200, "GET: {}", r.status());
        Ok(r.text().await?)
    })
    .await?;
    assert_eq!(back, "rapport de chantier");

    // A folder's deletion has no outbox operation: refused, nothing changes
    // on either node.
    eventually("the folder on the edge", || async {
        let r = dav(&c, &http, "PROPFIND", "/chantier/Livrables/", &jean)?
            .header("Depth", "0")
            .send()
            .await?;
        ensure!(
            r.status() == StatusCode::MULTI_STATUS,
            "PROPFIND: {}",
            r.status()
        );
        Ok(())
    })
    .await?;
    let r = dav(&c, &http, "DELETE", "/chantier/Livrables/", &jean)?
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, folders) = internal_root(&c, &http, &shared).await?;
    assert!(folders.contains(&"Livrables".to_owned()), "{folders:?}");
    let r = dav(&c, &http, "PROPFIND", "/chantier/Livrables/", &jean)?
        .header("Depth", "0")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::MULTI_STATUS);

    // A document's deletion is queued like the pages' and goes to the
    // internal node's trash.
    let r = dav(&c, &http, "DELETE", "/chantier/Rapport.txt", &jean)?
        .send()
        .await?;
    assert!(r.status().is_success(), "DELETE: {}", r.status());
    eventually("the deletion applied on the internal node", || async {
        let (docs, _) = internal_root(&c, &http, &shared).await?;
        ensure!(
            !docs.contains(&"Rapport.txt".to_owned()),
            "documents: {docs:?}"
        );
        Ok(())
    })
    .await
    .context("the contractor's deletion")?;

    // The link down: what the contractor saves waits in the outbox, and
    // shows to them (only) as saved: listed, read back, its size.
    let mut c = c;
    c.stop_internal()?;
    let r = dav(&c, &http, "PUT", "/chantier/Note.txt", &jean)?
        .body("note en attente")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = dav(&c, &http, "PUT", "/chantier/Plan.txt", &jean)?
        .body("plan version trois, en attente")
        .send()
        .await?;
    assert!(r.status().is_success(), "PUT: {}", r.status());
    let r = dav(&c, &http, "GET", "/chantier/Note.txt", &jean)?
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await?, "note en attente");
    let r = dav(&c, &http, "GET", "/chantier/Plan.txt", &jean)?
        .header("Range", "bytes=5-18")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.text().await?, "version trois,");
    let r = dav(&c, &http, "PROPFIND", "/chantier/", &jean)?
        .header("Depth", "1")
        .send()
        .await?;
    let listing = r.text().await?;
    assert!(listing.contains("/dav/chantier/Note.txt"), "{listing}");
    // A second save of the waiting new document: it has no identity yet.
    let r = dav(&c, &http, "PUT", "/chantier/Note.txt", &jean)?
        .body("note modifiée")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The link back: applied, and the replica alone shows it.
    c.start_internal()?;
    eventually("the waiting writes applied", || async {
        let (docs, _) = internal_root(&c, &http, &shared).await?;
        ensure!(docs.contains(&"Note.txt".to_owned()), "documents: {docs:?}");
        let v: Value = c
            .api(&http, Method::GET, &format!("/documents/{plan}"))
            .send()
            .await?
            .json()
            .await?;
        ensure!(v["version"]["number"] == 3, "plan: {v}");
        Ok(())
    })
    .await?;

    // An agent checks the plan out on the internal node: once the lock
    // reached the edge, the contractor's save through WebDAV is refused
    // 423, saying by whom, and nothing is queued.
    let r = c
        .api(&http, Method::POST, &format!("/documents/{plan}/lock"))
        .json(&serde_json::json!({"note": "relecture"}))
        .send()
        .await?;
    ensure!(r.status() == 201, "check-out: {}", r.status());
    eventually("the lock on the edge", || {
        let r = jean.req(&http, Method::GET, &format!("/documents/{plan}"));
        async move {
            let v: Value = r.send().await?.json().await?;
            ensure!(!v["lock"].is_null(), "not yet");
            Ok(())
        }
    })
    .await?;
    let queued_before: Value = jean
        .req(&http, Method::GET, &format!("/spaces/{shared}/operations"))
        .send()
        .await?
        .json()
        .await?;
    let r = dav(&c, &http, "PUT", "/chantier/Plan.txt", &jean)?
        .body("plan version quatre")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::LOCKED);
    let said = r.text().await?;
    assert!(
        said.contains("locked by Administrateur Passerelle"),
        "{said}"
    );
    let queued_after: Value = jean
        .req(&http, Method::GET, &format!("/spaces/{shared}/operations"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        queued_after["total"], queued_before["total"],
        "nothing queued"
    );
    Ok(())
}

/// Whether litmus's `test` passed: the first verdict after its name
/// (`pass`, `FAIL` or `SKIPPED`; a warning may come between, on lines of
/// its own).
fn litmus_passed(out: &str, test: &str) -> bool {
    let Some(at) = out.rfind(&format!(" {test}.")) else {
        return false;
    };
    let after = &out[at..];
    let first = |word: &str| after.find(word).unwrap_or(usize::MAX);
    let pass = first("pass");
    pass < first("FAIL") && pass < first("SKIPPED")
}

/// What litmus checks that a contractor's read-only view of the edge must
/// pass: OPTIONS, refusals of writes that cannot be (no parent, a body
/// on MKCOL, DELETE of nothing), malformed and well-formed PROPFIND
/// bodies. Its write tests need a folder it creates to be usable at
/// once; on the edge a new folder is an operation waiting for the
/// internal node (ADR 0007, "WebDAV on the edge"), so they fail there.
const LITMUS_READ_ONLY: &[(&str, &[&str])] = &[
    (
        "basic",
        &[
            "options",
            "put_no_parent",
            "delete_null",
            "mkcol_no_parent",
            "mkcol_with_body",
        ],
    ),
    (
        "props",
        &[
            "propfind_invalid",
            "propfind_invalid2",
            "propextended",
            "propwformed",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litmus_read_only_parts_pass_on_the_edge() -> anyhow::Result<()> {
    let c = Cluster::start().await?;
    let http = reqwest::Client::new();
    let shared = c.space(&http, "chantier").await?;
    let jean = c.contractor(&http, &shared, JEAN, "collaborator").await?;
    // Each suite in a folder of its own, made by an agent: the `litmus/`
    // collection a suite leaves is a folder the edge cannot delete.
    for (suite, _) in LITMUS_READ_ONLY {
        let r = c
            .api(&http, Method::POST, &format!("/spaces/{shared}/folders"))
            .json(&serde_json::json!({ "name": suite }))
            .send()
            .await?;
        ensure!(r.status().is_success(), "folder {suite}: {}", r.status());
    }
    for (suite, _) in LITMUS_READ_ONLY {
        eventually("the suites' folders over WebDAV on the edge", || async {
            let r = dav(&c, &http, "PROPFIND", &format!("/chantier/{suite}/"), &jean)?
                .header("Depth", "0")
                .send()
                .await?;
            ensure!(r.status() == StatusCode::MULTI_STATUS, "{}", r.status());
            Ok(())
        })
        .await?;
    }
    for (suite, wanted) in LITMUS_READ_ONLY {
        let url = format!("{}/dav/chantier/{suite}/", c.edge_http);
        let work = tempfile::tempdir()?;
        let out = tokio::process::Command::new("litmus")
            .current_dir(work.path())
            .env("TESTS", suite)
            .args([url.as_str(), JEAN, jean.app_password.as_str()])
            .kill_on_drop(true)
            .output()
            .await
            .context("cannot run litmus: is it installed (apt-get install litmus)?")?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for test in *wanted {
            assert!(
                litmus_passed(&text, test),
                "litmus {suite}/{test} did not pass on the edge:\n{text}"
            );
        }
    }
    // The edge still serves its contractor (litmus's writes were queued
    // or refused, never half-applied).
    let r = dav(&c, &http, "PROPFIND", "/chantier/", &jean)?
        .header("Depth", "1")
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::MULTI_STATUS);
    Ok(())
}
