//! `CoreError`: what a use case reports. Driving adapters map each variant to
//! one HTTP status / problem code in one place.

use time::OffsetDateTime;

use crate::blob::BlobError;
use crate::doctype::FieldError;
use crate::ids::PrincipalId;
use crate::names::NameError;
use crate::ports::{PasswordError, RepoError};

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Absent, or present but invisible to the caller: the two are never
    /// distinguished, so existence does not leak.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Visible to the caller, but the caller's role does not allow the action.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No valid session or token, or wrong credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Too many failed logins; retry after the given number of seconds.
    #[error("too many failed attempts, retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Input refused. `code` is stable (see docs/api.md).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    /// The request contradicts current state. `code` is stable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An unexpired lock held by another principal covers what the write
    /// would change (ADR 0007 §1): refused until its holder releases it,
    /// it expires at `until`, or a manager forces it.
    #[error("locked by {holder_name} until {}", minute(until))]
    Locked {
        holder: PrincipalId,
        /// The holder's display name, for the message people read.
        holder_name: String,
        until: OffsetDateTime,
    },
    #[error("content larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The client's upload stream broke; nothing was stored.
    #[error("the upload was interrupted")]
    Interrupted,
    /// Range outside the content.
    #[error("range not satisfiable for {size} bytes")]
    BadRange { size: u64 },
    /// The edge's outbox holds as many pending operations as it may (the
    /// internal node has not fetched them: link down or slow). The write was
    /// refused before anything of it was stored; retry later.
    #[error("{pending} operations wait for the internal node: retry in {retry_after_secs} s")]
    OutboxFull { pending: u64, retry_after_secs: u64 },
    /// The node's storage (blobs or database) has no room left: the write
    /// was refused and nothing of it kept. `cause` is short, says where, and
    /// is meant for operators and the replication peer, never contractors
    /// ("disk full (ENOSPC) on /var/lib/passerelle/edge").
    #[error("insufficient storage: {cause}")]
    InsufficientStorage { cause: String },
    /// A service the request needs did not answer (the directory that
    /// checks agents' passwords, ADR 0009): nothing was judged; retry
    /// later. Local accounts are not affected.
    #[error("{0} cannot be reached: try again later")]
    Unavailable(&'static str),
    /// Stored content no longer matches its hash.
    #[error("stored content is corrupt")]
    Corrupt,
    /// Storage or infrastructure failure; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// `2026-12-07 17:40 UTC`: an expiry as people read it in a message (the
/// API's problem also carries it as RFC 3339).
pub fn minute(t: &OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    utc.format(fmt).unwrap_or_else(|_| utc.to_string())
}

impl CoreError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn name(e: NameError) -> Self {
        let code = match e {
            NameError::BadSlug => "invalid_slug",
            NameError::BadLogin => "invalid_login",
            _ => "invalid_name",
        };
        CoreError::invalid(code, e.to_string())
    }
}

impl From<RepoError> for CoreError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(what) => CoreError::conflict("conflict", what),
            RepoError::Full { cause, .. } => CoreError::InsufficientStorage { cause },
            other => CoreError::Internal(Box::new(other)),
        }
    }
}

impl From<BlobError> for CoreError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge { limit } => CoreError::TooLarge { limit },
            BlobError::Interrupted(_) => CoreError::Interrupted,
            BlobError::BadRange { size, .. } => CoreError::BadRange { size },
            BlobError::Corrupt { .. } => CoreError::Corrupt,
            BlobError::OutOfPlace { kept, .. } => {
                CoreError::conflict("blob_resume_at", format!("resume at {kept}"))
            }
            BlobError::Busy(_) => {
                CoreError::conflict("blob_busy", "this blob is being received already")
            }
            BlobError::Full { cause, .. } => CoreError::InsufficientStorage { cause },
            BlobError::NotFound(_) => CoreError::Internal(Box::new(e)),
            BlobError::Storage(_) => CoreError::Internal(Box::new(e)),
        }
    }
}

impl From<PasswordError> for CoreError {
    fn from(e: PasswordError) -> Self {
        CoreError::Internal(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_blob_store_is_insufficient_storage_with_its_cause_not_an_internal_error() {
        let e = CoreError::from(BlobError::Full {
            cause: "disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
            source: None,
        });
        assert!(
            matches!(&e, CoreError::InsufficientStorage { cause } if cause.contains("ENOSPC")),
            "{e:?}"
        );
    }

    #[test]
    fn a_lock_says_who_holds_it_and_until_which_minute() {
        let e = CoreError::Locked {
            holder: PrincipalId::new(),
            holder_name: "Paul Martin".into(),
            until: time::macros::datetime!(2026-12-07 17:40:59.5 +01:00),
        };
        assert_eq!(
            e.to_string(),
            "locked by Paul Martin until 2026-12-07 16:40 UTC"
        );
    }

    #[test]
    fn a_full_database_is_insufficient_storage_with_its_cause() {
        let e = CoreError::from(RepoError::Full {
            cause: "database disk full (SQLITE_FULL)".into(),
            source: "database or disk is full".into(),
        });
        assert_eq!(
            e.to_string(),
            "insufficient storage: database disk full (SQLITE_FULL)"
        );
    }
}
