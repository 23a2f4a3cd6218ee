//! # passerelle-http
//!
//! A driving adapter of the hexagon: the REST API `/api/v1` (axum) and its
//! OpenAPI document, over the use cases of `passerelle-core`
//! ([`passerelle_core::Passerelle`]).
//!
//! It depends on core only: never on another adapter (sql, blobs, grpc). All
//! rules, authorization included, live in core; this crate translates HTTP
//! to use cases and `CoreError` to problem+json, and streams content both
//! ways without buffering it.
//!
//! Modules:
//! - [`config`] — [`HttpConfig`] (including the edges' public URLs).
//! - `server`: [`serve`] on a bound listener with graceful shutdown.
//! - `routes`: [`router`] (the internal node), its route table and OpenAPI
//!   document; one submodule per resource (auth, spaces, folders,
//!   documents, content, trash, admin, sharing, health). `routes::edge`:
//!   [`edge_router`] (the edge node: contractors' reads, writes that go to
//!   the outbox, invitation acceptance), with its own table and document.
//! - `auth`: the [`Authenticated`] extractor (session cookie + CSRF, or
//!   bearer token) and the session cookie (its helpers are public for the
//!   web UI crate, `passerelle-web`, which shares these sessions).
//! - `extract`: `Json`/`Path`/`Query` extractors with problem+json rejections.
//! - [`problem`] — [`ApiError`] and the one `CoreError` → HTTP mapping.
//! - [`dto`] — the JSON shapes of the API.
//! - `download`: `Range`, `ETag`, `Content-Disposition` as pure functions.
//! - `middleware`: security headers, request id, JSON timeouts, and
//!   [`with_request_log`] (one log line per request, the web pages' too).

mod auth;
pub mod config;
mod download;
pub mod dto;
mod extract;
mod middleware;
pub mod problem;
mod routes;
mod server;

use passerelle_core::Passerelle;

pub use auth::{
    Authenticated, CSRF_HEADER, SESSION_COOKIE, cleared_cookie, client_address, csrf_matches,
    session_cookie, session_token,
};
pub use config::HttpConfig;
pub use middleware::with_request_log;
pub use problem::{ApiError, PROBLEM_JSON, Problem, classify};
pub use routes::{
    API_PREFIX, EDGE_ROUTES, METADATA_HEADER, ROUTES, edge_openapi, edge_router, openapi, router,
};
pub use server::serve;

/// What every handler gets: the use cases and the adapter's settings.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases (cheap to clone: `Arc`s inside).
    pub app: Passerelle,
    pub config: HttpConfig,
}

impl AppState {
    pub fn new(app: Passerelle, config: HttpConfig) -> Self {
        Self { app, config }
    }
}
