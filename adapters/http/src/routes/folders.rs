//! Folders: listing a space's tree, creating, renaming, moving, deleting.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::model::Page;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use super::written::answer;
use crate::AppState;
use crate::dto::{
    ChildrenQuery, FolderDto, FolderListingDto, FolderPatchBody, NewFolderBody, OperationDto,
};
use crate::extract::{Json, Path, Query};

/// Sub-folders and documents of a folder (`?folder=`) or of the root.
#[utoipa::path(get, path = "/spaces/{id}/children", tag = "folders", params(ChildrenQuery),
    responses((status = 200, body = FolderListingDto), Problems))]
pub(crate) async fn list_children(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<ChildrenQuery>,
) -> Result<Json<FolderListingDto>, ApiError> {
    let default = Page::default();
    let page = Page::new(
        q.offset.unwrap_or(default.offset),
        q.limit.unwrap_or(default.limit),
    );
    let listing = st
        .app
        .list_folder(
            &actor,
            SpaceId::from_uuid(id),
            q.folder.map(FolderId::from_uuid),
            page,
        )
        .await?;
    Ok(Json(FolderListingDto::new(listing, page)))
}

/// Creates a folder (on an edge, its id is chosen there and kept by the
/// internal node).
#[utoipa::path(post, path = "/spaces/{id}/folders", tag = "folders",
    responses((status = 201, body = FolderDto), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn create_folder(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<NewFolderBody>,
) -> Result<Response, ApiError> {
    let written = st
        .writes
        .create_folder(
            &actor,
            SpaceId::from_uuid(id),
            body.parent.map(FolderId::from_uuid),
            &body.name,
        )
        .await?;
    Ok(answer(written, |folder| {
        (StatusCode::CREATED, Json(FolderDto::from(&folder)))
    }))
}

/// Renames and/or moves a folder within its space (`parent: null`: to the root).
#[utoipa::path(patch, path = "/folders/{id}", tag = "folders",
    responses((status = 200, body = FolderDto), Problems))]
pub(crate) async fn update_folder(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<FolderPatchBody>,
) -> Result<Json<FolderDto>, ApiError> {
    let parent = body.parent.map(|p| p.map(FolderId::from_uuid));
    let folder = internal
        .update_folder(
            &actor,
            FolderId::from_uuid(id),
            body.name.as_deref(),
            parent,
        )
        .await?;
    Ok(Json((&folder).into()))
}

/// Moves a folder and everything under it to the trash.
#[utoipa::path(delete, path = "/folders/{id}", tag = "folders",
    responses((status = 204, description = "In the trash"), Problems))]
pub(crate) async fn delete_folder(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    internal
        .delete_folder(&actor, FolderId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
