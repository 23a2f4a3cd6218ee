//! Probes and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use passerelle_core::CoreError;
use passerelle_http_common::{ApiError, Problem, chain};
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

/// The node can serve: its database answers, and its disk has room above
/// the floor it keeps (readiness). Below the floor the node still reads,
/// but refuses uploads and replicated blobs: `503 storage_full` says so,
/// with how much is free (never where: the probe is public).
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn readyz(State(st): State<AppState>) -> Result<Json<Health>, ApiError> {
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
        Ok(_) => Ok(Json(Health { status: "ready" })),
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
