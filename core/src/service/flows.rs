//! Filing business flows (ADR 0008 §2): what a drop folder's worker calls
//! once it has parsed a dropped file into documents. A filing is one unit
//! of work: its folders, its documents and its ingestion ledger row commit
//! together or not at all, so a `kill -9` mid-filing leaves nothing
//! partial, and the same bytes handed again (after a crash, or dropped
//! twice) find the ledger's row and file nothing new.
//!
//! The rights are the service account's, as for any member: creating in
//! the target space needs its `Create` right; the documents' names, types
//! and metadata go through the same checks as an upload.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::blob::{BlobInfo, ByteStream};
use crate::error::CoreError;
use crate::flows::{DropName, Ingestion};
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::links::LinkKind;
use crate::model::Document;
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::role::Action;

use super::access::{Fail, Outcome};
use super::documents::{NewDocument, check_comment};
use super::locks::cover::Inside;
use super::service_accounts::check_service;
use super::{Actor, InternalApp};

mod acts;

pub use acts::FlowReference;

/// Most documents one filing may create (a PES with its attachments).
pub const MAX_FILING_DOCUMENTS: usize = 10_000;

/// Most names tried when a document's name is taken (`name (2).xml`…).
const MAX_NAME_TRIES: u32 = 1_000;

/// The flows use cases of the internal node: `InternalApp::flows()`.
#[derive(Clone, Debug)]
pub struct Flows {
    app: InternalApp,
}

/// Content stored for a filing before its unit of work. Only
/// [`Flows::stage`] makes one, so a filing names only stored blobs; what a
/// failed filing staged is collected with the other unreferenced blobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staged(BlobInfo);

impl Staged {
    pub fn hash(&self) -> ContentHash {
        self.0.hash
    }

    pub fn size(&self) -> u64 {
        self.0.size
    }
}

/// One document of a filing.
#[derive(Clone, Debug)]
pub struct FlowDocument {
    /// Folders below the filing's target, created when missing.
    pub folder: Vec<String>,
    /// Its name; taken already, `name (2).ext` and so on.
    pub name: String,
    pub doc_type: Option<String>,
    pub metadata: Map<String, Value>,
    pub media_type: Option<String>,
    pub content: Staged,
}

/// A link between two documents of a filing, by their rank in
/// [`Filing::documents`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLink {
    pub from: usize,
    pub to: usize,
    pub kind: LinkKind,
}

/// A dropped file, parsed into documents.
#[derive(Clone, Debug)]
pub struct Filing {
    pub source: DropName,
    /// The dropped file's content hash: the ledger's key with `source`.
    pub hash: ContentHash,
    /// Its name as dropped (the receipt and the audit log repeat it).
    pub file_name: String,
    /// The target space, by slug.
    pub space: String,
    /// The target folder below the space's root, created when missing.
    pub folder: Vec<String>,
    /// The documents, the flow's own first; never empty.
    pub documents: Vec<FlowDocument>,
    /// Links between them (an attachment to its flow, an annex to its
    /// act), made in the same unit of work.
    pub links: Vec<FlowLink>,
    /// The versions' comment ("Déposé par Helios (finances)").
    pub comment: String,
    /// The business key other flows find this one by (an act and its
    /// acknowledgement meet through it).
    pub reference: Option<FlowReference>,
}

/// A document a filing made.
#[derive(Clone, Debug, PartialEq)]
pub struct FiledDocument {
    pub id: DocumentId,
    pub name: String,
    pub doc_type: Option<String>,
}

/// What became of a dropped file.
#[derive(Clone, Debug, PartialEq)]
pub struct FilingReceipt {
    pub file_name: String,
    pub hash: ContentHash,
    pub space: SpaceId,
    pub filed_at: OffsetDateTime,
    /// Filed by an earlier drop of the same bytes (nothing new now).
    pub already: bool,
    /// An acknowledgement whose act is not filed yet: the act's filing
    /// will apply it.
    pub waiting_for_act: bool,
    pub documents: Vec<FiledDocument>,
}

impl InternalApp {
    /// The flows use cases.
    pub fn flows(&self) -> Flows {
        Flows { app: self.clone() }
    }
}

impl Flows {
    /// The receipt of an earlier filing of these bytes from `source`, if
    /// any: a worker asks before parsing a file again.
    pub async fn filed(
        &self,
        source: &DropName,
        hash: &ContentHash,
    ) -> Result<Option<FilingReceipt>, CoreError> {
        let mut tx = self.app.read().await?;
        match tx.ingestion(source, hash).await? {
            Some(i) => Ok(Some(receipt_of(&mut tx, &i).await?)),
            None => Ok(None),
        }
    }

    /// Stores content a filing will name, within the node's upload limit.
    /// Only a service account stages.
    pub async fn stage(&self, actor: &Actor, content: ByteStream) -> Result<Staged, CoreError> {
        check_service(actor.principal()?)?;
        Ok(Staged(self.app.store_content(actor, None, content).await?))
    }

    /// Files `filing` as `actor` (a service account), all or nothing; the
    /// same bytes from the same drop folder a second time are answered
    /// with the first filing's receipt (`already`).
    pub async fn file(&self, actor: &Actor, filing: Filing) -> Result<FilingReceipt, CoreError> {
        self.app
            .guarded(actor, async {
                let comment = check_comment(&filing.comment)?;
                check_filing(&filing)?;
                let mut tx = self.app.write().await?;
                check_filer(&mut tx, actor).await?;
                let mut known = Resolved::default();
                let (receipt, wrote) = self
                    .file_in(&mut tx, actor, &filing, &comment, &mut known)
                    .await?;
                // An `already` answer wrote nothing: nothing to commit.
                if wrote {
                    self.app.commit(tx).await?;
                    filed_log(&receipt, &filing);
                }
                Ok::<_, Fail>(receipt)
            })
            .await
    }

    /// Files several filings as `actor` in one unit of work (a group
    /// commit: one transaction, one sync of the database for all), each
    /// answered as [`Flows::file`] would, in order. Each filing keeps its
    /// own ledger row, so each stays filed exactly once: a crash before
    /// the commit files none of them, and all are handed again.
    ///
    /// If any of them fails (a refused name, metadata its type refuses, a
    /// denial), the group's unit of work is dropped and each is filed
    /// alone: one bad file costs the others a second try, never their
    /// filing, and its error (and audited denial) is the one
    /// [`Flows::file`] gives.
    pub async fn file_all(
        &self,
        actor: &Actor,
        filings: Vec<Filing>,
    ) -> Vec<Result<FilingReceipt, CoreError>> {
        if filings.len() > 1 {
            match self.file_group(actor, &filings).await {
                Ok(receipts) => return receipts.into_iter().map(Ok).collect(),
                Err(e) => {
                    let e = match e {
                        Fail::Error(e) | Fail::Denied { shown: e, .. } => e,
                    };
                    tracing::debug!(error = %e, filings = filings.len(),
                        "a group of filings failed: each is filed alone");
                }
            }
        }
        let mut out = Vec::with_capacity(filings.len());
        for filing in filings {
            out.push(self.file(actor, filing).await);
        }
        out
    }

    /// [`Flows::file_all`]'s one unit of work; any failure drops it whole.
    async fn file_group(&self, actor: &Actor, filings: &[Filing]) -> Outcome<Vec<FilingReceipt>> {
        let mut tx = self.app.write().await?;
        check_filer(&mut tx, actor).await?;
        // Shared by the group: its flows file into the same few folders.
        let mut known = Resolved::default();
        let mut receipts = Vec::with_capacity(filings.len());
        let mut wrote = false;
        for filing in filings {
            let comment = check_comment(&filing.comment)?;
            check_filing(filing)?;
            let (receipt, w) = self
                .file_in(&mut tx, actor, filing, &comment, &mut known)
                .await?;
            wrote |= w;
            receipts.push(receipt);
        }
        if wrote {
            self.app.commit(tx).await?;
        }
        for (receipt, filing) in receipts.iter().zip(filings) {
            if !receipt.already {
                filed_log(receipt, filing);
            }
        }
        Ok(receipts)
    }

    /// One filing inside an open unit of work whose actor was checked
    /// ([`check_filer`]); its receipt, and whether it wrote anything (not
    /// when the ledger knew these bytes already).
    async fn file_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        filing: &Filing,
        comment: &str,
        known: &mut Resolved,
    ) -> Outcome<(FilingReceipt, bool)> {
        if let Some(i) = tx.ingestion(&filing.source, &filing.hash).await? {
            return Ok((receipt_of(tx, &i).await?, false));
        }
        let me = actor.principal()?;
        let space = tx
            .space_by_slug(&filing.space)
            .await?
            .ok_or(CoreError::NotFound("space"))?
            .id;
        let a = self.app.access(tx, actor, space).await?;
        a.require(Action::Create, || space.to_string())?;
        a.require_writable()?;
        let mut filed = Vec::with_capacity(filing.documents.len());
        for doc in &filing.documents {
            let path = filing.folder.iter().chain(&doc.folder);
            let folder = self.folder_path(tx, actor, space, known, path).await?;
            filed.push(
                self.file_one(tx, actor, space, folder, doc, comment)
                    .await?,
            );
        }
        for l in &filing.links {
            let (Some(from), Some(to)) = (filed.get(l.from), filed.get(l.to)) else {
                return Err(CoreError::invalid(
                    "invalid_filing",
                    "a filing's link names a document it does not file",
                )
                .into());
            };
            self.app.link_in(tx, actor, from.id, to.id, l.kind).await?;
        }
        let waiting_for_act = match (&filing.reference, filed.first()) {
            (Some(r), Some(first)) => self.app.meet(tx, actor, space, r, first.id).await?,
            _ => false,
        };
        let now = self.app.now();
        tx.save_ingestion(&Ingestion {
            source: filing.source.clone(),
            hash: filing.hash,
            file_name: filing.file_name.clone(),
            space,
            filed_by: me.id,
            filed_at: now,
            documents: filed.iter().map(|d| d.id).collect(),
            reference: filing.reference.as_ref().map(FlowReference::key),
        })
        .await?;
        self.app
            .audit(
                tx,
                actor,
                "flow.filed",
                Some(space),
                Some(filing.source.to_string()),
                json!({
                    "file": filing.file_name,
                    "hash": filing.hash,
                    "documents": filed.len(),
                }),
            )
            .await?;
        let receipt = FilingReceipt {
            file_name: filing.file_name.clone(),
            hash: filing.hash,
            space,
            filed_at: now,
            already: false,
            waiting_for_act,
            documents: filed,
        };
        Ok((receipt, true))
    }

    /// How many files `source` has filed.
    pub async fn count_filed(&self, source: &DropName) -> Result<u64, CoreError> {
        let mut tx = self.app.read().await?;
        Ok(tx.count_ingestions(source).await?)
    }

    /// One document of a filing, in `folder` (its folder resolved), under
    /// a free name.
    async fn file_one(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        doc: &FlowDocument,
        comment: &str,
    ) -> Outcome<FiledDocument> {
        let wanted = DocumentName::parse(&doc.name).map_err(CoreError::name)?;
        let name = free_name(tx, space, folder, &wanted).await?;
        let new = NewDocument {
            space,
            folder,
            name: name.as_str().to_owned(),
            doc_type: doc.doc_type.clone(),
            metadata: doc.metadata.clone(),
            media_type: doc.media_type.clone(),
            comment: comment.to_owned(),
        };
        let view = self
            .app
            .create_document_in(
                tx,
                actor,
                &new,
                doc.content.0,
                comment.to_owned(),
                Inside::Respect,
            )
            .await?;
        Ok(filed_document(&view.document))
    }

    /// The folder at `names` below the space's root, each missing one
    /// created; `known` holds what this unit of work resolved already.
    async fn folder_path(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        known: &mut Resolved,
        names: impl Iterator<Item = &String>,
    ) -> Outcome<Option<FolderId>> {
        let mut parent = None;
        // The parent was created by this unit of work.
        let mut fresh = false;
        let mut keys: Vec<String> = Vec::new();
        for raw in names {
            let name = DocumentName::parse(raw).map_err(CoreError::name)?;
            let key = name.unique_key();
            keys.push(key.clone());
            if let Some(&(id, created)) = known.0.get(&(space, keys.clone())) {
                (parent, fresh) = (Some(id), created);
                continue;
            }
            // Below a folder this unit of work created there is only what
            // it created (known above); elsewhere a free name is created
            // without listing its siblings, which grow by one with every
            // flow filed in the target.
            let existing = if fresh || !tx.name_taken(space, parent, &key, None).await? {
                None
            } else {
                tx.list_folders(space, parent)
                    .await?
                    .into_iter()
                    .find(|f| f.name.unique_key() == key)
            };
            let (id, created) = match existing {
                Some(f) => (f.id, false),
                None => {
                    let f = self
                        .app
                        .create_folder_in(
                            tx,
                            actor,
                            space,
                            parent,
                            raw,
                            FolderId::new(),
                            Inside::Respect,
                        )
                        .await?;
                    (f.id, true)
                }
            };
            known.0.insert((space, keys.clone()), (id, created));
            (parent, fresh) = (Some(id), created);
        }
        Ok(parent)
    }
}

/// The folders a unit of work found or created, by their space and path
/// of unique keys from the space's root, and whether it created them.
#[derive(Default)]
struct Resolved(HashMap<(SpaceId, Vec<String>), (FolderId, bool)>);

/// Checked again inside each unit of work: an account disabled since the
/// worker started files nothing more.
async fn check_filer(tx: &mut Box<dyn Tx>, actor: &Actor) -> Outcome<()> {
    let me = actor.principal()?;
    let current = tx
        .principal(me.id)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    check_service(&current)?;
    Ok(())
}

fn filed_log(receipt: &FilingReceipt, filing: &Filing) {
    tracing::info!(source = %filing.source, file = %filing.file_name,
        documents = receipt.documents.len(), "flow filed");
}

/// Bounds a filing before anything is read: at least one document, at
/// most [`MAX_FILING_DOCUMENTS`], and a file name a receipt can repeat.
fn check_filing(f: &Filing) -> Result<(), CoreError> {
    if f.documents.is_empty() || f.documents.len() > MAX_FILING_DOCUMENTS {
        return Err(CoreError::invalid(
            "invalid_filing",
            format!("a filing has 1 to {MAX_FILING_DOCUMENTS} documents"),
        ));
    }
    if f.file_name.is_empty()
        || f.file_name.chars().count() > 255
        || f.file_name.chars().any(char::is_control)
    {
        return Err(CoreError::invalid(
            "invalid_filing",
            "a dropped file's name has 1 to 255 characters, without control characters",
        ));
    }
    Ok(())
}

/// `wanted` if free in `folder`, else `stem (2).ext`, `stem (3).ext`…
async fn free_name(
    tx: &mut Box<dyn Tx>,
    space: SpaceId,
    folder: Option<FolderId>,
    wanted: &DocumentName,
) -> Outcome<DocumentName> {
    if !tx
        .name_taken(space, folder, &wanted.unique_key(), None)
        .await?
    {
        return Ok(wanted.clone());
    }
    let raw = wanted.as_str();
    // A leading dot is part of the stem (".profile" has no extension).
    let (stem, ext) = match raw.rfind('.') {
        Some(i) if i > 0 => raw.split_at(i),
        _ => (raw, ""),
    };
    for n in 2..=MAX_NAME_TRIES {
        // A name too long with its suffix is refused by the parse: try
        // the next number rather than fail (it will be refused too, and
        // the loop ends with the conflict below).
        let Ok(candidate) = DocumentName::parse(&format!("{stem} ({n}){ext}")) else {
            continue;
        };
        if !tx
            .name_taken(space, folder, &candidate.unique_key(), None)
            .await?
        {
            return Ok(candidate);
        }
    }
    Err(CoreError::conflict(
        "name_taken",
        format!("\"{wanted}\" and its {MAX_NAME_TRIES} numbered variants are taken in this folder"),
    )
    .into())
}

fn filed_document(d: &Document) -> FiledDocument {
    FiledDocument {
        id: d.id,
        name: d.name.as_str().to_owned(),
        doc_type: d.doc_type.clone(),
    }
}

/// The receipt of a ledger row: its documents as they are now (renamed,
/// trashed or purged since, they are listed as the ledger names them).
async fn receipt_of(tx: &mut Box<dyn Tx>, i: &Ingestion) -> Result<FilingReceipt, CoreError> {
    let mut documents = Vec::with_capacity(i.documents.len());
    for id in &i.documents {
        documents.push(match tx.document(*id).await? {
            Some(d) => filed_document(&d),
            None => FiledDocument {
                id: *id,
                name: String::new(),
                doc_type: None,
            },
        });
    }
    Ok(FilingReceipt {
        file_name: i.file_name.clone(),
        hash: i.hash,
        space: i.space,
        filed_at: i.filed_at,
        already: true,
        // As it was then: the ledger does not follow the act's arrival.
        waiting_for_act: false,
        documents,
    })
}
