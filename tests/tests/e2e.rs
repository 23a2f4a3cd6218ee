//! End-to-end API tests on real storage: each scenario runs on SQLite and on
//! PostgreSQL (a fresh database per test), against the real HTTP server.

use bytes::Bytes;
use passerelle_testing::eventually;
use passerelle_tests::{Api, Backend, TestNode};
use serde_json::{Value, json};

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(passerelle_tests::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(passerelle_tests::Backend::Postgres).await
            })*
        }
    };
}

on_both_backends!(
    documents_live_through_versions_metadata_and_trash,
    hostile_names_are_refused_and_nothing_is_stored,
    an_upload_past_the_limit_is_refused_and_leaves_nothing,
    a_cut_upload_leaves_no_document_and_no_temporary_file,
    malformed_json_and_bad_metadata_get_problem_details,
    another_spaces_ids_are_not_found,
    the_audit_chain_verifies_after_a_session_of_work,
    an_upload_is_found_in_seconds_and_a_deleted_index_rebuilds_itself,
);

const LIMIT: u64 = 1024 * 1024;

async fn node(b: Backend) -> anyhow::Result<Option<TestNode>> {
    TestNode::start(b, LIMIT).await
}

fn problem_code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

async fn documents_live_through_versions_metadata_and_trash(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let space = alice.space("piscine").await?;
    let (status, v) = alice
        .upload(&space, "CCTP lot 1.txt", b"version un".to_vec())
        .await?;
    assert_eq!(status, 201, "{v}");
    let doc = v["document"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        v["version"]["hash"],
        blake3::hash(b"version un").to_hex().as_str()
    );

    let r = alice
        .post(&format!("/documents/{doc}/versions"))
        .body("version deux")
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let r = alice
        .put(&format!("/documents/{doc}/metadata"))
        .json(&json!({"type": "cahier-des-charges", "metadata": {"reference_consultation": "2026-PAT-017", "objet": "Piscine", "procedure": "MAPA", "lot": "1"}}))
        .send()
        .await?;
    assert_eq!(r.status(), 200, "{}", r.text().await?);
    let r = alice
        .post(&format!("/documents/{doc}/versions/1/restore"))
        .send()
        .await?;
    assert!(r.status().is_success());
    let versions: Value = alice
        .get(&format!("/documents/{doc}/versions"))
        .send()
        .await?
        .json()
        .await?;
    let list = versions
        .as_array()
        .or(versions["items"].as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 3);

    let r = alice
        .get(&format!("/documents/{doc}/content"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-disposition"]
            .to_str()?
            .starts_with("attachment")
    );
    let etag = r.headers()["etag"].to_str()?.to_owned();
    assert_eq!(r.bytes().await?, Bytes::from_static(b"version un"));
    let r = alice
        .get(&format!("/documents/{doc}/content"))
        .header("If-None-Match", &etag)
        .send()
        .await?;
    assert_eq!(r.status(), 304);
    let r = alice
        .get(&format!("/documents/{doc}/content"))
        .header("Range", "bytes=8-")
        .send()
        .await?;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await?, Bytes::from_static(b"un"));

    assert_eq!(
        alice
            .delete(&format!("/documents/{doc}"))
            .send()
            .await?
            .status(),
        204
    );
    assert_eq!(
        alice
            .get(&format!("/documents/{doc}"))
            .send()
            .await?
            .status(),
        404
    );
    let trash: Value = alice
        .get(&format!("/spaces/{space}/trash"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(trash["documents"].as_array().map(Vec::len), Some(1));
    assert!(
        alice
            .post(&format!("/trash/documents/{doc}/restore"))
            .send()
            .await?
            .status()
            .is_success()
    );
    assert_eq!(
        alice
            .get(&format!("/documents/{doc}"))
            .send()
            .await?
            .status(),
        200
    );
    n.stop().await
}

async fn hostile_names_are_refused_and_nothing_is_stored(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let space = alice.space("hostile").await?;
    let long = "é".repeat(150);
    for name in [
        "..",
        "../../etc/passwd",
        "a/b",
        "a\\b",
        "a\0b",
        "bell\u{7}",
        "CON",
        "nul.txt",
        long.as_str(),
    ] {
        let (status, v) = alice.upload(&space, name, b"x".to_vec()).await?;
        assert_eq!(status, 400, "{name:?}: {v}");
        assert_eq!(problem_code(&v), "invalid_name", "{name:?}: {v}");
    }
    // NFC/NFD and case duplicates.
    assert_eq!(
        alice.upload(&space, "Résumé.txt", b"1".to_vec()).await?.0,
        201
    );
    for dup in ["Re\u{301}sume\u{301}.txt", "RÉSUMÉ.TXT"] {
        let (status, v) = alice.upload(&space, dup, b"2".to_vec()).await?;
        assert_eq!(status, 409, "{dup:?}: {v}");
        assert_eq!(problem_code(&v), "name_taken");
    }
    let listing: Value = alice
        .get(&format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listing["documents"]["total"], 1);
    let stored = passerelle_core::blob::BlobStore::list(n.node.blobs.as_ref()).await?;
    assert_eq!(stored.len(), 1, "refused uploads stored no content");
    assert_eq!(n.temporaries(), 0);
    n.stop().await
}

async fn an_upload_past_the_limit_is_refused_and_leaves_nothing(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let space = alice.space("limits").await?;
    // Declared length over the limit.
    let (status, v) = alice
        .upload(&space, "big.bin", vec![7u8; LIMIT as usize + 1])
        .await?;
    assert_eq!(status, 413, "{v}");
    assert_eq!(problem_code(&v), "too_large");
    // Chunked body (no length) that grows past the limit.
    let chunks = (0..3)
        .map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![i as u8; (LIMIT / 2) as usize + 1])));
    let r = alice
        .post(&format!("/spaces/{space}/documents"))
        .query(&[("name", "chunked.bin")])
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    // The server stops reading at the limit and answers 413; a client still
    // writing may see the connection close first (HTTP/1.1 has no way to
    // interrupt a body). Either way nothing may be stored.
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    // The server closes a connection whose body it refused to read; a
    // pooled client may not have noticed yet: check with a fresh one.
    let alice = Api {
        http: reqwest::Client::new(),
        ..alice
    };
    let listing: Value = alice
        .get(&format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listing["documents"]["total"], 0);
    assert!(
        passerelle_core::blob::BlobStore::list(n.node.blobs.as_ref())
            .await?
            .is_empty()
    );
    assert_eq!(n.temporaries(), 0, "no temporary file left");
    n.stop().await
}

async fn a_cut_upload_leaves_no_document_and_no_temporary_file(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let space = alice.space("cut").await?;
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(vec![1u8; 64 * 1024])),
        Ok(Bytes::from(vec![2u8; 64 * 1024])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client gave up",
        )),
    ];
    let r = alice
        .post(&format!("/spaces/{space}/documents"))
        .query(&[("name", "cut.bin")])
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    assert!(r.is_err() || !r.as_ref().map(|r| r.status().is_success()).unwrap_or(false));
    eventually("the cut upload's temporary removed", || async {
        anyhow::ensure!(n.temporaries() == 0, "temporary file still present");
        Ok(())
    })
    .await?;
    let listing: Value = alice
        .get(&format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listing["documents"]["total"], 0);
    assert!(
        passerelle_core::blob::BlobStore::list(n.node.blobs.as_ref())
            .await?
            .is_empty()
    );
    n.stop().await
}

async fn malformed_json_and_bad_metadata_get_problem_details(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let r = alice
        .post("/spaces")
        .header("Content-Type", "application/json")
        .body("{\"slug\": ")
        .send()
        .await?;
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["content-type"]
            .to_str()?
            .starts_with("application/problem+json")
    );
    let v: Value = r.json().await?;
    assert_eq!(problem_code(&v), "invalid_json");

    let space = alice.space("meta").await?;
    let (_, v) = alice
        .upload(&space, "facture.pdf", b"%PDF".to_vec())
        .await?;
    let doc = v["document"]["id"].as_str().unwrap_or_default().to_owned();
    let r = alice
        .put(&format!("/documents/{doc}/metadata"))
        .json(&json!({"type": "facture", "metadata": {"montant_ttc": "douze euros", "date_emission": "2026-13-45"}}))
        .send()
        .await?;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await?;
    assert_eq!(problem_code(&v), "invalid_metadata");
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["field"].as_str())
        .collect();
    for f in ["numero", "fournisseur", "montant_ttc", "date_emission"] {
        assert!(fields.contains(&f), "{f} missing in {v}");
    }
    let d: Value = alice
        .get(&format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(d["document"]["type"], Value::Null, "metadata unchanged");
    n.stop().await
}

async fn another_spaces_ids_are_not_found(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let bob = Api::for_user(&n, "bob").await?;
    let secret = alice.space("secret").await?;
    let (_, v) = alice
        .upload(&secret, "secret.txt", b"confidentiel".to_vec())
        .await?;
    let doc = v["document"]["id"].as_str().unwrap_or_default().to_owned();
    let r = alice
        .post(&format!("/spaces/{secret}/folders"))
        .json(&json!({"name": "Dossier"}))
        .send()
        .await?;
    let folder: Value = r.json().await?;
    let folder = folder["id"].as_str().unwrap_or_default().to_owned();

    let own = bob.space("bobs").await?;
    for path in [
        format!("/documents/{doc}"),
        format!("/documents/{doc}/content"),
        format!("/documents/{doc}/versions"),
        format!("/spaces/{secret}"),
        format!("/spaces/{secret}/children"),
        format!("/spaces/{secret}/members"),
    ] {
        let r = bob.get(&path).send().await?;
        assert_eq!(r.status(), 404, "{path}");
    }
    // Bob's own space, but Alice's folder id: not found, nothing created.
    let r = bob
        .post(&format!("/spaces/{own}/documents"))
        .query(&[("name", "x.txt"), ("folder", folder.as_str())])
        .body("x")
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    assert_eq!(
        bob.delete(&format!("/documents/{doc}"))
            .send()
            .await?
            .status(),
        404
    );
    let r = bob
        .patch(&format!("/documents/{doc}"))
        .json(&json!({"name": "pwned.txt"}))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    let d: Value = alice
        .get(&format!("/documents/{doc}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(d["document"]["name"], "secret.txt");
    n.stop().await
}

async fn the_audit_chain_verifies_after_a_session_of_work(b: Backend) -> anyhow::Result<()> {
    let Some(n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let space = alice.space("audit").await?;
    for i in 0..5 {
        alice
            .upload(&space, &format!("doc-{i}.txt"), format!("{i}").into_bytes())
            .await?;
    }
    let report = n.node.app.verify_audit().await?;
    assert!(report.broken.is_none(), "{report:?}");
    assert!(report.verified >= 6);
    let r = alice.get(&format!("/spaces/{space}/audit")).send().await?;
    assert_eq!(r.status(), 200);
    n.stop().await
}

/// The names a search finds.
async fn found(api: &Api, q: &str) -> anyhow::Result<Vec<String>> {
    let r = api.get("/search").query(&[("q", q)]).send().await?;
    anyhow::ensure!(r.status() == 200, "search: {}", r.status());
    let v: Value = r.json().await?;
    Ok(v["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["document"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Issue 14: the indexer follows the writes (a new upload is found in
/// seconds, by an accent-free inflected word, and by its author only), and
/// the index is derived data: deleted while the node is stopped, it is
/// rebuilt at the next start without anyone's help.
async fn an_upload_is_found_in_seconds_and_a_deleted_index_rebuilds_itself(
    b: Backend,
) -> anyhow::Result<()> {
    let Some(mut n) = node(b).await? else {
        return Ok(());
    };
    let alice = Api::for_user(&n, "alice").await?;
    let bob = Api::for_user(&n, "bob").await?;
    let space = alice.space("transports").await?;
    let started = std::time::Instant::now();
    let (status, v) = alice
        .upload(
            &space,
            "Délibération 2026-041.txt",
            "Les délibérations du conseil métropolitain sur les transports publics"
                .as_bytes()
                .to_vec(),
        )
        .await?;
    assert_eq!(status, 201, "{v}");
    let names = eventually("the upload in the search results", || async {
        let names = found(&alice, "deliberation transport").await?;
        anyhow::ensure!(!names.is_empty(), "not found yet");
        Ok(names)
    })
    .await?;
    println!("found {:?} after {:?}", names, started.elapsed());
    assert_eq!(names, ["Délibération 2026-041.txt"]);
    assert!(found(&bob, "deliberation transport").await?.is_empty());

    n.restart(|data| {
        let _ = std::fs::remove_dir_all(data.join("search"));
    })
    .await?;
    let alice = Api::for_user(&n, "alice").await?;
    let names = eventually("the rebuilt index", || async {
        let names = found(&alice, "conseil metropolitain").await?;
        anyhow::ensure!(!names.is_empty(), "not rebuilt yet");
        Ok(names)
    })
    .await?;
    assert_eq!(names, ["Délibération 2026-041.txt"]);
    n.stop().await
}

// WebDAV with real clients (litmus, rclone) on a real node.
#[path = "e2e/cadaver.rs"]
mod cadaver;
#[path = "e2e/dav.rs"]
mod dav;
#[path = "e2e/libreoffice.rs"]
mod libreoffice;
