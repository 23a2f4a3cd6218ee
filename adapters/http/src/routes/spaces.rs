//! `/spaces`: spaces and their members.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::InternalApp;
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::Visibility;
use passerelle_core::service::{NewSpace, SpacePatch};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{
    MemberDto, NewSpaceBody, PageOf, PageQuery, SetMemberBody, SetMemberEndBody, SpaceDto,
    SpacePatchBody,
};
use crate::extract::{Json, Path, Query};

/// The caller's spaces with their role (every space for an administrator).
#[utoipa::path(get, path = "/spaces", tag = "spaces", params(PageQuery),
    responses((status = 200, body = PageOf<SpaceDto>), Problems))]
pub(crate) async fn list_spaces(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<SpaceDto>>, ApiError> {
    let page = q.page();
    let spaces = st.app.my_spaces(&actor, page).await?;
    Ok(Json(PageOf::new(spaces, page, |s| {
        SpaceDto::new(&s.space, s.role)
    })))
}

/// Creates a space; the caller becomes its manager.
#[utoipa::path(post, path = "/spaces", tag = "spaces",
    responses((status = 201, body = SpaceDto), Problems))]
pub(crate) async fn create_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Json(body): Json<NewSpaceBody>,
) -> Result<(StatusCode, Json<SpaceDto>), ApiError> {
    let new = NewSpace {
        slug: body.slug,
        title: body.title,
        description: body.description,
        domain: body.domain,
        visibility: body
            .visibility
            .map(Visibility::from)
            .unwrap_or(Visibility::Private),
        manager: body.manager,
    };
    let view = internal.create_space(&actor, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(SpaceDto::new(&view.space, view.role)),
    ))
}

#[utoipa::path(get, path = "/spaces/{id}", tag = "spaces",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn get_space(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SpaceDto>, ApiError> {
    let view = st.app.get_space(&actor, SpaceId::from_uuid(id)).await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

/// Changes title, description, domain or visibility (managers).
#[utoipa::path(patch, path = "/spaces/{id}", tag = "spaces",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn update_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<SpacePatchBody>,
) -> Result<Json<SpaceDto>, ApiError> {
    let patch = SpacePatch {
        title: body.title,
        description: body.description,
        domain: body.domain,
        visibility: body.visibility.map(Into::into),
    };
    let view = internal
        .update_space(&actor, SpaceId::from_uuid(id), patch)
        .await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

/// Makes a space read-only (managers).
#[utoipa::path(post, path = "/spaces/{id}/archive", tag = "spaces",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn archive_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SpaceDto>, ApiError> {
    let view = internal
        .set_archived(&actor, SpaceId::from_uuid(id), true)
        .await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

#[utoipa::path(post, path = "/spaces/{id}/unarchive", tag = "spaces",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn unarchive_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SpaceDto>, ApiError> {
    let view = internal
        .set_archived(&actor, SpaceId::from_uuid(id), false)
        .await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

/// Members of a space (any member may see them).
#[utoipa::path(get, path = "/spaces/{id}/members", tag = "spaces",
    responses((status = 200, body = Vec<MemberDto>), Problems))]
pub(crate) async fn list_members(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<MemberDto>>, ApiError> {
    let members = st.app.list_members(&actor, SpaceId::from_uuid(id)).await?;
    Ok(Json(members.iter().map(Into::into).collect()))
}

/// Adds a member or changes a role (managers). `member` is a login here.
#[utoipa::path(put, path = "/spaces/{id}/members/{member}", tag = "spaces",
    params(("id" = Uuid, Path, description = "Space id"), ("member" = String, Path, description = "Login of the account")),
    responses((status = 200, body = MemberDto), Problems))]
pub(crate) async fn set_member(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, member)): Path<(Uuid, String)>,
    Json(body): Json<SetMemberBody>,
) -> Result<Json<MemberDto>, ApiError> {
    let view = internal
        .set_member(&actor, SpaceId::from_uuid(id), &member, body.role.into())
        .await?;
    Ok(Json((&view).into()))
}

/// Sets or clears when a member's access ends (managers): from that
/// instant the membership grants nothing on either node, and the sweep
/// removes it. Not for a manager (409 `manager_end_date`), nor in the
/// past (400 `end_in_past`). `member` is the principal's id here.
#[utoipa::path(put, path = "/spaces/{id}/members/{member}/end", tag = "spaces",
    params(("id" = Uuid, Path, description = "Space id"), ("member" = Uuid, Path, description = "Principal id of the member")),
    responses((status = 200, body = MemberDto), Problems))]
pub(crate) async fn set_member_end(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Json(body): Json<SetMemberEndBody>,
) -> Result<Json<MemberDto>, ApiError> {
    let view = internal
        .set_member_end(
            &actor,
            SpaceId::from_uuid(id),
            PrincipalId::from_uuid(member),
            body.ends_at,
        )
        .await?;
    Ok(Json((&view).into()))
}

/// Resets a contractor's second factor (managers of a space they are in;
/// a lost phone): the edge ends their sessions and asks them to enrol
/// again at their next login. Audited.
#[utoipa::path(post, path = "/spaces/{id}/members/{member}/second-factor/reset", tag = "spaces",
    params(("id" = Uuid, Path, description = "Space id"), ("member" = Uuid, Path, description = "Principal id of the contractor")),
    responses((status = 204, description = "Reset"), Problems))]
pub(crate) async fn reset_second_factor(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, member)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    internal
        .reset_second_factor(
            &actor,
            SpaceId::from_uuid(id),
            PrincipalId::from_uuid(member),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enables a disabled contractor (managers of a space they are a
/// member of; a contractor disabled for inactivity, say): their next
/// inactivity period starts today. Audited.
#[utoipa::path(post, path = "/spaces/{id}/members/{member}/enable", tag = "spaces",
    params(("id" = Uuid, Path, description = "Space id"), ("member" = Uuid, Path, description = "Principal id of the contractor")),
    responses((status = 204, description = "Enabled"), Problems))]
pub(crate) async fn enable_contractor(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, member)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    internal
        .enable_contractor(
            &actor,
            SpaceId::from_uuid(id),
            PrincipalId::from_uuid(member),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (managers). `member` is the principal's id here. A
/// space keeps at least one manager (409 `last_manager`).
#[utoipa::path(delete, path = "/spaces/{id}/members/{member}", tag = "spaces",
    params(("id" = Uuid, Path, description = "Space id"), ("member" = Uuid, Path, description = "Principal id of the member")),
    responses((status = 204, description = "Removed"), Problems))]
pub(crate) async fn remove_member(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path((id, member)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    internal
        .remove_member(
            &actor,
            SpaceId::from_uuid(id),
            PrincipalId::from_uuid(member),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
