//! Uploads and downloads: streaming, ETag, ranges, limits, metadata.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bytes::Bytes;
use passerelle_core::CoreSettings;
use passerelle_http::HttpConfig;
use serde_json::json;

use crate::support::*;

/// 300 KiB: more than one chunk of the blob store's reads.
fn sample() -> &'static [u8] {
    let v: Vec<u8> = (0..300 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    Box::leak(v.into_boxed_slice())
}

async fn setup() -> (TestApp, Session, String) {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let space = t.space(&s, "travaux").await;
    (t, s, space)
}

fn get(uri: &str, s: &Session) -> Request<Body> {
    with_session(empty(Method::GET, uri), s)
}

#[tokio::test]
async fn an_upload_downloads_identical_with_attachment_headers_and_etag() {
    let (t, s, space) = setup().await;
    let content = sample();
    let r = t.upload(&s, &space, "Rapport été.txt", content).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let doc = r.json();
    let hash = blake3::hash(content).to_hex().to_string();
    assert_eq!(doc["version"]["hash"], hash.as_str());
    assert_eq!(doc["version"]["size"], content.len());
    assert_eq!(doc["document"]["name"], "Rapport été.txt");
    let id = doc["document"]["id"].as_str().expect("id");

    let d = t
        .send(get(&format!("/api/v1/documents/{id}/content"), &s))
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body, Bytes::from_static(content));
    assert_eq!(d.header(header::ETAG), format!("\"{hash}\""));
    assert_eq!(d.header(header::CONTENT_LENGTH), content.len().to_string());
    assert_eq!(d.header(header::CONTENT_TYPE), "text/plain");
    assert_eq!(d.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(d.header(header::ACCEPT_RANGES), "bytes");
    assert_eq!(d.header(header::CONTENT_SECURITY_POLICY), "sandbox");
    let disposition = d.header(header::CONTENT_DISPOSITION);
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.txt"),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename=\"Rapport _t_.txt\""),
        "{disposition}"
    );
}

#[tokio::test]
async fn a_matching_if_none_match_gives_304_without_body() {
    let (t, s, space) = setup().await;
    let doc = t.upload(&s, &space, "a.txt", b"hello").await.json();
    let id = doc["document"]["id"].as_str().expect("id");
    let tag = format!("\"{}\"", doc["version"]["hash"].as_str().expect("hash"));
    let r = t
        .send(with_header(
            get(&format!("/api/v1/documents/{id}/content"), &s),
            "if-none-match",
            &tag,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header(header::ETAG), tag);
    let other = t
        .send(with_header(
            get(&format!("/api/v1/documents/{id}/content"), &s),
            "if-none-match",
            "\"stale\"",
        ))
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn single_ranges_give_206_and_ranges_outside_give_416() {
    let (t, s, space) = setup().await;
    let content = sample();
    let size = content.len();
    let id = t.upload(&s, &space, "big.bin", content).await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let uri = format!("/api/v1/documents/{id}/content");
    let cases = [
        ("bytes=0-9", 0..10),
        ("bytes=-5", size - 5..size),
        ("bytes=262140-262150", 262_140..262_151),
        (&*format!("bytes={}-", size - 3), size - 3..size),
    ];
    for (range, expected) in cases {
        let r = t.send(with_header(get(&uri, &s), "range", range)).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.body,
            Bytes::copy_from_slice(&content[expected.clone()]),
            "{range}"
        );
        assert_eq!(
            r.header(header::CONTENT_RANGE),
            format!("bytes {}-{}/{size}", expected.start, expected.end - 1)
        );
        assert_eq!(r.header(header::CONTENT_LENGTH), expected.len().to_string());
    }
    let r = t
        .send(with_header(
            get(&uri, &s),
            "range",
            &format!("bytes={size}-"),
        ))
        .await;
    r.assert_problem(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable");
    assert_eq!(r.header(header::CONTENT_RANGE), format!("bytes */{size}"));
}

#[tokio::test]
async fn versions_are_kept_served_and_restored() {
    let (t, s, space) = setup().await;
    let id = t
        .upload(&s, &space, "cctp.txt", b"version one")
        .await
        .json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/documents/{id}/versions?comment=relecture"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("version two"))
        .expect("request");
    let r = t.send(with_session(req, &s)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["document"]["current_version"], 2);
    assert_eq!(r.json()["version"]["comment"], "relecture");

    let current = t
        .send(get(&format!("/api/v1/documents/{id}/content"), &s))
        .await;
    assert_eq!(current.body, Bytes::from_static(b"version two"));
    let old = t
        .send(get(
            &format!("/api/v1/documents/{id}/versions/1/content"),
            &s,
        ))
        .await;
    assert_eq!(old.body, Bytes::from_static(b"version one"));
    let list = t
        .send(get(&format!("/api/v1/documents/{id}/versions"), &s))
        .await
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    let restore = t
        .send(with_session(
            empty(
                Method::POST,
                &format!("/api/v1/documents/{id}/versions/1/restore"),
            ),
            &s,
        ))
        .await;
    assert_eq!(restore.status, StatusCode::OK);
    assert_eq!(restore.json()["document"]["current_version"], 3);
    assert_eq!(restore.json()["version"]["hash"], list[0]["hash"]);
    let missing = t
        .send(get(
            &format!("/api/v1/documents/{id}/versions/9/content"),
            &s,
        ))
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

async fn assert_nothing_stored(t: &TestApp, s: &Session, space: &str) {
    assert!(t.blobs.is_empty(), "a blob was kept");
    let listing = t
        .send(get(&format!("/api/v1/spaces/{space}/children"), s))
        .await
        .json();
    assert_eq!(listing["documents"]["total"], 0, "{listing}");
}

#[tokio::test]
async fn uploads_past_the_limit_are_413_and_store_nothing() {
    let settings = CoreSettings {
        max_upload_bytes: 1024,
        ..CoreSettings::default()
    };
    let t = TestApp::with(settings, HttpConfig::default()).await;
    let s = t.user("alice").await;
    let space = t.space(&s, "travaux").await;

    // Declared too large: refused before reading.
    let declared = t.upload(&s, &space, "big.bin", &[7u8; 2048]).await;
    declared.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_nothing_stored(&t, &s, &space).await;

    // Streamed without a length: refused while streaming.
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..8)
        .map(|_| Ok(Bytes::from_static(&[1u8; 512])))
        .collect();
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/spaces/{space}/documents?name=stream.bin"))
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .expect("request");
    let streamed = t.send(with_session(req, &s)).await;
    streamed.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_nothing_stored(&t, &s, &space).await;

    let fits = t.upload(&s, &space, "small.bin", &[7u8; 1024]).await;
    assert_eq!(fits.status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_interrupted_upload_stores_nothing() {
    let (t, s, space) = setup().await;
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"first part")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/spaces/{space}/documents?name=cut.bin"))
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .expect("request");
    let r = t.send(with_session(req, &s)).await;
    r.assert_problem(StatusCode::BAD_REQUEST, "interrupted");
    assert_nothing_stored(&t, &s, &space).await;
}

#[tokio::test]
async fn uploaded_html_is_only_ever_an_attachment() {
    let (t, s, space) = setup().await;
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/spaces/{space}/documents?name=page.html"))
        .header(header::CONTENT_TYPE, "text/html")
        .body(Body::from("<script>alert(1)</script>"))
        .expect("request");
    let id = t.send(with_session(req, &s)).await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let d = t
        .send(get(&format!("/api/v1/documents/{id}/content"), &s))
        .await;
    assert!(
        d.header(header::CONTENT_DISPOSITION)
            .starts_with("attachment;")
    );
    assert_eq!(d.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(d.header(header::CONTENT_SECURITY_POLICY), "sandbox");
}

fn typed_upload(space: &str, metadata: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/v1/spaces/{space}/documents?name=facture.pdf&type=facture"
        ))
        .header(header::CONTENT_TYPE, "application/pdf")
        .header("x-passerelle-metadata", metadata.to_string())
        .body(Body::from("%PDF-1.7"))
        .expect("request")
}

#[tokio::test]
async fn metadata_are_validated_against_the_document_type() {
    let (t, s, space) = setup().await;
    let bad = json!({"numero": "F-1", "fournisseur": "BTP Rhône", "montant_ttc": "douze", "date_emission": "02/10/2026"});
    let r = t.send(with_session(typed_upload(&space, &bad), &s)).await;
    let p = r.assert_problem(StatusCode::BAD_REQUEST, "invalid_metadata");
    let fields: Vec<&str> = p["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    assert!(
        fields.contains(&"montant_ttc") && fields.contains(&"date_emission"),
        "{p}"
    );
    assert!(p["fields"][0]["problem"].is_string());
    assert_nothing_stored(&t, &s, &space).await;

    let good = json!({"numero": "F-1", "fournisseur": "BTP Rhône", "montant_ttc": "12 480,50", "date_emission": "2026-10-02"});
    let r = t.send(with_session(typed_upload(&space, &good), &s)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let id = r.json()["document"]["id"].as_str().expect("id").to_owned();
    let m = t
        .send(get(&format!("/api/v1/documents/{id}/metadata"), &s))
        .await
        .json();
    assert_eq!(m["type"], "facture");
    assert_eq!(m["metadata"]["montant_ttc"], "12480.5");

    let put = json(
        Method::PUT,
        &format!("/api/v1/documents/{id}/metadata"),
        &json!({"type": "facture", "metadata": {"numero": 12}}),
    );
    let r = t.send(with_session(put, &s)).await;
    r.assert_problem(StatusCode::BAD_REQUEST, "invalid_metadata");
}

#[tokio::test]
async fn metadata_that_are_not_a_json_object_are_invalid_json() {
    let (t, s, space) = setup().await;
    let req = with_header(
        typed_upload(&space, &json!({})),
        "x-passerelle-metadata",
        "{not json",
    );
    t.send(with_session(req, &s))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");
    let req = with_header(
        typed_upload(&space, &json!({})),
        "x-passerelle-metadata",
        "[1,2]",
    );
    t.send(with_session(req, &s))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");
    assert_nothing_stored(&t, &s, &space).await;
}

#[tokio::test]
async fn metadata_may_come_in_the_query_string() {
    let (t, s, space) = setup().await;
    let meta = json!({"numero": "F-2", "fournisseur": "Régie", "montant_ttc": "10", "date_emission": "2026-01-31"});
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/v1/spaces/{space}/documents?name=f2.pdf&type=facture&metadata={}",
            pct(&meta.to_string())
        ))
        .body(Body::from("%PDF"))
        .expect("request");
    let r = t.send(with_session(req, &s)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["document"]["metadata"]["fournisseur"], "Régie");
}
