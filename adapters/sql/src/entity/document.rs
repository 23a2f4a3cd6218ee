//! Table `documents`. Metadata are JSON text (kept byte for byte, unlike
//! `jsonb`); `name_key` as for folders.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::Document;
use passerelle_core::names::DocumentName;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use super::TrashColumns;
use crate::convert::{from_json, nanos, time, to_json, to_u32, validated};

const TABLE: &str = "documents";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub space_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub name: String,
    pub name_key: String,
    pub doc_type: Option<String>,
    pub metadata: String,
    pub current_version: i64,
    pub created_by: Uuid,
    pub created_at: i64,
    pub updated_at: i64,
    pub trashed_at: Option<i64>,
    pub trashed_by: Option<Uuid>,
    pub trashed_with_folder: Option<Uuid>,
    pub purged: bool,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(d: &Document) -> Result<Self, RepoError> {
        let trash = TrashColumns::from_core(d.trashed.as_ref())?;
        Ok(Self {
            id: d.id.as_uuid(),
            space_id: d.space.as_uuid(),
            folder_id: d.folder.map(|f| f.as_uuid()),
            name: d.name.as_str().to_owned(),
            name_key: d.name.unique_key(),
            doc_type: d.doc_type.clone(),
            metadata: to_json("metadata", &d.metadata)?,
            current_version: i64::from(d.current_version),
            created_by: d.created_by.as_uuid(),
            created_at: nanos(d.created_at)?,
            updated_at: nanos(d.updated_at)?,
            trashed_at: trash.at,
            trashed_by: trash.by,
            trashed_with_folder: trash.with_folder,
            purged: d.purged,
            revision: d.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Document, RepoError> {
        let trash = TrashColumns {
            at: self.trashed_at,
            by: self.trashed_by,
            with_folder: self.trashed_with_folder,
        };
        Ok(Document {
            id: DocumentId::from_uuid(self.id),
            space: SpaceId::from_uuid(self.space_id),
            folder: self.folder_id.map(FolderId::from_uuid),
            name: validated(TABLE, "name", &self.name, DocumentName::parse_stored)?,
            doc_type: self.doc_type,
            metadata: from_json(TABLE, "metadata", &self.metadata)?,
            current_version: to_u32(TABLE, "current_version", self.current_version)?,
            created_by: PrincipalId::from_uuid(self.created_by),
            created_at: time(TABLE, self.created_at)?,
            updated_at: time(TABLE, self.updated_at)?,
            trashed: trash.into_core(TABLE)?,
            purged: self.purged,
            revision: Revision(self.revision),
        })
    }
}
