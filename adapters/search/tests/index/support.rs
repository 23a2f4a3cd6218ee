//! Builders shared by the index tests: documents with sensible defaults,
//! requests, and an index with a corpus committed.

use std::ops::Bound;

use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{DocumentId, PrincipalId, SpaceId};
use passerelle_core::search::{
    Find, IndexChange, IndexedDocument, MetaValue, Scope, SearchIndex, SearchRequest,
    SearchResults, Sort, Within,
};
use passerelle_search::TantivyIndex;
use time::OffsetDateTime;
use time::macros::datetime;

pub fn doc(space: SpaceId, name: &str) -> IndexedDocument {
    IndexedDocument {
        id: DocumentId::new(),
        space,
        space_name: "Espace".to_owned(),
        folder: None,
        folder_ancestry: Vec::new(),
        folder_path: String::new(),
        name: name.to_owned(),
        doc_type: None,
        metadata: Vec::new(),
        author: PrincipalId::new(),
        author_name: "Alice Martin".to_owned(),
        modified: datetime!(2026-03-15 10:00 UTC),
        comment: String::new(),
        media_type: "application/pdf".to_owned(),
        size: 1,
        hash: ContentHash::of(name.as_bytes()),
        text: String::new(),
        trashed: false,
    }
}

pub fn with_text(mut d: IndexedDocument, text: &str) -> IndexedDocument {
    d.text = text.to_owned();
    d.hash = ContentHash::of(text.as_bytes());
    d
}

pub fn modified(mut d: IndexedDocument, at: OffsetDateTime) -> IndexedDocument {
    d.modified = at;
    d
}

pub fn meta(mut d: IndexedDocument, key: &str, value: MetaValue) -> IndexedDocument {
    d.metadata.push((key.to_owned(), value));
    d
}

pub async fn index_of(docs: &[IndexedDocument]) -> anyhow::Result<TantivyIndex> {
    let index = TantivyIndex::in_memory()?;
    put(&index, docs).await?;
    Ok(index)
}

pub async fn put(index: &TantivyIndex, docs: &[IndexedDocument]) -> anyhow::Result<()> {
    let changes = docs
        .iter()
        .map(|d| IndexChange::Upsert(Box::new(d.clone())))
        .collect();
    index.apply(changes).await?;
    index.commit(&[]).await?;
    Ok(())
}

pub fn request(find: Find, scope: Scope) -> SearchRequest {
    SearchRequest {
        find,
        scope,
        sort: Sort::Relevance,
        offset: 0,
        limit: 100,
    }
}

pub async fn search(
    index: &TantivyIndex,
    find: Find,
    scope: Scope,
) -> anyhow::Result<SearchResults> {
    Ok(index.search(&request(find, scope)).await?)
}

/// The names of the hits, in order.
pub fn names(results: &SearchResults, corpus: &[IndexedDocument]) -> Vec<String> {
    results
        .hits
        .iter()
        .map(|h| {
            corpus
                .iter()
                .find(|d| d.id == h.document)
                .map_or_else(|| "?".to_owned(), |d| d.name.clone())
        })
        .collect()
}

pub fn word(within: Within, text: &str) -> Find {
    Find::Word {
        within,
        text: text.to_owned(),
    }
}

pub fn anywhere(text: &str) -> Find {
    word(Within::Anywhere, text)
}

pub fn numbers(key: &str, lower: Bound<f64>, upper: Bound<f64>) -> Find {
    Find::Numbers {
        key: key.to_owned(),
        lower,
        upper,
    }
}
