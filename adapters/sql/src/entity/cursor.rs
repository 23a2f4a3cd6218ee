//! Table `cursors` (edge): the last revision applied per space.

use passerelle_core::ids::{Revision, SpaceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cursors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub space_id: Uuid,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(space: SpaceId, revision: Revision) -> Self {
        Self {
            space_id: space.as_uuid(),
            revision: revision.0,
        }
    }

    pub(crate) fn into_core(self) -> (SpaceId, Revision) {
        (SpaceId::from_uuid(self.space_id), Revision(self.revision))
    }
}
