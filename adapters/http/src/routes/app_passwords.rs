//! App passwords: the caller's per-device secrets for WebDAV clients, on
//! both nodes (on an edge, for contractors who log in with a second
//! factor, ADR 0012).

use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::ids::TokenId;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{IssuedAppPasswordDto, NewAppPasswordBody, TokenDto};
use crate::extract::{Json, Path};

/// Creates an app password for the caller's account, named after the
/// device that will use it. The secret is in this response only.
#[utoipa::path(post, path = "/app-passwords", tag = "accounts",
    responses((status = 201, body = IssuedAppPasswordDto), Problems))]
pub(crate) async fn create_app_password(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<NewAppPasswordBody>,
) -> Result<(StatusCode, Json<IssuedAppPasswordDto>), ApiError> {
    let issued = st.app.create_app_password(&actor, &body.name).await?;
    let login = actor.principal()?.login.to_string();
    Ok((
        StatusCode::CREATED,
        Json(IssuedAppPasswordDto {
            app_password: (&issued.token).into(),
            login,
            secret: issued.secret,
        }),
    ))
}

/// The caller's app passwords (revoked ones too), without their secrets.
#[utoipa::path(get, path = "/app-passwords", tag = "accounts",
    responses((status = 200, body = Vec<TokenDto>), Problems))]
pub(crate) async fn list_app_passwords(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    let all = st.app.list_app_passwords(&actor).await?;
    Ok(Json(all.iter().map(Into::into).collect()))
}

/// Revokes an app password (its owner or an administrator): the device
/// using it is refused at its next request.
#[utoipa::path(delete, path = "/app-passwords/{id}", tag = "accounts",
    responses((status = 204, description = "Revoked"), Problems))]
pub(crate) async fn revoke_app_password(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    st.app
        .revoke_app_password(&actor, TokenId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
