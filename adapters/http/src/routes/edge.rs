//! The edge node's API: what outside contractors need, and nothing else.
//!
//! Same state, error mapping, authentication, CSRF and middleware as the
//! internal node's API, a route table of its own ([`EDGE_ROUTES`], checked
//! against the router and the OpenAPI document like [`super::ROUTES`]).
//! Reads are served from the replicated rows; writes are the internal
//! node's handlers over the edge's `DocumentWrites` (chosen by the edge
//! node), which queues them in the outbox: they answer 202 Accepted. No
//! administration, accounts, tokens, audit, trash,
//! members or document-type editing: those routes do not exist here. A
//! contractor's own app passwords do (ADR 0012): with a second factor,
//! WebDAV clients take them instead of the password.

mod invitations;
mod outbox;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use passerelle_core::EdgeApp;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    API_PREFIX, SecuritySchemes, activity, admin, app_passwords, auth, content, documents, folders,
    health, links, search, spaces,
};
use crate::{AppState, HttpConfig, middleware};

use invitations::InvitationThrottle;

/// Every route the edge router serves: (method, path as in its OpenAPI document).
pub const EDGE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/login/code"),
    ("POST", "/api/v1/auth/login/enrolment"),
    ("POST", "/api/v1/auth/login/enrolment/confirm"),
    ("POST", "/api/v1/app-passwords"),
    ("GET", "/api/v1/app-passwords"),
    ("DELETE", "/api/v1/app-passwords/{id}"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("PATCH", "/api/v1/auth/me"),
    ("POST", "/api/v1/invitations/accept"),
    ("GET", "/api/v1/spaces"),
    ("GET", "/api/v1/spaces/{id}"),
    ("GET", "/api/v1/spaces/{id}/children"),
    ("POST", "/api/v1/spaces/{id}/folders"),
    ("POST", "/api/v1/spaces/{id}/documents"),
    ("GET", "/api/v1/spaces/{id}/operations"),
    ("GET", "/api/v1/documents/{id}"),
    ("PATCH", "/api/v1/documents/{id}"),
    ("DELETE", "/api/v1/documents/{id}"),
    ("GET", "/api/v1/documents/{id}/content"),
    ("GET", "/api/v1/documents/{id}/versions"),
    ("POST", "/api/v1/documents/{id}/versions"),
    ("GET", "/api/v1/documents/{id}/versions/{n}/content"),
    ("PUT", "/api/v1/documents/{id}/metadata"),
    ("GET", "/api/v1/documents/{id}/links"),
    ("GET", "/api/v1/document-types"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/documents/{id}/extraction"),
    ("GET", "/api/v1/activity"),
    ("GET", "/api/v1/spaces/{id}/activity"),
    ("GET", "/api/v1/spaces/{id}/subscription"),
    ("PUT", "/api/v1/spaces/{id}/subscription"),
    ("POST", "/api/v1/unsubscribe/{token}"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle edge API",
        description = "Shared spaces for outside contractors. Writes are accepted (202) as pending operations until the internal node applies them. Errors are application/problem+json with a stable `code`."
    ),
    components(schemas(passerelle_http_common::Problem)),
    modifiers(&SecuritySchemes),
    security(("session" = [])),
    tags(
        (name = "auth", description = "Invitations and sessions"),
        (name = "spaces", description = "Shared spaces"),
        (name = "folders", description = "Folder tree"),
        (name = "documents", description = "Documents, versions and content"),
        (name = "operations", description = "Pending and decided writes"),
        (name = "admin", description = "Document types (read only)"),
        (name = "search", description = "Full-text search in the shared spaces"),
        (name = "accounts", description = "The caller's app passwords for WebDAV clients"),
        (name = "health", description = "Probes"),
    )
)]
struct EdgeApiDoc;

/// Routes with JSON bodies: small body limit and a time limit.
fn json_routes(config: &HttpConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::login_code))
        .routes(routes!(auth::enrolment))
        .routes(routes!(auth::confirm_enrolment))
        .routes(routes!(
            app_passwords::create_app_password,
            app_passwords::list_app_passwords
        ))
        .routes(routes!(app_passwords::revoke_app_password))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(invitations::accept_invitation))
        .routes(routes!(spaces::list_spaces))
        .routes(routes!(spaces::get_space))
        .routes(routes!(folders::list_children))
        .routes(routes!(folders::create_folder))
        .routes(routes!(outbox::my_operations))
        .routes(routes!(
            documents::get_document,
            documents::update_document,
            documents::delete_document
        ))
        .routes(routes!(documents::list_versions))
        .routes(routes!(documents::put_metadata))
        .routes(routes!(links::list_links))
        .routes(routes!(admin::list_document_types))
        .routes(routes!(search::search))
        .routes(routes!(search::document_extraction))
        .routes(routes!(activity::my_activity))
        .routes(routes!(activity::space_activity))
        .routes(routes!(
            activity::get_subscription,
            activity::put_subscription
        ))
        .routes(routes!(activity::unsubscribe))
        .routes(routes!(health::openapi_json))
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.json_timeout(),
            middleware::json_timeout,
        ))
}

/// Content streams both ways: no body or time limit here (core enforces
/// `max_upload_bytes` while streaming).
fn streaming_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(content::upload))
        .routes(routes!(content::upload_version))
        .routes(routes!(content::download))
        .routes(routes!(content::download_version))
        .layer(DefaultBodyLimit::disable())
}

fn all_routes(config: &HttpConfig) -> OpenApiRouter<AppState> {
    let api = json_routes(config).merge(streaming_routes());
    OpenApiRouter::with_openapi(EdgeApiDoc::openapi())
        .nest(API_PREFIX, api)
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
}

/// The OpenAPI document of the edge API (also served at `/api/v1/openapi.json`).
pub fn edge_openapi() -> OpenApiDoc {
    all_routes(&HttpConfig::default()).into_openapi()
}

/// The edge node's HTTP application: contractors' routes, probes and the
/// same middleware as [`super::router`].
///
/// `app` serves what only an edge has (the acceptance of invitations).
pub fn edge_router(state: AppState, app: EdgeApp) -> Router {
    let (router, doc) = all_routes(&state.config).split_for_parts();
    super::finish(router, doc, state)
        .layer(Extension(Arc::new(InvitationThrottle::default())))
        .layer(Extension(app))
}
