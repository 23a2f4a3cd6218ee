//! Documents (JSON side): details, rename/move, trash, versions, metadata.
//! Content streams are in `content`.

use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{DocumentDto, DocumentPatchBody, MetadataDto, VersionDto};
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

/// Renames and/or moves a document within its space (`folder: null`: to the root).
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents",
    responses((status = 200, body = DocumentDto), Problems))]
pub(crate) async fn update_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<DocumentPatchBody>,
) -> Result<Json<DocumentDto>, ApiError> {
    let folder = body.folder.map(|f| f.map(FolderId::from_uuid));
    let view = st
        .app
        .update_document(
            &actor,
            DocumentId::from_uuid(id),
            body.name.as_deref(),
            folder,
        )
        .await?;
    Ok(Json((&view).into()))
}

/// Moves a document to the trash.
#[utoipa::path(delete, path = "/documents/{id}", tag = "documents",
    responses((status = 204, description = "In the trash"), Problems))]
pub(crate) async fn delete_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    st.app
        .delete_document(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((id, n)): Path<(Uuid, u32)>,
) -> Result<Json<DocumentDto>, ApiError> {
    let view = st
        .app
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
    responses((status = 200, body = MetadataDto), Problems))]
pub(crate) async fn put_metadata(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<MetadataDto>,
) -> Result<Json<MetadataDto>, ApiError> {
    let view = st
        .app
        .update_metadata(
            &actor,
            DocumentId::from_uuid(id),
            body.doc_type,
            body.metadata,
        )
        .await?;
    Ok(Json(MetadataDto {
        doc_type: view.document.doc_type,
        metadata: view.document.metadata,
    }))
}
