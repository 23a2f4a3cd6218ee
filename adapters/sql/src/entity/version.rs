//! Table `versions`: immutable content versions, keyed by (document, number).

use passerelle_core::ids::{DocumentId, PrincipalId, Revision};
use passerelle_core::model::Version;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{hash, nanos, time, to_i64, to_u32, to_u64};

const TABLE: &str = "versions";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub document_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i64,
    pub hash: String,
    pub size: i64,
    pub media_type: String,
    pub author_id: Uuid,
    pub comment: String,
    pub created_at: i64,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(v: &Version) -> Result<Self, RepoError> {
        Ok(Self {
            document_id: v.document.as_uuid(),
            number: i64::from(v.number),
            hash: v.hash.to_hex(),
            size: to_i64("size", v.size)?,
            media_type: v.media_type.clone(),
            author_id: v.author.as_uuid(),
            comment: v.comment.clone(),
            created_at: nanos(v.created_at)?,
            revision: v.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Version, RepoError> {
        Ok(Version {
            document: DocumentId::from_uuid(self.document_id),
            number: to_u32(TABLE, "number", self.number)?,
            hash: hash(TABLE, &self.hash)?,
            size: to_u64(TABLE, "size", self.size)?,
            media_type: self.media_type,
            author: PrincipalId::from_uuid(self.author_id),
            comment: self.comment,
            created_at: time(TABLE, self.created_at)?,
            revision: Revision(self.revision),
        })
    }
}
