//! Table `blob_claims` (edge): a blob sent for a space, not yet named by
//! the space's applied rows.

use passerelle_core::ContentHash;
use passerelle_core::ids::SpaceId;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::hash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blob_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub space_id: Uuid,
    /// The content hash, 64 lowercase hex digits.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(space: SpaceId, h: &ContentHash) -> Self {
        Self {
            space_id: space.as_uuid(),
            hash: h.to_hex(),
        }
    }

    pub(crate) fn into_core(self) -> Result<(SpaceId, ContentHash), RepoError> {
        Ok((
            SpaceId::from_uuid(self.space_id),
            hash("blob_claims", &self.hash)?,
        ))
    }
}
