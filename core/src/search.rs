//! Search (ADR 0006): what a search asks for, parsed and resolved in core so
//! that every engine behind the [`SearchIndex`] port gets the same tree and
//! the same rights, and so that no input, however malformed, reaches an
//! engine as a syntax error.
//!
//! - [`query`]: the lenient parser from what a user types to a [`Query`].
//! - [`find`]: the query resolved against the catalogue ([`Find`]).
//! - [`port`]: the [`SearchIndex`] port, its [`Scope`] and results.
//! - [`extract`]: the [`TextExtractor`] port and extraction statuses.

pub mod extract;
pub mod find;
pub mod port;
pub mod query;
pub mod resolve;

pub use extract::{
    ExtractInput, Extraction, ExtractionLog, ExtractionRecord, ExtractionStatus, TextExtractor,
};
pub use find::{DateField, Exact, Find, Within};
pub use port::{
    Facets, IndexChange, IndexError, IndexedDocument, MAX_LIMIT, MAX_OFFSET, MetaValue, Scope,
    SearchHit, SearchIndex, SearchRequest, SearchResults, Snippet, Sort,
};
pub use query::{Bound, Field, Query, parse};
pub use resolve::resolve;
