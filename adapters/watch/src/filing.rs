//! Dropped files filed through core (ADR 0008 §2): the [`Ingest`] a node
//! gives each drop folder. It parses a claimed file by the drop folder's
//! kind (`pes`, `actes`, `generic`) into a plan of documents, stages their
//! content, asks core's ledger whether those bytes were filed already,
//! then files the plan in one unit of work as the drop folder's service
//! account, with the plans of the other files in flight that wait for the
//! database then (a group commit, `group`).
//!
//! A PES file is read once: it is staged whole while it is parsed, its
//! attachments decoded straight into the blob store, and the ledger's key
//! is the staged flow's hash. The other kinds hash the file first, ask the
//! ledger, then parse it (an @CTES bundle's attachments through a scratch
//! directory) and stage.
//!
//! What the file's sender can fix (a malformed flow, metadata its type
//! refuses, a name core refuses) is `Refused`, in French, and the file
//! goes to `erreur/`. What an administrator must fix (the service
//! account, its role, the target space) and what passes by itself (the
//! database, the disk, a lock) is `Retry`: the file waits in `en-cours/`,
//! so fixing the configuration needs no new drop.

mod actes;
mod generic;
mod group;
mod pes;
mod plan;
mod staging;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use passerelle_core::blob::ByteStream;
use passerelle_core::flows::DropName;
use passerelle_core::service::{Filing, FilingReceipt, FlowDocument, Staged};
use passerelle_core::{Actor, ContentHash, CoreError, InternalApp};
use passerelle_flux::Limits;
use serde_json::json;
use tokio_util::io::ReaderStream;

use crate::{Claimed, Ingest, Ingested};
use group::Group;
use plan::ScratchSink;
use staging::StagingSink;

pub use plan::{Content, Plan, PlannedDocument, Problem};

/// Reads of a file being staged: large enough that syscalls are rare.
const READ_BYTES: usize = 256 * 1024;

/// What a drop folder's files are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// Helios PES V2 files (`PES_Aller`).
    Pes,
    /// @CTES bundles (`.tar.gz`).
    Actes,
    /// Any file, filed as it is.
    Generic,
}

/// Where and as whom a drop folder files.
#[derive(Clone, Debug)]
pub struct DropTarget {
    pub source: DropName,
    pub kind: FlowKind,
    /// The service account's login.
    pub service: String,
    /// The target space's slug.
    pub space: String,
    /// The target folder below the space's root (created when missing).
    pub folder: Vec<String>,
    /// Bounds of the parsers.
    pub limits: Limits,
}

/// Files a drop folder's claimed files through core.
#[derive(Debug)]
pub struct Filer {
    app: InternalApp,
    target: DropTarget,
    /// Where attachments are decoded before they are staged (the node's
    /// data directory: a drop folder may be a slow network mount).
    staging: PathBuf,
    /// The files in flight whose filings wait for the database: filed
    /// together, one unit of work for several files.
    group: Group,
}

impl Filer {
    /// `staging` is created when missing; each file gets a temporary
    /// directory inside, removed when its filing ends.
    pub fn new(app: InternalApp, target: DropTarget, staging: PathBuf) -> Self {
        Self {
            app,
            target,
            staging,
            group: Group::default(),
        }
    }

    async fn file(&self, claimed: &Claimed) -> Result<FilingReceipt, Problem> {
        let actor = self
            .app
            .service_actor(&self.target.service)
            .await
            .map_err(|e| account_problem(&self.target.service, &e))?;
        if self.target.kind == FlowKind::Pes && !claimed.is_dir {
            return self.file_pes(&actor, claimed).await;
        }
        let hash = hash_path(&claimed.path).await.map_err(Problem::io)?;
        let flows = self.app.flows();
        if let Some(receipt) = flows
            .filed(&self.target.source, &hash)
            .await
            .map_err(|e| core_problem(&e))?
        {
            return Ok(receipt);
        }
        tokio::fs::create_dir_all(&self.staging)
            .await
            .map_err(Problem::io)?;
        let scratch = tempfile::Builder::new()
            .prefix("depot-")
            .tempdir_in(&self.staging)
            .map_err(Problem::io)?;
        let mut plan = self.plan(claimed, scratch.path()).await?;
        let documents = self
            .stage(
                &actor,
                std::mem::take(&mut plan.documents),
                &Parsed::default(),
            )
            .await?;
        self.file_plan(&actor, claimed, hash, documents, plan).await
    }

    /// A PES file, read once: staged whole on the runtime while a thread
    /// of its own parses it and decodes its attachments into the blob
    /// store.
    /// The staged flow's hash is the ledger's key; the ledger is asked
    /// once the parse is over, so that a flow filed already is answered
    /// with its receipt even if its parse now fails (a limit lowered).
    async fn file_pes(&self, actor: &Actor, claimed: &Claimed) -> Result<FilingReceipt, Problem> {
        let flows = self.app.flows();
        let file = tokio::fs::File::open(&claimed.path)
            .await
            .map_err(Problem::io)?;
        let whole = {
            let (flows, actor) = (flows.clone(), actor.clone());
            let content: ByteStream = Box::pin(ReaderStream::with_capacity(file, READ_BYTES));
            tokio::spawn(async move { flows.stage(&actor, content).await })
        };
        let mut sink = StagingSink::new(flows.clone(), actor.clone());
        let (path, name, limits) = (
            claimed.path.clone(),
            claimed.name.clone(),
            self.target.limits.clone(),
        );
        // A thread of its own, not the runtime's blocking pool: the parser
        // waits while the stages are behind, and the stages need that pool
        // (bounded, `passerelle_node::runtime`) to write; parses holding
        // its threads would stop every stage, theirs included.
        let (parsed, parsing) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("passerelle-pes".into())
            .spawn(move || {
                let plan = pes::plan(&path, &name, false, &limits, &mut sink);
                let _ = parsed.send((plan, sink));
            })
            .map_err(Problem::io)?;
        // A panic in the parser drops the sink (its stages are cut) and
        // the sender.
        let (plan, sink) = parsing.await.map_err(|_| {
            Problem::Retry("l'analyse du fichier s'est arrêtée (erreur interne)".into())
        })?;
        let finished = sink.finish(plan.is_ok()).await;
        let flow = whole
            .await
            .map_err(stopped)?
            .map_err(|e| core_problem(&e))?;
        if let Some(receipt) = flows
            .filed(&self.target.source, &flow.hash())
            .await
            .map_err(|e| core_problem(&e))?
        {
            return Ok(receipt);
        }
        if let Some(problem) = finished.failed {
            return Err(problem);
        }
        let mut plan = plan?;
        let parsed = Parsed {
            dropped: Some(flow),
            attachments: finished.staged,
        };
        let documents = self
            .stage(actor, std::mem::take(&mut plan.documents), &parsed)
            .await?;
        self.file_plan(actor, claimed, flow.hash(), documents, plan)
            .await
    }

    /// Files a plan whose documents are staged, in one unit of work with
    /// the other files whose plans wait then.
    async fn file_plan(
        &self,
        actor: &Actor,
        claimed: &Claimed,
        hash: ContentHash,
        documents: Vec<FlowDocument>,
        plan: Plan,
    ) -> Result<FilingReceipt, Problem> {
        let filing = Filing {
            source: self.target.source.clone(),
            hash,
            file_name: claimed.name.clone(),
            space: self.target.space.clone(),
            folder: self.target.folder.clone(),
            documents,
            comment: plan.comment,
            reference: plan.reference,
            links: plan.links,
        };
        self.group
            .file(&self.app.flows(), actor, filing)
            .await
            .map_err(|e| core_problem(&e))
    }

    /// Parses the file by kind, on a blocking thread (the parsers read
    /// std I/O), decoding attachments into `scratch`.
    async fn plan(&self, claimed: &Claimed, scratch: &Path) -> Result<Plan, Problem> {
        let (kind, limits) = (self.target.kind, self.target.limits.clone());
        let (path, name, scratch) = (
            claimed.path.clone(),
            claimed.name.clone(),
            scratch.to_owned(),
        );
        let is_dir = claimed.is_dir;
        tokio::task::spawn_blocking(move || match kind {
            FlowKind::Pes => {
                let mut sink = ScratchSink { dir: &scratch };
                pes::plan(&path, &name, is_dir, &limits, &mut sink)
            }
            FlowKind::Actes => actes::plan(&path, &name, is_dir, &limits, &scratch),
            FlowKind::Generic => generic::plan(&path, &name, is_dir),
        })
        .await
        .map_err(stopped)?
    }

    /// Stores each planned document's content, streamed, unless `parsed`
    /// staged it already.
    async fn stage(
        &self,
        actor: &Actor,
        planned: Vec<PlannedDocument>,
        parsed: &Parsed,
    ) -> Result<Vec<FlowDocument>, Problem> {
        let flows = self.app.flows();
        let mut out = Vec::with_capacity(planned.len());
        for d in planned {
            let stream: ByteStream = match &d.content {
                Content::File(path) => {
                    let file = tokio::fs::File::open(path).await.map_err(Problem::io)?;
                    Box::pin(ReaderStream::with_capacity(file, READ_BYTES))
                }
                Content::Bytes(bytes) => {
                    let b = bytes::Bytes::from(bytes.clone());
                    Box::pin(futures::stream::once(async move { Ok(b) }))
                }
                Content::Dropped | Content::Attachment(_) => {
                    let staged = parsed.get(&d.content)?;
                    out.push(d.staged(staged));
                    continue;
                }
            };
            let content = flows
                .stage(actor, stream)
                .await
                .map_err(|e| core_problem(&e))?;
            out.push(d.staged(content));
        }
        Ok(out)
    }
}

#[async_trait]
impl Ingest for Filer {
    async fn ingest(&self, file: &Claimed) -> Ingested {
        match self.file(file).await {
            Ok(receipt) => Ingested::Filed {
                receipt: receipt_json(&self.target, &receipt),
            },
            Err(Problem::Refused(reason)) => Ingested::Refused { reason },
            Err(Problem::Retry(error)) => Ingested::Retry { error },
        }
    }
}

/// What a PES file's read staged while it was parsed.
#[derive(Debug, Default)]
struct Parsed {
    /// The dropped file itself.
    dropped: Option<Staged>,
    /// The attachments, by index.
    attachments: BTreeMap<usize, Staged>,
}

impl Parsed {
    /// The staged content a plan's document names. Missing only if a
    /// parser planned content it did not decode: a defect, so the file
    /// waits rather than being filed without it.
    fn get(&self, content: &Content) -> Result<Staged, Problem> {
        let staged = match content {
            Content::Dropped => self.dropped,
            Content::Attachment(i) => self.attachments.get(i).copied(),
            Content::File(_) | Content::Bytes(_) => None,
        };
        staged.ok_or_else(|| {
            Problem::Retry(format!(
                "contenu planifié mais non enregistré pendant l'analyse ({content:?})"
            ))
        })
    }
}

impl PlannedDocument {
    fn staged(self, content: Staged) -> FlowDocument {
        FlowDocument {
            folder: self.folder,
            name: self.name,
            doc_type: self.doc_type,
            metadata: self.metadata,
            media_type: self.media_type,
            content,
        }
    }
}

/// A parse or a stage stopped by a panic or the runtime's shutdown.
fn stopped(e: tokio::task::JoinError) -> Problem {
    Problem::Retry(format!("l'analyse du fichier s'est arrêtée : {e}"))
}

/// The receipt written beside the filed file (`<name>.recu.json`).
fn receipt_json(target: &DropTarget, r: &FilingReceipt) -> serde_json::Value {
    let filed_at = r
        .filed_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "fichier": r.file_name,
        "empreinte_blake3": r.hash.to_hex(),
        "depot": target.source.as_str(),
        "espace": target.space,
        "classe_le": filed_at,
        "deja_classe": r.already,
        "en_attente_de_l_acte": r.waiting_for_act,
        "documents": r.documents.iter().map(|d| json!({
            "id": d.id.to_string(),
            "nom": d.name,
            "type": d.doc_type,
        })).collect::<Vec<_>>(),
    })
}

/// The content hash of a file, or of a directory bundle: its entries'
/// names and hashes in name order.
async fn hash_path(path: &Path) -> std::io::Result<ContentHash> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || plan::hash_path(&path))
        .await
        .map_err(std::io::Error::other)?
}

/// The service account cannot file: an administrator's fix, so the file
/// waits.
fn account_problem(login: &str, e: &CoreError) -> Problem {
    Problem::Retry(format!(
        "le compte de service « {login} » ne peut pas classer ({e}) : créez-le \
         (`passerelle-internal service add {login}`) ou réactivez-le"
    ))
}

/// A use case's refusal, as the drop folder treats it.
fn core_problem(e: &CoreError) -> Problem {
    match e {
        CoreError::Invalid {
            message, fields, ..
        } => {
            let detail: Vec<String> = fields
                .iter()
                .map(|f| format!("{} : {}", f.field, f.problem))
                .collect();
            Problem::Refused(if detail.is_empty() {
                format!("Le contenu du fichier est refusé : {message}.")
            } else {
                format!(
                    "Le contenu du fichier est refusé : {message} ({}).",
                    detail.join(" ; ")
                )
            })
        }
        CoreError::Conflict {
            code: "name_taken",
            message,
        } => Problem::Refused(format!("Un nom est déjà pris : {message}.")),
        CoreError::TooLarge { limit } => Problem::Refused(format!(
            "Un document dépasse la taille maximale d'un envoi ({limit} octets) : \
             découpez le flux ou demandez à l'administrateur de relever la limite."
        )),
        CoreError::NotFound(_) | CoreError::Forbidden(_) => Problem::Retry(format!(
            "l'espace cible est introuvable ou le compte de service n'a pas le droit \
             d'y créer des documents ({e}) : donnez-lui le rôle contributeur"
        )),
        other => Problem::Retry(other.to_string()),
    }
}
