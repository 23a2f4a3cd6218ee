//! # passerelle-search
//!
//! Full-text search on tantivy (ADR 0006), a driven adapter: the index
//! behind core's [`SearchIndex`](passerelle_core::search::SearchIndex)
//! port. It depends on core and tantivy only; only the crates that search
//! link it, because tantivy is the heaviest dependency of the workspace.
//!
//! Modules:
//! - [`analyzer`]: the French analysis of names, metadata and content.
//! - `schema`: the fields, and core's document as a tantivy document.
//! - `index`: [`TantivyIndex`], its writer, commits and cursors.
//! - `query`: core's resolved query (`Find`) as a tantivy query.
//! - `search`: scope, sort, paging, total and facets of one search.
//! - `facets`: the facet counts collector.
//! - `snippet`: the passages shown under each hit.
//! - `guard`: shields tantivy's phrase scorer from backward seeks.

pub mod analyzer;
mod facets;
mod guard;
mod index;
mod query;
mod schema;
mod search;
mod snippet;

pub use index::{Opened, TantivyIndex};
pub use schema::SCHEMA_VERSION;
