//! Documents and their versions: uploads, new versions, reading and
//! restoring them. `edits`: metadata, rename, move and deletion.
//! `document_types`: the types and the validation of metadata.

use std::ops::Range;

use serde_json::{Map, Value, json};

use crate::blob::{BlobInfo, ByteStream};
use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::{Document, Version};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::role::{Action, Role};

use super::access::{Access, Fail, Outcome};
use super::locks::LockView;
use super::locks::cover::Inside;
use super::{Actor, InternalApp, Passerelle};

mod copies;
pub use copies::CopyTarget;
mod document_types;
mod edits;

/// A document to create (its content comes as a stream beside it).
#[derive(Clone, Debug, Default)]
pub struct NewDocument {
    pub space: SpaceId,
    pub folder: Option<FolderId>,
    pub name: String,
    pub doc_type: Option<String>,
    pub metadata: Map<String, Value>,
    pub media_type: Option<String>,
    pub comment: String,
}

/// A new version of an existing document.
#[derive(Clone, Debug, Default)]
pub struct NewVersion {
    pub media_type: Option<String>,
    pub comment: String,
}

/// A document, its current version and the caller's role in its space.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentView {
    pub document: Document,
    pub version: Version,
    pub role: Role,
    /// The unexpired lock covering the document (on it, or on a folder
    /// above with depth infinity), an exclusive one first; on an edge, as
    /// it mirrors the internal node's locks (without token nor note).
    pub lock: Option<LockView>,
}

/// Content of a version, to stream to a client.
pub struct VersionContent {
    pub document: Document,
    pub version: Version,
    /// The bytes served: the whole blob or `range` of it.
    pub range: Option<Range<u64>>,
    pub content: ByteStream,
}

impl std::fmt::Debug for VersionContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionContent")
            .field("document", &self.document.id)
            .field("version", &self.version.number)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Keeps a client-declared media type only if it looks like one; content is
/// always served as an attachment with nosniff, so this is a label, not trust.
pub(crate) fn media_type(raw: Option<&str>) -> String {
    let fallback = "application/octet-stream".to_owned();
    let Some(raw) = raw else { return fallback };
    let essence = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let valid = essence.len() <= 127
        && essence.split_once('/').is_some_and(|(t, s)| {
            let tok = |x: &str| {
                !x.is_empty()
                    && x.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            tok(t) && tok(s)
        });
    if valid { essence } else { fallback }
}

pub(crate) fn check_comment(c: &str) -> Result<String, CoreError> {
    if c.chars().count() > 1000 || c.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CoreError::invalid(
            "invalid_comment",
            "a comment has at most 1000 characters, without control characters",
        ));
    }
    Ok(c.trim().to_owned())
}

impl Passerelle {
    /// Every check of `upload` that does not need the content; run before the
    /// body is read (fail fast) and again in the write transaction.
    pub(crate) async fn check_new_document(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        new: &NewDocument,
        inside: Inside,
    ) -> Outcome<(Access, DocumentName, Map<String, Value>)> {
        let a = self.access(tx, actor, new.space).await?;
        a.require(Action::Create, || new.space.to_string())?;
        a.require_writable()?;
        let name = DocumentName::parse(&new.name).map_err(CoreError::name)?;
        if let Some(f) = new.folder {
            self.live_folder(tx, new.space, f).await?;
        }
        self.ensure_open_inside(tx, actor, new.space, new.folder, inside)
            .await?;
        self.ensure_name_free(tx, new.space, new.folder, &name, None)
            .await?;
        let metadata = self
            .typed_metadata(tx, new.doc_type.as_deref(), &new.metadata)
            .await?;
        Ok((a, name, metadata))
    }

    /// Creates a document whose content is already a durable blob, inside
    /// `tx` (checks included). Used by `upload` and by the application of
    /// contractors' operations replicated from an edge (`inside` says
    /// whether a depth-infinity lock on the folder holds it back).
    pub(crate) async fn create_document_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        new: &NewDocument,
        blob: BlobInfo,
        comment: String,
        inside: Inside,
    ) -> Outcome<DocumentView> {
        let (a, name, metadata) = self.check_new_document(tx, actor, new, inside).await?;
        let author = actor.principal()?.id;
        let now = self.clock.now();
        let rev = tx.next_revision().await?;
        let document = Document {
            id: DocumentId::new(),
            space: new.space,
            folder: new.folder,
            name,
            doc_type: new.doc_type.clone(),
            metadata,
            current_version: 1,
            created_by: author,
            created_at: now,
            updated_at: now,
            trashed: None,
            purged: false,
            revision: rev,
        };
        let version = self.version_row(
            &document,
            1,
            blob,
            new.media_type.as_deref(),
            author,
            comment,
            rev,
        );
        tx.save_document(&document).await?;
        tx.save_version(&version).await?;
        self.audit(
            tx,
            actor,
            "document.upload",
            Some(new.space),
            Some(document.id.to_string()),
            with_comment(
                json!({ "name": document.name.as_str(), "hash": blob.hash, "size": blob.size }),
                &version.comment,
            ),
        )
        .await?;
        let lock = self.lock_view(tx, &document).await?;
        Ok(DocumentView {
            document,
            version,
            role: a.role,
            lock,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn version_row(
        &self,
        d: &Document,
        number: u32,
        blob: BlobInfo,
        media: Option<&str>,
        author: crate::ids::PrincipalId,
        comment: String,
        rev: crate::ids::Revision,
    ) -> Version {
        Version {
            document: d.id,
            number,
            hash: blob.hash,
            size: blob.size,
            media_type: media_type(media),
            author,
            comment,
            created_at: self.clock.now(),
            revision: rev,
        }
    }

    /// A live document and the actor's access to its space.
    pub(crate) async fn document_access(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
    ) -> Outcome<(Access, Document)> {
        let d = match tx.document(id).await? {
            Some(d) if d.trashed.is_none() && !d.purged => d,
            _ => return Err(CoreError::NotFound("document").into()),
        };
        let a = self.access_as(tx, actor, d.space, "document").await?;
        Ok((a, d))
    }

    pub(super) async fn current_version(
        &self,
        tx: &mut Box<dyn Tx>,
        d: &Document,
    ) -> Outcome<Version> {
        tx.list_versions(d.id)
            .await?
            .into_iter()
            .find(|v| v.number == d.current_version)
            .ok_or_else(|| {
                Fail::Error(CoreError::Internal(
                    format!("document {} has no version {}", d.id, d.current_version).into(),
                ))
            })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append_version(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        a: Access,
        mut d: Document,
        blob: BlobInfo,
        media: Option<&str>,
        comment: String,
        action: &'static str,
    ) -> Outcome<DocumentView> {
        // Every new version, whichever the path (upload, restore, an
        // edge's save), passes here: the lock check with it.
        self.ensure_document_unlocked(tx, actor, &d).await?;
        let author = actor.principal()?.id;
        let rev = tx.next_revision().await?;
        d.current_version += 1;
        d.updated_at = self.clock.now();
        d.revision = rev;
        let version = self.version_row(&d, d.current_version, blob, media, author, comment, rev);
        tx.save_version(&version).await?;
        tx.save_document(&d).await?;
        self.audit(
            tx,
            actor,
            action,
            Some(d.space),
            Some(d.id.to_string()),
            with_comment(
                json!({ "version": version.number, "hash": blob.hash, "size": blob.size }),
                &version.comment,
            ),
        )
        .await?;
        let lock = self.lock_view(tx, &d).await?;
        Ok(DocumentView {
            document: d,
            version,
            role: a.role,
            lock,
        })
    }

    pub async fn get_document(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let (a, d) = self.document_access(&mut tx, actor, id).await?;
            let version = self.current_version(&mut tx, &d).await?;
            let lock = self.lock_view(&mut tx, &d).await?;
            Ok::<_, Fail>(DocumentView {
                document: d,
                version,
                role: a.role,
                lock,
            })
        })
        .await
    }

    /// The display name of the author of a document's current version, as
    /// its page shows it (`None`: that account no longer exists), to
    /// whoever may read the document.
    pub async fn current_author_name(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Option<String>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let (_, d) = self.document_access(&mut tx, actor, id).await?;
            let version = self.current_version(&mut tx, &d).await?;
            Ok::<_, Fail>(tx.principal(version.author).await?.map(|p| p.display_name))
        })
        .await
    }

    pub async fn list_versions(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Vec<Version>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.document_access(&mut tx, actor, id).await?;
            Ok::<_, Fail>(tx.list_versions(id).await?)
        })
        .await
    }

    /// Opens the content of a version (the current one with `number: None`),
    /// optionally a byte range of it (end exclusive).
    pub async fn open_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        number: Option<u32>,
        range: Option<Range<u64>>,
    ) -> Result<VersionContent, CoreError> {
        self.guarded(actor, async {
            let (d, version) = {
                let mut tx = self.read().await?;
                let (_, d) = self.document_access(&mut tx, actor, id).await?;
                let n = number.unwrap_or(d.current_version);
                let v = tx
                    .list_versions(id)
                    .await?
                    .into_iter()
                    .find(|v| v.number == n)
                    .ok_or(CoreError::NotFound("version"))?;
                (d, v)
            };
            let content = self.blobs.get(&version.hash, range.clone()).await?;
            Ok::<_, Fail>(VersionContent {
                document: d,
                version,
                range,
                content,
            })
        })
        .await
    }
}

impl InternalApp {
    /// Creates a document from streamed content. Nothing is stored when a
    /// check fails, the stream breaks, or the content passes the size limit.
    pub async fn upload(
        &self,
        actor: &Actor,
        new: NewDocument,
        content: ByteStream,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let comment = check_comment(&new.comment)?;
            {
                let mut tx = self.read().await?;
                self.check_new_document(&mut tx, actor, &new, Inside::Respect).await?;
            }
            let blob = self.store_content(actor, Some(new.space), content).await?;
            let mut tx = self.write().await?;
            let view = self
                .create_document_in(&mut tx, actor, &new, blob, comment, Inside::Respect)
                .await?;
            self.commit(tx).await?;
            tracing::info!(doc = %view.document.id, space = %new.space, bytes = blob.size, "document stored");
            Ok::<_, Fail>(view)
        })
        .await
    }

    /// Adds a version from streamed content. Content identical to the
    /// current version's (same hash) adds nothing: the document is answered
    /// as it is, with no version, revision or audit entry. Clients that save
    /// whole files (WebDAV, sync tools) resend unchanged content all day,
    /// and a history of identical versions would bury the real ones.
    pub async fn new_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        new: NewVersion,
        content: ByteStream,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let comment = check_comment(&new.comment)?;
            let check = |a: &Access, d: &Document| -> Outcome<()> {
                a.require(
                    Action::Edit {
                        own: Access::owns(actor, d.created_by),
                    },
                    || id.to_string(),
                )?;
                a.require_writable()
            };
            {
                let mut tx = self.read().await?;
                let (a, d) = self.document_access(&mut tx, actor, id).await?;
                check(&a, &d)?;
                // Fail fast, before the content is stored; checked again
                // in the write transaction (`append_version`).
                self.ensure_document_unlocked(&mut tx, actor, &d).await?;
            }
            let blob = self.store_content(actor, None, content).await?;
            let mut tx = self.write().await?;
            let (a, d) = self.document_access(&mut tx, actor, id).await?;
            check(&a, &d)?;
            let current = self.current_version(&mut tx, &d).await?;
            if current.hash == blob.hash {
                let lock = self.lock_view(&mut tx, &d).await?;
                return Ok(DocumentView {
                    document: d,
                    version: current,
                    role: a.role,
                    lock,
                });
            }
            let view = self
                .append_version(
                    &mut tx,
                    actor,
                    a,
                    d,
                    blob,
                    new.media_type.as_deref(),
                    comment,
                    "document.version",
                )
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(view)
        })
        .await
    }

    /// Makes an old version current again, as a new version with the same
    /// content (history is never rewritten).
    pub async fn restore_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        number: u32,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let (a, d) = self.document_access(&mut tx, actor, id).await?;
            a.require(
                Action::Edit {
                    own: Access::owns(actor, d.created_by),
                },
                || id.to_string(),
            )?;
            a.require_writable()?;
            let old = tx
                .list_versions(id)
                .await?
                .into_iter()
                .find(|v| v.number == number)
                .ok_or(CoreError::NotFound("version"))?;
            let blob = BlobInfo {
                hash: old.hash,
                size: old.size,
            };
            let comment = format!("restauration de la version {number}");
            let view = self
                .append_version(
                    &mut tx,
                    actor,
                    a,
                    d,
                    blob,
                    Some(&old.media_type),
                    comment,
                    "document.restore_version",
                )
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(view)
        })
        .await
    }
}

/// An audit detail with the version's comment, when it has one: the feed
/// shows what the author said of the version ("corrections du lot 2").
pub(super) fn with_comment(mut detail: serde_json::Value, comment: &str) -> serde_json::Value {
    if !comment.is_empty() {
        detail["comment"] = serde_json::Value::String(comment.to_owned());
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::media_type;

    #[test]
    fn keeps_plausible_media_types_and_replaces_the_rest() {
        assert_eq!(media_type(Some("application/pdf")), "application/pdf");
        assert_eq!(media_type(Some("Text/Plain; charset=utf-8")), "text/plain");
        assert_eq!(
            media_type(Some("text/html\r\nX-Evil: 1")),
            "application/octet-stream"
        );
        assert_eq!(media_type(Some("nonsense")), "application/octet-stream");
        assert_eq!(media_type(None), "application/octet-stream");
    }
}
