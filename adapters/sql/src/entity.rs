//! sea-orm entities: one module per table, each with the conversions to and
//! from its domain type. They never leave this crate.

pub(crate) mod activity;
pub(crate) mod api_token;
pub(crate) mod applied_op;
pub(crate) mod audit;
pub(crate) mod blob_claim;
pub(crate) mod cursor;
pub(crate) mod dead_property;
pub(crate) mod document;
pub(crate) mod document_link;
pub(crate) mod document_type;
pub(crate) mod edge_status;
pub(crate) mod extraction;
pub(crate) mod folder;
pub(crate) mod ingestion;
pub(crate) mod invitation;
pub(crate) mod lock;
pub(crate) mod lock_mirror;
pub(crate) mod membership;
pub(crate) mod notice;
pub(crate) mod notify_state;
pub(crate) mod outbox;
pub(crate) mod principal;
pub(crate) mod principal_setting;
pub(crate) mod second_factor;
pub(crate) mod session;
pub(crate) mod space;
pub(crate) mod subscription;
pub(crate) mod version;

use passerelle_core::ids::{FolderId, PrincipalId};
use passerelle_core::model::Trashed;
use passerelle_core::ports::RepoError;
use passerelle_core::replication::OpOutcome;
use sea_orm::prelude::Uuid;

use crate::convert::{corrupt, nanos, time};

/// The three trash columns of folders and documents.
pub(crate) struct TrashColumns {
    pub(crate) at: Option<i64>,
    pub(crate) by: Option<Uuid>,
    pub(crate) with_folder: Option<Uuid>,
}

impl TrashColumns {
    pub(crate) fn from_core(t: Option<&Trashed>) -> Result<Self, RepoError> {
        Ok(match t {
            None => Self {
                at: None,
                by: None,
                with_folder: None,
            },
            Some(t) => Self {
                at: Some(nanos(t.at)?),
                by: Some(t.by.as_uuid()),
                with_folder: t.with_folder.map(|f| f.as_uuid()),
            },
        })
    }

    pub(crate) fn into_core(self, table: &'static str) -> Result<Option<Trashed>, RepoError> {
        match (self.at, self.by) {
            (None, None) if self.with_folder.is_none() => Ok(None),
            (Some(at), Some(by)) => Ok(Some(Trashed {
                at: time(table, at)?,
                by: PrincipalId::from_uuid(by),
                with_folder: self.with_folder.map(FolderId::from_uuid),
            })),
            _ => Err(corrupt(
                table,
                "trashed_at, trashed_by and trashed_with_folder disagree",
            )),
        }
    }
}

/// Parses an outcome stored as `OpOutcome::as_str` (`outbox.outcome`,
/// `applied_ops.outcome`).
pub(crate) fn outcome_from_str(table: &'static str, raw: &str) -> Result<OpOutcome, RepoError> {
    [OpOutcome::Applied, OpOutcome::Conflict, OpOutcome::Rejected]
        .into_iter()
        .find(|o| o.as_str() == raw)
        .ok_or_else(|| corrupt(table, format_args!("unknown outcome {raw:?}")))
}
