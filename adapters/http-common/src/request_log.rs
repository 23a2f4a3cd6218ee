//! The request log: a request id and one line per request, for every
//! HTTP adapter's routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::HeaderName;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

use crate::Metrics;

/// Header carrying the request id (set when the client did not send one,
/// echoed on the response, recorded in the request's span).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every route of `router`, and its fallback, a request id and one
/// log line per request (method, path, route, status, latency; 5xx at
/// error level), and records it in `metrics` (count, latency, bytes).
///
/// Each router that is merged into a node's application applies it
/// itself: `Router::layer` wraps only the routes present when it is
/// called, so a layer on the API router never sees the pages merged
/// beside it. As routes cannot overlap, a request passes through exactly
/// one of these layers and gets exactly one line.
pub fn with_request_log<S>(router: Router<S>, metrics: Arc<Metrics>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(RequestSpan)
                        .on_response(RequestLine)
                        // The line of `RequestLine` already says a 5xx failed.
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// The span of one request: method, path (never the query, which may carry
/// document names or invitation codes), the route it matched (`-` for the
/// fallback) and request id.
#[derive(Clone, Copy, Debug, Default)]
struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> Span {
        let id = req
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-");
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("-", MatchedPath::as_str);
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            route = %route,
            request_id = %id
        )
    }
}

/// The request's line, in its span, once the response's head is ready: at
/// error level for a 5xx (a bug or a failing dependency to look at), info
/// otherwise (a 4xx is the client's doing).
#[derive(Clone, Copy, Debug, Default)]
struct RequestLine;

impl<B> OnResponse<B> for RequestLine {
    fn on_response(self, res: &axum::http::Response<B>, latency: Duration, _: &Span) {
        let status = res.status().as_u16();
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if res.status().is_server_error() {
            tracing::error!(status, latency_us, "request answered");
        } else {
            tracing::info!(status, latency_us, "request answered");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower::ServiceExt;
    use tracing::Level;

    /// What a test's subscriber wrote, as text.
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
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
        }
    }

    async fn status_of(app: &Router, uri: &str) -> StatusCode {
        app.clone()
            .oneshot(
                axum::http::Request::get(uri)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible")
            .status()
    }

    #[tokio::test]
    async fn each_request_gets_one_line_and_a_5xx_is_logged_as_an_error() {
        let app = with_request_log(
            Router::new()
                .route("/ok/{id}", get(|| async { "ok" }))
                .route("/boom", get(|| async { StatusCode::INTERNAL_SERVER_ERROR })),
            Arc::new(Metrics::new()),
        );
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(Level::INFO)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        assert_eq!(
            status_of(&app, "/ok/7?invitation=s3cret").await,
            StatusCode::OK
        );
        assert_eq!(
            status_of(&app, "/boom").await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(status_of(&app, "/nowhere").await, StatusCode::NOT_FOUND);

        let text = log.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let [ok, boom, nowhere] = [lines[0], lines[1], lines[2]];
        for needle in [
            "INFO",
            "method=GET",
            "path=/ok/7",
            "route=/ok/{id}",
            "status=200",
            "latency_us=",
        ] {
            assert!(ok.contains(needle), "{needle} not in {ok}");
        }
        for needle in ["ERROR", "path=/boom", "status=500"] {
            assert!(boom.contains(needle), "{needle} not in {boom}");
        }
        for needle in ["INFO", "path=/nowhere", "route=-", "status=404"] {
            assert!(nowhere.contains(needle), "{needle} not in {nowhere}");
        }
        assert!(!text.contains("s3cret"), "the query was logged: {text}");
    }
}
