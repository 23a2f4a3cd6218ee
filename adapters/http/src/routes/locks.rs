//! Check-out and check-in of documents (ADR 0007 §1): the internal node's
//! `Locks` use cases, reached through the `InternalApp` extension so the
//! edge's router cannot serve them. Writes refused by a lock are 423
//! `locked` everywhere (`passerelle_http_common::classify`).

use axum::Extension;
use axum::http::StatusCode;
use passerelle_core::ids::DocumentId;
use passerelle_core::{CoreError, InternalApp};
use passerelle_http_common::{ApiError, Authenticated};
use time::Duration;
use uuid::Uuid;

use super::Problems;
use crate::dto::{CheckOutBody, LockDto, UnlockQuery};
use crate::extract::{Json, Path, Query};

/// The document is not locked: 404 `not_locked` (a document that does not
/// exist, or that the caller cannot see, stays `not_found`).
fn not_locked() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_locked",
        "this document is not checked out",
    )
}

/// The lock covering a document (its own, or a folder's with depth
/// infinity): who holds it and until when.
#[utoipa::path(get, path = "/documents/{id}/lock", tag = "documents",
    responses((status = 200, body = LockDto), (status = 404, description = "`not_locked`, or `not_found`"), Problems))]
pub(crate) async fn get_lock(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<LockDto>, ApiError> {
    let view = internal
        .get_document(&actor, DocumentId::from_uuid(id))
        .await?;
    let lock = view.lock.as_ref().ok_or_else(not_locked)?;
    Ok(Json(lock.into()))
}

/// Checks the document out: an exclusive lock for the caller, who alone
/// may then write it (423 `locked` for the others) until they check in,
/// it expires, or a manager forces it. Needs the right to edit the
/// document; 423 `locked` when someone else holds it. The holder checking
/// out again extends their lock (to `timeout_secs` from now).
#[utoipa::path(post, path = "/documents/{id}/lock", tag = "documents",
    request_body = CheckOutBody,
    responses((status = 201, body = LockDto), Problems))]
pub(crate) async fn check_out(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<CheckOutBody>,
) -> Result<(StatusCode, Json<LockDto>), ApiError> {
    let timeout = body
        .timeout_secs
        .map(|s| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX)));
    let lock = internal
        .locks()
        .check_out(&actor, DocumentId::from_uuid(id), timeout, body.note)
        .await?;
    let holder = actor.principal()?.display_name.clone();
    Ok((StatusCode::CREATED, Json(LockDto::new(&lock, &holder))))
}

/// Checks the document in (the holder), or with `?force=true` releases
/// whatever lock covers it (space managers and administrators; audited
/// with the previous holder; 204 also when nothing was locked).
#[utoipa::path(delete, path = "/documents/{id}/lock", tag = "documents",
    params(UnlockQuery),
    responses((status = 204, description = "Released"), (status = 404, description = "`not_locked`, or `not_found`"), (status = 409, description = "`not_lock_holder`: someone else holds it"), Problems))]
pub(crate) async fn unlock(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(query): Query<UnlockQuery>,
) -> Result<StatusCode, ApiError> {
    let locks = internal.locks();
    let document = DocumentId::from_uuid(id);
    if query.force.unwrap_or(false) {
        let resource = passerelle_core::model::Resource::Document(document);
        locks.force_unlock(&actor, resource).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    match locks.check_in(&actor, document).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(CoreError::NotFound("lock")) => Err(not_locked()),
        Err(e) => Err(e.into()),
    }
}
