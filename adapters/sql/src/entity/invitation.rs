//! Table `invitations`: only the hash of the secret is stored.

use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::ports::RepoError;
use passerelle_core::replication::Invitation;
use sea_orm::entity::prelude::*;

use crate::convert::{hash, nanos, opt_nanos, opt_time, time};

const TABLE: &str = "invitations";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub principal_id: Uuid,
    pub space_id: Uuid,
    pub secret_hash: String,
    pub created_by: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked: bool,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(i: &Invitation) -> Result<Self, RepoError> {
        Ok(Self {
            id: i.id,
            principal_id: i.principal.as_uuid(),
            space_id: i.space.as_uuid(),
            secret_hash: i.secret_hash.to_hex(),
            created_by: i.created_by.as_uuid(),
            created_at: nanos(i.created_at)?,
            expires_at: nanos(i.expires_at)?,
            accepted_at: opt_nanos(i.accepted_at)?,
            revoked: i.revoked,
            revision: i.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Invitation, RepoError> {
        Ok(Invitation {
            id: self.id,
            principal: PrincipalId::from_uuid(self.principal_id),
            space: SpaceId::from_uuid(self.space_id),
            secret_hash: hash(TABLE, &self.secret_hash)?,
            created_by: PrincipalId::from_uuid(self.created_by),
            created_at: time(TABLE, self.created_at)?,
            expires_at: time(TABLE, self.expires_at)?,
            accepted_at: opt_time(TABLE, self.accepted_at)?,
            revoked: self.revoked,
            revision: Revision(self.revision),
        })
    }
}
