//! Conversions between the generated protobuf types and core types. Every
//! incoming message is hostile input: ids, names, hashes, roles and JSON are
//! parsed and validated here, at the boundary. The field helpers shared by
//! every message live here; feed rows are in `changes`, outbox items in
//! `outbox`, lock snapshots in `locks`.

mod changes;
mod locks;
mod outbox;

pub use changes::{change_from_pb, change_to_pb};
pub use locks::{lock_from_pb, lock_to_pb};
pub use outbox::{item_from_pb, item_to_pb};

use passerelle_core::ContentHash;
use passerelle_core::ids::{FolderId, PrincipalId};
use passerelle_core::model::Trashed;
use passerelle_core::names::DocumentName;
use passerelle_core::replication::OpOutcome;
use passerelle_proto::v1 as pb;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

// The tests build core rows and items themselves; they reach these through
// `use super::*` as they did before the conversions moved to submodules.
#[cfg(test)]
use passerelle_core::{
    ids::{DocumentId, Revision, SpaceId},
    model::{Principal, PrincipalKind, Space, Visibility},
    names::{Login, Slug},
    replication::{ChangeRow, Invitation, OutboxItem, OutboxOp},
};

/// A message from the peer that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct ConvertError {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl ToString) -> ConvertError {
    ConvertError {
        field,
        problem: problem.to_string(),
    }
}

type R<T> = Result<T, ConvertError>;

fn uuid(field: &'static str, s: &str) -> R<Uuid> {
    Uuid::parse_str(s).map_err(|_| bad(field, "not a UUID"))
}

fn opt_uuid(field: &'static str, s: &str) -> R<Option<Uuid>> {
    if s.is_empty() {
        Ok(None)
    } else {
        uuid(field, s).map(Some)
    }
}

pub fn hash(field: &'static str, b: &[u8]) -> R<ContentHash> {
    let arr: [u8; 32] = b
        .try_into()
        .map_err(|_| bad(field, "a BLAKE3 hash is 32 bytes"))?;
    Ok(ContentHash::from_bytes(arr))
}

fn at(field: &'static str, nanos: i64) -> R<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|_| bad(field, "time out of range"))
}

fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// Who created a row. Empty from an internal node older than the field:
/// the nil id, as such rows were stored before it travelled.
fn author(field: &'static str, s: &str) -> R<PrincipalId> {
    Ok(PrincipalId::from_uuid(
        opt_uuid(field, s)?.unwrap_or(Uuid::nil()),
    ))
}

/// A folder or document name of the feed: stored on the internal node, maybe
/// before today's stricter rules, so checked as stored names are (an older
/// name must not stop its space's replication); still never a path.
fn name(field: &'static str, s: &str) -> R<DocumentName> {
    DocumentName::parse_stored(s).map_err(|e| bad(field, e))
}

fn json_map(field: &'static str, s: &str) -> R<Map<String, Value>> {
    if s.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad(field, "expected a JSON object")),
    }
}

fn id_text<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn trashed_to(t: &Option<Trashed>) -> Option<pb::TrashedState> {
    t.as_ref().map(|t| pb::TrashedState {
        at: nanos(t.at),
        by: t.by.to_string(),
        with_folder: id_text(&t.with_folder),
    })
}

fn trashed_from(t: Option<pb::TrashedState>) -> R<Option<Trashed>> {
    t.map(|t| {
        Ok(Trashed {
            at: at("trashed.at", t.at)?,
            by: PrincipalId::from_uuid(uuid("trashed.by", &t.by)?),
            with_folder: opt_uuid("trashed.with_folder", &t.with_folder)?.map(FolderId::from_uuid),
        })
    })
    .transpose()
}

pub fn outcome_from_str(s: &str) -> R<OpOutcome> {
    match s {
        "applied" => Ok(OpOutcome::Applied),
        "conflict" => Ok(OpOutcome::Conflict),
        "rejected" => Ok(OpOutcome::Rejected),
        other => Err(bad("outcome", format!("unknown outcome {other:?}"))),
    }
}

#[cfg(test)]
mod tests;
