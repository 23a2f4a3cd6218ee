//! The search index port (ADR 0006 §1): what core needs from an engine.
//!
//! The index is derived data: every entry is built by core's indexer from
//! the repository and the blobs, and the whole index can be deleted and
//! rebuilt. Core computes the rights ([`Scope`]) and resolves the query
//! ([`Find`]); the engine ANDs the scope into the query it runs, so that a
//! hit outside the scope is never counted, ranked or returned (never a
//! filter after the top k).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::find::Find;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};

/// A metadata value as the index holds it, typed by the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    /// Text and enumerated fields (and booleans, as `oui`/`non`): analysed.
    Text(String),
    /// Integers and decimals: ranges. Decimals are exact strings in the
    /// repository; a float is close enough to rank and filter amounts.
    Number(f64),
    Date(Date),
}

/// One document as the index holds it: what is searched, filtered, sorted
/// and faceted on. Built by core's indexer from the current rows.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedDocument {
    pub id: DocumentId,
    pub space: SpaceId,
    pub space_name: String,
    /// The folder it sits in, `None` at the space's root.
    pub folder: Option<FolderId>,
    /// Every folder from the root down to `folder`, for subtree filters.
    pub folder_ancestry: Vec<FolderId>,
    /// The folders' names from the root, joined by ` / ` (empty at the root).
    pub folder_path: String,
    pub name: String,
    /// Type key, if typed.
    pub doc_type: Option<String>,
    pub metadata: Vec<(String, MetaValue)>,
    /// The current version's author.
    pub author: PrincipalId,
    /// The author's display name and login, for words.
    pub author_name: String,
    /// When the current version was made.
    pub modified: OffsetDateTime,
    pub comment: String,
    pub media_type: String,
    pub size: u64,
    /// The current version's content.
    pub hash: ContentHash,
    /// The text extracted from the content (capped), empty when none.
    pub text: String,
    /// In the trash (found only by a trash search).
    pub trashed: bool,
}

/// A change to the index.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexChange {
    /// Adds the document, or replaces its entry.
    Upsert(Box<IndexedDocument>),
    /// Removes the document's entry (absent: nothing to do).
    Delete(DocumentId),
}

/// The spaces a search covers: those the caller may read, computed by
/// core's use case. Mandatory: the port has no search without one.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scope {
    spaces: BTreeSet<SpaceId>,
    trash: bool,
}

impl Scope {
    /// Live documents of `spaces`.
    pub fn spaces(spaces: impl IntoIterator<Item = SpaceId>) -> Self {
        Self {
            spaces: spaces.into_iter().collect(),
            trash: false,
        }
    }

    /// Trashed documents of `spaces` (a manager's trash search), and only
    /// those.
    pub fn trash(spaces: impl IntoIterator<Item = SpaceId>) -> Self {
        Self {
            spaces: spaces.into_iter().collect(),
            trash: true,
        }
    }

    pub fn space_ids(&self) -> &BTreeSet<SpaceId> {
        &self.spaces
    }

    /// Whether the search is of the trash rather than of live documents.
    pub fn is_trash(&self) -> bool {
        self.trash
    }

    pub fn is_empty(&self) -> bool {
        self.spaces.is_empty()
    }
}

/// How hits are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first (ties: newest first).
    #[default]
    Relevance,
    /// Newest current version first.
    Modified,
    /// By name, A to Z (case and accents ignored).
    Name,
}

/// What a search asks of the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchRequest {
    pub find: Find,
    pub scope: Scope,
    pub sort: Sort,
    /// Hits skipped (at most [`MAX_OFFSET`]).
    pub offset: usize,
    /// Hits returned (1 to [`MAX_LIMIT`]).
    pub limit: usize,
}

/// Deepest page a search reaches, as search engines bound it: past it,
/// refine the query.
pub const MAX_OFFSET: usize = 10_000;
/// Most hits in one page.
pub const MAX_LIMIT: usize = 100;

/// A passage of the text that matched: `text` with `highlights`, byte
/// ranges of `text` on character boundaries, sorted and disjoint. Plain
/// text: whoever renders it escapes it ([`Snippet::to_html`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// The passage as HTML: every character escaped, each highlight in a
    /// `<mark>`. Highlights out of range or off a character boundary are
    /// ignored rather than trusted.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut at = 0;
        for h in &self.highlights {
            let valid = h.start >= at
                && h.start < h.end
                && h.end <= self.text.len()
                && self.text.is_char_boundary(h.start)
                && self.text.is_char_boundary(h.end);
            if !valid {
                continue;
            }
            escape_into(&mut out, &self.text[at..h.start]);
            out.push_str("<mark>");
            escape_into(&mut out, &self.text[h.start..h.end]);
            out.push_str("</mark>");
            at = h.end;
        }
        escape_into(&mut out, &self.text[at..]);
        out
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// One document found.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub document: DocumentId,
    pub space: SpaceId,
    pub score: f32,
    /// From the content, else the comment or the name; empty when nothing
    /// textual matched (a search by filters only).
    pub snippet: Snippet,
}

/// Counts of the hits (all of them, not only the page) by value.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Facets {
    /// By type key; untyped documents are not counted.
    pub types: BTreeMap<String, u64>,
    pub spaces: BTreeMap<SpaceId, u64>,
    pub authors: BTreeMap<PrincipalId, u64>,
    /// By the year of the current version.
    pub years: BTreeMap<i32, u64>,
}

/// A page of hits.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SearchResults {
    /// Every hit in scope (exact).
    pub total: u64,
    pub hits: Vec<SearchHit>,
    pub facets: Facets,
}

/// Failures of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The index is being built from scratch and cannot answer yet.
    #[error("the search index is being rebuilt")]
    Rebuilding,
    #[error("search index failure")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The search index. Writes are made by one indexer at a time.
#[async_trait]
pub trait SearchIndex: Send + Sync + fmt::Debug {
    /// Stages upserts and deletions by document id, idempotent: applying
    /// the same change twice leaves one entry. Invisible until
    /// [`SearchIndex::commit`].
    async fn apply(&self, changes: Vec<IndexChange>) -> Result<(), IndexError>;

    /// Makes the staged changes visible, and records `cursors` (each
    /// space's revision indexed through) atomically with them: after a
    /// crash the index and its cursors agree. Cursors not named keep their
    /// value.
    async fn commit(&self, cursors: &[(SpaceId, Revision)]) -> Result<(), IndexError>;

    /// Each space's revision indexed through (spaces never indexed are
    /// absent).
    async fn cursors(&self) -> Result<BTreeMap<SpaceId, Revision>, IndexError>;

    /// Removes every entry of `space` and its cursor, committed.
    async fn drop_space(&self, space: SpaceId) -> Result<(), IndexError>;

    /// The text the index keeps for content `hash` (extracted earlier for
    /// any document holding it), so that re-indexing a document whose
    /// content did not change extracts nothing. Committed entries only.
    async fn stored_text(&self, hash: &ContentHash) -> Result<Option<String>, IndexError>;

    /// Runs a search. Hits outside `request.scope` are never counted nor
    /// returned; an empty scope finds nothing.
    async fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError>;

    /// The documents of `space` whose entry names `author` as the author of
    /// their current version, trashed or not, in no particular order.
    /// Committed entries only. The change feed tells that a principal
    /// changed, not which documents carry their name: the index knows.
    async fn authored_by(
        &self,
        space: SpaceId,
        author: PrincipalId,
    ) -> Result<Vec<DocumentId>, IndexError>;
}
