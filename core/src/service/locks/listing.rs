//! What covers each child of a collection, read at once for a listing
//! (WebDAV lock discovery of a PROPFIND): one rights check and one read
//! where [`Locks::locks_on`] per child would take both per child.

use std::collections::HashMap;

use crate::error::CoreError;
use crate::ids::{FolderId, SpaceId};
use crate::locks::{Lock, LockDepth};
use crate::model::Resource;

use super::super::Actor;
use super::super::access::Fail;
use super::Locks;

/// The unexpired locks covering the children of one collection, read at
/// once for a listing: WebDAV lock discovery asks, for each entry of a
/// PROPFIND, what [`Locks::locks_on`] answers for one resource.
#[derive(Clone, Debug, Default)]
pub struct ListingLocks {
    /// Depth-infinity locks on the collection or above it: they cover
    /// every child.
    inherited: Vec<Lock>,
    /// The space's locks by the resource they are on (the children's
    /// among them).
    on: HashMap<Resource, Vec<Lock>>,
}

impl ListingLocks {
    /// What covers `child`, a child of the listed collection: the same
    /// locks as `locks_on(child)` (those on it, then the inherited ones).
    pub fn covering(&self, child: Resource) -> Vec<Lock> {
        self.on
            .get(&child)
            .into_iter()
            .flatten()
            .chain(&self.inherited)
            .cloned()
            .collect()
    }
}

impl Locks {
    /// What covers each child of `folder` of `space` (its root: `None`),
    /// in one read with one check of the right to read the space, where
    /// `locks_on` per child takes both per child. `NotFound` when the
    /// space or folder is absent or invisible.
    pub async fn listing_locks(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<ListingLocks, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.read().await?;
            app.access(&mut tx, actor, space).await?;
            if let Some(id) = folder {
                app.live_folder(&mut tx, space, id).await?;
            }
            let now = app.now();
            let chain = app.folder_chain(&mut tx, space, folder).await?;
            let inherited = tx
                .locks_of(&chain)
                .await?
                .into_iter()
                .filter(|l| l.is_live(now) && l.depth == LockDepth::Infinity)
                .collect();
            let mut on: HashMap<Resource, Vec<Lock>> = HashMap::new();
            for l in tx.space_locks(space).await? {
                if l.is_live(now) {
                    on.entry(l.resource).or_default().push(l);
                }
            }
            Ok::<_, Fail>(ListingLocks { inherited, on })
        })
        .await
    }
}
