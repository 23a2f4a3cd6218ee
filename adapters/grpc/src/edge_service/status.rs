//! The edge's replication service's answers for what went wrong: core's
//! errors as gRPC statuses (mapped here once), and ids that do not parse.

use passerelle_core::CoreError;
use passerelle_core::ids::SpaceId;
use tonic::Status;

/// Maps a core error to a gRPC status, logging internal causes once.
pub(crate) fn status(e: CoreError) -> Status {
    match e {
        CoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
        CoreError::Invalid { code, message, .. } => {
            Status::invalid_argument(format!("{code}: {message}"))
        }
        CoreError::Conflict { code, message } => {
            Status::failed_precondition(format!("{code}: {message}"))
        }
        CoreError::TooLarge { limit } => {
            Status::resource_exhausted(format!("larger than {limit} bytes"))
        }
        CoreError::BadRange { size } => Status::out_of_range(format!("range outside {size} bytes")),
        CoreError::Corrupt => Status::data_loss("stored content is corrupt"),
        // The peer is the internal node, run by the same ops: the cause
        // (which disk, how full) is what they need to act, so it travels.
        CoreError::InsufficientStorage { cause } => {
            tracing::warn!(%cause, "replication write refused: storage full");
            Status::resource_exhausted(cause)
        }
        other => {
            tracing::error!(error = %other, cause = ?std::error::Error::source(&other), "replication request failed");
            Status::internal("internal error")
        }
    }
}

pub(super) fn space_id(s: &str) -> Result<SpaceId, Status> {
    s.parse()
        .map_err(|_| Status::invalid_argument("space: not a UUID"))
}

/// A space that may be left unsaid (empty: a sender older than the field).
pub(super) fn said_space(s: &str) -> Result<Option<SpaceId>, Status> {
    if s.is_empty() {
        Ok(None)
    } else {
        space_id(s).map(Some)
    }
}
