//! # passerelle-http
//!
//! A driving adapter of the hexagon: the REST API `/api/v1` (axum) and its
//! OpenAPI document, over the use cases of `passerelle-core`
//! ([`passerelle_core::Passerelle`]).
//!
//! It depends on core and on `passerelle-http-common` (what it shares with
//! the web pages: [`AppState`], [`HttpConfig`], sessions, CSRF, the one
//! `CoreError` → problem+json mapping, the request log), never on another
//! adapter (sql, blobs, grpc, web). All rules, authorization included, live
//! in core; this crate translates HTTP to use cases, and streams content
//! both ways without buffering it.
//!
//! Modules:
//! - `server`: [`serve`] on a bound listener with graceful shutdown.
//! - `routes`: [`router`] (the internal node), its route table and OpenAPI
//!   document; one submodule per resource (auth, spaces, folders,
//!   documents, content, trash, admin, sharing, health). `routes::edge`:
//!   [`edge_router`] (the edge node: contractors' reads, writes that go to
//!   the outbox, invitation acceptance), with its own table and document.
//! - `extract`: `Json`/`Path`/`Query` extractors with problem+json rejections.
//! - [`dto`] — the JSON shapes of the API.
//! - `middleware`: security headers and JSON timeouts.

pub mod dto;
mod extract;
mod middleware;
mod routes;
mod server;

// The nodes build the state and read `[http]` through this crate, whose
// routers take them: re-exported so that they need not name both crates.
pub use passerelle_http_common::{AppState, HttpConfig};
pub use routes::{
    API_PREFIX, EDGE_ROUTES, METADATA_HEADER, ROUTES, edge_openapi, edge_router, openapi, router,
};
pub use server::serve;
