//! Every page request gets one request log line (issue 11: a 500 of a page
//! left none, as only the API's routes were logged).

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tracing::Level;

use crate::support::*;

/// What the test's subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The request log lines written so far.
    fn request_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer"))
            .lines()
            .filter(|l| l.contains("request answered"))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn each_page_request_gets_one_log_line_with_its_status_and_without_its_query() {
    let t = TestApp::internal().await;
    let mut marie = t.user("marie").await;
    let mut b = t.browser();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(Level::INFO)
        .finish();
    // The test's runtime has one thread: the router runs under this guard.
    let _guard = tracing::subscriber::set_default(subscriber);

    b.get("/login?next=/invitation%3Fcode%3Ds3cret")
        .await
        .assert_status(StatusCode::OK);
    b.get("/spaces")
        .await
        .assert_redirect_to("/login?next=/spaces");
    b.post("/lang", &[("lang", "en"), ("back", "/\x7f")])
        .await
        .assert_redirect_to("/spaces");
    marie
        .get("/documents/0190aaaa-0000-7000-8000-000000000000")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get("/no/such/page")
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let lines = log.request_lines();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    let doc = "/documents/0190aaaa-0000-7000-8000-000000000000";
    let expected = [
        ("GET", "/login", "/login", 200),
        ("GET", "/spaces", "/spaces", 303),
        ("POST", "/lang", "/lang", 303),
        ("GET", doc, "/documents/{id}", 404),
        // No route: the API's fallback answers, and logs.
        ("GET", "/no/such/page", "-", 404),
    ];
    for (line, (method, path, route, status)) in lines.iter().zip(expected) {
        for needle in [
            format!("method={method}"),
            format!("path={path} "),
            format!("route={route} "),
            format!("status={status} "),
            "latency_us=".into(),
            "INFO".into(),
        ] {
            assert!(line.contains(&needle), "{needle:?} not in {line}");
        }
    }
    assert!(
        lines.iter().all(|l| !l.contains("s3cret")),
        "a query was logged: {lines:#?}"
    );
}
