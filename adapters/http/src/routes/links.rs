//! Links between documents (ADR 0008 §4): listed from either end on both
//! nodes; made and removed through their source on the internal node (the
//! `InternalApp` extension: the edge's router cannot serve the writes).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::ids::{DocumentId, LinkId};
use passerelle_core::links::LinkKind;
use passerelle_core::{CoreError, InternalApp};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{LinkDto, NewLinkBody};
use crate::extract::{Json, Path};

/// The document's links whose other end the caller can see, from it
/// (`outgoing`) and to it (`incoming`), oldest first. On an edge, the
/// links of its spaces' documents, as the internal node replicates them.
#[utoipa::path(get, path = "/documents/{id}/links", tag = "documents",
    responses((status = 200, body = [LinkDto]), Problems))]
pub(crate) async fn list_links(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<LinkDto>>, ApiError> {
    let links = st
        .app
        .document_links(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json(links.iter().map(LinkDto::from).collect()))
}

/// Links the document to another (`to`) as `kind`: an edit of this
/// document (its edit right, its lock). A target the caller cannot see is
/// 404 like an absent one. Linking again answers the existing link.
#[utoipa::path(post, path = "/documents/{id}/links", tag = "documents",
    request_body = NewLinkBody,
    responses((status = 201, body = LinkDto), Problems))]
pub(crate) async fn create_link(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<NewLinkBody>,
) -> Result<(StatusCode, Json<LinkDto>), ApiError> {
    let kind: LinkKind =
        body.kind
            .parse()
            .map_err(|e: passerelle_core::links::UnknownLinkKind| {
                ApiError::from(CoreError::invalid("invalid_link", e.to_string()))
            })?;
    let from = DocumentId::from_uuid(id);
    let link = internal
        .link_documents(&actor, from, DocumentId::from_uuid(body.to), kind)
        .await?;
    let view = internal
        .document_links(&actor, from)
        .await?
        .into_iter()
        .find(|v| v.link.id == link.id)
        .ok_or(CoreError::NotFound("link"))?;
    Ok((StatusCode::CREATED, Json(LinkDto::from(&view))))
}

/// Removes a link of which the document is the source: an edit of it.
#[utoipa::path(delete, path = "/documents/{id}/links/{link}", tag = "documents",
    responses((status = 204, description = "Removed"), Problems))]
pub(crate) async fn delete_link(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, link)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    internal
        .unlink_documents(&actor, DocumentId::from_uuid(id), LinkId::from_uuid(link))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
