//! The API's own layers: security headers and the time limit of JSON
//! requests (the request log is `passerelle_http_common::with_request_log`).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use passerelle_http_common::ApiError;

/// Headers every response carries unless the handler set them.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

/// Bounds the time of a JSON request. Dropping the handler's future rolls
/// its transaction back. Never applied to content streams.
pub(crate) async fn json_timeout(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long",
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test(start_paused = true)]
    async fn a_json_request_past_its_time_limit_is_a_503_problem() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| tokio::time::sleep(Duration::from_secs(3600))),
            )
            .route("/fast", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_secs(30),
                json_timeout,
            ));
        let slow = app
            .clone()
            .oneshot(
                axum::http::Request::get("/slow")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            slow.headers()[header::CONTENT_TYPE],
            passerelle_http_common::PROBLEM_JSON
        );
        let fast = app
            .oneshot(
                axum::http::Request::get("/fast")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(fast.status(), StatusCode::OK);
    }
}
