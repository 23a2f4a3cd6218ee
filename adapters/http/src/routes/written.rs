//! How the API answers a write both nodes offer (ADR 0005 §3): what core
//! applied, with the route's own status (200, 201, 204), or 202 Accepted
//! with the operation an edge queued for the internal node. Handlers call
//! the node's `DocumentWrites` and never ask which node they run on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passerelle_core::service::Written;

use crate::dto::OperationDto;
use crate::extract::Json;

/// The answer to a write: `applied` renders what core applied; a queued
/// write is 202 with its operation. A rename with a move queues two
/// operations: the answer names the last, which settles where the
/// document ends; both are listed at `GET /spaces/{id}/operations`.
pub(crate) fn answer<T, R: IntoResponse>(
    written: Written<T>,
    applied: impl FnOnce(T) -> R,
) -> Response {
    match written {
        Written::Applied(v) => applied(v).into_response(),
        Written::Queued(q) => {
            (StatusCode::ACCEPTED, Json(OperationDto::from(q.last()))).into_response()
        }
    }
}
