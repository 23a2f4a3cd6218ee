//! Search with rights (ADR 0006 §1), shared by both node roles: the caller's
//! text is parsed and resolved against the catalogue, the filters are
//! ANDed to it, and the [`Scope`] of the spaces the caller may read is
//! computed here, in core, and handed to the index, which cannot search
//! without one. Hits are read back from the repository, so a page shows
//! what the documents are now, and a hit the index has not caught up with
//! (trashed or purged a moment ago) is left out.

use std::collections::HashMap;
use std::sync::Arc;

use time::Date;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::model::{Document, Folder, Page, Paged, PrincipalKind, Space, Version, Visibility};
use crate::ports::Tx;
use crate::role::{Action, Role};
use crate::search::{
    DateField, Exact, ExtractionLog, ExtractionRecord, ExtractionStatus, Facets, Field, Find,
    IndexError, MAX_LIMIT, MAX_OFFSET, Query, Scope, SearchIndex, SearchRequest, Snippet, Sort,
    parse, resolve,
};

use super::{Actor, Passerelle};

/// Narrowing a search beyond its text, as the API's query parameters and
/// the results page's facets give them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchFilters {
    pub space: Option<SpaceId>,
    /// A type key.
    pub doc_type: Option<String>,
    pub author: Option<PrincipalId>,
    /// This folder and the folders below it.
    pub folder: Option<FolderId>,
    /// Changed on or after this day.
    pub modified_after: Option<Date>,
    /// Changed on or before this day.
    pub modified_before: Option<Date>,
    /// `(key, value)`: the value as in a field query (`BTP Rhône`,
    /// `[10000 TO 20000]`, `>=2026-01-01`).
    pub meta: Vec<(String, String)>,
}

/// A search as asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchAsk {
    pub text: String,
    /// A query a client built already (CMIS-QL's `WHERE`): searched
    /// instead of `text`, resolved against the catalogue the same way, so
    /// a structured query and a typed one find the same documents.
    pub query: Option<Query>,
    pub filters: SearchFilters,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// Search the trash instead of live documents (managers of a space
    /// only: other spaces are left out of the scope).
    pub trash: bool,
}

/// One document found, as it is now.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub document: Document,
    pub space: Space,
    /// The folders from the root down to the document's.
    pub folders: Vec<Folder>,
    pub version: Version,
    /// The current version's author's display name.
    pub author_name: String,
    pub score: f32,
    pub snippet: Snippet,
    /// What extraction made of the current content, if it was tried.
    pub extraction: Option<ExtractionStatus>,
}

/// One value of a facet: what filtering by it would find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facet {
    /// As a filter takes it: a type key, a space or principal id, a year.
    pub value: String,
    /// As people read it: a type's label, a space's title, a name.
    pub label: String,
    pub count: u64,
}

/// Facets of all the hits (not only the page), most frequent first, at
/// most [`FACET_VALUES`] values each.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FacetsView {
    pub types: Vec<Facet>,
    pub spaces: Vec<Facet>,
    pub authors: Vec<Facet>,
    /// Newest year first.
    pub years: Vec<Facet>,
}

/// Values kept per facet.
pub const FACET_VALUES: usize = 20;

/// A page of results.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SearchPage {
    /// Every hit in scope, as the index counted it.
    pub total: u64,
    pub hits: Vec<Found>,
    pub facets: FacetsView,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

/// A content whose extraction did not give text, and the documents that
/// hold it, as administrators review them.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtractionProblem {
    pub record: ExtractionRecord,
    /// `(document id, space id, name)` of the documents holding it.
    pub documents: Vec<(DocumentId, SpaceId, String)>,
}

/// How far the index is behind one space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexLag {
    pub space: SpaceId,
    /// Rows of the space's change feed not indexed yet.
    pub rows: u64,
    pub indexed_through: crate::ids::Revision,
}

/// What the metrics show of search, read at each scrape.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SearchGauges {
    pub lags: Vec<IndexLag>,
    /// Contents by extraction status.
    pub extractions: Vec<(ExtractionStatus, u64)>,
}

/// Search and extraction statuses over a node's index.
#[derive(Clone, Debug)]
pub struct Search {
    app: Passerelle,
    index: Arc<dyn SearchIndex>,
    log: Arc<dyn ExtractionLog>,
}

impl From<IndexError> for CoreError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Rebuilding => CoreError::conflict(
                "index_rebuilding",
                "the search index is being rebuilt: try again in a moment",
            ),
            other => CoreError::Internal(Box::new(other)),
        }
    }
}

impl Search {
    pub fn new(app: &Passerelle, index: Arc<dyn SearchIndex>, log: Arc<dyn ExtractionLog>) -> Self {
        Self {
            app: app.clone(),
            index,
            log,
        }
    }

    /// Runs a search as `actor`: only the spaces they may read (on an edge,
    /// the shared spaces held there) are in scope; a space filter outside
    /// them finds nothing, as a space that does not exist.
    pub async fn search(&self, actor: &Actor, ask: SearchAsk) -> Result<SearchPage, CoreError> {
        let mut tx = self.app.read().await?;
        let readable = readable_spaces(&mut tx, actor, self.app.now()).await?;
        let in_scope = readable
            .iter()
            .filter(|(_, role)| !ask.trash || role.allows(Action::Manage))
            .map(|(space, _)| space.id)
            .filter(|id| ask.filters.space.is_none_or(|wanted| wanted == *id));
        let scope = if ask.trash {
            Scope::trash(in_scope)
        } else {
            Scope::spaces(in_scope)
        };
        if scope.is_empty() {
            return Ok(SearchPage::default());
        }
        let types = tx.list_document_types().await?;
        let query = match &ask.query {
            Some(q) => q.clone(),
            None => parse(&ask.text),
        };
        let find = with_filters(resolve(&query, &types), &ask.filters, &types);
        let request = SearchRequest {
            find,
            scope,
            sort: ask.sort,
            offset: ask.offset.min(MAX_OFFSET),
            limit: ask.limit.clamp(1, MAX_LIMIT),
        };
        // The read transaction is not held across the engine's search.
        drop(tx);
        let results = self.index.search(&request).await?;
        let mut tx = self.app.read().await?;
        let mut hits = Vec::with_capacity(results.hits.len());
        let mut spaces: HashMap<SpaceId, Space> =
            readable.into_iter().map(|(s, _)| (s.id, s)).collect();
        for hit in results.hits {
            if let Some(found) = self
                .found(&mut tx, &mut spaces, &request.scope, hit)
                .await?
            {
                hits.push(found);
            }
        }
        let facets = facets_view(&mut tx, results.facets, &types, &spaces).await?;
        let shown = request.offset + request.limit;
        Ok(SearchPage {
            total: results.total,
            next_offset: (u64::try_from(shown).unwrap_or(u64::MAX) < results.total
                && shown <= MAX_OFFSET)
                .then_some(shown),
            hits,
            facets,
        })
    }

    /// A hit as the document is now, or `None` when the index is behind
    /// (the document left the scope, was trashed, restored or purged).
    async fn found(
        &self,
        tx: &mut Box<dyn Tx>,
        spaces: &mut HashMap<SpaceId, Space>,
        scope: &Scope,
        hit: crate::search::SearchHit,
    ) -> Result<Option<Found>, CoreError> {
        let Some(document) = tx.document(hit.document).await? else {
            return Ok(None);
        };
        let still = scope.space_ids().contains(&document.space)
            && !document.purged
            && document.trashed.is_some() == scope.is_trash();
        let Some(space) = spaces.get(&document.space).cloned().filter(|_| still) else {
            return Ok(None);
        };
        let versions = tx.list_versions(document.id).await?;
        let Some(version) = versions
            .into_iter()
            .find(|v| v.number == document.current_version)
        else {
            return Ok(None);
        };
        let folders = folder_chain(tx, document.folder).await?;
        let author_name = match tx.principal(version.author).await? {
            Some(p) => p.display_name,
            None => String::new(),
        };
        let extraction = self.log.extraction(&version.hash).await?.map(|r| r.status);
        Ok(Some(Found {
            document,
            space,
            folders,
            version,
            author_name,
            score: hit.score,
            snippet: hit.snippet,
            extraction,
        }))
    }

    /// What extraction made of a document's current content, for whoever
    /// may read the document (not found otherwise, as an absent one).
    pub async fn extraction_of(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Option<ExtractionRecord>, CoreError> {
        let view = self.app.get_document(actor, id).await?;
        let hash = view.version.hash;
        Ok(self.log.extraction(&hash).await?)
    }

    /// Contents whose extraction gave no text for a reason other than the
    /// file's own (failures, time-outs, limits, encryption, formats not
    /// read), with the documents holding them: administrators only.
    pub async fn extraction_problems(
        &self,
        actor: &Actor,
        page: Page,
    ) -> Result<Paged<ExtractionProblem>, CoreError> {
        if !actor.is_admin() {
            return Err(CoreError::Forbidden("only an administrator may do this"));
        }
        let records = self.log.problems(page).await?;
        let mut tx = self.app.read().await?;
        let mut items = Vec::with_capacity(records.items.len());
        for record in records.items {
            let mut documents = Vec::new();
            for id in self.log.holders(&record.hash).await? {
                if let Some(d) = tx.document(id).await? {
                    documents.push((d.id, d.space, d.name.as_str().to_owned()));
                }
            }
            items.push(ExtractionProblem { record, documents });
        }
        Ok(Paged {
            items,
            total: records.total,
        })
    }

    /// How far the index is behind each space the node holds (counted,
    /// not loaded), and the contents by extraction status.
    pub async fn gauges(&self) -> Result<SearchGauges, CoreError> {
        let cursors = self.index.cursors().await?;
        let mut tx = self.app.read().await?;
        let mut lags = Vec::new();
        for space in all_spaces(&mut tx).await? {
            let through = cursors
                .get(&space.id)
                .copied()
                .unwrap_or(crate::ids::Revision(0));
            let backlog = tx.feed_backlog(space.id, through).await?;
            lags.push(IndexLag {
                space: space.id,
                rows: backlog.rows,
                indexed_through: through,
            });
        }
        Ok(SearchGauges {
            lags,
            extractions: self.log.count_by_status().await?,
        })
    }

    /// Asks for a content's extraction to be tried again at the indexer's
    /// next run, whatever its status and attempts: administrators only.
    pub async fn retry_extraction(
        &self,
        actor: &Actor,
        hash: &crate::ContentHash,
    ) -> Result<(), CoreError> {
        if !actor.is_admin() {
            return Err(CoreError::Forbidden("only an administrator may do this"));
        }
        let Some(mut record) = self.log.extraction(hash).await? else {
            return Err(CoreError::NotFound("extraction"));
        };
        record.next_try = Some(self.app.now());
        Ok(self.log.record(&record).await?)
    }
}

/// The facets with their labels, most frequent first.
async fn facets_view(
    tx: &mut Box<dyn Tx>,
    f: Facets,
    types: &[crate::doctype::DocumentType],
    spaces: &HashMap<SpaceId, Space>,
) -> Result<FacetsView, CoreError> {
    fn top<K>(counts: impl IntoIterator<Item = (K, u64)>) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = counts.into_iter().collect();
        // Stable: equal counts keep the map's order (by key).
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v.truncate(FACET_VALUES);
        v
    }
    let type_label = |key: &str| {
        types
            .iter()
            .find(|t| t.key == key)
            .map_or_else(|| key.to_owned(), |t| t.label.clone())
    };
    let mut authors = Vec::new();
    for (id, count) in top(f.authors) {
        let label = match tx.principal(id).await? {
            Some(p) => p.display_name,
            None => id.to_string(),
        };
        authors.push(Facet {
            value: id.to_string(),
            label,
            count,
        });
    }
    let mut years: Vec<Facet> = f
        .years
        .into_iter()
        .rev()
        .take(FACET_VALUES)
        .map(|(y, count)| Facet {
            value: y.to_string(),
            label: y.to_string(),
            count,
        })
        .collect();
    years.sort_by(|a, b| b.value.cmp(&a.value));
    Ok(FacetsView {
        types: top(f.types)
            .into_iter()
            .map(|(k, count)| Facet {
                label: type_label(&k),
                value: k,
                count,
            })
            .collect(),
        spaces: top(f.spaces)
            .into_iter()
            .map(|(id, count)| Facet {
                value: id.to_string(),
                label: spaces
                    .get(&id)
                    .map_or_else(|| id.to_string(), |s| s.title.clone()),
                count,
            })
            .collect(),
        authors,
        years,
    })
}

/// The spaces `actor` may read `now`, with the role they hold there: the
/// rules of [`Passerelle::access`], for every space at once.
pub(crate) async fn readable_spaces(
    tx: &mut Box<dyn Tx>,
    actor: &Actor,
    now: time::OffsetDateTime,
) -> Result<Vec<(Space, Role)>, CoreError> {
    let all = all_spaces(tx).await?;
    let principal = match actor {
        Actor::System => None,
        Actor::Principal(p) if p.is_admin => None,
        Actor::Principal(p) => Some(p),
    };
    let Some(p) = principal else {
        return Ok(all.into_iter().map(|s| (s, Role::Manager)).collect());
    };
    let mut roles = HashMap::new();
    let mut offset = 0;
    loop {
        let page = tx
            .list_spaces_of(
                p.id,
                now,
                Page {
                    offset,
                    limit: Page::MAX_LIMIT,
                },
            )
            .await?;
        let n = page.items.len() as u64;
        for s in page.items {
            roles.insert(s.space.id, s.role);
        }
        offset += n;
        if n == 0 || offset >= page.total {
            break;
        }
    }
    let contractor = p.kind == PrincipalKind::Contractor;
    Ok(all
        .into_iter()
        .filter_map(|s| {
            let role = match roles.get(&s.id) {
                // A contractor never manages (ADR 0002, invariant 1).
                Some(r) if contractor => Some((*r).min(Role::Collaborator)),
                Some(r) => Some(*r),
                None if s.visibility == Visibility::Public && !contractor => Some(Role::Reader),
                None => None,
            };
            role.filter(|r| r.allows(Action::Read)).map(|r| (s, r))
        })
        .collect())
}

/// Every space the node holds.
pub(crate) async fn all_spaces(tx: &mut Box<dyn Tx>) -> Result<Vec<Space>, CoreError> {
    let mut out = Vec::new();
    loop {
        let page = tx
            .list_spaces(Page {
                offset: out.len() as u64,
                limit: Page::MAX_LIMIT,
            })
            .await?;
        let n = page.items.len();
        out.extend(page.items);
        if n == 0 || out.len() as u64 >= page.total {
            return Ok(out);
        }
    }
}

/// The folders from the root down to `folder`. A cycle or a missing
/// parent (a corrupt tree) ends the walk rather than looping.
pub(crate) async fn folder_chain(
    tx: &mut Box<dyn Tx>,
    folder: Option<FolderId>,
) -> Result<Vec<Folder>, CoreError> {
    let mut chain: Vec<Folder> = Vec::new();
    let mut next = folder;
    while let Some(id) = next {
        if chain.iter().any(|f| f.id == id) || chain.len() > 64 {
            break;
        }
        let Some(f) = tx.folder(id).await? else { break };
        next = f.parent;
        chain.push(f);
    }
    chain.reverse();
    Ok(chain)
}

/// The filters ANDed to what the text finds.
fn with_filters(find: Find, f: &SearchFilters, types: &[crate::doctype::DocumentType]) -> Find {
    let mut all = vec![find];
    if let Some(t) = &f.doc_type {
        all.push(Find::Is(Exact::Type(t.clone())));
    }
    if let Some(a) = f.author {
        all.push(Find::Is(Exact::Author(a)));
    }
    if let Some(folder) = f.folder {
        all.push(Find::Is(Exact::Folder(folder)));
    }
    if f.modified_after.is_some() || f.modified_before.is_some() {
        let bound =
            |d: Option<Date>| d.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included);
        all.push(Find::Dates {
            field: DateField::Modified,
            lower: bound(f.modified_after),
            upper: bound(f.modified_before),
        });
    }
    for (key, value) in &f.meta {
        all.push(meta_filter(key, value, types));
    }
    if all.len() == 1 {
        all.pop().unwrap_or(Find::All)
    } else {
        Find::And(all)
    }
}

/// `meta.<key>=<value>`: the value read as a field query of that key. A
/// value that is not a range is one phrase, so that its own words cannot
/// turn into operators; a key that is not a field name matches nothing.
fn meta_filter(key: &str, value: &str, types: &[crate::doctype::DocumentType]) -> Find {
    let Some(field) = Field::parse(key) else {
        return Find::Nothing;
    };
    let v = value.trim();
    let query = if v.starts_with(['[', '{', '<', '>']) {
        parse(&format!("{}:{v}", field.as_str()))
    } else {
        Query::Phrase {
            field: Some(field),
            words: v.split_whitespace().map(str::to_owned).collect(),
        }
    };
    match query {
        Query::Phrase { ref words, .. } if words.is_empty() => Find::Nothing,
        q => resolve(&q, types),
    }
}
