//! Document types and the audit log.

use axum::Extension;
use axum::extract::State;
use passerelle_core::InternalApp;
use passerelle_core::ids::SpaceId;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{AuditEntryDto, DocumentTypeBody, DocumentTypeDto, PageOf, PageQuery};
use crate::extract::{Json, Path, Query};

/// Document types known to this node.
#[utoipa::path(get, path = "/document-types", tag = "admin",
    responses((status = 200, body = Vec<DocumentTypeDto>), Problems))]
pub(crate) async fn list_document_types(
    State(st): State<AppState>,
    _auth: Authenticated,
) -> Result<Json<Vec<DocumentTypeDto>>, ApiError> {
    let types = st.app.list_document_types().await?;
    Ok(Json(types.iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/document-types/{key}", tag = "admin",
    responses((status = 200, body = DocumentTypeDto), Problems))]
pub(crate) async fn get_document_type(
    State(st): State<AppState>,
    _auth: Authenticated,
    Path(key): Path<String>,
) -> Result<Json<DocumentTypeDto>, ApiError> {
    let t = st.app.get_document_type(&key).await?;
    Ok(Json((&t).into()))
}

/// Creates or replaces a document type (administrators).
#[utoipa::path(put, path = "/document-types/{key}", tag = "admin",
    responses((status = 200, body = DocumentTypeDto), Problems))]
pub(crate) async fn put_document_type(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(key): Path<String>,
    Json(body): Json<DocumentTypeBody>,
) -> Result<Json<DocumentTypeDto>, ApiError> {
    let t = internal
        .save_document_type(&actor, body.into_core(key))
        .await?;
    Ok(Json((&t).into()))
}

/// The audit log of a space (its managers), oldest first.
#[utoipa::path(get, path = "/spaces/{id}/audit", tag = "admin", params(PageQuery),
    responses((status = 200, body = PageOf<AuditEntryDto>), Problems))]
pub(crate) async fn space_audit(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<AuditEntryDto>>, ApiError> {
    let page = q.page();
    let entries = st
        .app
        .space_audit(&actor, SpaceId::from_uuid(id), page)
        .await?;
    Ok(Json(PageOf::new(entries, page, |e| (&e).into())))
}

/// The whole audit log (administrators), oldest first.
#[utoipa::path(get, path = "/audit", tag = "admin", params(PageQuery),
    responses((status = 200, body = PageOf<AuditEntryDto>), Problems))]
pub(crate) async fn global_audit(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<AuditEntryDto>>, ApiError> {
    let page = q.page();
    let entries = st.app.global_audit(&actor, page).await?;
    Ok(Json(PageOf::new(entries, page, |e| (&e).into())))
}
