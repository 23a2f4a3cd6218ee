//! `/metrics` on a real socket: loopback reads valid OpenMetrics text whose
//! request counter moves and which lists the workers, free space and the
//! search index's lag and extraction statuses; a client outside
//! `metrics_allow` gets 404.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use passerelle_core::ports::SystemClock;
use passerelle_http::{HttpConfig, router, serve};
use passerelle_workers::Workers;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::support::{TestApp, internal_state};

/// Status line and body of a GET, sent with these extra header lines.
async fn get(addr: std::net::SocketAddr, path: &str, headers: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("a head and a body");
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// The samples of a scrape, read strictly.
fn parse(text: &str) -> BTreeMap<String, f64> {
    passerelle_testing::parse_openmetrics(text).expect("valid OpenMetrics text")
}

#[tokio::test]
async fn loopback_reads_the_metrics_and_other_clients_get_404() {
    let t = TestApp::new().await;
    let workers = Workers::new(Arc::new(SystemClock), CancellationToken::new());
    workers.every("sweep", Duration::from_secs(3600), || async {
        Ok::<_, String>("nothing to do".to_owned())
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Loopback is the trusted proxy: `X-Forwarded-For` then names clients
    // that are not loopback.
    let config = HttpConfig {
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        metrics_allow: vec!["192.0.2.0/24".parse().expect("network")],
        ..HttpConfig::default()
    };
    let app = router(
        internal_state(&t.app, t.search.clone(), config).with_workers(workers.board()),
        t.app.clone(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));

    let healthz = r#"passerelle_http_requests_total{route="/healthz",method="GET",status="200"}"#;
    let (status, body) = get(addr, "/metrics", "").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let before = parse(&body).get(healthz).copied().unwrap_or(0.0);
    for _ in 0..2 {
        assert!(
            get(addr, "/healthz", "")
                .await
                .0
                .starts_with("HTTP/1.1 200")
        );
    }
    let (_, body) = get(addr, "/metrics", "").await;
    let samples = parse(&body);
    assert_eq!(samples.get(healthz), Some(&(before + 2.0)), "{body}");
    assert!(
        samples.contains_key(
            r#"passerelle_http_request_duration_seconds_count{route="/healthz",method="GET"}"#
        ),
        "{body}"
    );
    assert_eq!(
        samples.get(r#"passerelle_worker_healthy{worker="sweep"}"#),
        Some(&1.0),
        "{body}"
    );
    assert!(
        samples.contains_key("passerelle_blob_store_free_bytes"),
        "{body}"
    );
    assert!(
        samples.contains_key("passerelle_upload_bytes_total"),
        "{body}"
    );
    // Never the raw path: one series per route template.
    assert!(!body.contains("/api/v1/spaces/0"), "{body}");

    let (status, _) = get(addr, "/metrics", "X-Forwarded-For: 203.0.113.7\r\n").await;
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");
    let (status, _) = get(addr, "/metrics", "X-Forwarded-For: 192.0.2.44\r\n").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    stop.send(()).expect("server alive");
    server.await.expect("task").expect("serve ok");
    workers.stop().await;
}

#[tokio::test]
async fn a_request_without_a_client_address_gets_no_metrics() {
    // In-process (no connection info): the client is unknown, so refused.
    let t = TestApp::new().await;
    let r = t
        .send(crate::support::empty(axum::http::Method::GET, "/metrics"))
        .await;
    r.assert_problem(axum::http::StatusCode::NOT_FOUND, "not_found");
}

/// Issue 14: the index's lag per space and the contents by extraction
/// status, read at each scrape: behind after an upload, caught up once the
/// indexer ran, and a content no extractor reads counted as such.
#[tokio::test]
async fn the_search_index_lag_and_the_extraction_statuses_are_scraped() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "piscine").await;
    t.upload(&alice, &space, "cctp.txt", b"bassin olympique")
        .await;
    t.upload(&alice, &space, "plan.bin", b"\xff\xfe\x00binary")
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(
        internal_state(&t.app, t.search.clone(), HttpConfig::default()),
        t.app.clone(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));
    let lag = format!(r#"passerelle_search_index_lag_rows{{space="{space}"}}"#);
    let (_, body) = get(addr, "/metrics", "").await;
    let behind = parse(&body).get(&lag).copied().unwrap_or(0.0);
    assert!(behind > 0.0, "an upload not indexed yet is lag: {body}");

    t.index_now().await;
    let (_, body) = get(addr, "/metrics", "").await;
    let samples = parse(&body);
    assert_eq!(samples.get(&lag), Some(&0.0), "{body}");
    assert_eq!(
        samples.get(r#"passerelle_search_extractions{status="ok"}"#),
        Some(&1.0),
        "{body}"
    );
    assert_eq!(
        samples.get(r#"passerelle_search_extractions{status="unsupported"}"#),
        Some(&1.0),
        "{body}"
    );
    stop.send(()).expect("server alive");
    server.await.expect("task").expect("serve ok");
}
