//! Documents (JSON side): details, rename/move, trash, versions, metadata.
//! Content streams are in `content`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use super::written::answer;
use crate::AppState;
use crate::dto::{DocumentDto, DocumentPatchBody, MetadataDto, OperationDto, VersionDto};
use crate::extract::{Json, Path};

/// A document and its current version.
#[utoipa::path(get, path = "/documents/{id}", tag = "documents",
    responses((status = 200, body = DocumentDto), Problems))]
pub(crate) async fn get_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<DocumentDto>, ApiError> {
    let view = st
        .app
        .get_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json((&view).into()))
}

/// Renames and/or moves a document within its space (`folder: null`: to
/// the root). On an edge a rename with a move is two operations, the rename
/// first, and the answer is the last (with neither: 200, the document as
/// the edge holds it).
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents",
    responses((status = 200, body = DocumentDto), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn update_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<DocumentPatchBody>,
) -> Result<Response, ApiError> {
    let folder = body.folder.map(|f| f.map(FolderId::from_uuid));
    let written = st
        .writes
        .update_document(
            &actor,
            DocumentId::from_uuid(id),
            body.name.as_deref(),
            folder,
        )
        .await?;
    Ok(answer(written, |view| Json(DocumentDto::from(&view))))
}

/// Moves a document to the trash (on an edge, as of its current version
/// there: a newer version on the internal node wins, modify beats delete).
#[utoipa::path(delete, path = "/documents/{id}", tag = "documents",
    responses((status = 204, description = "In the trash"), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn delete_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let written = st
        .writes
        .delete_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(answer(written, |()| StatusCode::NO_CONTENT))
}

/// Every version of a document, oldest first.
#[utoipa::path(get, path = "/documents/{id}/versions", tag = "documents",
    responses((status = 200, body = Vec<VersionDto>), Problems))]
pub(crate) async fn list_versions(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<VersionDto>>, ApiError> {
    let versions = st
        .app
        .list_versions(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json(versions.iter().map(Into::into).collect()))
}

/// Makes version `n` current again, as a new version (history is kept).
#[utoipa::path(post, path = "/documents/{id}/versions/{n}/restore", tag = "documents",
    responses((status = 200, body = DocumentDto), Problems))]
pub(crate) async fn restore_version(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, n)): Path<(Uuid, u32)>,
) -> Result<Json<DocumentDto>, ApiError> {
    let view = internal
        .restore_version(&actor, DocumentId::from_uuid(id), n)
        .await?;
    Ok(Json((&view).into()))
}

/// The document's type and metadata.
#[utoipa::path(get, path = "/documents/{id}/metadata", tag = "documents",
    responses((status = 200, body = MetadataDto), Problems))]
pub(crate) async fn get_metadata(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<MetadataDto>, ApiError> {
    let view = st
        .app
        .get_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json(MetadataDto {
        doc_type: view.document.doc_type,
        metadata: view.document.metadata,
    }))
}

/// Replaces the type and metadata, validated against the type
/// (400 `invalid_metadata` lists every refused field).
#[utoipa::path(put, path = "/documents/{id}/metadata", tag = "documents",
    responses((status = 200, body = MetadataDto), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn put_metadata(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<MetadataDto>,
) -> Result<Response, ApiError> {
    let written = st
        .writes
        .update_metadata(
            &actor,
            DocumentId::from_uuid(id),
            body.doc_type,
            body.metadata,
        )
        .await?;
    Ok(answer(written, |view| {
        Json(MetadataDto {
            doc_type: view.document.doc_type,
            metadata: view.document.metadata,
        })
    }))
}
