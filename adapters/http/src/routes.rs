//! The route table, the router and the OpenAPI document.
//!
//! Every route is registered through `utoipa_axum::routes!`, so a handler
//! without `#[utoipa::path]` cannot be mounted; [`ROUTES`] lists them all
//! once more, and a test checks the three (table, router, document) agree.

mod accounts;
mod activity;
mod admin;
mod app_passwords;
mod auth;
mod content;
mod documents;
mod edge;
mod folders;
mod health;
mod links;
mod locks;
mod search;
mod second_factor;
mod sharing;
mod spaces;
mod trash;
mod written;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Router};
use passerelle_core::InternalApp;
use passerelle_http_common::{ApiError, PROBLEM_JSON, Problem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDoc, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::middleware;
use crate::{AppState, HttpConfig};

pub use content::METADATA_HEADER;
pub use edge::{EDGE_ROUTES, edge_openapi, edge_router};

/// Prefix of the REST API.
pub const API_PREFIX: &str = "/api/v1";

/// Every route the router serves: (method, path as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/login/code"),
    ("POST", "/api/v1/auth/login/enrolment"),
    ("POST", "/api/v1/auth/login/enrolment/confirm"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("PATCH", "/api/v1/auth/me"),
    ("GET", "/api/v1/spaces"),
    ("POST", "/api/v1/spaces"),
    ("GET", "/api/v1/spaces/{id}"),
    ("PATCH", "/api/v1/spaces/{id}"),
    ("POST", "/api/v1/spaces/{id}/archive"),
    ("POST", "/api/v1/spaces/{id}/unarchive"),
    ("GET", "/api/v1/spaces/{id}/members"),
    ("PUT", "/api/v1/spaces/{id}/members/{member}"),
    ("DELETE", "/api/v1/spaces/{id}/members/{member}"),
    ("PUT", "/api/v1/spaces/{id}/members/{member}/end"),
    (
        "POST",
        "/api/v1/spaces/{id}/members/{member}/second-factor/reset",
    ),
    ("POST", "/api/v1/spaces/{id}/members/{member}/enable"),
    ("GET", "/api/v1/spaces/{id}/children"),
    ("POST", "/api/v1/spaces/{id}/folders"),
    ("PATCH", "/api/v1/folders/{id}"),
    ("DELETE", "/api/v1/folders/{id}"),
    ("POST", "/api/v1/spaces/{id}/documents"),
    ("GET", "/api/v1/documents/{id}"),
    ("PATCH", "/api/v1/documents/{id}"),
    ("DELETE", "/api/v1/documents/{id}"),
    ("GET", "/api/v1/documents/{id}/content"),
    ("GET", "/api/v1/documents/{id}/versions"),
    ("POST", "/api/v1/documents/{id}/versions"),
    ("GET", "/api/v1/documents/{id}/versions/{n}/content"),
    ("POST", "/api/v1/documents/{id}/versions/{n}/restore"),
    ("GET", "/api/v1/documents/{id}/lock"),
    ("POST", "/api/v1/documents/{id}/lock"),
    ("DELETE", "/api/v1/documents/{id}/lock"),
    ("GET", "/api/v1/documents/{id}/links"),
    ("POST", "/api/v1/documents/{id}/links"),
    ("DELETE", "/api/v1/documents/{id}/links/{link}"),
    ("GET", "/api/v1/documents/{id}/metadata"),
    ("PUT", "/api/v1/documents/{id}/metadata"),
    ("GET", "/api/v1/spaces/{id}/trash"),
    ("POST", "/api/v1/trash/documents/{id}/restore"),
    ("DELETE", "/api/v1/trash/documents/{id}"),
    ("POST", "/api/v1/trash/folders/{id}/restore"),
    ("DELETE", "/api/v1/trash/folders/{id}"),
    ("GET", "/api/v1/document-types"),
    ("GET", "/api/v1/document-types/{key}"),
    ("PUT", "/api/v1/document-types/{key}"),
    ("GET", "/api/v1/spaces/{id}/audit"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/users/{login}/disable"),
    ("POST", "/api/v1/users/{login}/enable"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("POST", "/api/v1/app-passwords"),
    ("GET", "/api/v1/app-passwords"),
    ("DELETE", "/api/v1/app-passwords/{id}"),
    ("GET", "/api/v1/account/second-factor"),
    ("POST", "/api/v1/account/second-factor"),
    ("POST", "/api/v1/account/second-factor/confirm"),
    ("POST", "/api/v1/account/second-factor/disable"),
    ("POST", "/api/v1/spaces/{id}/share"),
    ("POST", "/api/v1/spaces/{id}/unshare"),
    ("POST", "/api/v1/spaces/{id}/contractors"),
    ("GET", "/api/v1/spaces/{id}/invitations"),
    ("DELETE", "/api/v1/invitations/{id}"),
    ("GET", "/api/v1/spaces/{id}/replication"),
    ("GET", "/api/v1/edges"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/documents/{id}/extraction"),
    ("GET", "/api/v1/admin/extractions"),
    ("POST", "/api/v1/admin/extractions/{hash}/retry"),
    ("GET", "/api/v1/activity"),
    ("GET", "/api/v1/spaces/{id}/activity"),
    ("GET", "/api/v1/spaces/{id}/subscription"),
    ("PUT", "/api/v1/spaces/{id}/subscription"),
    ("PUT", "/api/v1/spaces/{id}/subscription/default"),
    ("GET", "/api/v1/admin/notices"),
    ("POST", "/api/v1/unsubscribe/{token}"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle API",
        description = "Collaborative document management. Errors are application/problem+json with a stable `code`."
    ),
    components(schemas(Problem)),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("bearer" = [])),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "accounts", description = "The caller's app passwords for WebDAV clients, and second factor"),
        (name = "spaces", description = "Spaces and members"),
        (name = "folders", description = "Folder tree"),
        (name = "documents", description = "Documents, versions, content and metadata, check-out (locks)"),
        (name = "trash", description = "Soft deletion"),
        (name = "admin", description = "Document types, audit log, users and tokens"),
        (name = "sharing", description = "Edge nodes, contractors' invitations, replication status"),
        (name = "search", description = "Full-text search, extraction statuses"),
        (name = "activity", description = "Activity feeds, notification settings, the notification outbox"),
        (name = "health", description = "Probes"),
    )
)]
struct ApiDoc;

/// Declares the two ways to authenticate.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("psr_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                passerelle_http_common::SESSION_COOKIE,
                "Session cookie from /auth/login; unsafe methods also need the X-CSRF-Token header.",
            ))),
        );
    }
}

/// The error responses every operation may give (problem+json).
pub(crate) struct Problems;

impl IntoResponses for Problems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        };
        BTreeMap::from([
            (
                "4XX".to_owned(),
                problem("Refused: see `code` (not_found, forbidden, csrf, invalid_name…)"),
            ),
            ("5XX".to_owned(), problem("Server failure (`internal`)")),
        ])
    }
}

/// Routes with JSON bodies: small body limit and a time limit.
fn json_routes(config: &HttpConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::login_code))
        .routes(routes!(auth::enrolment))
        .routes(routes!(auth::confirm_enrolment))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(spaces::list_spaces, spaces::create_space))
        .routes(routes!(spaces::get_space, spaces::update_space))
        .routes(routes!(spaces::archive_space))
        .routes(routes!(spaces::unarchive_space))
        .routes(routes!(spaces::list_members))
        .routes(routes!(spaces::set_member, spaces::remove_member))
        .routes(routes!(spaces::set_member_end))
        .routes(routes!(spaces::reset_second_factor))
        .routes(routes!(spaces::enable_contractor))
        .routes(routes!(folders::list_children))
        .routes(routes!(folders::create_folder))
        .routes(routes!(folders::update_folder, folders::delete_folder))
        .routes(routes!(
            documents::get_document,
            documents::update_document,
            documents::delete_document
        ))
        .routes(routes!(documents::list_versions))
        .routes(routes!(documents::restore_version))
        .routes(routes!(documents::get_metadata, documents::put_metadata))
        .routes(routes!(locks::get_lock, locks::check_out, locks::unlock))
        .routes(routes!(links::list_links, links::create_link))
        .routes(routes!(links::delete_link))
        .routes(routes!(trash::list_trash))
        .routes(routes!(trash::restore_document))
        .routes(routes!(trash::purge_document))
        .routes(routes!(trash::restore_folder))
        .routes(routes!(trash::purge_folder))
        .routes(routes!(admin::list_document_types))
        .routes(routes!(admin::get_document_type, admin::put_document_type))
        .routes(routes!(admin::space_audit))
        .routes(routes!(admin::global_audit))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::disable_user))
        .routes(routes!(accounts::enable_user))
        .routes(routes!(accounts::create_token, accounts::list_tokens))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(
            app_passwords::create_app_password,
            app_passwords::list_app_passwords
        ))
        .routes(routes!(app_passwords::revoke_app_password))
        .routes(routes!(
            second_factor::own_second_factor,
            second_factor::start_second_factor
        ))
        .routes(routes!(second_factor::confirm_second_factor))
        .routes(routes!(second_factor::disable_second_factor))
        .routes(routes!(sharing::share_space))
        .routes(routes!(sharing::unshare_space))
        .routes(routes!(sharing::invite_contractor))
        .routes(routes!(sharing::list_invitations))
        .routes(routes!(sharing::revoke_invitation))
        .routes(routes!(sharing::space_replication))
        .routes(routes!(sharing::edges_status))
        .routes(routes!(search::search))
        .routes(routes!(search::document_extraction))
        .routes(routes!(search::extraction_problems))
        .routes(routes!(search::retry_extraction))
        .routes(routes!(activity::my_activity))
        .routes(routes!(activity::space_activity))
        .routes(routes!(
            activity::get_subscription,
            activity::put_subscription
        ))
        .routes(routes!(activity::put_space_default))
        .routes(routes!(activity::list_notices))
        .routes(routes!(activity::unsubscribe))
        .routes(routes!(health::openapi_json))
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.json_timeout(),
            middleware::json_timeout,
        ))
}

/// Routes whose bodies are content streams: no body limit here (core
/// enforces `max_upload_bytes` while streaming) and no time limit.
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
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(API_PREFIX, api)
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
}

/// The OpenAPI document of the API (also served at `/api/v1/openapi.json`).
pub fn openapi() -> OpenApiDoc {
    all_routes(&HttpConfig::default()).into_openapi()
}

/// The whole HTTP application: API routes, probes and middleware.
///
/// `app` serves the routes only the internal node has (administration,
/// sharing, trash, spaces and members): their handlers take it as an
/// `Extension`, so the edge's router, which has no `InternalApp`, cannot
/// serve them.
pub fn router(state: AppState, app: InternalApp) -> Router {
    let (router, doc) = all_routes(&state.config).split_for_parts();
    finish(router, doc, state).layer(Extension(app))
}

/// What both nodes' APIs share around their routes: problem+json
/// fallbacks, the document they serve, request id, tracing, security headers.
fn finish(router: Router<AppState>, doc: OpenApiDoc, state: AppState) -> Router {
    let doc = Arc::new(doc);
    let metrics = state.metrics.clone();
    let router = router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(Extension(doc))
        .layer(axum::middleware::from_fn(middleware::security_headers));
    passerelle_http_common::with_request_log(router, metrics)
}

async fn no_route() -> impl IntoResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}
