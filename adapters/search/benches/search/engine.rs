//! Passerelle's side of the bench: the corpus indexed through the port into
//! a tantivy index on disk (commits every 2,000 documents), every content
//! through the real extractor first (PDFs through `pdftotext`, plain text
//! too), then the query latencies and the labelled set's recall.
//!
//! Timed apart: the extractor's calls, and the index's (`apply` and
//! `commit`). Generating the corpus is not timed: it stands for reading
//! the blobs. Peak RSS is this process's `VmHWM` at the end of indexing
//! (the PostgreSQL side runs after).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use passerelle_core::search::{
    ExtractInput, ExtractionStatus, IndexChange, Scope, SearchIndex, SearchRequest, Sort,
    TextExtractor, parse, resolve,
};
use passerelle_extract::{Extractor, Limits};
use passerelle_search::TantivyIndex;

use super::corpus::Corpus;
use super::{Engine, Measured, QuerySet, percentiles, rss_hwm_of, sample_rss, slowest};

/// Documents per `apply`.
const BATCH: usize = 500;
/// Documents per `commit`.
const COMMIT_EVERY: usize = 2_000;

pub async fn run(corpus: &Corpus, queries: &QuerySet) -> anyhow::Result<Measured> {
    let dir = tempfile::Builder::new()
        .prefix("passerelle-bench-search-")
        .tempdir()?;
    let (index, _opened) = TantivyIndex::open(dir.path())?;
    let index: Arc<dyn SearchIndex> = Arc::new(index);
    let extractor: Arc<dyn TextExtractor> = Arc::new(Extractor::new(Limits::default()));

    let mut m = Measured::default();
    let mut in_index = Duration::ZERO;
    let mut in_extract = Duration::ZERO;
    let mut statuses: BTreeMap<ExtractionStatus, u64> = BTreeMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    let n = corpus.len();
    let started = Instant::now();
    for i in 0..n {
        let g = corpus.doc(i);
        m.corpus_bytes += g.content.len() as u64;
        let mut entry = g.entry;
        let input = ExtractInput {
            media_type: entry.media_type.clone(),
            name: entry.name.clone(),
            size: g.content.len() as u64,
            content: Box::pin(futures::stream::iter([Ok::<_, std::io::Error>(
                Bytes::from(g.content),
            )])),
        };
        let t = Instant::now();
        let extraction = extractor.extract(input).await;
        in_extract += t.elapsed();
        *statuses.entry(extraction.status).or_default() += 1;
        entry.text = extraction.text;
        batch.push(IndexChange::Upsert(Box::new(entry)));
        if batch.len() == BATCH || i + 1 == n {
            let t = Instant::now();
            index.apply(std::mem::take(&mut batch)).await?;
            in_index += t.elapsed();
            sample_rss(&mut m, "/proc/self/status");
        }
        if (i + 1) % COMMIT_EVERY == 0 || i + 1 == n {
            let t = Instant::now();
            index.commit(&[]).await?;
            in_index += t.elapsed();
        }
        if (i + 1) % 20_000 == 0 {
            eprintln!(
                "  tantivy: {}/{n} indexed, {:.0} s in the index, {:.0} s extracting, {:.0} s in all",
                i + 1,
                in_index.as_secs_f64(),
                in_extract.as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    m.docs = n;
    m.index_secs = in_index.as_secs_f64();
    m.extract_secs = Some(in_extract.as_secs_f64());
    m.statuses = statuses
        .into_iter()
        .map(|(s, c)| format!("{} {c}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    m.rss_hwm = rss_hwm_of("/proc/self/status");

    // Latency: scope of ten spaces, a warm-up round first.
    let ten = Scope::spaces(corpus.space_ids().into_iter().take(queries.scope_spaces));
    let finds: Vec<_> = queries
        .texts
        .iter()
        .map(|q| resolve(&parse(q), corpus.types()))
        .collect();
    let mut by_query = vec![Vec::new(); finds.len()];
    for round in 0..=queries.rounds {
        for (q, find) in finds.iter().enumerate() {
            let request = SearchRequest {
                find: find.clone(),
                scope: ten.clone(),
                sort: Sort::Relevance,
                offset: 0,
                limit: 10,
            };
            let t = Instant::now();
            index.search(&request).await?;
            if round > 0 {
                by_query[q].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    m.latency = percentiles(&mut by_query.concat());
    m.slowest = slowest(&queries.texts, &mut by_query);

    // Recall@10 of the labelled set, every space in scope.
    let all = Scope::spaces(corpus.space_ids());
    let mut hits = Vec::new();
    for q in &corpus.labelled.queries {
        let request = SearchRequest {
            find: resolve(&parse(&q.text), corpus.types()),
            scope: all.clone(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
        };
        let found = index.search(&request).await?;
        hits.push(found.hits.iter().map(|h| h.document).collect::<Vec<_>>());
    }
    let labelled = &corpus.labelled;
    m.recall = labelled.recall(&hits, |k| {
        Corpus::id(labelled.index_of(k).unwrap_or(usize::MAX))
    });
    drop(index);
    m.index_bytes = dir_size(dir.path());
    m.engine = Engine::Tantivy;
    Ok(m)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
