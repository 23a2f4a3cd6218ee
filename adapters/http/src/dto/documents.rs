//! Folders, documents, versions and the trash.

use passerelle_core::model::{Document, Folder, Trashed, Version};
use passerelle_core::service::{DocumentView, FolderListing, TrashListing};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{PageOf, RoleDto, double_option};
use passerelle_core::model::Page;

/// When and by whom an item went to the trash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrashedDto {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Uuid,
    /// Set when it went with this deleted folder.
    pub with_folder: Option<Uuid>,
}

impl From<&Trashed> for TrashedDto {
    fn from(t: &Trashed) -> Self {
        Self {
            at: t.at,
            by: t.by.as_uuid(),
            with_folder: t.with_folder.map(|f| f.as_uuid()),
        }
    }
}

/// A folder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FolderDto {
    pub id: Uuid,
    pub space: Uuid,
    /// `null`: at the space's root.
    pub parent: Option<Uuid>,
    pub name: String,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trashed: Option<TrashedDto>,
}

impl From<&Folder> for FolderDto {
    fn from(f: &Folder) -> Self {
        Self {
            id: f.id.as_uuid(),
            space: f.space.as_uuid(),
            parent: f.parent.map(|p| p.as_uuid()),
            name: f.name.to_string(),
            created_by: f.created_by.as_uuid(),
            created_at: f.created_at,
            trashed: f.trashed.as_ref().map(Into::into),
        }
    }
}

/// A document without its version details (in listings).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentSummaryDto {
    pub id: Uuid,
    pub space: Uuid,
    /// `null`: at the space's root.
    pub folder: Option<Uuid>,
    pub name: String,
    /// Key of its document type.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub current_version: u32,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trashed: Option<TrashedDto>,
}

impl From<&Document> for DocumentSummaryDto {
    fn from(d: &Document) -> Self {
        Self {
            id: d.id.as_uuid(),
            space: d.space.as_uuid(),
            folder: d.folder.map(|f| f.as_uuid()),
            name: d.name.to_string(),
            doc_type: d.doc_type.clone(),
            metadata: d.metadata.clone(),
            current_version: d.current_version,
            created_by: d.created_by.as_uuid(),
            created_at: d.created_at,
            updated_at: d.updated_at,
            trashed: d.trashed.as_ref().map(Into::into),
        }
    }
}

/// One immutable version of a document's content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionDto {
    pub number: u32,
    /// BLAKE3 of the content, hex: also the download's ETag.
    pub hash: String,
    pub size: u64,
    pub media_type: String,
    pub author: Uuid,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&Version> for VersionDto {
    fn from(v: &Version) -> Self {
        Self {
            number: v.number,
            hash: v.hash.to_hex(),
            size: v.size,
            media_type: v.media_type.clone(),
            author: v.author.as_uuid(),
            comment: v.comment.clone(),
            created_at: v.created_at,
        }
    }
}

/// A document, its current version and the caller's role in its space.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentDto {
    pub document: DocumentSummaryDto,
    pub version: VersionDto,
    pub role: RoleDto,
    /// The lock covering the document (checked out), if any.
    pub lock: Option<super::LockDto>,
}

impl From<&DocumentView> for DocumentDto {
    fn from(v: &DocumentView) -> Self {
        Self {
            document: (&v.document).into(),
            version: (&v.version).into(),
            role: v.role.into(),
            lock: v.lock.as_ref().map(Into::into),
        }
    }
}

/// The content of a folder or of a space's root.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FolderListingDto {
    /// The folder listed; `null` for the root.
    pub folder: Option<FolderDto>,
    /// Its sub-folders (all of them).
    pub folders: Vec<FolderDto>,
    /// Its documents, paged.
    pub documents: PageOf<DocumentSummaryDto>,
}

impl FolderListingDto {
    pub fn new(l: FolderListing, page: Page) -> Self {
        Self {
            folder: l.folder.as_ref().map(Into::into),
            folders: l.folders.iter().map(Into::into).collect(),
            documents: PageOf::new(l.documents, page, |d| (&d).into()),
        }
    }
}

/// `?folder=` (absent: the root) and paging.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChildrenQuery {
    pub folder: Option<Uuid>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

/// `POST /spaces/{id}/folders`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolderBody {
    pub name: String,
    /// Absent or `null`: at the root.
    pub parent: Option<Uuid>,
}

/// `PATCH /folders/{id}`: rename and/or move (`parent: null` → the root).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderPatchBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub parent: Option<Option<Uuid>>,
}

/// `PATCH /documents/{id}`: rename and/or move (`folder: null` → the root).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatchBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub folder: Option<Option<Uuid>>,
}

/// A document's type and metadata (`GET`/`PUT /documents/{id}/metadata`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataDto {
    /// Document type key; `null` for an untyped document (then no metadata).
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// Metadata of an upload (the body is the raw content). The media type is
/// the request's `Content-Type`; metadata may also come as a JSON object in
/// the `X-Passerelle-Metadata` header.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// File name (validated: no `/`, `\`, NUL, `..`, reserved Windows names; ≤ 255 bytes).
    pub name: String,
    /// Folder id; absent: the space's root.
    pub folder: Option<Uuid>,
    /// Document type key.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub doc_type: Option<String>,
    pub comment: Option<String>,
    /// Metadata as URL-encoded JSON object (or use the header).
    pub metadata: Option<String>,
}

/// Query of `POST /documents/{id}/versions`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    pub comment: Option<String>,
}

/// A space's trash: items deleted on their own (a deleted folder's content
/// comes back with it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrashDto {
    pub folders: Vec<FolderDto>,
    pub documents: Vec<DocumentSummaryDto>,
}

impl From<&TrashListing> for TrashDto {
    fn from(t: &TrashListing) -> Self {
        Self {
            folders: t.folders.iter().map(Into::into).collect(),
            documents: t.documents.iter().map(Into::into).collect(),
        }
    }
}
