//! Table `memberships`: principal × space × role; `removed` is the tombstone.

use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::Membership;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::parse;

const TABLE: &str = "memberships";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub space_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: Uuid,
    pub role: String,
    pub removed: bool,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(m: &Membership) -> Self {
        Self {
            space_id: m.space.as_uuid(),
            principal_id: m.principal.as_uuid(),
            role: m.role.as_str().to_owned(),
            removed: m.removed,
            revision: m.revision.0,
        }
    }

    pub(crate) fn into_core(self) -> Result<Membership, RepoError> {
        Ok(Membership {
            space: SpaceId::from_uuid(self.space_id),
            principal: PrincipalId::from_uuid(self.principal_id),
            role: parse(TABLE, "role", &self.role)?,
            removed: self.removed,
            revision: Revision(self.revision),
        })
    }
}
