//! Table `extractions`: what came of extracting the text of one content,
//! per hash (not revisioned).

use passerelle_core::ports::RepoError;
use passerelle_core::search::{ExtractionRecord, ExtractionStatus};
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, hash, nanos, opt_nanos, opt_time, time, to_u32};

pub(crate) const TABLE: &str = "extractions";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "extractions")]
pub struct Model {
    /// The content hash, 64 lowercase hex digits.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// `ExtractionStatus::as_str`.
    pub status: String,
    pub reason: String,
    pub attempts: i64,
    pub tried_at: i64,
    pub next_try: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A status read back (a row or a `GROUP BY` key): an unknown name is a
/// corrupt row.
pub(crate) fn status(raw: &str) -> Result<ExtractionStatus, RepoError> {
    ExtractionStatus::parse(raw)
        .ok_or_else(|| corrupt(TABLE, format_args!("unknown status {raw:?}")))
}

impl Model {
    pub(crate) fn from_core(r: &ExtractionRecord) -> Result<Self, RepoError> {
        Ok(Self {
            hash: r.hash.to_hex(),
            status: r.status.as_str().to_owned(),
            reason: r.reason.clone(),
            attempts: i64::from(r.attempts),
            tried_at: nanos(r.tried_at)?,
            next_try: opt_nanos(r.next_try)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<ExtractionRecord, RepoError> {
        Ok(ExtractionRecord {
            hash: hash(TABLE, &self.hash)?,
            status: status(&self.status)?,
            reason: self.reason,
            attempts: to_u32(TABLE, "attempts", self.attempts)?,
            tried_at: time(TABLE, self.tried_at)?,
            next_try: opt_time(TABLE, self.next_try)?,
        })
    }
}
