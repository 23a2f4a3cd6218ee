//! Table `folders`. `name_key` is `DocumentName::unique_key()`: a partial
//! unique index on it keeps live names unique per parent.

use passerelle_core::ids::{FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::Folder;
use passerelle_core::names::DocumentName;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use super::TrashColumns;
use crate::convert::{nanos, time, validated};

const TABLE: &str = "folders";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "folders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub space_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub name_key: String,
    pub created_by: Uuid,
    pub created_at: i64,
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
    pub(crate) fn from_core(f: &Folder) -> Result<Self, RepoError> {
        let trash = TrashColumns::from_core(f.trashed.as_ref())?;
        Ok(Self {
            id: f.id.as_uuid(),
            space_id: f.space.as_uuid(),
            parent_id: f.parent.map(|p| p.as_uuid()),
            name: f.name.as_str().to_owned(),
            name_key: f.name.unique_key(),
            created_by: f.created_by.as_uuid(),
            created_at: nanos(f.created_at)?,
            trashed_at: trash.at,
            trashed_by: trash.by,
            trashed_with_folder: trash.with_folder,
            purged: f.purged,
            revision: f.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Folder, RepoError> {
        let trash = TrashColumns {
            at: self.trashed_at,
            by: self.trashed_by,
            with_folder: self.trashed_with_folder,
        };
        Ok(Folder {
            id: FolderId::from_uuid(self.id),
            space: SpaceId::from_uuid(self.space_id),
            parent: self.parent_id.map(FolderId::from_uuid),
            name: validated(TABLE, "name", &self.name, DocumentName::parse_stored)?,
            created_by: PrincipalId::from_uuid(self.created_by),
            created_at: time(TABLE, self.created_at)?,
            trashed: trash.into_core(TABLE)?,
            purged: self.purged,
            revision: Revision(self.revision),
        })
    }
}
