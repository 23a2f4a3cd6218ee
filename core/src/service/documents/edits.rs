//! Changes to an existing document other than its content: metadata,
//! name and folder, deletion to the trash; each with an `_in` form that the
//! application of contractors' operations runs inside its own transaction.

use serde_json::{Map, Value, json};

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::role::Action;

use super::super::access::{Access, Fail, Outcome};
use super::super::locks::cover::Inside;
use super::super::{Actor, InternalApp, Passerelle};
use super::DocumentView;

impl Passerelle {
    /// `update_metadata` inside an open write transaction (also used to apply
    /// contractors' operations replicated from an edge).
    pub(crate) async fn update_metadata_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    ) -> Outcome<DocumentView> {
        let (a, mut d) = self.document_access(tx, actor, id).await?;
        a.require(
            Action::Edit {
                own: Access::owns(actor, d.created_by),
            },
            || id.to_string(),
        )?;
        a.require_writable()?;
        self.ensure_document_unlocked(tx, actor, &d).await?;
        d.metadata = self
            .typed_metadata(tx, doc_type.as_deref(), &metadata)
            .await?;
        d.doc_type = doc_type;
        d.updated_at = self.clock.now();
        d.revision = tx.next_revision().await?;
        tx.save_document(&d).await?;
        self.audit(
            tx,
            actor,
            "document.metadata",
            Some(d.space),
            Some(id.to_string()),
            json!({ "type": d.doc_type, "metadata": d.metadata }),
        )
        .await?;
        let version = self.current_version(tx, &d).await?;
        let lock = self.lock_view(tx, &d).await?;
        Ok(DocumentView {
            document: d,
            version,
            role: a.role,
            lock,
        })
    }

    /// `update_document` inside an open write transaction (also used to apply
    /// contractors' operations replicated from an edge).
    pub(crate) async fn update_document_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
        new_name: Option<&str>,
        new_folder: Option<Option<FolderId>>,
    ) -> Outcome<DocumentView> {
        let (a, mut d) = self.document_access(tx, actor, id).await?;
        a.require(
            Action::Edit {
                own: Access::owns(actor, d.created_by),
            },
            || id.to_string(),
        )?;
        a.require_writable()?;
        // The lock where the document is (its own, its folders'), before
        // it changes place.
        self.ensure_document_unlocked(tx, actor, &d).await?;
        if let Some(n) = new_name {
            d.name = DocumentName::parse(n).map_err(CoreError::name)?;
        }
        if let Some(folder) = new_folder {
            if let Some(f) = folder {
                self.live_folder(tx, d.space, f).await?;
            }
            if folder != d.folder {
                self.ensure_open_inside(tx, actor, d.space, folder, Inside::Respect)
                    .await?;
            }
            d.folder = folder;
        }
        self.ensure_name_free(tx, d.space, d.folder, &d.name, Some(id.as_uuid()))
            .await?;
        d.updated_at = self.clock.now();
        d.revision = tx.next_revision().await?;
        tx.save_document(&d).await?;
        self.audit(
            tx,
            actor,
            "document.update",
            Some(d.space),
            Some(id.to_string()),
            json!({ "name": d.name.as_str(), "folder": d.folder.map(|f| f.to_string()) }),
        )
        .await?;
        let version = self.current_version(tx, &d).await?;
        let lock = self.lock_view(tx, &d).await?;
        Ok(DocumentView {
            document: d,
            version,
            role: a.role,
            lock,
        })
    }

    /// `delete_document` inside an open write transaction (also used to apply
    /// contractors' operations replicated from an edge).
    pub(crate) async fn delete_document_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
    ) -> Outcome<()> {
        let (a, mut d) = self.document_access(tx, actor, id).await?;
        a.require(
            Action::Delete {
                own: Access::owns(actor, d.created_by),
            },
            || id.to_string(),
        )?;
        a.require_writable()?;
        self.ensure_document_unlocked(tx, actor, &d).await?;
        d.trashed = Some(crate::model::Trashed {
            at: self.clock.now(),
            by: actor.principal().map(|p| p.id).unwrap_or(d.created_by),
            with_folder: None,
        });
        d.revision = tx.next_revision().await?;
        tx.save_document(&d).await?;
        self.audit(
            tx,
            actor,
            "document.delete",
            Some(d.space),
            Some(id.to_string()),
            json!({ "name": d.name.as_str() }),
        )
        .await?;
        Ok(())
    }
}

impl InternalApp {
    /// Sets the document type and metadata (validated against the type).
    pub async fn update_metadata(
        &self,
        actor: &Actor,
        id: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let out = self
                .update_metadata_in(&mut tx, actor, id, doc_type, metadata)
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(out)
        })
        .await
    }

    /// Renames and/or moves a document within its space.
    /// `new_folder: Some(None)` moves it to the root.
    pub async fn update_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        new_name: Option<&str>,
        new_folder: Option<Option<FolderId>>,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let out = self
                .update_document_in(&mut tx, actor, id, new_name, new_folder)
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(out)
        })
        .await
    }

    /// Moves a document to the trash.
    pub async fn delete_document(&self, actor: &Actor, id: DocumentId) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            self.delete_document_in(&mut tx, actor, id).await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }
}
