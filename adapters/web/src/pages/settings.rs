//! A space's settings (managers): title, domain, description, visibility,
//! archiving.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::InternalApp;
use passerelle_core::ids::SpaceId;
use passerelle_core::model::Visibility;
use passerelle_core::service::SpacePatch;
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::CsrfForm;
use super::manage::managed;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    p: PageCtx,
    sid: String,
    tab: &'static str,
    manager: bool,
    title: String,
    domain: String,
    description: String,
    public: bool,
    archived: bool,
}

/// `GET /spaces/{id}/settings` (managers): title, domain, description,
/// visibility; archive or unarchive.
pub async fn settings(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let sid = SpaceId::from_uuid(id);
    let view = managed(&st, &web, sid).await?;
    Ok(render(&SettingsPage {
        p: web.page,
        sid: sid.to_string(),
        tab: "settings",
        manager: true,
        title: view.space.title,
        domain: view.space.domain,
        description: view.space.description,
        public: view.space.visibility == Visibility::Public,
        archived: view.space.archived,
    }))
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    title: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    description: String,
    visibility: String,
}

/// `POST /spaces/{id}/settings`.
pub async fn save_settings(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/settings");
    let visibility = match f.visibility.as_str() {
        "private" => Visibility::Private,
        "public" => Visibility::Public,
        _ => return Err(CoreError::invalid("invalid_visibility", "private or public").into()),
    };
    let patch = SpacePatch {
        title: Some(f.title.trim().to_owned()),
        description: Some(f.description),
        domain: Some(f.domain.trim().to_owned()),
        visibility: Some(visibility),
    };
    match internal.update_space(&web.actor, sid, patch).await {
        Ok(_) => Ok(see_other(&format!("{back}?ok=settings_saved"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/archive`: read only for everyone.
pub async fn archive(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    set_archived(internal, web, id, f, true).await
}

/// `POST /spaces/{id}/unarchive`.
pub async fn unarchive(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    set_archived(internal, web, id, f, false).await
}

async fn set_archived(
    internal: InternalApp,
    web: Web,
    id: Uuid,
    f: CsrfForm,
    archived: bool,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/settings");
    match internal.set_archived(&web.actor, sid, archived).await {
        Ok(_) => Ok(see_other(&format!("{back}?ok=settings_saved"))),
        Err(e) => back_with_error(&back, &e),
    }
}
