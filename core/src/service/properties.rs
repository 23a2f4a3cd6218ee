//! The use cases of dead properties (ADR 0007 §2): read them with the right
//! to read the resource, change them with the right to edit it. A facade of
//! its own over the [`PropertyStore`] port rather than more methods on
//! [`Passerelle`], as `Search` is.
//!
//! Successful changes are not audited one by one: clients set these on
//! every save (Windows writes its timestamps after each PUT), and they
//! change nothing of the content, its name or its place. Denials are
//! audited, as for every use case.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::CoreError;
use crate::ids::{FolderId, SpaceId};
use crate::model::Resource;
use crate::properties::{
    DeadProperty, MAX_PER_RESOURCE, PropertyChange, PropertyName, PropertyStore,
};
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::{Actor, Passerelle};

/// The dead properties of spaces, folders and documents, under the
/// resources' rights.
#[derive(Clone, Debug)]
pub struct Properties {
    app: Passerelle,
    store: Arc<dyn PropertyStore>,
}

impl Properties {
    pub fn new(app: &Passerelle, store: Arc<dyn PropertyStore>) -> Self {
        Self {
            app: app.clone(),
            store,
        }
    }

    /// The actor's access to the space holding `resource` (a live folder
    /// or document; `NotFound` when absent or invisible) and whether the
    /// actor would edit it as its creator.
    async fn access(&self, actor: &Actor, resource: Resource) -> Outcome<(Access, Action)> {
        let mut tx = self.app.read().await?;
        Ok(match resource {
            Resource::Space(id) => {
                let a = self.app.access(&mut tx, actor, id).await?;
                (a, Action::Edit { own: false })
            }
            Resource::Folder(id) => {
                let (a, f) = self.app.folder_access(&mut tx, actor, id).await?;
                let own = Access::owns(actor, f.created_by);
                (a, Action::Edit { own })
            }
            Resource::Document(id) => {
                let (a, d) = self.app.document_access(&mut tx, actor, id).await?;
                let own = Access::owns(actor, d.created_by);
                (a, Action::Edit { own })
            }
        })
    }

    /// The dead properties of `resource`, by namespace then name.
    pub async fn get(
        &self,
        actor: &Actor,
        resource: Resource,
    ) -> Result<Vec<DeadProperty>, CoreError> {
        self.app
            .guarded(actor, async {
                self.access(actor, resource).await?;
                Ok::<_, Fail>(self.store.properties(resource).await?)
            })
            .await
    }

    /// The dead properties of every live folder and document directly in
    /// `folder` of `space` (its root with `None`), by resource (a child
    /// without any is absent): a listing's, with one check of the right to
    /// read the space and one store read, where [`Properties::get`] per
    /// child would take both per child. `NotFound` as for `get` when the
    /// space or folder is absent or invisible: what is inside is then
    /// never read.
    pub async fn children(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<HashMap<Resource, Vec<DeadProperty>>, CoreError> {
        self.app
            .guarded(actor, async {
                {
                    let mut tx = self.app.read().await?;
                    self.app.access(&mut tx, actor, space).await?;
                    if let Some(id) = folder {
                        self.app.live_folder(&mut tx, space, id).await?;
                    }
                }
                let mut out: HashMap<Resource, Vec<DeadProperty>> = HashMap::new();
                for (r, p) in self.store.children_properties(space, folder).await? {
                    out.entry(r).or_default().push(p);
                }
                Ok::<_, Fail>(out)
            })
            .await
    }

    /// Applies `changes` in order, all or nothing. Needs the right to edit
    /// the resource (for a space's root: a collaborator's) in a space that
    /// is not archived; past [`MAX_PER_RESOURCE`] properties the change is
    /// refused (`Invalid`).
    pub async fn patch(
        &self,
        actor: &Actor,
        resource: Resource,
        changes: Vec<PropertyChange>,
    ) -> Result<(), CoreError> {
        // The last change of each name is the one that stands.
        let mut last: BTreeMap<PropertyName, Option<String>> = BTreeMap::new();
        for c in changes {
            match c {
                PropertyChange::Set(p) => last.insert(p.name, Some(p.xml)),
                PropertyChange::Remove(n) => last.insert(n, None),
            };
        }
        let mut set = Vec::new();
        let mut remove = Vec::new();
        for (name, value) in last {
            match value {
                Some(xml) => set.push(DeadProperty { name, xml }),
                None => remove.push(name),
            }
        }
        self.app
            .guarded(actor, async {
                let (a, edit) = self.access(actor, resource).await?;
                a.require(edit, || format!("{resource:?}"))?;
                a.require_writable()?;
                // What the resource would hold after the change. Two patches
                // racing may together pass the limit by a little: it bounds
                // what a client can store, it is not an exact quota.
                let mut after: BTreeMap<PropertyName, ()> = self
                    .store
                    .properties(resource)
                    .await?
                    .into_iter()
                    .map(|p| (p.name, ()))
                    .collect();
                for r in &remove {
                    after.remove(r);
                }
                for s in &set {
                    after.insert(s.name.clone(), ());
                }
                if after.len() > MAX_PER_RESOURCE {
                    return Err(CoreError::invalid(
                        "too_many_properties",
                        format!("a resource holds at most {MAX_PER_RESOURCE} properties"),
                    )
                    .into());
                }
                self.store.patch(resource, &set, &remove).await?;
                Ok::<_, Fail>(())
            })
            .await
    }
}
