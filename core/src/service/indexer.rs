//! The search indexer (ADR 0006 §2): follows each space's change feed from
//! the cursor the index committed last, turns the rows that changed into
//! index entries built from the current state of the documents they touch,
//! and commits each batch with its new cursor, atomically, so that a crash
//! resumes where the index stands. Content text comes from the
//! [`TextExtractor`], once per content hash: the index keeps the text of
//! what it holds, and the [`ExtractionLog`] keeps each content's status,
//! retried with backoff when the extractor broke or ran out of time.
//!
//! Renames reach the entries below what was renamed: a space's or a
//! folder's documents, and a principal's, whose display name each entry
//! of theirs carries as its author's.
//!
//! Both roles run it over what they hold: on an edge, the shared spaces it
//! received; a space purged from the node is dropped from the index.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::blob::BlobError;
use crate::doctype::{DocumentType, FieldKind};
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use crate::model::{Document, Folder, Page, Space, Version};
use crate::ports::Tx;
use crate::replication::ChangeRow;
use crate::search::{
    ExtractInput, ExtractionLog, ExtractionRecord, ExtractionStatus, IndexChange, IndexedDocument,
    MetaValue, SearchIndex, TextExtractor,
};

use super::Passerelle;
use super::search::{all_spaces, folder_chain};

/// Rows of the change feed read per batch: a batch is committed at once,
/// so this bounds both the work lost to a crash and the index's lag
/// behind a busy space.
const FEED_BATCH: u64 = 500;
/// Batches per run before the worker yields (it runs again at once when
/// behind).
const BATCHES_PER_RUN: usize = 20;
/// A failed or timed-out extraction is retried after 1, 2, 4… minutes,
/// at most a day apart, and given up after this many attempts (listed to
/// administrators, who may ask for another).
const MAX_ATTEMPTS: u32 = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexRun {
    /// Documents (re)indexed.
    pub indexed: u64,
    /// Entries removed (documents purged).
    pub removed: u64,
    /// Contents extracted (not read back from the index).
    pub extracted: u64,
    /// Spaces dropped from the index (no longer on this node).
    pub dropped: u64,
    /// Every space is indexed through its newest revision.
    pub caught_up: bool,
}

/// Keeps a node's search index up to date.
#[derive(Clone, Debug)]
pub struct Indexer {
    app: Passerelle,
    index: Arc<dyn SearchIndex>,
    extractor: Arc<dyn TextExtractor>,
    log: Arc<dyn ExtractionLog>,
}

/// What a batch needs from the repository, read in one transaction.
struct Batch {
    space: Space,
    through: Revision,
    /// Documents the batch touched, as they are now (`None`: gone).
    documents: BTreeMap<DocumentId, Option<Document>>,
}

impl Indexer {
    pub fn new(
        app: &Passerelle,
        index: Arc<dyn SearchIndex>,
        extractor: Arc<dyn TextExtractor>,
        log: Arc<dyn ExtractionLog>,
    ) -> Self {
        Self {
            app: app.clone(),
            index,
            extractor,
            log,
        }
    }

    /// Indexes what changed since the last commit, a bounded number of
    /// batches at a time.
    pub async fn run(&self) -> Result<IndexRun, CoreError> {
        let mut run = IndexRun::default();
        let spaces = {
            let mut tx = self.app.read().await?;
            all_spaces(&mut tx).await?
        };
        let mut cursors = self.index.cursors().await?;
        let held: BTreeSet<SpaceId> = spaces.iter().map(|s| s.id).collect();
        for gone in cursors
            .keys()
            .filter(|s| !held.contains(s))
            .copied()
            .collect::<Vec<_>>()
        {
            self.index.drop_space(gone).await?;
            cursors.remove(&gone);
            run.dropped += 1;
        }
        let mut batches = 0;
        let mut behind: Vec<SpaceId> = spaces.iter().map(|s| s.id).collect();
        while !behind.is_empty() && batches < BATCHES_PER_RUN {
            let mut still = Vec::new();
            for space in behind {
                let cursor = cursors.get(&space).copied().unwrap_or(Revision(0));
                let Some(batch) = self.read_batch(space, cursor).await? else {
                    continue;
                };
                batches += 1;
                cursors.insert(space, batch.through);
                self.index_batch(batch, &mut run).await?;
                still.push(space);
            }
            behind = still;
        }
        run.caught_up = behind.is_empty();
        Ok(run)
    }

    /// The next batch of `space` past `cursor`, or `None` when the index
    /// holds all of it.
    async fn read_batch(
        &self,
        space: SpaceId,
        cursor: Revision,
    ) -> Result<Option<Batch>, CoreError> {
        let mut tx = self.app.read().await?;
        let feed = tx.changes(space, cursor, FEED_BATCH).await?;
        if feed.through <= cursor {
            return Ok(None);
        }
        let Some(space_row) = tx.space(space).await? else {
            return Ok(None);
        };
        // A space or folder row changed in this batch's window renames
        // what is below it. The feed also brings the space row along with
        // every batch, changed or not (a parent, so that a batch applies on
        // its own): only its revision tells. From cursor 0 every document
        // comes in the feed itself and needs no expansion.
        let first = cursor == Revision(0);
        let changed = |r: Revision| !first && r > cursor && r <= feed.through;
        let mut documents: BTreeMap<DocumentId, Option<Document>> = BTreeMap::new();
        let mut folders: Vec<FolderId> = Vec::new();
        let mut authors: Vec<PrincipalId> = Vec::new();
        let mut whole_space = false;
        for row in feed.rows {
            match row {
                ChangeRow::Space(s) if changed(s.revision) => whole_space = true,
                ChangeRow::Folder(f) if changed(f.revision) => folders.push(f.id),
                ChangeRow::Principal(p) if changed(p.revision) => authors.push(p.id),
                ChangeRow::Document(d) if d.space == space => {
                    documents.insert(d.id, Some(d));
                }
                ChangeRow::Version(v) => {
                    documents.entry(v.document).or_insert(None);
                }
                _ => {}
            }
        }
        // A renamed space or folder changes the entries of every document
        // below it (their space name or folder path).
        let below = if whole_space {
            every_document(&mut tx, space).await?
        } else if folders.is_empty() {
            Vec::new()
        } else {
            let all = tx.all_folders(space).await?;
            let mut subtree: HashSet<FolderId> = HashSet::new();
            for f in folders {
                subtree.extend(super::folders::descendants(&all, f));
            }
            let subtree: Vec<FolderId> = subtree.into_iter().collect();
            tx.documents_in_folders(space, &subtree).await?
        };
        for d in below {
            documents.insert(d.id, Some(d));
        }
        // A member's row changed (renamed, or a password or state that the
        // entries do not hold: the row does not say which): the entries
        // naming them as author carry their old name. The feed brings a
        // principal to the spaces where they hold a membership, removed or
        // not; an administrator who wrote in a space without one keeps the
        // old name there until the document changes.
        for author in authors {
            for id in self.index.authored_by(space, author).await? {
                documents.entry(id).or_insert(None);
            }
        }
        // Versions whose document row was not in the batch: read it.
        for (id, slot) in documents.iter_mut() {
            if slot.is_none() {
                *slot = tx.document(*id).await?;
            }
        }
        Ok(Some(Batch {
            space: space_row,
            through: feed.through,
            documents,
        }))
    }

    async fn index_batch(&self, batch: Batch, run: &mut IndexRun) -> Result<(), CoreError> {
        let mut changes = Vec::with_capacity(batch.documents.len());
        let mut tx = self.app.read().await?;
        let types = tx.list_document_types().await?;
        let mut names: HashMap<PrincipalId, String> = HashMap::new();
        let mut chains: HashMap<Option<FolderId>, Vec<Folder>> = HashMap::new();
        let mut texts: HashMap<ContentHash, String> = HashMap::new();
        // The batch's extraction outcomes, written in one go below.
        let mut records: Vec<ExtractionRecord> = Vec::new();
        for (id, document) in batch.documents {
            let Some(d) = document.filter(|d| !d.purged && d.space == batch.space.id) else {
                changes.push(IndexChange::Delete(id));
                run.removed += 1;
                continue;
            };
            let Some(version) = current_version(&mut tx, &d).await? else {
                changes.push(IndexChange::Delete(id));
                continue;
            };
            let chain = match chains.entry(d.folder) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(folder_chain(&mut tx, d.folder).await?)
                }
            };
            let author_name = match names.get(&version.author) {
                Some(n) => n.clone(),
                None => {
                    let n = match tx.principal(version.author).await? {
                        Some(p) => format!("{} {}", p.display_name, p.login.as_str()),
                        None => String::new(),
                    };
                    names.insert(version.author, n.clone());
                    n
                }
            };
            let text = match texts.get(&version.hash) {
                Some(t) => t.clone(),
                None => {
                    let t = self.text_of(&d, &version, run, &mut records).await?;
                    texts.insert(version.hash, t.clone());
                    t
                }
            };
            changes.push(IndexChange::Upsert(Box::new(entry(
                &batch.space,
                &d,
                &version,
                chain,
                author_name,
                text,
                &types,
            ))));
            run.indexed += 1;
        }
        drop(tx);
        // Before the index's commit, as each record was before: a crash in
        // between re-extracts those contents (the log says `ok` but the
        // index has no text for them), it loses nothing.
        self.log.record_all(&records).await?;
        self.index.apply(changes).await?;
        self.index
            .commit(&[(batch.space.id, batch.through)])
            .await?;
        Ok(())
    }

    /// The text of a version's content: what the index keeps already for
    /// those bytes, else a new extraction (its outcome pushed on
    /// `records`), unless an earlier one gave no text for a reason that
    /// holds (the file's nature, or a retry not due).
    async fn text_of(
        &self,
        d: &Document,
        v: &Version,
        run: &mut IndexRun,
        records: &mut Vec<ExtractionRecord>,
    ) -> Result<String, CoreError> {
        let now = self.app.now();
        let earlier = self.log.extraction(&v.hash).await?;
        match &earlier {
            Some(r) if r.status == ExtractionStatus::Ok => {
                if let Some(text) = self.index.stored_text(&v.hash).await? {
                    return Ok(text);
                }
            }
            Some(r) if r.next_try.is_none_or(|at| at > now) => return Ok(String::new()),
            _ => {}
        }
        run.extracted += 1;
        let (text, record) = self.extract(d.name.as_str(), v, earlier.as_ref()).await?;
        records.push(record);
        Ok(text)
    }

    /// Extracts a version's content: its text and the outcome to record
    /// (`earlier`, the hash's record if any, counts the attempts).
    async fn extract(
        &self,
        name: &str,
        v: &Version,
        earlier: Option<&ExtractionRecord>,
    ) -> Result<(String, ExtractionRecord), CoreError> {
        let attempts = match earlier {
            Some(r) if r.status.is_retryable() => r.attempts + 1,
            _ => 1,
        };
        let extraction = match self.app.blobs().get(&v.hash, None).await {
            Ok(content) => {
                self.extractor
                    .extract(ExtractInput {
                        media_type: v.media_type.clone(),
                        name: name.to_owned(),
                        size: v.size,
                        content,
                    })
                    .await
            }
            // An edge receives a version's blob before its row, so a
            // missing blob is a storage fault: retried like a failure.
            Err(BlobError::NotFound(_)) => crate::search::Extraction::not(
                ExtractionStatus::Failed,
                "the content is not on this node",
            ),
            Err(e) => return Err(e.into()),
        };
        let now = self.app.now();
        let record = ExtractionRecord {
            hash: v.hash,
            status: extraction.status,
            reason: extraction.reason,
            attempts,
            tried_at: now,
            next_try: next_try(extraction.status, attempts, now),
        };
        Ok((extraction.text, record))
    }

    /// Extractions whose retry is due: each is tried again, and the
    /// documents holding the content are indexed again when it gives text.
    pub async fn retry_due(&self, limit: u64) -> Result<u64, CoreError> {
        let due = self.log.due(self.app.now(), limit).await?;
        let mut n = 0;
        for record in due {
            let holders = self.log.holders(&record.hash).await?;
            let mut tx = self.app.read().await?;
            let mut by_space: BTreeMap<SpaceId, BTreeMap<DocumentId, Option<Document>>> =
                BTreeMap::new();
            for id in holders {
                if let Some(d) = tx.document(id).await? {
                    by_space.entry(d.space).or_default().insert(id, Some(d));
                }
            }
            if by_space.is_empty() {
                // Nobody holds it any more: nothing to extract it for.
                let mut done = record.clone();
                done.next_try = None;
                self.log.record(&done).await?;
                continue;
            }
            let cursors = self.index.cursors().await?;
            for (space, documents) in by_space {
                let (Some(space_row), Some(through)) =
                    (tx.space(space).await?, cursors.get(&space).copied())
                else {
                    continue;
                };
                let mut run = IndexRun::default();
                self.index_batch(
                    Batch {
                        space: space_row,
                        through,
                        documents,
                    },
                    &mut run,
                )
                .await?;
            }
            n += 1;
        }
        Ok(n)
    }
}

/// When to try an extraction again: never for an outcome that is the
/// file's own, after 2^(n-1) minutes for a failure, until the last attempt.
fn next_try(
    status: ExtractionStatus,
    attempts: u32,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    if !status.is_retryable() || attempts >= MAX_ATTEMPTS {
        return None;
    }
    let minutes = 1u64 << attempts.saturating_sub(1).min(20);
    let wait = Duration::from_secs(minutes * 60).min(MAX_BACKOFF);
    Some(now + wait)
}

async fn current_version(tx: &mut Box<dyn Tx>, d: &Document) -> Result<Option<Version>, CoreError> {
    Ok(tx
        .list_versions(d.id)
        .await?
        .into_iter()
        .find(|v| v.number == d.current_version))
}

/// Every document of a space, live or trashed: those of its folders and
/// the live ones at its root.
async fn every_document(tx: &mut Box<dyn Tx>, space: SpaceId) -> Result<Vec<Document>, CoreError> {
    let folders: Vec<FolderId> = tx.all_folders(space).await?.iter().map(|f| f.id).collect();
    let mut out = tx.documents_in_folders(space, &folders).await?;
    let mut offset = 0;
    loop {
        let page = tx
            .list_documents(
                space,
                None,
                Page {
                    offset,
                    limit: Page::MAX_LIMIT,
                },
            )
            .await?;
        let n = page.items.len() as u64;
        out.extend(page.items);
        offset += n;
        if n == 0 || offset >= page.total {
            return Ok(out);
        }
    }
}

/// A document's index entry.
fn entry(
    space: &Space,
    d: &Document,
    v: &Version,
    chain: &[Folder],
    author_name: String,
    text: String,
    types: &[DocumentType],
) -> IndexedDocument {
    IndexedDocument {
        id: d.id,
        space: space.id,
        space_name: space.title.clone(),
        folder: d.folder,
        folder_ancestry: chain.iter().map(|f| f.id).collect(),
        folder_path: chain
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
        name: d.name.as_str().to_owned(),
        doc_type: d.doc_type.clone(),
        metadata: metadata(d, types),
        author: v.author,
        author_name,
        modified: v.created_at,
        comment: v.comment.clone(),
        media_type: v.media_type.clone(),
        size: v.size,
        hash: v.hash,
        text,
        trashed: d.trashed.is_some(),
    }
}

/// The document's metadata, typed by its type's fields: text stays text,
/// dates and numbers become ranges. A value the catalogue does not type
/// (no type, or a field since removed) is indexed as text.
fn metadata(d: &Document, types: &[DocumentType]) -> Vec<(String, MetaValue)> {
    let fields = d
        .doc_type
        .as_deref()
        .and_then(|k| types.iter().find(|t| t.key == k))
        .map(|t| t.fields.as_slice())
        .unwrap_or_default();
    d.metadata
        .iter()
        .filter_map(|(key, value)| {
            let kind = fields.iter().find(|f| &f.key == key).map(|f| &f.kind);
            meta_value(kind, value).map(|v| (key.clone(), v))
        })
        .collect()
}

fn meta_value(kind: Option<&FieldKind>, value: &serde_json::Value) -> Option<MetaValue> {
    use serde_json::Value;
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "oui".to_owned(),
        Value::Bool(false) => "non".to_owned(),
        _ => return None,
    };
    Some(match kind {
        Some(FieldKind::Integer | FieldKind::Decimal) => {
            MetaValue::Number(crate::search::resolve::number(&text)?)
        }
        Some(FieldKind::Date) => {
            let (day, last) = crate::search::resolve::date_span(&text)?;
            // A stored date is one day; a year or month is not a date.
            MetaValue::Date(Some(day).filter(|d| *d == last)?)
        }
        _ => MetaValue::Text(text),
    })
}
