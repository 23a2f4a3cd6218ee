//! Folders: the tree of a space.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::model::{Document, Folder, Page, Paged, Resource, Trashed, Version};
use crate::names::DocumentName;
use crate::ports::{DocumentQuery, Tx};
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::locks::cover::Inside;
use super::{Actor, InternalApp, Passerelle};

/// The content of a folder (or of a space's root).
#[derive(Clone, Debug, PartialEq)]
pub struct FolderListing {
    pub folder: Option<Folder>,
    pub folders: Vec<Folder>,
    pub documents: Paged<Document>,
}

/// A folder's content with each document's current version: what a
/// WebDAV listing shows (sizes, ETags) without a read per document.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderContents {
    pub folders: Vec<Folder>,
    pub documents: Vec<(Document, Version)>,
    /// The display names of those versions' authors, as a document's page
    /// shows who wrote each version; read once per distinct author (a
    /// folder has thousands of documents and a handful of authors). An
    /// author whose account no longer exists is absent.
    pub authors: HashMap<PrincipalId, String>,
}

impl Passerelle {
    /// A live folder of `space`; any other case is "not found" (another
    /// space's folder id included).
    pub(crate) async fn live_folder(
        &self,
        tx: &mut Box<dyn Tx>,
        space: SpaceId,
        id: FolderId,
    ) -> Outcome<Folder> {
        match tx.folder(id).await? {
            Some(f) if f.space == space && f.trashed.is_none() && !f.purged => Ok(f),
            _ => Err(CoreError::NotFound("folder").into()),
        }
    }

    /// Refuses a name already used (case-insensitively) by a live folder or
    /// document in the same parent.
    pub(crate) async fn ensure_name_free(
        &self,
        tx: &mut Box<dyn Tx>,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &DocumentName,
        except: Option<uuid::Uuid>,
    ) -> Outcome<()> {
        if tx
            .name_taken(space, parent, &name.unique_key(), except)
            .await?
        {
            return Err(CoreError::conflict(
                "name_taken",
                format!("\"{name}\" already exists in this folder"),
            )
            .into());
        }
        Ok(())
    }

    /// `create_folder` inside an open write transaction (also used to apply
    /// contractors' operations replicated from an edge).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create_folder_in(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &str,
        id: FolderId,
        inside: Inside,
    ) -> Outcome<Folder> {
        let a = self.access(tx, actor, space).await?;
        a.require(Action::Create, || space.to_string())?;
        a.require_writable()?;
        let name = DocumentName::parse(name).map_err(CoreError::name)?;
        if let Some(p) = parent {
            self.live_folder(tx, space, p).await?;
        }
        self.ensure_open_inside(tx, actor, space, parent, inside)
            .await?;
        self.ensure_name_free(tx, space, parent, &name, None)
            .await?;
        let f = Folder {
            id,
            space,
            parent,
            name,
            created_by: actor.principal()?.id,
            created_at: self.clock.now(),
            trashed: None,
            purged: false,
            revision: tx.next_revision().await?,
        };
        tx.save_folder(&f).await?;
        self.audit(
            tx,
            actor,
            "folder.create",
            Some(space),
            Some(f.id.to_string()),
            json!({ "name": f.name.as_str() }),
        )
        .await?;
        Ok(f)
    }

    /// Lists a folder (or the root with `folder: None`).
    pub async fn list_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Result<FolderListing, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            let this = match folder {
                Some(id) => Some(self.live_folder(&mut tx, space, id).await?),
                None => None,
            };
            let folders = tx.list_folders(space, folder).await?;
            let documents = tx.list_documents(space, folder, page).await?;
            Ok::<_, Fail>(FolderListing {
                folder: this,
                folders,
                documents,
            })
        })
        .await
    }

    /// Every live folder and document of a folder (the root with `folder:
    /// None`), each document with its current version, in one read
    /// transaction and one access check.
    pub async fn folder_contents(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<FolderContents, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            if let Some(id) = folder {
                self.live_folder(&mut tx, space, id).await?;
            }
            let folders = tx.list_folders(space, folder).await?;
            let listed = tx.list_documents(space, folder, Page::all()).await?;
            // One read for all current versions, not one per document.
            let mut current: HashMap<DocumentId, Version> = tx
                .current_versions(space, folder)
                .await?
                .into_iter()
                .map(|v| (v.document, v))
                .collect();
            let mut documents = Vec::with_capacity(listed.items.len());
            // `None`: looked up, no such account (not looked up again).
            let mut names: HashMap<PrincipalId, Option<String>> = HashMap::new();
            for d in listed.items {
                let v = match current.remove(&d.id) {
                    Some(v) if v.number == d.current_version => v,
                    // Both reads share one transaction, so they agree: a
                    // missing one is a broken row, reported as one.
                    _ => self.current_version(&mut tx, &d).await?,
                };
                if let Entry::Vacant(slot) = names.entry(v.author) {
                    slot.insert(tx.principal(v.author).await?.map(|p| p.display_name));
                }
                documents.push((d, v));
            }
            let authors = names
                .into_iter()
                .filter_map(|(id, name)| Some((id, name?)))
                .collect();
            Ok::<_, Fail>(FolderContents {
                folders,
                documents,
                authors,
            })
        })
        .await
    }

    /// Lists a folder with its documents filtered and sorted by `query`
    /// over the whole folder (the store does it), then paged.
    pub async fn browse_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        query: &DocumentQuery,
        page: Page,
    ) -> Result<FolderListing, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            let this = match folder {
                Some(id) => Some(self.live_folder(&mut tx, space, id).await?),
                None => None,
            };
            let folders = tx.list_folders(space, folder).await?;
            let documents = tx.query_documents(space, folder, query, page).await?;
            Ok::<_, Fail>(FolderListing {
                folder: this,
                folders,
                documents,
            })
        })
        .await
    }

    /// Every live folder of a space (trashed ones and what is under them
    /// left out), by name: the space's folder tree, for any reader.
    pub async fn folder_tree(
        &self,
        actor: &Actor,
        space: SpaceId,
    ) -> Result<Vec<Folder>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            // A folder trashed with its parent carries `trashed` itself, so
            // dropping trashed rows drops whole subtrees.
            let all = tx.all_folders(space).await?;
            Ok::<_, Fail>(all.into_iter().filter(|f| f.trashed.is_none()).collect())
        })
        .await
    }

    /// A live folder and the actor's access to its space.
    pub(crate) async fn folder_access(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        id: FolderId,
    ) -> Outcome<(Access, Folder)> {
        let f = match tx.folder(id).await? {
            Some(f) if f.trashed.is_none() && !f.purged => f,
            _ => return Err(CoreError::NotFound("folder").into()),
        };
        let a = self.access_as(tx, actor, f.space, "folder").await?;
        Ok((a, f))
    }
}

impl InternalApp {
    pub async fn create_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &str,
    ) -> Result<Folder, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let out = self
                .create_folder_in(
                    &mut tx,
                    actor,
                    space,
                    parent,
                    name,
                    FolderId::new(),
                    Inside::Respect,
                )
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(out)
        })
        .await
    }

    /// Renames and/or moves a folder. `new_parent: Some(None)` moves it to the root.
    pub async fn update_folder(
        &self,
        actor: &Actor,
        id: FolderId,
        new_name: Option<&str>,
        new_parent: Option<Option<FolderId>>,
    ) -> Result<Folder, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let (a, mut f) = self.folder_access(&mut tx, actor, id).await?;
            let own = Access::owns(actor, f.created_by);
            a.require(Action::Edit { own }, || id.to_string())?;
            a.require_writable()?;
            let chain = self.folder_chain(&mut tx, f.space, Some(id)).await?;
            self.ensure_unlocked(&mut tx, actor, &chain).await?;
            if let Some(n) = new_name {
                f.name = DocumentName::parse(n).map_err(CoreError::name)?;
            }
            if let Some(parent) = new_parent {
                if let Some(p) = parent {
                    self.live_folder(&mut tx, f.space, p).await?;
                    // Refuse moving a folder under itself or its descendants.
                    let parents: HashMap<FolderId, Option<FolderId>> = tx
                        .all_folders(f.space)
                        .await?
                        .into_iter()
                        .map(|x| (x.id, x.parent))
                        .collect();
                    let mut cursor = Some(p);
                    while let Some(c) = cursor {
                        if c == id {
                            return Err(CoreError::conflict(
                                "folder_cycle",
                                "a folder cannot move into itself",
                            )
                            .into());
                        }
                        cursor = parents.get(&c).copied().flatten();
                    }
                }
                if parent != f.parent {
                    self.ensure_open_inside(&mut tx, actor, f.space, parent, Inside::Respect)
                        .await?;
                }
                f.parent = parent;
            }
            self.ensure_name_free(&mut tx, f.space, f.parent, &f.name, Some(id.as_uuid()))
                .await?;
            f.revision = tx.next_revision().await?;
            tx.save_folder(&f).await?;
            self.audit(
                &mut tx,
                actor,
                "folder.update",
                Some(f.space),
                Some(id.to_string()),
                json!({ "name": f.name.as_str(), "parent": f.parent.map(|p| p.to_string()) }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(f)
        })
        .await
    }

    /// Moves a folder and everything under it to the trash.
    pub async fn delete_folder(&self, actor: &Actor, id: FolderId) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let (a, f) = self.folder_access(&mut tx, actor, id).await?;
            let own = Access::owns(actor, f.created_by);
            a.require(Action::Delete { own }, || id.to_string())?;
            a.require_writable()?;
            // Trashing the folder trashes what is below it: a lock there
            // of someone else refuses it as one on the folder would.
            let chain = self.folder_chain(&mut tx, f.space, Some(id)).await?;
            let mut locks = self.covering(&mut tx, &chain).await?;
            locks.extend(self.below(&mut tx, f.space, Resource::Folder(id)).await?);
            self.refuse_if_blocked(&mut tx, actor, &locks).await?;
            let by = actor.principal().map(|p| p.id).unwrap_or(f.created_by);
            let now = self.clock.now();
            let all = tx.all_folders(f.space).await?;
            let subtree = descendants(&all, id);
            let ids: Vec<FolderId> = subtree.iter().copied().collect();
            let folders: Vec<Folder> = all
                .into_iter()
                .filter(|x| subtree.contains(&x.id) && x.trashed.is_none())
                .collect();
            let documents: Vec<Document> = tx
                .documents_in_folders(f.space, &ids)
                .await?
                .into_iter()
                .filter(|d| d.trashed.is_none())
                .collect();
            ensure_cascade_allowed(&a, actor, &folders, &documents)?;
            let rev = tx.next_revision().await?;
            for mut sub in folders {
                sub.trashed = Some(Trashed {
                    at: now,
                    by,
                    with_folder: (sub.id != id).then_some(id),
                });
                sub.revision = rev;
                tx.save_folder(&sub).await?;
            }
            for mut d in documents {
                d.trashed = Some(Trashed {
                    at: now,
                    by,
                    with_folder: Some(id),
                });
                d.revision = rev;
                tx.save_document(&d).await?;
            }
            self.audit(
                &mut tx,
                actor,
                "folder.delete",
                Some(f.space),
                Some(id.to_string()),
                json!({ "name": f.name.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }
}

/// A cascade never removes what the actor could not remove one by one (ADR
/// 0002, invariant 3): every live folder and document under the deleted
/// folder must be deletable by the actor's role, "own" judged item by item.
/// Otherwise a collaborator could trash a manager's document by moving it
/// into a folder of theirs and deleting that folder.
fn ensure_cascade_allowed(
    a: &Access,
    actor: &Actor,
    folders: &[Folder],
    documents: &[Document],
) -> Outcome<()> {
    let owners = folders
        .iter()
        .map(|f| (f.created_by, f.id.to_string()))
        .chain(documents.iter().map(|d| (d.created_by, d.id.to_string())));
    for (created_by, target) in owners {
        let own = Access::owns(actor, created_by);
        if !a.role.allows(Action::Delete { own }) {
            return Err(Fail::Denied {
                space: Some(a.space.id),
                target,
                reason: "folder holds items the role may not delete",
                shown: CoreError::Forbidden(
                    "this folder holds items your role does not allow you to delete: ask a manager",
                ),
            });
        }
    }
    Ok(())
}

/// `root` and every folder below it.
pub(crate) fn descendants(all: &[Folder], root: FolderId) -> HashSet<FolderId> {
    let mut children: HashMap<FolderId, Vec<FolderId>> = HashMap::new();
    for f in all {
        if let Some(p) = f.parent {
            children.entry(p).or_default().push(f.id);
        }
    }
    let mut out = HashSet::from([root]);
    let mut stack = vec![root];
    while let Some(x) = stack.pop() {
        for c in children.get(&x).into_iter().flatten() {
            if out.insert(*c) {
                stack.push(*c);
            }
        }
    }
    out
}
