//! A wrapper that shields tantivy 0.27's scorers from `seek_danger`, which
//! several of them get wrong when asked out of their expected order:
//!
//! - a phrase whose words are in a segment but never in its order starts
//!   out terminated, and `Exclude` still asks it `seek_danger(0)`: a debug
//!   assertion, and in release a seek on a finished intersection (pinned
//!   by `not_and_or_combine` in `tests/index/words.rs`);
//! - a fast-field range under an excluded intersection is seeked below its
//!   last seek and underflows (found by the random query test in
//!   `tests/index/rights.rs` at a few thousand rounds).
//!
//! Guarded, a scorer is only ever advanced or seeked forward: a seek at or
//! behind its position answers from that position. Used on every phrase
//! and every exclusion; the cost is the point lookups `seek_danger` saves.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::Term;
use tantivy::{DocId, DocSet, Score, SegmentReader};

/// `query`, its scorer never seeked backwards.
#[derive(Debug)]
pub(crate) struct Guarded(pub(crate) Box<dyn Query>);

impl Clone for Guarded {
    fn clone(&self) -> Self {
        Guarded(self.0.box_clone())
    }
}

impl Query for Guarded {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(GuardedWeight(self.0.weight(enable_scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct GuardedWeight(Box<dyn Weight>);

impl Weight for GuardedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(GuardedScorer(self.0.scorer(reader, boost)?)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

struct GuardedScorer(Box<dyn Scorer>);

impl DocSet for GuardedScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let doc = self.0.doc();
        if doc >= target {
            doc
        } else {
            self.0.seek(target)
        }
    }

    // `seek_danger` is left to `DocSet`'s default, which goes through
    // `seek` above.

    fn doc(&self) -> DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }
}

impl Scorer for GuardedScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}
