//! Administrators' pages: users and the whole audit log (document types
//! are in [`super::types`]).

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::InternalApp;
use passerelle_core::model::{Page, PrincipalKind};
use passerelle_core::service::NewAgent;
use passerelle_http_common::AppState;
use serde::Deserialize;

use super::auth::CsrfForm;
use super::manage::{AuditPage, audit_rows};
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

/// `GET /admin/audit`: the whole audit log (administrators), newest first.
pub async fn global_audit(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    let total = st
        .app
        .global_audit(&web.actor, Page::new(0, 1))
        .await?
        .total;
    let entries = st
        .app
        .global_audit(&web.actor, Page::new(total.saturating_sub(200), 200))
        .await?;
    let users = st.app.list_principals(&web.actor, Page::all()).await?;
    let names = users
        .items
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    Ok(render(&AuditPage {
        sid: String::new(),
        tab: "audit",
        manager: true,
        title: web.t().s("nav.audit").to_owned(),
        entries: audit_rows(&entries.items, &names, web.t()),
        p: web.page,
    }))
}

#[derive(Debug)]
struct UserRow {
    login: String,
    name: String,
    kind: &'static str,
    state: &'static str,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    p: PageCtx,
    users: Vec<UserRow>,
}

/// `GET /admin/users` (administrators).
pub async fn users(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    let t = web.t();
    let all = st
        .app
        .list_principals(&web.actor, Page::new(0, Page::MAX_LIMIT))
        .await?;
    let users = all
        .items
        .into_iter()
        .map(|u| UserRow {
            login: u.login.as_str().to_owned(),
            name: u.display_name,
            kind: match (u.kind, u.is_admin) {
                (PrincipalKind::Contractor, _) => t.s("members.contractor"),
                (PrincipalKind::Service, _) => t.s("members.service"),
                (_, true) => t.s("users.administrator"),
                _ => t.s("members.agent"),
            },
            state: if u.disabled {
                t.s("users.disabled")
            } else {
                t.s("users.active")
            },
            disabled: u.disabled,
        })
        .collect();
    Ok(render(&UsersPage { p: web.page, users }))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    login: String,
    display_name: String,
    email: String,
    password: String,
    #[serde(default)]
    is_admin: Option<String>,
}

impl std::fmt::Debug for NewUserForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserForm")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// `POST /admin/users`: a new agent account.
pub async fn create_user(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Form(f): Form<NewUserForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let new = NewAgent {
        login: f.login.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        email: f.email.trim().to_owned(),
        is_admin: f.is_admin.as_deref() == Some("true"),
        password: Some(f.password),
    };
    match internal.create_agent(&web.actor, new).await {
        Ok(_) => Ok(see_other("/admin/users?ok=user_created")),
        Err(e) => back_with_error("/admin/users", &e),
    }
}

/// `POST /admin/users/{login}/{enable|disable}`.
pub async fn set_user_state(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((login, action)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(CoreError::NotFound("page").into()),
    };
    match internal.set_disabled(&web.actor, &login, disabled).await {
        Ok(_) => Ok(see_other("/admin/users?ok=user_saved")),
        Err(e) => back_with_error("/admin/users", &e),
    }
}
