//! Contractors' writes on the edge node. Each is checked against the
//! replicated rights, its content stored, and the operation appended to the
//! outbox: the answer is 202 Accepted with the pending operation, which the
//! internal node decides later (`GET /spaces/{id}/operations`). While the
//! outbox holds as many pending operations as the edge allows, writes are
//! refused with 503 `outbox_full` and `Retry-After`, nothing stored.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use passerelle_core::Actor;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::replication::{OutboxItem, OutboxOp};
use passerelle_core::service::NewDocument;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::super::Problems;
use super::super::content::{
    RawContent, byte_stream, check_declared_length, media_type, upload_metadata,
};
use crate::AppState;
use crate::dto::{
    DocumentPatchBody, MetadataDto, NewFolderBody, OperationDto, PageOf, PageQuery, UploadQuery,
    VersionQuery,
};
use crate::extract::{Json, Path, Query};

/// What every edge write answers.
type Accepted = (StatusCode, Json<OperationDto>);

fn accepted(item: &OutboxItem) -> Accepted {
    (StatusCode::ACCEPTED, Json(item.into()))
}

/// Uploads a new document (same query and headers as on the internal node;
/// the body is the raw content, streamed). Names and metadata are checked
/// before a byte is stored.
#[utoipa::path(post, path = "/spaces/{id}/documents", tag = "documents",
    params(UploadQuery, ("X-Passerelle-Metadata" = Option<String>, Header, description = "Metadata as a JSON object")),
    request_body(content = RawContent, content_type = "application/octet-stream", description = "The raw content (any media type)"),
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn upload(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    check_declared_length(&headers, st.app.settings().max_upload_bytes)?;
    let new = NewDocument {
        space: SpaceId::from_uuid(id),
        folder: q.folder.map(FolderId::from_uuid),
        name: q.name,
        doc_type: q.doc_type,
        metadata: upload_metadata(&headers, q.metadata.as_deref())?,
        media_type: media_type(&headers),
        comment: q.comment.unwrap_or_default(),
    };
    let item = st.app.edge_upload(&actor, new, byte_stream(body)).await?;
    Ok(accepted(&item))
}

/// Uploads a new version of a document, based on its current version here,
/// or on the contractor's own previous save of it not yet back down.
#[utoipa::path(post, path = "/documents/{id}/versions", tag = "documents", params(VersionQuery),
    request_body(content = RawContent, content_type = "application/octet-stream", description = "The raw content"),
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn upload_version(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<VersionQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    check_declared_length(&headers, st.app.settings().max_upload_bytes)?;
    let item = st
        .app
        .edge_new_version(
            &actor,
            DocumentId::from_uuid(id),
            media_type(&headers).as_deref(),
            q.comment.as_deref().unwrap_or_default(),
            byte_stream(body),
        )
        .await?;
    Ok(accepted(&item))
}

/// The space of a document the actor can see (404 otherwise).
async fn space_of(st: &AppState, actor: &Actor, id: DocumentId) -> Result<SpaceId, ApiError> {
    Ok(st.app.get_document(actor, id).await?.document.space)
}

/// Renames (`name`) or moves (`folder`; `null`: to the root) a document:
/// one change per request on the edge, as each is one operation.
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents",
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn update_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<DocumentPatchBody>,
) -> Result<Accepted, ApiError> {
    let document = DocumentId::from_uuid(id);
    let op = match (body.name, body.folder) {
        (Some(name), None) => OutboxOp::Rename { document, name },
        (None, Some(folder)) => OutboxOp::Move {
            document,
            folder: folder.map(FolderId::from_uuid),
        },
        _ => {
            return Err(ApiError::bad_request(
                "give either `name` (rename) or `folder` (move), one per request",
            ));
        }
    };
    let space = space_of(&st, &actor, document).await?;
    let item = st.app.edge_operation(&actor, space, op).await?;
    Ok(accepted(&item))
}

/// Replaces a document's type and metadata (validated against the type).
#[utoipa::path(put, path = "/documents/{id}/metadata", tag = "documents",
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn put_metadata(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<MetadataDto>,
) -> Result<Accepted, ApiError> {
    let document = DocumentId::from_uuid(id);
    let space = space_of(&st, &actor, document).await?;
    let op = OutboxOp::SetMetadata {
        document,
        doc_type: body.doc_type,
        metadata: body.metadata,
    };
    let item = st.app.edge_operation(&actor, space, op).await?;
    Ok(accepted(&item))
}

/// Moves a document to the trash, as of its current version here (a newer
/// version on the internal node wins: modify beats delete).
#[utoipa::path(delete, path = "/documents/{id}", tag = "documents",
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn delete_document(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Accepted, ApiError> {
    let document = DocumentId::from_uuid(id);
    let view = st.app.get_document(&actor, document).await?;
    let op = OutboxOp::Delete {
        document,
        base_version: view.document.current_version,
    };
    let item = st
        .app
        .edge_operation(&actor, view.document.space, op)
        .await?;
    Ok(accepted(&item))
}

/// Creates a folder; its id is chosen here and kept by the internal node.
#[utoipa::path(post, path = "/spaces/{id}/folders", tag = "folders",
    responses((status = 202, body = OperationDto, description = "Pending until the internal node applies it"), Problems))]
pub(crate) async fn create_folder(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<NewFolderBody>,
) -> Result<Accepted, ApiError> {
    let op = OutboxOp::NewFolder {
        folder: st.app.new_folder_id(),
        parent: body.parent.map(FolderId::from_uuid),
        name: body.name,
    };
    let item = st
        .app
        .edge_operation(&actor, SpaceId::from_uuid(id), op)
        .await?;
    Ok(accepted(&item))
}

/// One page of the caller's operations in a space, pending and decided,
/// newest first, with their total (writes to the space: the acceptance of
/// the caller's invitation, which also goes up through the outbox, is not
/// listed). Decided ones are kept for the edge's retention period.
#[utoipa::path(get, path = "/spaces/{id}/operations", tag = "operations", params(PageQuery),
    responses((status = 200, body = PageOf<OperationDto>), Problems))]
pub(crate) async fn my_operations(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<OperationDto>>, ApiError> {
    let page = q.page();
    let items = st
        .app
        .my_operations(&actor, SpaceId::from_uuid(id), page)
        .await?;
    Ok(Json(PageOf::new(items, page, |i| (&i).into())))
}
