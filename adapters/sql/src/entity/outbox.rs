//! Table `outbox` (edge): contractors' operations waiting for the internal
//! node. `seq` is assigned by the database; `op` is the JSON of `OutboxOp`
//! and `kind` its tag (so lists can leave acceptances out without parsing
//! JSON); `outcome` and `decided_at` (when the first verdict came back, the
//! start of the retention) are `NULL` while pending.

use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::ports::RepoError;
use passerelle_core::replication::OutboxItem;
use sea_orm::ActiveValue::NotSet;
use sea_orm::IntoActiveModel;
use sea_orm::entity::prelude::*;

use super::outcome_from_str;
use crate::convert::{from_json, nanos, time, to_json, unstorable};

const TABLE: &str = "outbox";

/// `kind` of the acceptance of an invitation: not a write to the space.
pub(crate) const ACCEPTANCE: &str = "accept_invitation";

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
    pub kind: String,
    pub decided_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Every column but `seq`, which the database assigns.
    pub(crate) fn new_row(item: &OutboxItem) -> Result<ActiveModel, RepoError> {
        let op = to_json("op", &item.op)?;
        let model = Self {
            seq: 0,
            op_id: item.op_id,
            space_id: item.space.as_uuid(),
            contractor_id: item.contractor.as_uuid(),
            created_at: nanos(item.created_at)?,
            kind: kind_of(&op)?,
            op,
            outcome: item.outcome.map(|o| o.as_str().to_owned()),
            detail: item.detail.clone(),
            decided_at: None,
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

/// The `kind` tag of an operation's JSON, read back from the JSON about to
/// be stored: the column equals the tag by construction, whatever variants
/// `OutboxOp` gains.
fn kind_of(op_json: &str) -> Result<String, RepoError> {
    let value: serde_json::Value = from_json(TABLE, "op", op_json)?;
    match value.get("kind").and_then(serde_json::Value::as_str) {
        Some(kind) => Ok(kind.to_owned()),
        None => Err(unstorable("op: an operation without a kind tag")),
    }
}

#[cfg(test)]
mod tests {
    use passerelle_core::replication::OutboxOp;

    use super::*;

    #[test]
    fn the_acceptance_kind_is_the_tag_core_writes() {
        let op = OutboxOp::AcceptInvitation {
            invitation: Uuid::nil(),
        };
        let json = to_json("op", &op).expect("serialisable");
        assert_eq!(kind_of(&json).expect("tagged"), ACCEPTANCE);
    }
}
