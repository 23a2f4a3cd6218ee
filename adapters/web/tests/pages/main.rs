//! The web pages over the real routers (API + pages merged, as the nodes
//! do) and core's in-memory fakes, driven with `tower::ServiceExt::oneshot`
//! and a small cookie jar.

mod account;
mod activity;
mod antivirus;
mod documents;
mod edge;
mod forms;
mod i18n;
mod links;
mod locks;
mod logging;
mod manage;
mod redirects;
mod search;
mod security;
mod support;
mod types;
mod uploads;
mod writes;
