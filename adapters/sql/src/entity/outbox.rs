//! Table `outbox` (edge): contractors' operations waiting for the internal
//! node. `seq` is assigned by the database; `op` is the JSON of `OutboxOp`;
//! `outcome` is `NULL` while pending.

use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::ports::RepoError;
use passerelle_core::replication::OutboxItem;
use sea_orm::ActiveValue::NotSet;
use sea_orm::IntoActiveModel;
use sea_orm::entity::prelude::*;

use super::outcome_from_str;
use crate::convert::{from_json, nanos, time, to_json};

const TABLE: &str = "outbox";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub op_id: Uuid,
    pub space_id: Uuid,
    pub contractor_id: Uuid,
    pub created_at: i64,
    pub op: String,
    pub outcome: Option<String>,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Every column but `seq`, which the database assigns.
    pub(crate) fn new_row(item: &OutboxItem) -> Result<ActiveModel, RepoError> {
        let model = Self {
            seq: 0,
            op_id: item.op_id,
            space_id: item.space.as_uuid(),
            contractor_id: item.contractor.as_uuid(),
            created_at: nanos(item.created_at)?,
            op: to_json("op", &item.op)?,
            outcome: item.outcome.map(|o| o.as_str().to_owned()),
            detail: item.detail.clone(),
        };
        let mut row = model.into_active_model().reset_all();
        row.seq = NotSet;
        Ok(row)
    }

    pub(crate) fn into_core(self) -> Result<OutboxItem, RepoError> {
        Ok(OutboxItem {
            seq: self.seq,
            op_id: self.op_id,
            space: SpaceId::from_uuid(self.space_id),
            contractor: PrincipalId::from_uuid(self.contractor_id),
            created_at: time(TABLE, self.created_at)?,
            op: from_json(TABLE, "op", &self.op)?,
            outcome: self
                .outcome
                .as_deref()
                .map(|o| outcome_from_str(TABLE, o))
                .transpose()?,
            detail: self.detail,
        })
    }
}
