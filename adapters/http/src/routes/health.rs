//! Probes and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use passerelle_core::CoreError;
use passerelle_http_common::{ApiError, Problem, chain, client_address, may_scrape};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// Probe answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    status: &'static str,
}

/// The process is up (liveness).
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness answer: the node's background workers with it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Ready {
    /// Always `ready` (otherwise the answer is a 503 problem).
    status: &'static str,
    /// The node's background workers, by name.
    workers: Vec<WorkerHealth>,
}

/// One background worker, as the registry knows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WorkerHealth {
    /// `sweep_sessions`, `prune_outbox`, `collect_blobs`, `link:<edge>`…
    name: String,
    /// `starting`, `running`, `idle`, `failing` or `stopped`.
    state: &'static str,
    /// When its last run ended.
    #[serde(with = "time::serde::rfc3339::option")]
    last_run: Option<time::OffsetDateTime>,
    /// Its last failure, kept after a later success.
    last_error: Option<String>,
    /// When it runs next (periodic workers).
    #[serde(with = "time::serde::rfc3339::option")]
    next_wake: Option<time::OffsetDateTime>,
}

/// The node can serve: its database answers, its disk has room above the
/// floor it keeps, and none of its background workers is failing or
/// stopped (readiness). Below the floor the node still reads, but refuses
/// uploads and replicated blobs: `503 storage_full` says so, with how much
/// is free (never where: the probe is public). A failing worker is
/// `503 worker_failing`, naming it (its error is in the node's log, not
/// here, for the same reason). The 200 answer lists the workers.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = Ready), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn readyz(State(st): State<AppState>) -> Result<Json<Ready>, ApiError> {
    storage_ready(&st).await?;
    let statuses = st.workers.statuses();
    if let Some(bad) = statuses.iter().find(|w| !w.is_healthy()) {
        tracing::warn!(worker = %bad.name, state = bad.state.as_str(), error = ?bad.last_error, "not ready: a worker is not healthy");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "worker_failing",
            format!("worker {} is {}", bad.name, bad.state.as_str()),
        ));
    }
    let workers = statuses
        .into_iter()
        .map(|w| WorkerHealth {
            state: w.state.as_str(),
            name: w.name,
            last_run: w.last_run,
            last_error: w.last_error,
            next_wake: w.next_wake,
        })
        .collect();
    Ok(Json(Ready {
        status: "ready",
        workers,
    }))
}

/// The database answers and the disk has room.
async fn storage_ready(st: &AppState) -> Result<(), ApiError> {
    if let Err(e) = st.app.count_principals().await {
        tracing::warn!(error = %chain(&e), "readiness check failed");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the database does not answer",
        ));
    }
    match st.app.storage_room().await {
        Ok(Some(room)) if room.is_short() => {
            tracing::warn!(free = room.free, floor = room.floor, place = %room.place, "not ready: disk nearly full");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                format!(
                    "disk nearly full: {room} (min_free_bytes); \
                     uploads and replicated blobs are refused until room is freed"
                ),
            ))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the free space of the blob store cannot be read",
            ))
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi_json(
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Result<Response, ApiError> {
    let body =
        serde_json::to_vec(&*doc).map_err(|e| ApiError::from(CoreError::Internal(Box::new(e))))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The content type of `/metrics` (prometheus-client writes OpenMetrics).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The node's metrics, in OpenMetrics text, for loopback and the
/// `[http] metrics_allow` networks only; anyone else gets the `404` of an
/// unknown route (the metrics reveal the node's internals). Request counts
/// and latencies are by route template; workers, the blob store's free
/// space, replication lag, outbox depth and quarantine are read now.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn metrics(
    State(st): State<AppState>,
    parts: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    let client = client_address(&parts, &st.config.trusted_proxies);
    if !may_scrape(client.as_deref(), &st.config.metrics_allow) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route",
        ));
    }
    let room = match st.app.storage_room().await {
        Ok(room) => room.map(|r| (r.free, r.floor)),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "metrics: the blob store's free space cannot be read");
            None
        }
    };
    let replication = match st.app.replication_gauges().await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "metrics: the replication state cannot be read");
            None
        }
    };
    let search = match st.search.gauges().await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "metrics: the search index's state cannot be read");
            None
        }
    };
    let text = st
        .metrics
        .render(&st.workers, room, replication.as_ref(), search.as_ref())
        .map_err(|e| ApiError::from(CoreError::Internal(Box::new(e))))?;
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response())
}
