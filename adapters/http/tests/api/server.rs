//! `serve` on a real socket: port 0, client address, graceful shutdown.

use std::time::Duration;

use passerelle_http::{HttpConfig, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{TestApp, internal_state};

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn serves_on_a_bound_listener_and_stops_gracefully() {
    let t = TestApp::new().await;
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

    let reply = http_get(addr, "/healthz").await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff")
    );

    stop.send(()).expect("server alive");
    let done = tokio::time::timeout(Duration::from_secs(10), server).await;
    done.expect("graceful shutdown completes")
        .expect("task")
        .expect("serve ok");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn login_failures_are_throttled_per_client_address_over_tcp() {
    let t = TestApp::new().await;
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
    // Twenty failures for twenty different logins from one address lock
    // the address, whatever the next login is.
    let mut last = String::new();
    for i in 0..21 {
        let body = format!(r#"{{"login":"user{i}","password":"nope nope nope"}}"#);
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        last.clear();
        stream.read_to_string(&mut last).await.expect("read");
    }
    assert!(last.starts_with("HTTP/1.1 429"), "{last}");
    stop.send(()).expect("server alive");
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
}

/// Behind a trusted reverse proxy, throttling counts per client named in
/// `X-Forwarded-For`: a locked-out client does not lock out the others who
/// come through the same proxy.
#[tokio::test]
async fn behind_a_trusted_proxy_login_throttling_counts_per_forwarded_client() {
    let t = TestApp::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(
        internal_state(
            &t.app,
            t.search.clone(),
            HttpConfig {
                trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
                ..HttpConfig::default()
            },
        ),
        t.app.clone(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));
    let attempt = |i: usize, client: &'static str| async move {
        let body = format!(r#"{{"login":"user{i}","password":"nope nope nope"}}"#);
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: {client}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.expect("read");
        reply
    };
    let mut last = String::new();
    for i in 0..21 {
        last = attempt(i, "198.51.100.1").await;
    }
    assert!(last.starts_with("HTTP/1.1 429"), "{last}");
    let other = attempt(100, "198.51.100.2").await;
    assert!(
        other.starts_with("HTTP/1.1 401"),
        "another client is not locked out: {other}"
    );
    stop.send(()).expect("server alive");
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
}
