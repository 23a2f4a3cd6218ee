//! # passerelle-http-common
//!
//! What the driving HTTP adapters share — the REST API (`passerelle-http`),
//! the web pages (`passerelle-web`) and any later one (WebDAV) — so that
//! none of them depends on another: the state handlers get ([`AppState`])
//! and the node's `[http]` settings ([`HttpConfig`]), the session cookie
//! and the CSRF check, the [`Authenticated`] extractor, the client's
//! address behind trusted proxies, the one mapping of `CoreError` to HTTP
//! statuses and stable codes ([`classify`], [`ApiError`] as problem+json),
//! and the request log. Routes, DTOs and the OpenAPI document stay in each
//! adapter.
//!
//! It depends on core, and on one other adapter: `passerelle-workers`, for
//! the read handle of the node's worker registry ([`Board`]) that `/readyz`
//! and `/metrics` show. A trait of its own here would copy `WorkerStatus`
//! field for field, and that crate is small (core, tokio, time, serde) and
//! depends on no HTTP crate, so there is no cycle to break. With the
//! `openapi` feature (the API turns it on) the error body also derives
//! `utoipa::ToSchema`.
//!
//! Modules:
//! - [`config`] — [`HttpConfig`].
//! - `auth`: the [`Authenticated`] extractor (session cookie + CSRF, or
//!   bearer token), [`authenticate`], the session cookie and CSRF helpers.
//! - [`basic`] — HTTP Basic for clients that resend their credentials with
//!   every request (WebDAV, CMIS), over TLS or from loopback only.
//! - [`download`] — `Range`, `ETag`, `Content-Disposition` as pure
//!   functions (the API's and CMIS's downloads).
//! - `client`: [`client_address`] (trusted proxies and `X-Forwarded-For`).
//! - [`problem`] — [`ApiError`], [`Problem`] and [`classify`].
//! - `request_log`: [`with_request_log`] (one log line per request, and
//!   its metrics).
//! - [`multipart`] — ordered `multipart/form-data`: bounded text fields,
//!   content streamed to core.
//! - [`metrics`] — [`Metrics`] (what `/metrics` shows) and [`may_scrape`].
//! - [`search_params`] — the query string of a search, as the API and the
//!   results page both read it.

mod auth;
pub mod basic;
mod client;
pub mod config;
pub mod download;
pub mod metrics;
pub mod multipart;
pub mod problem;
mod request_log;
pub mod search_params;

use std::sync::Arc;

use passerelle_core::Passerelle;
use passerelle_core::service::{DocumentWrites, Search};
pub use passerelle_workers::{Board, WorkerState, WorkerStatus};

pub use auth::{
    Authenticated, CSRF_HEADER, Credentials, SESSION_COOKIE, authenticate, cleared_cookie,
    csrf_matches, session_cookie, session_token,
};
pub use client::{client_address, client_origin, client_used_tls};
pub use config::HttpConfig;
pub use metrics::{Metrics, may_scrape};
pub use problem::{ApiError, PROBLEM_JSON, Problem, chain, classify};
pub use request_log::with_request_log;

/// What every handler gets: the use cases, the adapters' settings and the
/// node's background workers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases (cheap to clone: `Arc`s inside).
    pub app: Passerelle,
    /// The writes handlers share: applied on the internal node, queued on
    /// an edge. The node's composition chooses, so no handler asks which
    /// node it runs on (ADR 0005 §3).
    pub writes: Arc<dyn DocumentWrites>,
    /// Search over the node's index, with the caller's rights.
    pub search: Search,
    pub config: HttpConfig,
    /// The node's workers, as `/readyz` lists them.
    pub workers: Board,
    /// The node's metrics, recorded by the request log's layer and shown
    /// at `/metrics`.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// A state with no worker (tests, tools); a node adds its own with
    /// [`AppState::with_workers`].
    pub fn new(
        app: Passerelle,
        writes: Arc<dyn DocumentWrites>,
        search: Search,
        config: HttpConfig,
    ) -> Self {
        Self {
            app,
            writes,
            search,
            config,
            workers: Board::default(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The same state, showing these workers.
    #[must_use]
    pub fn with_workers(mut self, workers: Board) -> Self {
        self.workers = workers;
        self
    }
}
