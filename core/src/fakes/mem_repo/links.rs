//! `LinkStore` on the in-memory transaction: the `document_links` table in
//! the same [`State`] as the documents, so a filing's links commit with
//! them, as in the SQL adapter.

use async_trait::async_trait;

use super::{MemTx, missing};
use crate::ids::{DocumentId, LinkId};
use crate::links::{DocumentLink, LinkKind, LinkStore};
use crate::ports::RepoError;

#[async_trait]
impl LinkStore for MemTx {
    async fn save_link(&mut self, l: &DocumentLink) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&l.space) {
            return Err(missing("space", l.space));
        }
        for d in [l.from, l.to] {
            if !s.documents.contains_key(&d) {
                return Err(missing("document", d));
            }
        }
        if s.links
            .values()
            .any(|o| o.id != l.id && (o.from, o.to, o.kind) == (l.from, l.to, l.kind))
        {
            return Err(RepoError::Conflict(format!(
                "a {} link from {} to {} exists",
                l.kind, l.from, l.to
            )));
        }
        s.links.insert(l.id, l.clone());
        Ok(())
    }

    async fn link(&mut self, id: LinkId) -> Result<Option<DocumentLink>, RepoError> {
        Ok(self.state().links.get(&id).cloned())
    }

    async fn link_between(
        &mut self,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Result<Option<DocumentLink>, RepoError> {
        Ok(self
            .state()
            .links
            .values()
            .find(|l| (l.from, l.to, l.kind) == (from, to, kind))
            .cloned())
    }

    async fn links_of(&mut self, document: DocumentId) -> Result<Vec<DocumentLink>, RepoError> {
        let mut out: Vec<DocumentLink> = self
            .state()
            .links
            .values()
            .filter(|l| !l.removed && (l.from == document || l.to == document))
            .cloned()
            .collect();
        out.sort_by_key(|l| (l.created_at, l.id));
        Ok(out)
    }
}
