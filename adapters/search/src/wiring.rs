//! What both nodes' compositions do with the index, in one place: open it
//! in the data directory and hand it to core's `Search` (the driving
//! adapters' side) and `Indexer` (the worker's side).

use std::path::Path;
use std::sync::Arc;

use passerelle_core::Passerelle;
use passerelle_core::search::{ExtractionLog, IndexError, SearchIndex, TextExtractor};
use passerelle_core::service::{Indexer, Search};

use crate::{Opened, TantivyIndex};

/// The search of a serving node: the index in `dir` (created, or rebuilt
/// when its schema changed: `Opened` says which), searched with core's
/// rights, and the indexer that fills it with the text `extractor` reads.
/// `log` is the node's database, which keeps the extraction statuses.
/// Only a serving node calls it: the index has one writer.
pub fn node_search(
    app: &Passerelle,
    dir: &Path,
    extractor: Arc<dyn TextExtractor>,
    log: Arc<dyn ExtractionLog>,
) -> Result<(Search, Indexer, Opened), IndexError> {
    let (index, opened) = TantivyIndex::open(dir)?;
    let index: Arc<dyn SearchIndex> = Arc::new(index);
    Ok((
        Search::new(app, index.clone(), log.clone()),
        Indexer::new(app, index, extractor, log),
        opened,
    ))
}
