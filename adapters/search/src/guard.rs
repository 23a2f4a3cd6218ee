//! A wrapper around phrase queries that shields tantivy 0.27's phrase
//! scorer from seeks behind its position.
//!
//! A phrase that matches nothing in a segment starts out terminated; when
//! it is excluded (`-"a b"`) or intersected, tantivy's `Exclude` still asks
//! it to `seek_danger(0)`, which its scorer rejects (a debug assertion, and
//! in release a seek on a finished intersection). Found by the random
//! query test in `tests/index/rights.rs`. The wrapper answers such seeks
//! from its current position and forwards the others.

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
