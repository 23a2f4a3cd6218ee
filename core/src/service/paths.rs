//! Paths of names, as WebDAV names things (`space slug / folder / … /
//! name`), resolved in one read transaction with one check of the actor's
//! access to the space, where a walk through the other use cases took a
//! transaction and a check per segment. Names compare as core keeps them
//! unique (case-insensitively, NFC): the rule lives here, not in adapters.
//! And the other way: where a folder is, for clients that name things by
//! id and show paths (CMIS).

use crate::error::CoreError;
use crate::ids::{FolderId, SpaceId};
use crate::model::{Document, Folder, Page, Space, Version};
use crate::names::DocumentName;
use crate::ports::{DocumentQuery, Tx};

use super::access::{Fail, Outcome};
use super::{Actor, Passerelle};

/// What a path names, as the actor sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum PathTarget {
    /// The space's root.
    Space(Space),
    Folder(Space, Folder),
    /// A live document with its current version (boxed: the largest).
    Document(Space, Box<Document>, Version),
}

/// Where a live folder is, as the actor sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderPlace {
    pub space: Space,
    /// The actor's role in the space.
    pub role: crate::role::Role,
    /// The folders from the space's root down to the folder itself.
    pub folders: Vec<Folder>,
}

/// A live child of a collection, found by name.
enum Child {
    Folder(Folder),
    Document(Document),
}

impl Passerelle {
    /// Resolves `names` from the root of the space `slug`: the space for
    /// no names, else each name but the last must be a live folder, and
    /// the last a live folder or document. Anything absent, a name that
    /// is not a valid one, and a space the actor cannot see are all
    /// `NotFound`, exactly alike.
    pub async fn resolve_path(
        &self,
        actor: &Actor,
        slug: &str,
        names: &[String],
    ) -> Result<PathTarget, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let id = tx
                .space_by_slug(slug)
                .await?
                .ok_or(CoreError::NotFound("space"))?
                .id;
            let space = self.access(&mut tx, actor, id).await?.space;
            let Some((last, dirs)) = names.split_last() else {
                return Ok(PathTarget::Space(space));
            };
            let mut parent = None;
            for name in dirs {
                match child(&mut tx, space.id, parent, name).await? {
                    Some(Child::Folder(f)) => parent = Some(f.id),
                    _ => return Err(CoreError::NotFound("folder").into()),
                }
            }
            match child(&mut tx, space.id, parent, last).await? {
                Some(Child::Folder(f)) => Ok(PathTarget::Folder(space, f)),
                Some(Child::Document(d)) => {
                    let v = self.current_version(&mut tx, &d).await?;
                    Ok::<_, Fail>(PathTarget::Document(space, Box::new(d), v))
                }
                None => Err(CoreError::NotFound("document").into()),
            }
        })
        .await
    }
}

impl Passerelle {
    /// A live folder and the folders above it. A folder the actor cannot
    /// see, trashed or purged is `NotFound`, as one that never existed.
    pub async fn locate_folder(
        &self,
        actor: &Actor,
        id: FolderId,
    ) -> Result<FolderPlace, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let (access, _) = self.folder_access(&mut tx, actor, id).await?;
            let folders = super::search::folder_chain(&mut tx, Some(id)).await?;
            Ok::<_, Fail>(FolderPlace {
                role: access.role,
                space: access.space,
                folders,
            })
        })
        .await
    }
}

/// The live folder or document named `name` in `parent`. The store filters
/// documents by name, so a large folder is not read whole for one lookup.
async fn child(
    tx: &mut Box<dyn Tx>,
    space: SpaceId,
    parent: Option<FolderId>,
    name: &str,
) -> Outcome<Option<Child>> {
    let Ok(wanted) = DocumentName::parse(name) else {
        return Ok(None);
    };
    let key = wanted.unique_key();
    if let Some(f) = tx
        .list_folders(space, parent)
        .await?
        .into_iter()
        .find(|f| f.name.unique_key() == key)
    {
        return Ok(Some(Child::Folder(f)));
    }
    let query = DocumentQuery::default().name_contains(wanted.as_str());
    let mut offset = 0;
    loop {
        let page = tx
            .query_documents(space, parent, &query, Page::new(offset, Page::MAX_LIMIT))
            .await?;
        let seen = page.items.len() as u64;
        if let Some(d) = page.items.into_iter().find(|d| d.name.unique_key() == key) {
            return Ok(Some(Child::Document(d)));
        }
        // The filter is a substring: in a large folder, other names may
        // hold this one; read on until the exact one or the end.
        offset += seen;
        if seen == 0 || offset >= page.total {
            return Ok(None);
        }
    }
}
