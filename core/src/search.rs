//! Search (ADR 0006): what a search asks for, parsed in core so that every
//! engine behind the coming `SearchIndex` port gets the same tree, and so
//! that no input, however malformed, reaches an engine as a syntax error.
//!
//! - [`query`]: the lenient parser from what a user types to a [`Query`].

pub mod query;

pub use query::{Bound, Field, Query, parse};
