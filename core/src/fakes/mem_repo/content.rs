//! Spaces, memberships, folders, documents, versions and document types.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::{State, missing, paged};
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::model::{Document, Folder, Membership, Page, Paged, Space, Version};
use crate::ports::{DocumentQuery, DocumentSort, RepoError, SpaceWithRole};

fn live_folder(f: &Folder) -> bool {
    f.trashed.is_none() && !f.purged
}

fn live_document(d: &Document) -> bool {
    d.trashed.is_none() && !d.purged
}

/// Order of spaces: by title case-insensitively, then exactly, then by id.
fn space_order(s: &Space) -> (String, String, SpaceId) {
    (s.title.to_lowercase(), s.title.clone(), s.id)
}

fn sort_folders(mut v: Vec<Folder>) -> Vec<Folder> {
    v.sort_by_cached_key(|f| (f.name.unique_key(), f.id));
    v
}

/// A sort key of [`State::query_documents`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Text(String),
    Number(i128),
}

/// One direction for every row of a listing (the variants never meet).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Directed {
    Asc(SortKey),
    Desc(std::cmp::Reverse<SortKey>),
}

fn sort_documents(mut v: Vec<Document>) -> Vec<Document> {
    v.sort_by_cached_key(|d| (d.name.unique_key(), d.id));
    v
}

impl State {
    pub(super) fn space_by_slug(&self, slug: &str) -> Option<Space> {
        self.spaces
            .values()
            .find(|s| s.slug.as_str() == slug)
            .cloned()
    }

    pub(super) fn save_space(&mut self, space: &Space) -> Result<(), RepoError> {
        if self
            .spaces
            .values()
            .any(|o| o.id != space.id && o.slug == space.slug)
        {
            return Err(RepoError::Conflict(format!("slug {} is taken", space.slug)));
        }
        self.spaces.insert(space.id, space.clone());
        Ok(())
    }

    pub(super) fn list_spaces(&self, page: Page) -> Paged<Space> {
        let mut v: Vec<Space> = self.spaces.values().cloned().collect();
        v.sort_by_cached_key(space_order);
        paged(v, page)
    }

    pub(super) fn list_spaces_of(
        &self,
        principal: PrincipalId,
        at: OffsetDateTime,
        page: Page,
    ) -> Paged<SpaceWithRole> {
        let mut v: Vec<SpaceWithRole> = self
            .memberships
            .values()
            .filter(|m| m.principal == principal && m.active_at(at))
            .filter_map(|m| {
                self.spaces.get(&m.space).map(|space| SpaceWithRole {
                    space: space.clone(),
                    role: m.role,
                })
            })
            .collect();
        v.sort_by_cached_key(|sr| space_order(&sr.space));
        paged(v, page)
    }

    /// Non-removed memberships ended at `at`, by space then principal.
    pub(super) fn memberships_ended(&self, at: OffsetDateTime) -> Vec<Membership> {
        // The map is keyed by (space, principal): already in that order.
        self.memberships
            .values()
            .filter(|m| !m.removed && !m.active_at(at))
            .cloned()
            .collect()
    }

    pub(super) fn save_membership(&mut self, m: &Membership) -> Result<(), RepoError> {
        if !self.spaces.contains_key(&m.space) {
            return Err(missing("space", m.space));
        }
        self.memberships.insert((m.space, m.principal), m.clone());
        Ok(())
    }

    pub(super) fn list_members(&self, space: SpaceId) -> Vec<Membership> {
        // The map is ordered by (space, principal): members come by principal id.
        self.memberships
            .values()
            .filter(|m| m.space == space && !m.removed)
            .cloned()
            .collect()
    }

    pub(super) fn save_folder(&mut self, f: &Folder) -> Result<(), RepoError> {
        if !self.spaces.contains_key(&f.space) {
            return Err(missing("space", f.space));
        }
        if live_folder(f) {
            let key = f.name.unique_key();
            let clash = self.folders.values().any(|o| {
                o.id != f.id
                    && o.space == f.space
                    && o.parent == f.parent
                    && live_folder(o)
                    && o.name.unique_key() == key
            });
            if clash {
                return Err(RepoError::Conflict(format!(
                    "name {} is taken in this folder",
                    f.name
                )));
            }
        }
        self.folders.insert(f.id, f.clone());
        Ok(())
    }

    pub(super) fn list_folders(&self, space: SpaceId, parent: Option<FolderId>) -> Vec<Folder> {
        let v = self
            .folders
            .values()
            .filter(|f| f.space == space && f.parent == parent && live_folder(f))
            .cloned()
            .collect();
        sort_folders(v)
    }

    pub(super) fn all_folders(&self, space: SpaceId) -> Vec<Folder> {
        let v = self
            .folders
            .values()
            .filter(|f| f.space == space && !f.purged)
            .cloned()
            .collect();
        sort_folders(v)
    }

    pub(super) fn save_document(&mut self, d: &Document) -> Result<(), RepoError> {
        if !self.spaces.contains_key(&d.space) {
            return Err(missing("space", d.space));
        }
        if live_document(d) {
            let key = d.name.unique_key();
            let clash = self.documents.values().any(|o| {
                o.id != d.id
                    && o.space == d.space
                    && o.folder == d.folder
                    && live_document(o)
                    && o.name.unique_key() == key
            });
            if clash {
                return Err(RepoError::Conflict(format!(
                    "name {} is taken in this folder",
                    d.name
                )));
            }
        }
        self.documents.insert(d.id, d.clone());
        Ok(())
    }

    pub(super) fn list_documents(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
        page: Page,
    ) -> Paged<Document> {
        let v = self
            .documents
            .values()
            .filter(|d| d.space == space && d.folder == folder && live_document(d))
            .cloned()
            .collect();
        paged(sort_documents(v), page)
    }

    /// As the SQL adapter: newest `updated_at`, then smallest id.
    pub(super) fn latest_document(&self, space: SpaceId) -> Option<Document> {
        self.documents
            .values()
            .filter(|d| d.space == space && live_document(d))
            .max_by(|a, b| a.updated_at.cmp(&b.updated_at).then(b.id.cmp(&a.id)))
            .cloned()
    }

    /// As the SQL adapter: filter on `name_key`, sort key in the asked
    /// direction, then name key and id ascending.
    pub(super) fn query_documents(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
        query: &DocumentQuery,
        page: Page,
    ) -> Paged<Document> {
        let needle = query.name_key_contains();
        let mut v: Vec<Document> = self
            .documents
            .values()
            .filter(|d| d.space == space && d.folder == folder && live_document(d))
            .filter(|d| needle.is_empty() || d.name.unique_key().contains(needle))
            .filter(|d| query.doc_type.is_none() || d.doc_type == query.doc_type)
            .cloned()
            .collect();
        let author = |d: &Document| {
            self.principals
                .get(&d.created_by)
                .map(|p| p.display_name.clone())
                .unwrap_or_default()
        };
        v.sort_by_cached_key(|d| {
            let primary = match query.sort {
                DocumentSort::Name => SortKey::Text(d.name.unique_key()),
                DocumentSort::Date => SortKey::Number(d.updated_at.unix_timestamp_nanos()),
                DocumentSort::Type => SortKey::Text(d.doc_type.clone().unwrap_or_default()),
                DocumentSort::Author => SortKey::Text(author(d)),
                DocumentSort::Version => SortKey::Number(i128::from(d.current_version)),
            };
            let primary = if query.descending {
                Directed::Desc(std::cmp::Reverse(primary))
            } else {
                Directed::Asc(primary)
            };
            (primary, d.name.unique_key(), d.id)
        });
        paged(v, page)
    }

    pub(super) fn documents_in_folders(
        &self,
        space: SpaceId,
        folders: &[FolderId],
    ) -> Vec<Document> {
        let wanted: HashSet<FolderId> = folders.iter().copied().collect();
        let v = self
            .documents
            .values()
            .filter(|d| {
                d.space == space && !d.purged && d.folder.is_some_and(|f| wanted.contains(&f))
            })
            .cloned()
            .collect();
        sort_documents(v)
    }

    pub(super) fn name_taken(
        &self,
        space: SpaceId,
        parent: Option<FolderId>,
        unique_key: &str,
        except: Option<uuid::Uuid>,
    ) -> bool {
        let other = |id: uuid::Uuid| except != Some(id);
        let folder = self.folders.values().any(|f| {
            f.space == space
                && f.parent == parent
                && live_folder(f)
                && other(f.id.as_uuid())
                && f.name.unique_key() == unique_key
        });
        let document = self.documents.values().any(|d| {
            d.space == space
                && d.folder == parent
                && live_document(d)
                && other(d.id.as_uuid())
                && d.name.unique_key() == unique_key
        });
        folder || document
    }

    pub(super) fn list_trash(&self, space: SpaceId) -> (Vec<Folder>, Vec<Document>) {
        let folders = self
            .folders
            .values()
            .filter(|f| f.space == space && f.trashed.is_some() && !f.purged)
            .cloned()
            .collect();
        let documents = self
            .documents
            .values()
            .filter(|d| d.space == space && d.trashed.is_some() && !d.purged)
            .cloned()
            .collect();
        (sort_folders(folders), sort_documents(documents))
    }

    pub(super) fn save_version(&mut self, v: &Version) -> Result<(), RepoError> {
        if !self.documents.contains_key(&v.document) {
            return Err(missing("document", v.document));
        }
        self.versions.insert((v.document, v.number), v.clone());
        Ok(())
    }

    pub(super) fn list_versions(&self, document: DocumentId) -> Vec<Version> {
        // The map is ordered by (document, number).
        self.versions
            .values()
            .filter(|v| v.document == document)
            .cloned()
            .collect()
    }

    pub(super) fn current_versions(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Vec<Version> {
        let mut docs: Vec<&Document> = self
            .documents
            .values()
            .filter(|d| d.space == space && d.folder == folder && live_document(d))
            .collect();
        docs.sort_by_key(|d| d.id);
        docs.into_iter()
            .filter_map(|d| self.versions.get(&(d.id, d.current_version)).cloned())
            .collect()
    }

    pub(super) fn delete_versions(&mut self, document: DocumentId) {
        self.versions.retain(|(d, _), _| *d != document);
    }
}
