//! Snippets: the passage of a hit's text where the searched words are,
//! with their byte ranges, as plain text (core escapes it when it renders
//! it). Taken from the content, else the comment, else the name.

use std::collections::BTreeMap;

use passerelle_core::search::{Find, Snippet, Within};
use tantivy::schema::{Field, Value};
use tantivy::snippet::{SnippetGenerator, collapse_overlapped_ranges};
use tantivy::{Score, Searcher, TantivyDocument};

use crate::analyzer;
use crate::query::MAX_PREFIX_TERMS;
use crate::schema::Fields;

/// Longest passage, in bytes of the text.
const MAX_SNIPPET_BYTES: usize = 200;

/// Makes the snippets of one search: the analysed words it looks for,
/// computed once, matched against each hit's stored text.
pub(crate) struct Snippets {
    terms: BTreeMap<String, Score>,
    sources: [Field; 3],
}

impl Snippets {
    /// The words of `find` (outside its exclusions) that can show in the
    /// content, comment or name; prefixes expanded over the terms the
    /// index holds.
    pub(crate) fn new(find: &Find, searcher: &Searcher, fields: &Fields) -> Self {
        let sources = [fields.text, fields.comment, fields.name];
        let mut terms = BTreeMap::new();
        let mut prefixes = Vec::new();
        collect(find, &mut terms, &mut prefixes);
        for prefix in prefixes {
            for term in expand(searcher, &sources, &prefix) {
                terms.insert(term, 1.0);
            }
        }
        Self { terms, sources }
    }

    /// The snippet of `doc` (a stored document), empty when no searched
    /// word shows in any of its texts.
    pub(crate) fn of(&self, doc: &TantivyDocument) -> Snippet {
        if self.terms.is_empty() {
            return Snippet::default();
        }
        for field in self.sources {
            let Some(text) = doc.get_first(field).and_then(|v| v.as_str()) else {
                continue;
            };
            let generator = SnippetGenerator::new(
                self.terms.clone(),
                analyzer::french(),
                field,
                MAX_SNIPPET_BYTES,
            );
            let found = generator.snippet(text);
            if !found.highlighted().is_empty() {
                return Snippet {
                    text: found.fragment().to_owned(),
                    highlights: collapse_overlapped_ranges(found.highlighted()),
                };
            }
        }
        Snippet::default()
    }
}

/// Whether words searched within `within` can show in a snippet's sources.
fn shows(within: &Within) -> bool {
    matches!(
        within,
        Within::Anywhere | Within::Content | Within::Comment | Within::Name
    )
}

fn collect(find: &Find, terms: &mut BTreeMap<String, Score>, prefixes: &mut Vec<String>) {
    match find {
        Find::Word { within, text } if shows(within) => add_words(text, terms),
        Find::Phrase { within, words } if shows(within) => add_words(&words.join(" "), terms),
        Find::Prefix { within, text } if shows(within) => {
            let mut analyzer = analyzer::prefix();
            let mut stream = analyzer.token_stream(text);
            let mut last = None;
            while stream.advance() {
                last = Some(stream.token().text.clone());
            }
            if let Some(last) = last {
                add_words(text, terms);
                // The stem of the prefix as well: the fields hold stems.
                let mut french = analyzer::french();
                let mut stem = french.token_stream(&last);
                let stemmed = stem.advance().then(|| stem.token().text.clone());
                drop(stem);
                prefixes.extend(stemmed);
                prefixes.push(last);
            }
        }
        Find::And(parts) | Find::Or(parts) => {
            for part in parts {
                collect(part, terms, prefixes);
            }
        }
        // Excluded words are not in the hits; the rest has no words.
        _ => {}
    }
}

fn add_words(text: &str, terms: &mut BTreeMap<String, Score>) {
    let mut analyzer = analyzer::french();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        terms.insert(stream.token().text.clone(), 1.0);
    }
}

/// The terms of `fields` starting with `prefix`, at most
/// [`MAX_PREFIX_TERMS`] per segment and field.
fn expand(searcher: &Searcher, fields: &[Field], prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let upper = prefix_end(prefix.as_bytes());
    for segment in searcher.segment_readers() {
        for field in fields {
            let Ok(inverted) = segment.inverted_index(*field) else {
                continue;
            };
            let mut range = inverted.terms().range().ge(prefix.as_bytes());
            if let Some(upper) = &upper {
                range = range.lt(upper);
            }
            let Ok(mut stream) = range.into_stream() else {
                continue;
            };
            let mut taken = 0;
            while taken < MAX_PREFIX_TERMS && stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    out.push(term.to_owned());
                }
                taken += 1;
            }
        }
    }
    out
}

/// The smallest byte string greater than every string starting with
/// `prefix` (`None` when there is none: all bytes are 0xFF).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
