//! Links between documents (ADR 0008 §4): made and removed on the
//! internal node as an edit of the source document (its role's `Edit`
//! right, its lock, its space writable); read on both nodes, showing only
//! the links whose other end the reader can see, so that a link into a
//! space the reader cannot see is absent, never "hidden".

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{DocumentId, LinkId};
use crate::links::{DocumentLink, LinkKind};
use crate::model::Document;
use crate::ports::Tx;
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::{Actor, InternalApp, Passerelle};

/// A link as a reader of one of its ends sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkView {
    pub link: DocumentLink,
    /// The document asked about is the link's source.
    pub outgoing: bool,
    /// The other end, live and visible to the reader.
    pub other: Document,
}

impl Passerelle {
    /// The links from and to a document the actor may read, each with its
    /// other end, oldest first; those whose other end is gone or out of
    /// the actor's sight are left out.
    pub async fn document_links(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Vec<LinkView>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.document_access(&mut tx, actor, id).await?;
            let mut out = Vec::new();
            for link in tx.links_of(id).await? {
                let outgoing = link.from == id;
                let other = if outgoing { link.to } else { link.from };
                if let Some(other) = self.visible_document(&mut tx, actor, other).await? {
                    out.push(LinkView {
                        link,
                        outgoing,
                        other,
                    });
                }
            }
            Ok::<_, Fail>(out)
        })
        .await
    }

    /// `id` if it is live and the actor may read its space. Nothing is
    /// audited: a link's far end out of sight is not an attempt to see it.
    async fn visible_document(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Option<Document>, CoreError> {
        match self.document_access(tx, actor, id).await {
            Ok((_, d)) => Ok(Some(d)),
            Err(Fail::Denied { .. }) | Err(Fail::Error(CoreError::NotFound(_))) => Ok(None),
            Err(Fail::Error(e)) => Err(e),
        }
    }
}

impl InternalApp {
    /// Links `from` to `to` as `kind`: an edit of `from`. Linking again
    /// what is linked answers the existing link; a removed one is revived.
    pub async fn link_documents(
        &self,
        actor: &Actor,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Result<DocumentLink, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let link = self.link_in(&mut tx, actor, from, to, kind).await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(link)
        })
        .await
    }

    /// Removes the link `id` whose source is `from`: an edit of `from`.
    pub async fn unlink_documents(
        &self,
        actor: &Actor,
        from: DocumentId,
        id: LinkId,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let (_, d) = self.editable_source(&mut tx, actor, from).await?;
            let mut link = match tx.link(id).await? {
                Some(l) if l.from == d.id && !l.removed => l,
                _ => return Err(CoreError::NotFound("link").into()),
            };
            link.removed = true;
            link.revision = tx.next_revision().await?;
            tx.save_link(&link).await?;
            self.audit(
                &mut tx,
                actor,
                "link.delete",
                Some(link.space),
                Some(link.id.to_string()),
                json!({ "from": link.from, "to": link.to, "kind": link.kind.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// `link_documents` inside an open write transaction (a filing links
    /// what it files in its unit of work).
    pub(crate) async fn link_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Outcome<DocumentLink> {
        let (_, source) = self.editable_source(tx, actor, from).await?;
        if from == to {
            return Err(CoreError::invalid(
                "invalid_link",
                "a document cannot be linked to itself",
            )
            .into());
        }
        // Absent and invisible alike: a link never tells what exists in a
        // space the actor cannot see.
        self.document_access(tx, actor, to).await?;
        let now = self.now();
        let author = actor.principal()?.id;
        let link = match tx.link_between(from, to, kind).await? {
            Some(l) if !l.removed => return Ok(l),
            Some(l) => DocumentLink {
                removed: false,
                created_by: author,
                created_at: now,
                revision: tx.next_revision().await?,
                ..l
            },
            None => DocumentLink {
                id: LinkId::new(),
                space: source.space,
                from,
                to,
                kind,
                created_by: author,
                created_at: now,
                removed: false,
                revision: tx.next_revision().await?,
            },
        };
        tx.save_link(&link).await?;
        self.audit(
            tx,
            actor,
            "link.create",
            Some(link.space),
            Some(link.id.to_string()),
            json!({ "from": from, "to": to, "kind": kind.as_str() }),
        )
        .await?;
        Ok(link)
    }

    /// The live source document, if the actor may edit it now (role,
    /// space writable, no other principal's lock).
    async fn editable_source(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: DocumentId,
    ) -> Outcome<(Access, Document)> {
        let (a, d) = self.document_access(tx, actor, id).await?;
        a.require(
            Action::Edit {
                own: Access::owns(actor, d.created_by),
            },
            || id.to_string(),
        )?;
        a.require_writable()?;
        self.ensure_document_unlocked(tx, actor, &d).await?;
        Ok((a, d))
    }
}
