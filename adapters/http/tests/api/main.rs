//! End-to-end tests of the REST API: the real router (middleware included)
//! over core's in-memory fakes, driven with `tower::ServiceExt::oneshot`.

mod activity;
mod admin;
mod auth;
mod content;
mod edge;
mod errors;
mod links;
mod locks;
mod metrics;
mod openapi;
mod search;
mod server;
mod sharing;
mod spaces;
mod storage;
mod support;
