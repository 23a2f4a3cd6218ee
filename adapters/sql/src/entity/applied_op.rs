//! Table `applied_ops` (internal node): the exactly-once ledger of edge
//! operations, and the quarantine (rows with outcome `rejected`).

use passerelle_core::ids::{DocumentId, PrincipalId, SpaceId};
use passerelle_core::ports::RepoError;
use passerelle_core::replication::AppliedOp;
use sea_orm::entity::prelude::*;

use super::outcome_from_str;
use crate::convert::{from_json, nanos, node_id, time, to_json};

pub(crate) const TABLE: &str = "applied_ops";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applied_ops")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub op_id: Uuid,
    pub edge: String,
    pub space_id: Uuid,
    pub contractor_id: Uuid,
    pub at: i64,
    pub outcome: String,
    pub detail: String,
    pub document_id: Option<Uuid>,
    pub op: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(a: &AppliedOp) -> Result<Self, RepoError> {
        Ok(Self {
            op_id: a.op_id,
            edge: a.edge.to_string(),
            space_id: a.space.as_uuid(),
            contractor_id: a.contractor.as_uuid(),
            at: nanos(a.at)?,
            outcome: a.outcome.as_str().to_owned(),
            detail: a.detail.clone(),
            document_id: a.document.map(|d| d.as_uuid()),
            op: to_json("op", &a.op)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<AppliedOp, RepoError> {
        Ok(AppliedOp {
            op_id: self.op_id,
            edge: node_id(TABLE, &self.edge)?,
            space: SpaceId::from_uuid(self.space_id),
            contractor: PrincipalId::from_uuid(self.contractor_id),
            at: time(TABLE, self.at)?,
            outcome: outcome_from_str(TABLE, &self.outcome)?,
            detail: self.detail,
            document: self.document_id.map(DocumentId::from_uuid),
            op: from_json(TABLE, "op", &self.op)?,
        })
    }
}
