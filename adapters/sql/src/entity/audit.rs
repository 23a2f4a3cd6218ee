//! Table `audit_log`: the hash chain. `at` is unix nanoseconds, so the
//! microsecond-truncated time the chain hashes comes back exactly.

use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::AuditEntry;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{from_json, hash, nanos, time, to_json};

const TABLE: &str = "audit_log";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub space_id: Option<Uuid>,
    pub target: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(e: &AuditEntry) -> Result<Self, RepoError> {
        Ok(Self {
            seq: e.seq,
            at: nanos(e.at)?,
            actor_id: e.actor.map(|a| a.as_uuid()),
            action: e.action.clone(),
            space_id: e.space.map(|s| s.as_uuid()),
            target: e.target.clone(),
            detail: to_json("detail", &e.detail)?,
            prev_hash: e.prev_hash.to_hex(),
            hash: e.hash.to_hex(),
        })
    }

    pub(crate) fn into_core(self) -> Result<AuditEntry, RepoError> {
        Ok(AuditEntry {
            seq: self.seq,
            at: time(TABLE, self.at)?,
            actor: self.actor_id.map(PrincipalId::from_uuid),
            action: self.action,
            space: self.space_id.map(SpaceId::from_uuid),
            target: self.target,
            detail: from_json(TABLE, "detail", &self.detail)?,
            prev_hash: hash(TABLE, &self.prev_hash)?,
            hash: hash(TABLE, &self.hash)?,
        })
    }
}
