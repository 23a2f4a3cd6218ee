//! # passerelle-web
//!
//! The web interface: server-rendered pages for agents (internal node,
//! [`router`]) and outside contractors (edge node, [`edge_router`]). Part of
//! the HTTP driving adapter (DESIGN §1), in its own crate so that template
//! compilation does not rebuild the REST API; it depends on core and on
//! `passerelle-http-common` (sessions, `AppState`, error classification —
//! ADR 0004), never on the API crate nor on storage or replication
//! adapters. Every rule is core's: pages
//! call the same use cases as the API.
//!
//! Templates (askama, `templates/`) are compiled in, the CSS and the small
//! script (`static/`) embedded, the message catalogues (`i18n/`) too: a node
//! needs no file beside its binary and no build step.
//!
//! Modules:
//! - [`i18n`] — catalogues (French by default, English) and language choice.
//! - [`ctx`] — the [`ctx::Web`] extractor (session + CSRF token + page
//!   context), [`ctx::WebError`], security headers and error pages.
//! - `assets` — embedded static files under content-hashed names.
//! - `pages` — handlers: `auth` (login, logout, language, invitation),
//!   `spaces` (my spaces, a space, embeddable view), `documents`, `manage`
//!   (members, sharing, trash, audit), `settings` (a space's settings and
//!   archiving), `own_second_factor` (an agent's own second factor),
//!   `admin` (users, whole audit log), `types` (the document type
//!   editor), `uploads` (the upload forms without JavaScript), `view`
//!   (rows), `search` (the results page), `extractions` (the
//!   administrators' list of failed text extractions).

mod assets;
pub mod ctx;
pub mod i18n;
mod pages;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Extension, Router};
use passerelle_core::{EdgeApp, InternalApp};
use passerelle_http_common::AppState;

use ctx::Offers;
use pages::{
    activity, admin, app_passwords, auth, documents, extractions, links, locks, manage, members,
    own_second_factor, search, second_factor, settings, spaces, types, uploads, webdav,
};

/// Largest form body (forms carry names and metadata, never content).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The internal node's pages, to merge beside `passerelle_http::router`.
///
/// `app` serves the pages only the internal node has (spaces' creation,
/// members, sharing, trash, settings, administration), which take it as an
/// `Extension`.
pub fn router(state: AppState, app: InternalApp) -> Router {
    let pages = common()
        .route("/spaces", get(spaces::my_spaces).post(spaces::create_space))
        .route("/folders/{id}/rename", post(spaces::rename_folder))
        .route("/folders/{id}/delete", post(spaces::delete_folder))
        .route("/embed/spaces/{id}", get(spaces::embed))
        .route("/documents/{id}/lock", post(locks::lock))
        .route("/documents/{id}/unlock", post(locks::unlock))
        .route("/documents/{id}/force-unlock", post(locks::force_unlock))
        .route("/documents/{id}/links", post(links::create))
        .route("/documents/{id}/links/{link}/remove", post(links::remove))
        .route(
            "/documents/{id}/versions/{n}/restore",
            post(documents::restore),
        )
        .route(
            "/spaces/{id}/members",
            get(members::members).post(members::add_member),
        )
        .route(
            "/spaces/{id}/members/{member}/role",
            post(members::change_role),
        )
        .route("/spaces/{id}/members/{member}/end", post(members::set_end))
        .route(
            "/spaces/{id}/members/{member}/second-factor-reset",
            post(members::reset_second_factor),
        )
        .route(
            "/spaces/{id}/members/{member}/enable",
            post(members::enable_contractor),
        )
        .route(
            "/spaces/{id}/members/{member}/remove",
            post(members::remove_member),
        )
        .route("/spaces/{id}/contractors", post(members::invite))
        .route("/spaces/{id}/sharing", get(manage::sharing))
        .route("/spaces/{id}/share", post(manage::share))
        .route("/spaces/{id}/unshare", post(manage::unshare))
        .route("/spaces/{id}/trash", get(manage::trash))
        .route("/trash/{kind}/{id}/{action}", post(manage::trash_action))
        .route("/spaces/{id}/audit", get(manage::space_audit))
        .route(
            "/spaces/{id}/settings",
            get(settings::settings).post(settings::save_settings),
        )
        .route("/spaces/{id}/archive", post(settings::archive))
        .route("/spaces/{id}/unarchive", post(settings::unarchive))
        .route(
            "/account/second-factor",
            get(own_second_factor::page).post(own_second_factor::start),
        )
        .route(
            "/account/second-factor/confirm",
            post(own_second_factor::confirm),
        )
        .route(
            "/account/second-factor/disable",
            post(own_second_factor::disable),
        )
        .route("/admin/audit", get(admin::global_audit))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{login}/{action}", post(admin::set_user_state))
        .route("/admin/types", get(types::types).post(types::create))
        .route("/admin/types/new", get(types::new_form))
        .route("/admin/types/{key}", post(types::save))
        .route("/admin/types/{key}/edit", get(types::edit_form))
        .route("/admin/extractions", get(extractions::extractions))
        .route("/admin/extractions/{hash}/retry", post(extractions::retry))
        .route("/admin/notices", get(activity::notices));
    let offers = Offers {
        management: true,
        ..Offers::default()
    };
    finish(pages, state, offers).layer(Extension(app))
}

/// The edge node's pages: contractors only (login, invitation, their
/// spaces, documents, uploads through the outbox).
///
/// `app` serves the acceptance of invitations, which only an edge has.
pub fn edge_router(state: AppState, app: EdgeApp) -> Router {
    let pages = common().route("/spaces", get(spaces::my_spaces)).route(
        "/invitation",
        get(auth::invitation_form).post(auth::accept_invitation),
    );
    let offers = Offers {
        invitations: true,
        partner_portal: true,
        ..Offers::default()
    };
    finish(pages, state, offers)
        .layer(Extension(Arc::new(auth::InvitationThrottle::default())))
        .layer(Extension(app))
}

/// Pages both nodes serve.
fn common() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::set_lang))
        .route("/spaces/{id}", get(spaces::space))
        .route("/activity", get(activity::my_activity))
        .route("/spaces/{id}/activity", get(activity::space_activity))
        .route("/spaces/{id}/subscription", post(activity::subscribe))
        .route(
            "/spaces/{id}/subscription/default",
            post(activity::space_default),
        )
        .route(
            "/unsubscribe/{token}",
            get(activity::unsubscribe_form).post(activity::unsubscribe),
        )
        .route("/search", get(search::search))
        .route("/account/webdav", get(webdav::webdav))
        .route(
            "/account/app-passwords",
            get(app_passwords::list).post(app_passwords::create),
        )
        .route(
            "/account/app-passwords/{id}/revoke",
            post(app_passwords::revoke),
        )
        .route(
            "/login/code",
            get(second_factor::code_form).post(second_factor::code),
        )
        .route(
            "/login/enrol",
            get(second_factor::enrol_form).post(second_factor::enrol),
        )
        .route("/documents/{id}", get(documents::document))
        .route("/documents/{id}/preview", get(documents::preview))
        .route("/spaces/{id}/folders", post(spaces::create_folder))
        .route("/documents/{id}/metadata", post(documents::save_metadata))
        .route("/documents/{id}/rename", post(documents::rename))
        .route("/documents/{id}/delete", post(documents::delete))
        // Files: no form limit here; core limits each file's size.
        .route(
            "/spaces/{id}/upload",
            post(uploads::upload_files).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/documents/{id}/versions/upload",
            post(uploads::upload_version).layer(DefaultBodyLimit::disable()),
        )
}

/// The layers of every page. The request log is outermost, so its line
/// has the status the browser gets (after the error page is rendered); it
/// is applied here because the API router's own log does not cover the
/// routes merged beside it.
fn finish(pages: Router<AppState>, state: AppState, offers: Offers) -> Router {
    let ancestors: Arc<str> = ctx::frame_ancestors(&state.config.embed_frame_ancestors).into();
    let metrics = state.metrics.clone();
    let pages = pages
        .route("/static/{name}", get(assets::serve))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn(ctx::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            ancestors,
            ctx::page_headers,
        ))
        .layer(Extension(offers));
    passerelle_http_common::with_request_log(pages, metrics)
}
