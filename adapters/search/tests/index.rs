//! The tantivy index behind core's search port, on real tantivy: what words
//! find, that rights hold for every query, writes and cursors, and what a
//! page of results holds.

mod index {
    pub mod support;

    mod results;
    mod rights;
    mod words;
    mod writes;
}
