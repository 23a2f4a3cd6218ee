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
//! - `directory`: the index's files on disk, read without mapping them.
//! - `index`: [`TantivyIndex`], its writer, commits and cursors.
//! - `query`: core's resolved query (`Find`) as a tantivy query.
//! - `search`: scope, sort, paging, total and facets of one search.
//! - `facets`: the facet counts collector.
//! - `snippet`: the passages shown under each hit.
//! - `threads`: the index's own threads, where every tantivy call runs.
//! - `guard`: shields tantivy's phrase scorer from backward seeks.
//! - [`reindex`]: the `search reindex` command of both nodes.
//! - [`node_search`]: the index as both nodes' compositions wire it.

pub mod analyzer;
mod directory;
mod facets;
mod guard;
mod index;
mod query;
mod reindex;
mod schema;
mod search;
mod snippet;
mod threads;
mod wiring;

pub use index::{Opened, ResetError, TantivyIndex};
pub use reindex::reindex;
pub use schema::SCHEMA_VERSION;
pub use wiring::node_search;
