//! `PropertyStore` on [`MemRepository`]: dead properties kept in the same
//! [`State`], ordered as the SQL adapter lists them (resource, namespace,
//! name in code-point order).
//!
//! Written outside transactions, as `extractions`: a write waits for the
//! writer lock so that a committing write transaction cannot lose it.

use std::sync::Arc;

use async_trait::async_trait;

use super::{MemRepository, ResourceKey, lock};
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::Resource;
use crate::ports::RepoError;
use crate::properties::{DeadProperty, PropertyName, PropertyStore};

fn key(r: Resource) -> ResourceKey {
    match r {
        Resource::Space(id) => (0, id.as_uuid()),
        Resource::Folder(id) => (1, id.as_uuid()),
        Resource::Document(id) => (2, id.as_uuid()),
    }
}

#[async_trait]
impl PropertyStore for MemRepository {
    async fn properties(&self, resource: Resource) -> Result<Vec<DeadProperty>, RepoError> {
        let k = key(resource);
        Ok(self
            .snapshot()
            .properties
            .iter()
            .filter(|((r, _), _)| *r == k)
            .map(|((_, name), xml)| DeadProperty {
                name: name.clone(),
                xml: xml.clone(),
            })
            .collect())
    }

    async fn children_properties(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<(Resource, DeadProperty)>, RepoError> {
        let state = self.snapshot();
        // A child by its key, when it is a live child of the collection.
        let child = |(kind, id): ResourceKey| -> Option<Resource> {
            let live = |trashed: bool, purged: bool| !trashed && !purged;
            match kind {
                1 => {
                    let id = FolderId::from_uuid(id);
                    let f = state.folders.get(&id)?;
                    (f.space == space && f.parent == folder && live(f.trashed.is_some(), f.purged))
                        .then_some(Resource::Folder(id))
                }
                2 => {
                    let id = DocumentId::from_uuid(id);
                    let d = state.documents.get(&id)?;
                    (d.space == space && d.folder == folder && live(d.trashed.is_some(), d.purged))
                        .then_some(Resource::Document(id))
                }
                _ => None,
            }
        };
        Ok(state
            .properties
            .iter()
            .filter_map(|((k, name), xml)| {
                let p = DeadProperty {
                    name: name.clone(),
                    xml: xml.clone(),
                };
                child(*k).map(|r| (r, p))
            })
            .collect())
    }

    async fn patch(
        &self,
        resource: Resource,
        set: &[DeadProperty],
        remove: &[PropertyName],
    ) -> Result<(), RepoError> {
        let k = key(resource);
        let _writer = self.writer.lock().await;
        let mut committed = lock(&self.committed);
        let state = Arc::make_mut(&mut committed);
        for name in remove {
            state.properties.remove(&(k, name.clone()));
        }
        for p in set {
            state.properties.insert((k, p.name.clone()), p.xml.clone());
        }
        Ok(())
    }
}
