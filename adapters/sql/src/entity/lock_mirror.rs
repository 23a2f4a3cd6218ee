//! Table `lock_mirror` (edge): the internal node's live locks as its last
//! snapshot of each space gave them; `seq` is assigned by the database.

use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::locks::{LockDepth, LockScope, LockSummary};
use passerelle_core::ports::RepoError;
use sea_orm::ActiveValue::NotSet;
use sea_orm::IntoActiveModel;
use sea_orm::entity::prelude::*;

use super::lock::{kind, resource};
use crate::convert::{corrupt, nanos, time};

pub(crate) const TABLE: &str = "lock_mirror";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lock_mirror")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub space_id: Uuid,
    /// `space`, `folder` or `document`, as in `locks`.
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub holder_id: Uuid,
    pub holder_name: String,
    /// `LockScope::as_str`.
    pub scope: String,
    /// `LockDepth::as_str`.
    pub depth: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Every column but `seq`, which the database assigns; stored under
    /// `space` (the snapshot's).
    pub(crate) fn new_row(space: SpaceId, l: &LockSummary) -> Result<ActiveModel, RepoError> {
        let (resource_kind, resource_id) = kind(l.resource);
        let model = Self {
            seq: 0,
            space_id: space.as_uuid(),
            resource_kind: resource_kind.to_owned(),
            resource_id,
            holder_id: l.holder.as_uuid(),
            holder_name: l.holder_name.clone(),
            scope: l.scope.as_str().to_owned(),
            depth: l.depth.as_str().to_owned(),
            created_at: nanos(l.since)?,
            expires_at: nanos(l.until)?,
        };
        let mut row = model.into_active_model().reset_all();
        row.seq = NotSet;
        Ok(row)
    }

    pub(crate) fn into_core(self) -> Result<LockSummary, RepoError> {
        Ok(LockSummary {
            resource: resource(TABLE, &self.resource_kind, self.resource_id)?,
            space: SpaceId::from_uuid(self.space_id),
            holder: PrincipalId::from_uuid(self.holder_id),
            holder_name: self.holder_name,
            scope: LockScope::parse(&self.scope)
                .ok_or_else(|| corrupt(TABLE, format_args!("unknown scope {:?}", self.scope)))?,
            depth: LockDepth::parse(&self.depth)
                .ok_or_else(|| corrupt(TABLE, format_args!("unknown depth {:?}", self.depth)))?,
            since: time(TABLE, self.created_at)?,
            until: time(TABLE, self.expires_at)?,
        })
    }
}
