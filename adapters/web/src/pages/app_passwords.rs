//! The user's app passwords for WebDAV clients (both nodes; on an edge,
//! for contractors who log in with a second factor): one per device, the
//! secret shown once on the page that creates it, revocable.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::Passerelle;
use passerelle_core::ids::TokenId;
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::CsrfForm;
use super::view::date;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

const HERE: &str = "/account/app-passwords";

#[derive(Debug)]
struct Row {
    id: Uuid,
    name: String,
    created: String,
    revoked: bool,
}

/// A secret just created, shown this once.
#[derive(Debug)]
struct Fresh {
    login: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "app_passwords.html")]
struct AppPasswordsPage {
    p: PageCtx,
    rows: Vec<Row>,
    fresh: Option<Fresh>,
}

async fn page(app: &Passerelle, web: Web, fresh: Option<Fresh>) -> Result<Response, WebError> {
    let mut all = app.list_app_passwords(&web.actor).await?;
    // Newest first: the device just added is at the top.
    all.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let rows = all
        .into_iter()
        .map(|t| Row {
            id: t.id.as_uuid(),
            name: t.name,
            created: date(t.created_at),
            revoked: t.revoked,
        })
        .collect();
    Ok(render(&AppPasswordsPage {
        p: web.page,
        rows,
        fresh,
    }))
}

/// `GET /account/app-passwords`.
pub async fn list(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    page(&st.app, web, None).await
}

#[derive(Deserialize)]
pub struct NewForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    name: String,
}

impl std::fmt::Debug for NewForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewForm")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `POST /account/app-passwords`: answers the page itself with the new
/// secret (never a redirect, which would put it in a URL or a cookie).
pub async fn create(
    State(st): State<AppState>,
    web: Web,
    Form(f): Form<NewForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    match st.app.create_app_password(&web.actor, &f.name).await {
        Ok(issued) => {
            let login = web.actor.principal()?.login.to_string();
            let fresh = Fresh {
                login,
                secret: issued.secret,
            };
            page(&st.app, web, Some(fresh)).await
        }
        Err(e) => back_with_error(HERE, &e),
    }
}

/// `POST /account/app-passwords/{id}/revoke`.
pub async fn revoke(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    match st
        .app
        .revoke_app_password(&web.actor, TokenId::from_uuid(id))
        .await
    {
        Ok(()) => Ok(see_other(&format!("{HERE}?ok=app_password_revoked"))),
        Err(e) => back_with_error(HERE, &e),
    }
}
