//! The index behind core's [`SearchIndex`] port: one tantivy index in a
//! directory, its single writer behind a mutex, its reader reloaded after
//! every commit (read-your-writes), and each space's cursor kept in the
//! commit's payload so that the index and its cursors never disagree.
//!
//! Its files are read with positioned reads, not mapped
//! ([`ReadAtDirectory`]): the node's resident memory must not grow with
//! the index.
//!
//! tantivy is synchronous: every call runs off the async runtime, on the
//! index's own threads (`threads`): writes on one, searches on a pool of
//! [`SEARCH_THREADS`], so that the heap buffers its reads allocate stay in
//! the same few allocator arenas.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{DocumentId, PrincipalId, Revision, SpaceId};
use passerelle_core::search::{IndexChange, IndexError, SearchIndex, SearchRequest, SearchResults};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::directory::{Directory, MmapDirectory};
use tantivy::indexer::IndexWriterOptions;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Term, Value};
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument};

use crate::directory::ReadAtDirectory;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::search;
use crate::threads::Lane;

/// The file, beside tantivy's, that says which schema the index was
/// written with.
const VERSION_FILE: &str = "passerelle-schema";

/// Writer memory, per indexing thread (tantivy wants at least 15 MB). The
/// node's indexer commits every 500 rows, so a bigger buffer would mostly
/// sit empty; it is resident memory the node holds all day (issue 14's
/// target: under 300 MiB while indexing).
const WRITER_BYTES_PER_THREAD: usize = 24 * 1024 * 1024;
/// Indexing threads: the indexer is a background worker, it must not take
/// every core from searches (the machine kind has two).
const WRITER_THREADS: usize = 1;
/// Threads that run searches (and `stored_text`): the machine kind has two
/// cores, so more would only queue in the kernel instead of in the lane,
/// and each thread that reads the index keeps an allocator arena of its
/// own.
const SEARCH_THREADS: usize = 2;
/// Merge threads (tantivy's default is 4): each merge maps and reads whole
/// segments, so concurrent merges multiply the resident pages; one at a
/// time keeps the second core for searches and uploads.
const MERGE_THREADS: usize = 1;

/// Documents past which a segment is merged no more (tantivy's default is
/// ten million). A merge copies each segment's doc store whole into memory
/// before writing it out (tantivy's `StoreWriter::stack`), and with a
/// commit every batch the log policy merged the same growing segment again
/// and again: the node's peak memory grew with the index (issue 14). Past
/// this bound a segment stays as it is, so a merge holds at most the store
/// of one segment of this many documents (some 40 MiB of stored text for
/// documents of 2–50 KB); the index keeps a few more segments, each one
/// searched in turn.
const MAX_DOCS_MERGED: usize = 5_000;

/// The merge policy of the writer: tantivy's log policy, its segments
/// bounded by [`MAX_DOCS_MERGED`].
fn merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_max_docs_before_merge(MAX_DOCS_MERGED);
    policy
}

/// What [`TantivyIndex::open`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// The index was there, written with this schema: its cursors hold.
    Existing,
    /// The index was missing, unreadable or of another schema version: it
    /// is new and empty, and the indexer starts again from cursor zero.
    Rebuilt,
}

/// A tantivy index behind core's search port. Clones share the index and
/// its threads; the last one dropped stops the threads and releases the
/// writer's lock before its drop returns.
#[derive(Clone)]
pub struct TantivyIndex {
    lanes: Arc<Lanes>,
}

/// The index's threads, each lane holding the index.
struct Lanes {
    /// `apply`, `commit`, `cursors` and `drop_space`, in the order they
    /// were called: the single writer's work is sequential anyway, and the
    /// cursors read there cannot overtake a commit.
    writes: Lane<Inner>,
    /// Searches and `stored_text`, a few at a time.
    searches: Lane<Inner>,
}

impl fmt::Debug for TantivyIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TantivyIndex").finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    /// The one writer of the directory (tantivy locks it). Only the writes
    /// lane's single thread takes it; the mutex makes `Inner` shareable
    /// with the searches lane, which never touches it.
    writer: Mutex<IndexWriter>,
    pub(crate) fields: Fields,
}

/// A tantivy failure, as the port reports it.
fn engine(e: impl std::error::Error + Send + Sync + 'static) -> IndexError {
    IndexError::Engine(Box::new(e))
}

/// The writer mutex was poisoned by a panic mid-write: the staged changes
/// are in an unknown state, the caller should rebuild.
#[derive(Debug, thiserror::Error)]
#[error("the index writer panicked earlier")]
struct WriterPoisoned;

impl TantivyIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed. An
    /// index of another schema version, or one that cannot be read, is
    /// deleted and created anew: the index is derived data.
    ///
    /// Blocking (it reads and may delete files): call it at start-up or
    /// from `spawn_blocking`.
    ///
    /// # Errors
    /// `Engine` when the directory cannot be written, or another process
    /// holds the index's writer lock.
    pub fn open(dir: &Path) -> Result<(TantivyIndex, Opened), IndexError> {
        fs::create_dir_all(dir).map_err(engine)?;
        if let Some(index) = open_existing(dir) {
            return Ok((Self::with(index)?, Opened::Existing));
        }
        tracing::info!(dir = %dir.display(), version = SCHEMA_VERSION, "search index rebuilt");
        clear_dir(dir).map_err(engine)?;
        let directory = ReadAtDirectory::open(dir).map_err(engine)?;
        let index =
            Index::create(directory, schema::build(), IndexSettings::default()).map_err(engine)?;
        fs::write(dir.join(VERSION_FILE), SCHEMA_VERSION.to_string()).map_err(engine)?;
        Ok((Self::with(index)?, Opened::Rebuilt))
    }

    /// An index in memory, for tests.
    pub fn in_memory() -> Result<TantivyIndex, IndexError> {
        Self::with(Index::create_in_ram(schema::build()))
    }

    fn with(index: Index) -> Result<TantivyIndex, IndexError> {
        schema::register_analyzers(&index);
        let fields = Fields::of(&index.schema()).map_err(engine)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(engine)?;
        let options = IndexWriterOptions::builder()
            .memory_budget_per_thread(WRITER_BYTES_PER_THREAD)
            .num_worker_threads(WRITER_THREADS)
            .num_merge_threads(MERGE_THREADS)
            .build();
        let writer: IndexWriter = index.writer_with_options(options).map_err(engine)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        let inner = Arc::new(Inner {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        });
        Ok(TantivyIndex {
            lanes: Arc::new(Lanes {
                writes: Lane::start("index-write", 1, Arc::clone(&inner))?,
                searches: Lane::start("index-search", SEARCH_THREADS, inner)?,
            }),
        })
    }

    /// Runs `work` on the writer's thread: tantivy calls block.
    async fn writing<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, IndexError> + Send + 'static,
    {
        self.lanes.writes.run(work).await
    }

    /// Runs `work` on one of the search threads.
    async fn reading<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, IndexError> + Send + 'static,
    {
        self.lanes.searches.run(work).await
    }
}

/// Why [`TantivyIndex::reset`] left the index in place.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// A process (the serving node) holds the index's writer.
    #[error("a running node holds the search index in {0}")]
    InUse(PathBuf),
    #[error("cannot delete the search index in {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl TantivyIndex {
    /// Deletes the index in `dir`, which the node rebuilds at its next
    /// start (`search reindex`). Refused while a process holds the index's
    /// writer lock: files deleted under a serving node would break its
    /// searches, and it would go on writing segments nobody lists. Returns
    /// whether there was an index to delete.
    pub fn reset(dir: &Path) -> Result<bool, ResetError> {
        if !dir.exists() {
            return Ok(false);
        }
        let io = |source| ResetError::Io {
            path: dir.to_owned(),
            source,
        };
        if let Ok(directory) = MmapDirectory::open(dir) {
            // Held only for this check: dropped before anything is deleted.
            if let Err(tantivy::directory::error::LockError::LockBusy) =
                directory.acquire_lock(&tantivy::directory::INDEX_WRITER_LOCK)
            {
                return Err(ResetError::InUse(dir.to_owned()));
            }
        }
        clear_dir(dir).map_err(io)?;
        Ok(true)
    }
}

/// The index in `dir` if it was written with this code's schema and opens.
fn open_existing(dir: &Path) -> Option<Index> {
    let version = fs::read_to_string(dir.join(VERSION_FILE)).ok()?;
    if version.trim() != SCHEMA_VERSION.to_string() {
        return None;
    }
    let directory = ReadAtDirectory::open(dir).ok()?;
    let index = Index::open(directory).ok()?;
    // The version file could outlive a schema change made without a bump.
    if index.schema() != schema::build() {
        return None;
    }
    index.load_metas().ok()?;
    Some(index)
}

/// Deletes everything in `dir`, not `dir` itself (it may be a mount point).
fn clear_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

impl Inner {
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>, IndexError> {
        self.writer.lock().map_err(|_| engine(WriterPoisoned))
    }

    fn apply(&self, changes: Vec<IndexChange>) -> Result<(), IndexError> {
        let writer = self.writer()?;
        for change in changes {
            match change {
                IndexChange::Upsert(doc) => {
                    writer.delete_term(self.id_term(&doc.id.to_string()));
                    writer
                        .add_document(self.fields.document(&doc))
                        .map_err(engine)?;
                }
                IndexChange::Delete(id) => {
                    writer.delete_term(self.id_term(&id.to_string()));
                }
            }
        }
        Ok(())
    }

    fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.fields.id, id)
    }

    /// Commits what is staged with `cursors` as the commit's payload, then
    /// reloads the reader so that the next search sees it.
    fn commit_with(
        &self,
        writer: &mut IndexWriter,
        cursors: &BTreeMap<SpaceId, Revision>,
    ) -> Result<(), IndexError> {
        let payload = serde_json::to_string(cursors).map_err(engine)?;
        let mut prepared = writer.prepare_commit().map_err(engine)?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(engine)?;
        self.reader.reload().map_err(engine)
    }

    fn commit(&self, named: &[(SpaceId, Revision)]) -> Result<(), IndexError> {
        let mut writer = self.writer()?;
        let mut cursors = self.cursors()?;
        cursors.extend(named.iter().copied());
        self.commit_with(&mut writer, &cursors)
    }

    fn cursors(&self) -> Result<BTreeMap<SpaceId, Revision>, IndexError> {
        let metas = self.index.load_metas().map_err(engine)?;
        match metas.payload {
            None => Ok(BTreeMap::new()),
            Some(payload) => serde_json::from_str(&payload).map_err(engine),
        }
    }

    fn drop_space(&self, space: SpaceId) -> Result<(), IndexError> {
        let mut writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.space, &space.to_string()));
        let mut cursors = self.cursors()?;
        cursors.remove(&space);
        self.commit_with(&mut writer, &cursors)?;
        self.expunge_deleted(&mut writer)
    }

    /// Rewrites the segments that hold deleted documents and removes the
    /// old files. A delete in tantivy only marks documents: their terms and
    /// stored text stay in the segment's files until a merge. An un-share
    /// purge promises that nothing of the space stays on the edge's disk
    /// (ADR 0003), so dropping a space merges at once rather than when the
    /// merge policy gets to it. Un-sharing is rare; the merge costs a
    /// rewrite of the segments concerned, not of the whole index.
    fn expunge_deleted(&self, writer: &mut IndexWriter) -> Result<(), IndexError> {
        let with_deletes: Vec<_> = self
            .index
            .searchable_segment_metas()
            .map_err(engine)?
            .into_iter()
            .filter(|m| m.has_deletes())
            .map(|m| m.id())
            .collect();
        if !with_deletes.is_empty() {
            writer.merge(&with_deletes).wait().map_err(engine)?;
        }
        writer.garbage_collect_files().wait().map_err(engine)?;
        self.reader.reload().map_err(engine)
    }

    fn stored_text(&self, hash: &ContentHash) -> Result<Option<String>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.hash, &hash.to_hex()),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(engine)?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(*address).map_err(engine)?;
        Ok(doc
            .get_first(self.fields.text)
            .and_then(|v| v.as_str())
            .map(str::to_owned))
    }

    fn authored_by(
        &self,
        space: SpaceId,
        author: PrincipalId,
    ) -> Result<Vec<DocumentId>, IndexError> {
        let term = |field, value: String| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &value),
                IndexRecordOption::Basic,
            ))
        };
        let query = BooleanQuery::new(vec![
            (Occur::Must, term(self.fields.space, space.to_string())),
            (Occur::Must, term(self.fields.author, author.to_string())),
        ]);
        let searcher = self.reader.searcher();
        let addresses = searcher.search(&query, &DocSetCollector).map_err(engine)?;
        addresses
            .into_iter()
            .map(|address| {
                let doc: TantivyDocument = searcher.doc(address).map_err(engine)?;
                doc.get_first(self.fields.id)
                    .and_then(|v| v.as_str())
                    .and_then(|id| id.parse().ok())
                    .ok_or_else(|| engine(NotOurs))
            })
            .collect()
    }
}

/// An entry without a document id that parses: not written by this
/// adapter, the index should be rebuilt.
#[derive(Debug, thiserror::Error)]
#[error("search index entry without a valid document id")]
struct NotOurs;

#[async_trait]
impl SearchIndex for TantivyIndex {
    async fn apply(&self, changes: Vec<IndexChange>) -> Result<(), IndexError> {
        self.writing(move |inner| inner.apply(changes)).await
    }

    #[tracing::instrument(skip_all, fields(cursors = cursors.len()))]
    async fn commit(&self, cursors: &[(SpaceId, Revision)]) -> Result<(), IndexError> {
        let cursors = cursors.to_vec();
        self.writing(move |inner| inner.commit(&cursors)).await
    }

    async fn cursors(&self) -> Result<BTreeMap<SpaceId, Revision>, IndexError> {
        self.writing(Inner::cursors).await
    }

    #[tracing::instrument(skip_all, fields(space = %space))]
    async fn drop_space(&self, space: SpaceId) -> Result<(), IndexError> {
        self.writing(move |inner| inner.drop_space(space)).await
    }

    async fn stored_text(&self, hash: &ContentHash) -> Result<Option<String>, IndexError> {
        let hash = *hash;
        self.reading(move |inner| inner.stored_text(&hash)).await
    }

    async fn authored_by(
        &self,
        space: SpaceId,
        author: PrincipalId,
    ) -> Result<Vec<DocumentId>, IndexError> {
        self.reading(move |inner| inner.authored_by(space, author))
            .await
    }

    #[tracing::instrument(skip_all, fields(sort = ?request.sort, spaces = request.scope.space_ids().len()))]
    async fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        if request.scope.is_empty() {
            return Ok(SearchResults::default());
        }
        let request = request.clone();
        self.reading(move |inner| search::run(inner, &request).map_err(engine))
            .await
    }
}

#[cfg(test)]
mod tests {
    use tantivy::index::SegmentId;
    use tantivy::merge_policy::MergePolicy;

    use super::*;

    fn segments(index: &Index, docs: &[u32]) -> Vec<tantivy::index::SegmentMeta> {
        docs.iter()
            .map(|&n| index.new_segment_meta(SegmentId::generate_random(), n))
            .collect()
    }

    #[test]
    fn small_segments_are_merged_and_those_past_the_bound_left_alone() {
        let index = Index::create_in_ram(schema::build());
        let policy = merge_policy();
        let small = segments(&index, &[250; 8]);
        assert_eq!(policy.compute_merge_candidates(&small).len(), 1);
        let past = MAX_DOCS_MERGED as u32 + 1;
        let big = segments(&index, &[past; 8]);
        assert!(policy.compute_merge_candidates(&big).is_empty());
        // The growing segment is no longer merged again with each new one.
        let mut mixed = segments(&index, &[250; 7]);
        mixed.extend(segments(&index, &[past]));
        assert!(policy.compute_merge_candidates(&mixed).is_empty());
    }
}
