//! A contractor's way in on the edge: an invitation accepted once, after
//! which they read their shared space and nothing else; every unusable
//! invitation answering alike, so a guessed secret learns nothing; repeated
//! failures throttled.

use super::*;

#[tokio::test]
async fn a_contractor_accepts_logs_in_and_reads_only_their_shared_space() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    let r = accept(&t, &seeded.writer_secret, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["login"], WRITER);
    assert_eq!(r.json()["has_password"], true);
    accept(&t, &seeded.writer_secret, PASSWORD)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let s = t.login(WRITER).await;
    let me = t.send(get("/api/v1/auth/me", &s)).await.json();
    assert_eq!(me["user"]["kind"], "contractor");

    let mine = t.send(get("/api/v1/spaces", &s)).await.json();
    assert_eq!(mine["total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["id"], seeded.space.as_str());
    assert_eq!(mine["items"][0]["role"], "contributor");
    t.send(get(&format!("/api/v1/spaces/{}", seeded.other), &s))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let children = t
        .send(get(
            &format!("/api/v1/spaces/{}/children", seeded.space),
            &s,
        ))
        .await
        .json();
    assert_eq!(children["documents"]["items"][0]["name"], "Plan.pdf");
    let doc = &seeded.document;
    let d = t
        .send(get(&format!("/api/v1/documents/{doc}/content"), &s))
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body, Bytes::from_static(PLAN));
    assert!(
        d.header(header::CONTENT_DISPOSITION)
            .starts_with("attachment;")
    );
    assert_eq!(d.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let etag = format!("\"{}\"", ContentHash::of(PLAN).to_hex());
    assert_eq!(d.header(header::ETAG), etag);
    let ranged = t
        .send(with_header(
            get(&format!("/api/v1/documents/{doc}/versions/1/content"), &s),
            "range",
            "bytes=0-3",
        ))
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, Bytes::from_static(&PLAN[..4]));
    let versions = t
        .send(get(&format!("/api/v1/documents/{doc}/versions"), &s))
        .await
        .json();
    assert_eq!(versions.as_array().map(Vec::len), Some(1));
    let types = t.send(get("/api/v1/document-types", &s)).await.json();
    assert!(types.as_array().is_some_and(|a| !a.is_empty()));
}

#[tokio::test]
async fn unknown_used_revoked_and_expired_invitations_are_all_not_found() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    let unknown = "0".repeat(64);
    let mut details = BTreeSet::new();
    for secret in [&unknown, &seeded.expired_secret, &seeded.revoked_secret] {
        let p = accept(&t, secret, PASSWORD)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
        details.insert(p["detail"].to_string());
    }
    assert_eq!(
        details.len(),
        1,
        "the refusals can be told apart: {details:?}"
    );

    accept(&t, &seeded.reader_secret, "short")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "weak_password");
    let r = accept(&t, &seeded.reader_secret, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a weak password does not use the invitation"
    );
}

#[tokio::test]
async fn accepting_is_throttled_after_repeated_failures() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    for _ in 0..5 {
        accept(&t, &"f".repeat(64), PASSWORD)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    let r = accept(&t, &seeded.writer_secret, PASSWORD).await;
    r.assert_problem(StatusCode::TOO_MANY_REQUESTS, "throttled");
    assert!(r.header(header::RETRY_AFTER).parse::<u64>().is_ok());
}
