//! # passerelle-cmis
//!
//! A driving adapter: the CMIS 1.1 Browser binding (ADR 0008 §6) on the
//! internal node, at `/cmis/browser`, for business applications and
//! middleware that speak CMIS (Alfresco's integration surface). One
//! repository, `passerelle`, whose root folder holds the spaces the caller
//! may read; below, folders and documents. Every selector and action is a
//! call to core's use cases as the authenticated caller (rights, name
//! rules, locks, the audit log are core's); this crate translates ids,
//! properties and errors. Queries (CMIS-QL) compile to core's search, so
//! the index applies the caller's rights as for the API's search.
//!
//! It depends on core and on `passerelle-http-common` (Basic
//! authentication, forms, downloads), never on another adapter.
//!
//! Modules:
//! - `ids`: object ids (`root`, `s-…`, `f-…`, `d-…`, `d-…;3`, `d-…;pwc`).
//! - `error`: CMIS exceptions and the one mapping from `CoreError`.
//! - `auth`: Basic (app passwords) or a bearer API token.
//! - `props`: base property definitions and both JSON forms.
//! - `types`: `cmis:document`, `cmis:folder` and the catalogue's subtypes.
//! - `objects`: objects and their allowable actions.
//! - `ctx`: what one request carries (caller, parameters, URLs), extracted
//!   once for every handler.
//! - `repository`: the service document and the repository's info.
//! - `reads`: gathering objects, children, parents and versions.
//! - `selectors`: the `GET` selectors, one function each.
//! - `form`: an action's form (properties, content streamed last).
//! - `actions`: the `POST` actions, one function each (`edits`: posted
//!   properties; `checkout`: check-out and check-in).
//! - `query`: the CMIS-QL subset, parsed and compiled to core's search.

mod actions;
mod auth;
mod ctx;
mod error;
mod form;
mod ids;
mod objects;
mod props;
mod query;
mod reads;
mod repository;
mod selectors;
mod types;

use std::net::IpAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use passerelle_core::service::{InternalApp, Locks, Search};

/// Where the binding is served.
pub const BASE: &str = "/cmis/browser";

/// The repository's id, in every URL below [`BASE`].
pub const REPOSITORY_ID: &str = "passerelle";

/// What the binding's handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Cmis {
    app: InternalApp,
    locks: Locks,
    search: Search,
    trusted_proxies: Vec<IpAddr>,
}

impl Cmis {
    /// The internal node's use cases, its lock use cases (check-out) and
    /// its search; `trusted_proxies` as the node's `[http]` settings say.
    pub fn new(app: InternalApp, search: Search, trusted_proxies: Vec<IpAddr>) -> Self {
        let locks = app.locks();
        Self {
            app,
            locks,
            search,
            trusted_proxies,
        }
    }
}

/// The binding's routes: the service document, the repository's URL and
/// its root folder's URL (by id in the parameters, or by path below it).
pub fn router(cmis: Cmis) -> Router {
    Router::new()
        .route(BASE, get(selectors::service_document))
        .route(
            &format!("{BASE}/{{repo}}"),
            get(selectors::repository).post(actions::repository),
        )
        .route(
            &format!("{BASE}/{{repo}}/root"),
            get(selectors::object).post(actions::object),
        )
        .route(
            &format!("{BASE}/{{repo}}/root/{{*path}}"),
            get(selectors::object).post(actions::object),
        )
        // Content is streamed to core, which bounds it (`max_upload_bytes`);
        // the form's text fields are bounded by `form`.
        .layer(DefaultBodyLimit::disable())
        .with_state(cmis)
}
