//! # passerelle-search
//!
//! Full-text search on tantivy (ADR 0006), a driven adapter: it will hold
//! the index behind core's search port. Only the crates that search link
//! it, because tantivy is the heaviest dependency of the workspace.
//!
//! Modules:
//! - [`analyzer`]: the French analysis of names, metadata and content.

pub mod analyzer;
