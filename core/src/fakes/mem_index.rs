//! An in-memory search index for core's tests: it executes a [`Find`]
//! literally (words are lower-cased and stripped of accents, without
//! stemming or stop words) and honours the port's promises that matter to
//! core (the scope ANDed in, trash apart, cursors committed with the
//! entries, idempotent upserts). The real engine is `passerelle-search`.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::hash::ContentHash;
use crate::ids::{DocumentId, PrincipalId, Revision, SpaceId};
use crate::search::{
    DateField, Exact, Facets, Find, IndexChange, IndexError, IndexedDocument, MetaValue, SearchHit,
    SearchIndex, SearchRequest, SearchResults, Sort, Within,
};

#[derive(Debug, Default)]
struct State {
    committed: BTreeMap<DocumentId, IndexedDocument>,
    staged: Vec<IndexChange>,
    cursors: BTreeMap<SpaceId, Revision>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct MemIndex {
    state: Mutex<State>,
}

impl MemIndex {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every committed entry, by id (for tests comparing two indexes).
    pub fn entries(&self) -> Vec<IndexedDocument> {
        self.lock().committed.values().cloned().collect()
    }
}

#[async_trait]
impl SearchIndex for MemIndex {
    async fn apply(&self, changes: Vec<IndexChange>) -> Result<(), IndexError> {
        self.lock().staged.extend(changes);
        Ok(())
    }

    async fn commit(&self, cursors: &[(SpaceId, Revision)]) -> Result<(), IndexError> {
        let mut s = self.lock();
        for change in std::mem::take(&mut s.staged) {
            match change {
                IndexChange::Upsert(d) => {
                    s.committed.insert(d.id, *d);
                }
                IndexChange::Delete(id) => {
                    s.committed.remove(&id);
                }
            }
        }
        s.cursors.extend(cursors.iter().copied());
        Ok(())
    }

    async fn cursors(&self) -> Result<BTreeMap<SpaceId, Revision>, IndexError> {
        Ok(self.lock().cursors.clone())
    }

    async fn drop_space(&self, space: SpaceId) -> Result<(), IndexError> {
        let mut s = self.lock();
        s.committed.retain(|_, d| d.space != space);
        s.cursors.remove(&space);
        Ok(())
    }

    async fn stored_text(&self, hash: &ContentHash) -> Result<Option<String>, IndexError> {
        Ok(self
            .lock()
            .committed
            .values()
            .find(|d| d.hash == *hash)
            .map(|d| d.text.clone()))
    }

    async fn authored_by(
        &self,
        space: SpaceId,
        author: PrincipalId,
    ) -> Result<Vec<DocumentId>, IndexError> {
        Ok(self
            .lock()
            .committed
            .values()
            .filter(|d| d.space == space && d.author == author)
            .map(|d| d.id)
            .collect())
    }

    async fn search(&self, r: &SearchRequest) -> Result<SearchResults, IndexError> {
        let s = self.lock();
        let mut hits: Vec<&IndexedDocument> = s
            .committed
            .values()
            .filter(|d| r.scope.space_ids().contains(&d.space))
            .filter(|d| d.trashed == r.scope.is_trash())
            .filter(|d| matches(&r.find, d))
            .collect();
        match r.sort {
            Sort::Relevance | Sort::Modified => {
                hits.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.id.cmp(&b.id)));
            }
            Sort::Name => hits.sort_by_key(|d| fold(&d.name)),
        }
        let mut facets = Facets::default();
        for d in &hits {
            if let Some(t) = &d.doc_type {
                *facets.types.entry(t.clone()).or_default() += 1;
            }
            *facets.spaces.entry(d.space).or_default() += 1;
            *facets.authors.entry(d.author).or_default() += 1;
            *facets.years.entry(d.modified.year()).or_default() += 1;
        }
        Ok(SearchResults {
            total: hits.len() as u64,
            hits: hits
                .into_iter()
                .skip(r.offset)
                .take(r.limit)
                .map(|d| SearchHit {
                    document: d.id,
                    space: d.space,
                    score: 1.0,
                    snippet: Default::default(),
                })
                .collect(),
            facets,
        })
    }
}

fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn texts<'a>(within: &Within, d: &'a IndexedDocument) -> Vec<&'a str> {
    let meta = |key: Option<&str>| -> Vec<&'a str> {
        d.metadata
            .iter()
            .filter(|(k, _)| key.is_none_or(|key| k == key))
            .filter_map(|(_, v)| match v {
                MetaValue::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    };
    match within {
        Within::Anywhere => {
            let mut all = vec![
                d.name.as_str(),
                d.comment.as_str(),
                d.folder_path.as_str(),
                d.text.as_str(),
            ];
            all.extend(meta(None));
            all
        }
        Within::Name => vec![&d.name],
        Within::Comment => vec![&d.comment],
        Within::Content => vec![&d.text],
        Within::FolderPath => vec![&d.folder_path],
        Within::SpaceName => vec![&d.space_name],
        Within::Author => vec![&d.author_name],
        Within::Meta(key) => meta(Some(key)),
    }
}

fn in_range<T: PartialOrd>(v: &T, lower: &Bound<T>, upper: &Bound<T>) -> bool {
    let above = match lower {
        Bound::Included(l) => v >= l,
        Bound::Excluded(l) => v > l,
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => v <= u,
        Bound::Excluded(u) => v < u,
        Bound::Unbounded => true,
    };
    above && below
}

fn matches(find: &Find, d: &IndexedDocument) -> bool {
    match find {
        Find::All => true,
        Find::Nothing => false,
        Find::Word { within, text } => {
            let wanted = words(text);
            texts(within, d)
                .iter()
                .any(|t| contains_run(&words(t), &wanted))
        }
        Find::Phrase { within, words: w } => {
            let wanted = words(&w.join(" "));
            texts(within, d)
                .iter()
                .any(|t| contains_run(&words(t), &wanted))
        }
        Find::Prefix { within, text } => {
            let p = fold(text);
            texts(within, d)
                .iter()
                .any(|t| words(t).iter().any(|w| w.starts_with(&p)))
        }
        Find::Is(Exact::Type(t)) => d.doc_type.as_deref() == Some(t.as_str()),
        Find::Is(Exact::Space(s)) => d.space == *s,
        Find::Is(Exact::Author(a)) => d.author == *a,
        Find::Is(Exact::Folder(f)) => d.folder_ancestry.contains(f),
        Find::Dates {
            field,
            lower,
            upper,
        } => match field {
            DateField::Modified => in_range(&d.modified.date(), lower, upper),
            DateField::Meta(key) => d.metadata.iter().any(|(k, v)| {
                k == key && matches!(v, MetaValue::Date(day) if in_range(day, lower, upper))
            }),
        },
        Find::Numbers { key, lower, upper } => d.metadata.iter().any(|(k, v)| {
            k == key && matches!(v, MetaValue::Number(n) if in_range(n, lower, upper))
        }),
        Find::And(parts) => parts.iter().all(|p| matches(p, d)),
        Find::Or(parts) => parts.iter().any(|p| matches(p, d)),
        Find::Not(inner) => !matches(inner, d),
    }
}

/// Whether `wanted` appears as consecutive words of `have` (an empty
/// `wanted`, a word that is only punctuation, matches).
fn contains_run(have: &[String], wanted: &[String]) -> bool {
    wanted.is_empty() || have.windows(wanted.len()).any(|w| w == wanted)
}
