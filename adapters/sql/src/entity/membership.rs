//! Table `memberships`: principal × space × role; `removed` is the
//! tombstone; who granted it and when it ends.

use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::{GrantedBy, Membership};
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, opt_nanos, opt_time, parse};

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
    pub granted_by: String,
    pub ends_at: Option<i64>,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(m: &Membership) -> Result<Self, RepoError> {
        Ok(Self {
            space_id: m.space.as_uuid(),
            principal_id: m.principal.as_uuid(),
            role: m.role.as_str().to_owned(),
            removed: m.removed,
            granted_by: m.granted_by.as_str().to_owned(),
            ends_at: opt_nanos(m.ends_at)?,
            revision: m.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Membership, RepoError> {
        Ok(Membership {
            space: SpaceId::from_uuid(self.space_id),
            principal: PrincipalId::from_uuid(self.principal_id),
            role: parse(TABLE, "role", &self.role)?,
            removed: self.removed,
            granted_by: GrantedBy::parse(&self.granted_by)
                .ok_or_else(|| corrupt(TABLE, format_args!("granted_by {:?}", self.granted_by)))?,
            ends_at: opt_time(TABLE, self.ends_at)?,
            revision: Revision(self.revision),
        })
    }
}
