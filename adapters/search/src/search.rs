//! One search: the user's query ANDed with the scope (spaces and trash),
//! then in a single pass the exact total, the facets over every hit, and
//! the page in the requested order; snippets for the page only.

use passerelle_core::ids::{DocumentId, SpaceId};
use passerelle_core::search::{
    MAX_LIMIT, MAX_OFFSET, Scope, SearchHit, SearchRequest, SearchResults, Sort,
};
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{IndexRecordOption, Term, Value};
use tantivy::{DateTime, DocAddress, Order, Score, Searcher, TantivyDocument};

use crate::facets::FacetCounter;
use crate::index::Inner;
use crate::query::Compiler;
use crate::schema::{Fields, MODIFIED, NAME_SORT};
use crate::snippet::Snippets;

/// A stored entry that does not hold what this adapter writes (an id or
/// space that does not parse): the index is not ours, rebuild it.
#[derive(Debug, thiserror::Error)]
#[error("search index entry without a valid {0}")]
struct CorruptEntry(&'static str);

/// Runs `request` (its scope not empty).
pub(crate) fn run(inner: &Inner, request: &SearchRequest) -> tantivy::Result<SearchResults> {
    let fields = inner.fields;
    let mut compiler = Compiler::new(fields);
    let Some(user) = compiler.compile(&request.find).into_query() else {
        return Ok(SearchResults::default());
    };
    let query = BooleanQuery::new(vec![
        (Occur::Must, in_scope(compiler.fields(), &request.scope)),
        (Occur::Must, user),
    ]);
    let searcher = inner.reader.searcher();
    let offset = request.offset.min(MAX_OFFSET);
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let page = TopDocs::for_doc_range(offset..offset + limit);
    let (total, facets, addresses) = match request.sort {
        Sort::Relevance => {
            let by = (
                (SortBySimilarityScore, Order::Desc),
                (
                    SortByStaticFastValue::<DateTime>::for_field(MODIFIED),
                    Order::Desc,
                ),
            );
            collect(&searcher, &query, page.order_by(by), |(score, _)| score)?
        }
        Sort::Modified => collect(
            &searcher,
            &query,
            page.order_by_fast_field::<DateTime>(MODIFIED, Order::Desc),
            |_| 0.0,
        )?,
        Sort::Name => collect(
            &searcher,
            &query,
            page.order_by_string_fast_field(NAME_SORT, Order::Asc),
            |_| 0.0,
        )?,
    };
    let snippets = Snippets::new(&request.find, &searcher, &fields);
    let hits = addresses
        .into_iter()
        .map(|(score, address)| hit(&searcher, &fields, &snippets, score, address))
        .collect::<tantivy::Result<Vec<_>>>()?;
    Ok(SearchResults {
        total,
        hits,
        facets: facets.into_facets(),
    })
}

type Collected = (u64, crate::facets::RawFacets, Vec<(Score, DocAddress)>);

/// Total, facets and page in one pass; `score` reads the score (if any)
/// out of the page's sort key.
fn collect<C, K>(
    searcher: &Searcher,
    query: &dyn Query,
    page: C,
    score: impl Fn(K) -> Score,
) -> tantivy::Result<Collected>
where
    C: Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (total, facets, top) = searcher.search(query, &(Count, FacetCounter, page))?;
    let top = top.into_iter().map(|(k, a)| (score(k), a)).collect();
    Ok((total as u64, facets, top))
}

/// The scope as a query: one of its spaces, trashed or not as it asks.
/// Scored zero, so that relevance is the user's query alone.
fn in_scope(fields: &Fields, scope: &Scope) -> Box<dyn Query> {
    let spaces = TermSetQuery::new(
        scope
            .space_ids()
            .iter()
            .map(|s| Term::from_field_text(fields.space, &s.to_string())),
    );
    let trashed = TermQuery::new(
        Term::from_field_bool(fields.trashed, scope.is_trash()),
        IndexRecordOption::Basic,
    );
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(spaces) as Box<dyn Query>),
            (Occur::Must, Box::new(trashed)),
        ])),
        0.0,
    ))
}

fn hit(
    searcher: &Searcher,
    fields: &Fields,
    snippets: &Snippets,
    score: Score,
    address: DocAddress,
) -> tantivy::Result<SearchHit> {
    let doc: TantivyDocument = searcher.doc(address)?;
    let id = |field, what| -> tantivy::Result<String> {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| corrupt(what))
    };
    let document: DocumentId = id(fields.id, "id")?.parse().map_err(|_| corrupt("id"))?;
    let space: SpaceId = id(fields.space, "space")?
        .parse()
        .map_err(|_| corrupt("space"))?;
    Ok(SearchHit {
        document,
        space,
        score,
        snippet: snippets.of(&doc),
    })
}

fn corrupt(what: &'static str) -> tantivy::TantivyError {
    tantivy::TantivyError::SystemError(CorruptEntry(what).to_string())
}
