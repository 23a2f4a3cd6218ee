//! Relevance of the French search (issue 14): the labelled queries of
//! `tests/relevance/queries.toml`, run through core's parser and resolver
//! and the tantivy index behind the port, over the planted documents and
//! 3,000 generated ones in 80 spaces, must find their expected documents
//! in the first ten hits: recall@10 ≥ 0.9 over the set.

mod corpus;

use std::sync::Arc;

use passerelle_core::search::{
    IndexChange, Scope, SearchIndex, SearchRequest, Sort, parse, resolve,
};
use passerelle_search::TantivyIndex;

use corpus::Corpus;

const BACKGROUND: usize = 3_000;

#[tokio::test(flavor = "multi_thread")]
async fn labelled_queries_find_their_documents_in_the_first_ten() -> anyhow::Result<()> {
    let corpus = Corpus::new(BACKGROUND);
    let index: Arc<dyn SearchIndex> = Arc::new(TantivyIndex::in_memory()?);
    let mut batch = Vec::new();
    for i in 0..corpus.len() {
        batch.push(IndexChange::Upsert(Box::new(corpus.doc(i).entry)));
        if batch.len() == 500 {
            index.apply(std::mem::take(&mut batch)).await?;
        }
    }
    index.apply(batch).await?;
    index.commit(&[]).await?;

    let scope = Scope::spaces(corpus.space_ids());
    let mut hits = Vec::new();
    for q in &corpus.labelled.queries {
        let request = SearchRequest {
            find: resolve(&parse(&q.text), corpus.types()),
            scope: scope.clone(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
        };
        let found = index.search(&request).await?;
        hits.push(found.hits.iter().map(|h| h.document).collect::<Vec<_>>());
    }
    let labelled = &corpus.labelled;
    let recall = labelled.recall(&hits, |k| {
        Corpus::id(labelled.index_of(k).expect("planted"))
    });
    println!(
        "recall@10 = {:.3} over {} queries",
        recall.at_10,
        labelled.queries.len()
    );
    for (query, missed) in &recall.misses {
        println!("  {query:?} missed {missed:?}");
    }
    assert!(labelled.queries.len() >= 30);
    assert!(
        recall.at_10 >= 0.9,
        "recall@10 {:.3} < 0.9; misses: {:#?}",
        recall.at_10,
        recall.misses
    );
    Ok(())
}
