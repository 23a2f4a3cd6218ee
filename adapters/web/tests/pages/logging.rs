//! Every page request gets one request log line (issue 11: a 500 of a page
//! left none, as only the API's routes were logged).

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Once};

use axum::http::StatusCode;
use tracing::Level;

use crate::support::*;

/// What the test's subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go while a test captures them.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Writes to the capture of the thread that logs, if any; other threads'
/// lines (the other tests of this binary) are dropped.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(c) = c.borrow().as_ref() {
                c.0.lock().expect("log buffer").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once for this test binary, a global subscriber writing to
/// [`ThreadWriter`]. A global one, not `set_default`: with a thread-local
/// subscriber, a log call site first reached by another test's thread (no
/// subscriber there) could be cached as disabled, and this test saw no line
/// (one run in five).
fn capture_this_thread() -> Captured {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadWriter)
            .with_ansi(false)
            .with_max_level(Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
    let captured = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
    captured
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
    // The test's runtime has one thread: the router runs on this one.
    let log = capture_this_thread();

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
