//! Table `edge_status` (internal node): one row per edge; the cursors are a
//! JSON array of `[space id, revision]` pairs, the spaces failing a JSON
//! array of `[space id, error]` pairs, both kept in the given order.

use passerelle_core::ports::RepoError;
use passerelle_core::replication::EdgeStatus;
use sea_orm::entity::prelude::*;

use crate::convert::{from_json, nanos, node_id, opt_nanos, opt_time, time, to_json};

const TABLE: &str = "edge_status";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "edge_status")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edge: String,
    pub last_contact: Option<i64>,
    pub last_error: Option<String>,
    pub cursors: String,
    pub space_errors: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(s: &EdgeStatus) -> Result<Self, RepoError> {
        Ok(Self {
            edge: s.edge.to_string(),
            last_contact: opt_nanos(s.last_contact)?,
            last_error: s.last_error.clone(),
            cursors: to_json("cursors", &s.cursors)?,
            space_errors: to_json("space_errors", &s.space_errors)?,
            updated_at: nanos(s.updated_at)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<EdgeStatus, RepoError> {
        Ok(EdgeStatus {
            edge: node_id(TABLE, &self.edge)?,
            last_contact: opt_time(TABLE, self.last_contact)?,
            last_error: self.last_error,
            cursors: from_json(TABLE, "cursors", &self.cursors)?,
            space_errors: from_json(TABLE, "space_errors", &self.space_errors)?,
            updated_at: time(TABLE, self.updated_at)?,
        })
    }
}
