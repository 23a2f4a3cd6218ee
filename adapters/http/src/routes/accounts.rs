//! Users (administrators) and API tokens.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::InternalApp;
use passerelle_core::ids::TokenId;
use passerelle_core::service::NewAgent;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{IssuedTokenDto, NewTokenBody, NewUserBody, PageOf, PageQuery, TokenDto, UserDto};
use crate::extract::{Json, Path, Query};

#[utoipa::path(get, path = "/users", tag = "admin", params(PageQuery),
    responses((status = 200, body = PageOf<UserDto>), Problems))]
pub(crate) async fn list_users(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<UserDto>>, ApiError> {
    let page = q.page();
    let users = st.app.list_principals(&actor, page).await?;
    Ok(Json(PageOf::new(users, page, |p| (&p).into())))
}

/// Creates an internal agent (administrators).
#[utoipa::path(post, path = "/users", tag = "admin",
    responses((status = 201, body = UserDto), Problems))]
pub(crate) async fn create_user(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let new = NewAgent {
        login: body.login,
        display_name: body.display_name,
        email: body.email,
        is_admin: body.is_admin,
        password: body.password,
    };
    let p = internal.create_agent(&actor, new).await?;
    Ok((StatusCode::CREATED, Json((&p).into())))
}

/// Disables an account: it can no longer log in, its sessions end.
#[utoipa::path(post, path = "/users/{login}/disable", tag = "admin",
    responses((status = 200, body = UserDto), Problems))]
pub(crate) async fn disable_user(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(login): Path<String>,
) -> Result<Json<UserDto>, ApiError> {
    let p = internal.set_disabled(&actor, &login, true).await?;
    Ok(Json((&p).into()))
}

#[utoipa::path(post, path = "/users/{login}/enable", tag = "admin",
    responses((status = 200, body = UserDto), Problems))]
pub(crate) async fn enable_user(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
    Path(login): Path<String>,
) -> Result<Json<UserDto>, ApiError> {
    let p = internal.set_disabled(&actor, &login, false).await?;
    Ok(Json((&p).into()))
}

/// Issues an API token for the caller, or (administrators) for `login`.
/// The secret is in this response only.
#[utoipa::path(post, path = "/tokens", tag = "admin",
    responses((status = 201, body = IssuedTokenDto), Problems))]
pub(crate) async fn create_token(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<IssuedTokenDto>), ApiError> {
    let login = match body.login {
        Some(login) => login,
        None => actor.principal()?.login.to_string(),
    };
    let issued = st
        .app
        .create_token(&actor, &login, &body.name, body.expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenDto {
            token: (&issued.token).into(),
            secret: issued.secret,
        }),
    ))
}

/// The caller's tokens (every token, for an administrator).
#[utoipa::path(get, path = "/tokens", tag = "admin",
    responses((status = 200, body = Vec<TokenDto>), Problems))]
pub(crate) async fn list_tokens(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    let tokens = st.app.list_tokens(&actor).await?;
    Ok(Json(tokens.iter().map(Into::into).collect()))
}

/// Revokes a token (its owner or an administrator).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "admin",
    responses((status = 204, description = "Revoked"), Problems))]
pub(crate) async fn revoke_token(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    st.app.revoke_token(&actor, TokenId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
