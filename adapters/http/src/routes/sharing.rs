//! Sharing spaces with edge nodes, inviting contractors, replication status
//! (internal node).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::InternalApp;
use passerelle_core::ids::SpaceId;
use passerelle_core::service::NewContractor;
use passerelle_http_common::{ApiError, Authenticated};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{
    EdgeStatusDto, InvitationDto, InviteBody, IssuedInvitationDto, ShareBody, SpaceDto,
    SpaceReplicationDto,
};
use crate::extract::{Json, Path};

/// Shares a space with an edge node (managers): its content replicates
/// there for outside contractors. 400 `unknown_edge` for an edge the node
/// does not know; 409 `already_shared` when shared with another edge.
#[utoipa::path(post, path = "/spaces/{id}/share", tag = "sharing",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn share_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<ShareBody>,
) -> Result<Json<SpaceDto>, ApiError> {
    let view = internal
        .share_space(&actor, SpaceId::from_uuid(id), &body.edge)
        .await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

/// Stops sharing a space (managers). The replication then drains the
/// edge's pending operations, orders the purge of the space on the edge and
/// records its receipt in the audit log.
#[utoipa::path(post, path = "/spaces/{id}/unshare", tag = "sharing",
    responses((status = 200, body = SpaceDto), Problems))]
pub(crate) async fn unshare_space(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SpaceDto>, ApiError> {
    let view = internal
        .unshare_space(&actor, SpaceId::from_uuid(id))
        .await?;
    Ok(Json(SpaceDto::new(&view.space, view.role)))
}

/// Invites an outside contractor into a shared space (managers): creates
/// the account (its password is chosen on the edge) and the membership.
/// The invitation's secret is in this response only, never again. 409
/// `not_shared` for a space not shared with an edge.
#[utoipa::path(post, path = "/spaces/{id}/contractors", tag = "sharing",
    responses((status = 201, body = IssuedInvitationDto), Problems))]
pub(crate) async fn invite_contractor(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<InviteBody>,
) -> Result<(StatusCode, Json<IssuedInvitationDto>), ApiError> {
    let new = NewContractor {
        email: body.email,
        display_name: body.display_name,
        organisation: body.organisation,
        role: body.role.into(),
    };
    let issued = internal
        .invite_contractor(&actor, SpaceId::from_uuid(id), new)
        .await?;
    let url = st
        .config
        .invitation_url(issued.edge.as_str(), &issued.secret);
    let dto = IssuedInvitationDto::new(&issued, url, OffsetDateTime::now_utc());
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Invitations of a space, without their secrets (managers).
#[utoipa::path(get, path = "/spaces/{id}/invitations", tag = "sharing",
    responses((status = 200, body = Vec<InvitationDto>), Problems))]
pub(crate) async fn list_invitations(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<InvitationDto>>, ApiError> {
    let invitations = internal
        .list_invitations(&actor, SpaceId::from_uuid(id))
        .await?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        invitations
            .iter()
            .map(|i| InvitationDto::new(i, now))
            .collect(),
    ))
}

/// Revokes a pending invitation (managers of its space); the edge refuses it
/// once the revocation has replicated. An accepted one is refused (409
/// `invitation_accepted`): remove the member instead.
#[utoipa::path(delete, path = "/invitations/{id}", tag = "sharing",
    responses((status = 204, description = "Revoked"), Problems))]
pub(crate) async fn revoke_invitation(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    internal.revoke_invitation(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replication state of a space (managers): its edge, last contact, lag,
/// last error, and the edge operations refused into quarantine.
#[utoipa::path(get, path = "/spaces/{id}/replication", tag = "sharing",
    responses((status = 200, body = SpaceReplicationDto), Problems))]
pub(crate) async fn space_replication(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SpaceReplicationDto>, ApiError> {
    let r = internal
        .space_replication(&actor, SpaceId::from_uuid(id))
        .await?;
    Ok(Json(SpaceReplicationDto::new(id, &r)))
}

/// Every edge node: configured ones and the ones the replication reported
/// on, with last contact, last error and cursor per space (administrators).
#[utoipa::path(get, path = "/edges", tag = "sharing",
    responses((status = 200, body = Vec<EdgeStatusDto>), Problems))]
pub(crate) async fn edges_status(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<EdgeStatusDto>>, ApiError> {
    let known = internal.edges_status(&actor).await?;
    let url = |edge: &str| st.config.edge_public_urls.get(edge).cloned();
    let mut out: Vec<EdgeStatusDto> = known
        .iter()
        .map(|s| EdgeStatusDto::new(s, url(s.edge.as_str())))
        .collect();
    for edge in &st.app.settings().edges {
        if !known.iter().any(|s| &s.edge == edge) {
            out.push(EdgeStatusDto::never_contacted(
                edge.as_str(),
                url(edge.as_str()),
            ));
        }
    }
    out.sort_by(|a, b| a.edge.cmp(&b.edge));
    Ok(Json(out))
}
