//! Hostile and malformed input, invisibility across spaces, common headers.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use passerelle_core::CoreSettings;
use passerelle_http::HttpConfig;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn malformed_json_is_an_invalid_json_problem() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/spaces")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"slug\": \"x\", "))
        .expect("request");
    let p = t
        .send(with_session(req, &s))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");
    assert_eq!(p["type"], "urn:passerelle:problem:invalid_json");
    assert_eq!(p["title"], "Bad Request");

    let unknown_field = json(
        Method::POST,
        "/api/v1/spaces",
        &json!({"slug": "x1", "title": "X", "owner": "me"}),
    );
    t.send(with_session(unknown_field, &s))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");
    let wrong_type = json(
        Method::POST,
        "/api/v1/spaces",
        &json!({"slug": 12, "title": "X"}),
    );
    t.send(with_session(wrong_type, &s))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");
}

#[tokio::test]
async fn json_bodies_past_the_limit_are_refused() {
    let config = HttpConfig {
        max_json_bytes: 256,
        ..HttpConfig::default()
    };
    let t = TestApp::with(CoreSettings::default(), config).await;
    let s = t.user("alice").await;
    let big = json(
        Method::POST,
        "/api/v1/spaces",
        &json!({"slug": "x", "title": "t".repeat(1000)}),
    );
    t.send(with_session(big, &s))
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
}

#[tokio::test]
async fn malformed_paths_and_queries_are_bad_requests() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_session(
            empty(Method::GET, "/api/v1/spaces/not-a-uuid"),
            &s,
        ))
        .await;
    r.assert_problem(StatusCode::BAD_REQUEST, "bad_request");
    let r = t
        .send(with_session(
            empty(Method::GET, "/api/v1/spaces?limit=many"),
            &s,
        ))
        .await;
    r.assert_problem(StatusCode::BAD_REQUEST, "bad_request");
    let space = t.space(&s, "travaux").await;
    let r = t
        .send(with_session(
            empty(
                Method::GET,
                &format!("/api/v1/spaces/{space}/children?folder=../etc"),
            ),
            &s,
        ))
        .await;
    r.assert_problem(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn hostile_names_are_refused_with_invalid_name() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let space = t.space(&s, "travaux").await;
    let long = "a".repeat(300);
    for name in [
        "..",
        "a%00b",
        long.as_str(),
        "CON",
        "con.txt",
        "a/b",
        "..\\boot.ini",
    ] {
        let encoded = if name.contains('%') {
            name.to_owned()
        } else {
            pct(name)
        };
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/spaces/{space}/documents?name={encoded}"))
            .body(Body::from("x"))
            .expect("request");
        t.send(with_session(req, &s))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
        let folder = json(
            Method::POST,
            &format!("/api/v1/spaces/{space}/folders"),
            &json!({"name": name.replace("%00", "\0")}),
        );
        t.send(with_session(folder, &s))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    }
    assert!(t.blobs.is_empty());
}

#[tokio::test]
async fn another_spaces_documents_and_folders_are_not_found() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let mine = t.space(&alice, "alice-space").await;
    let theirs = t.space(&bob, "bob-space").await;
    let their_doc = t
        .upload(&bob, &theirs, "secret.txt", b"secret")
        .await
        .json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let folder = json(
        Method::POST,
        &format!("/api/v1/spaces/{theirs}/folders"),
        &json!({"name": "Privé"}),
    );
    let their_folder = t.send(with_session(folder, &bob)).await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let my_doc = t.upload(&alice, &mine, "mine.txt", b"mine").await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let attempts = [
        empty(Method::GET, &format!("/api/v1/documents/{their_doc}")),
        empty(
            Method::GET,
            &format!("/api/v1/documents/{their_doc}/content"),
        ),
        empty(
            Method::GET,
            &format!("/api/v1/documents/{their_doc}/versions/1/content"),
        ),
        empty(Method::DELETE, &format!("/api/v1/documents/{their_doc}")),
        empty(Method::GET, &format!("/api/v1/spaces/{theirs}")),
        empty(Method::GET, &format!("/api/v1/spaces/{theirs}/children")),
        empty(
            Method::GET,
            &format!("/api/v1/spaces/{theirs}/children?folder={their_folder}"),
        ),
        empty(
            Method::GET,
            &format!("/api/v1/spaces/{mine}/children?folder={their_folder}"),
        ),
        empty(Method::DELETE, &format!("/api/v1/folders/{their_folder}")),
        json(
            Method::PATCH,
            &format!("/api/v1/folders/{their_folder}"),
            &json!({"name": "x"}),
        ),
        json(
            Method::POST,
            &format!("/api/v1/spaces/{mine}/folders"),
            &json!({"name": "x", "parent": their_folder}),
        ),
        json(
            Method::PATCH,
            &format!("/api/v1/documents/{my_doc}"),
            &json!({"folder": their_folder}),
        ),
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/spaces/{theirs}/documents?name=intrus.txt"))
            .body(Body::from("x"))
            .expect("request"),
    ];
    for req in attempts {
        let what = format!("{} {}", req.method(), req.uri());
        let r = t.send(with_session(req, &alice)).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let t = TestApp::new().await;
    for uri in ["/healthz", "/api/v1/spaces", "/nowhere"] {
        let r = t.send(empty(Method::GET, uri)).await;
        assert_eq!(r.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(r.header(header::REFERRER_POLICY), "no-referrer", "{uri}");
        assert_eq!(r.header(header::X_FRAME_OPTIONS), "DENY", "{uri}");
        assert!(!r.header("x-request-id").is_empty(), "{uri}");
    }
    let echoed = t
        .send(with_header(
            empty(Method::GET, "/healthz"),
            "x-request-id",
            "abc-123",
        ))
        .await;
    assert_eq!(echoed.header("x-request-id"), "abc-123");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let t = TestApp::new().await;
    t.send(empty(Method::GET, "/api/v1/nowhere"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    t.send(empty(Method::PUT, "/healthz"))
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn probes_answer() {
    let t = TestApp::new().await;
    assert_eq!(
        t.send(empty(Method::GET, "/healthz")).await.status,
        StatusCode::OK
    );
    let ready = t.send(empty(Method::GET, "/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["status"], "ready");
}

#[tokio::test]
async fn readiness_lists_the_workers_and_fails_while_one_is_failing_or_stopped() {
    use passerelle_core::ports::SystemClock;
    use passerelle_http::router;
    use passerelle_workers::Workers;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    let mut t = TestApp::new().await;
    let workers = Workers::new(Arc::new(SystemClock), CancellationToken::new());
    workers.every("sweep", Duration::from_secs(3600), || async {
        Ok::<_, String>("nothing to do".to_owned())
    });
    let (fail, failing) = tokio::sync::oneshot::channel::<()>();
    workers.spawn("link:edge-1", |report, cancel| async move {
        report.ok("connected");
        let _ = failing.await;
        report.failed("the edge does not answer");
        cancel.cancelled().await;
    });
    t.router = router(
        internal_state(&t.app, t.search.clone(), HttpConfig::default())
            .with_workers(workers.board()),
        t.app.clone(),
    );
    // Until both have run once (the periodic job runs on spawned tasks).
    for _ in 0..500 {
        let board = workers.board();
        if ["sweep", "link:edge-1"]
            .iter()
            .all(|w| board.status(w).is_some_and(|s| s.runs > 0))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let ready = t.send(empty(Method::GET, "/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "ready");
    let listed = body["workers"].as_array().expect("a list of workers");
    assert_eq!(listed.len(), 2, "{body}");
    let link = &listed[0];
    assert_eq!(link["name"], "link:edge-1");
    assert_eq!(link["state"], "running");
    assert!(link["last_run"].is_string(), "{link}");
    assert!(link["last_error"].is_null(), "{link}");
    let sweep = &listed[1];
    assert_eq!(sweep["name"], "sweep");
    assert_eq!(sweep["state"], "idle");
    assert!(sweep["next_wake"].is_string(), "{sweep}");

    fail.send(()).expect("the link waits");
    for _ in 0..500 {
        if workers
            .board()
            .status("link:edge-1")
            .is_some_and(|s| !s.is_healthy())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let p = t
        .send(empty(Method::GET, "/readyz"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "worker_failing");
    let detail = p["detail"].as_str().expect("detail");
    assert!(
        detail.contains("link:edge-1") && detail.contains("failing"),
        "{detail}"
    );
    // Its error stays in the log: the probe is public.
    assert!(!detail.contains("does not answer"), "{detail}");

    workers.stop().await;
    let p = t
        .send(empty(Method::GET, "/readyz"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "worker_failing");
    assert!(
        p["detail"].as_str().expect("detail").contains("stopped"),
        "{p}"
    );
}
