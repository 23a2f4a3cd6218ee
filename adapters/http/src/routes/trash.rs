//! The trash of a space: list, restore, purge (managers).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::InternalApp;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{DocumentSummaryDto, FolderDto, TrashDto};
use crate::extract::{Json, Path};

#[utoipa::path(get, path = "/spaces/{id}/trash", tag = "trash",
    responses((status = 200, body = TrashDto), Problems))]
pub(crate) async fn list_trash(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<TrashDto>, ApiError> {
    let trash = st.app.list_trash(&actor, SpaceId::from_uuid(id)).await?;
    Ok(Json((&trash).into()))
}

/// Restores a document to its folder (or the root if the folder is gone).
#[utoipa::path(post, path = "/trash/documents/{id}/restore", tag = "trash",
    responses((status = 200, body = DocumentSummaryDto), Problems))]
pub(crate) async fn restore_document(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<DocumentSummaryDto>, ApiError> {
    let d = internal
        .restore_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json((&d).into()))
}

/// Deletes a trashed document for good.
#[utoipa::path(delete, path = "/trash/documents/{id}", tag = "trash",
    responses((status = 204, description = "Purged"), Problems))]
pub(crate) async fn purge_document(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    internal
        .purge_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restores a folder and everything deleted with it.
#[utoipa::path(post, path = "/trash/folders/{id}/restore", tag = "trash",
    responses((status = 200, body = FolderDto), Problems))]
pub(crate) async fn restore_folder(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<FolderDto>, ApiError> {
    let f = internal
        .restore_folder(&actor, FolderId::from_uuid(id))
        .await?;
    Ok(Json((&f).into()))
}

/// Deletes a trashed folder and everything deleted with it for good.
#[utoipa::path(delete, path = "/trash/folders/{id}", tag = "trash",
    responses((status = 204, description = "Purged"), Problems))]
pub(crate) async fn purge_folder(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    internal
        .purge_folder(&actor, FolderId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
