//! The one place where a use case's error becomes a WebDAV answer.
//! dav-server's `FsError` is a closed set of statuses with no message, so
//! the cause is logged here, once, and the client gets the status. It has
//! no 423 either: a refusal by a lock is also noted for the request (a
//! task-local the service reads), which answers 423 with who holds it.

use std::cell::RefCell;
use std::future::Future;

use dav_server::fs::FsError;
use passerelle_core::CoreError;

tokio::task_local! {
    /// The lock that refused a write of the request being handled.
    static LOCKED: RefCell<Option<String>>;
}

/// Runs `handling` (dav-server handling one request, in this task) and
/// returns with its answer what a refusal by a lock said, if one did.
pub(crate) async fn noting_locks<T>(handling: impl Future<Output = T>) -> (T, Option<String>) {
    LOCKED
        .scope(RefCell::new(None), async {
            let out = handling.await;
            let locked = LOCKED.with(|l| l.borrow_mut().take());
            (out, locked)
        })
        .await
}

/// Maps a use case's error to the status dav-server sends.
///
/// - Invisible and absent are both `NotFound` (404): existence never leaks.
/// - A refused name or value (`Invalid`) and a refused right are 403: the
///   request will not succeed as it is.
/// - A name already taken is `Exists` (405 on MKCOL, 412/409 on PUT, as
///   RFC 4918 asks); other conflicts (archived space, folder cycle) are 403.
/// - Storage full is 507; the rest is 500, its cause logged, never shown.
pub(crate) fn fs_error(e: CoreError) -> FsError {
    match &e {
        CoreError::NotFound(_) => FsError::NotFound,
        CoreError::Forbidden(_) | CoreError::Unauthenticated | CoreError::Throttled { .. } => {
            tracing::debug!(error = %e, "dav: refused");
            FsError::Forbidden
        }
        CoreError::Invalid { code, .. } => {
            tracing::info!(code, error = %e, "dav: invalid input refused");
            FsError::Forbidden
        }
        CoreError::Conflict { code, .. } => {
            tracing::info!(code, error = %e, "dav: conflict");
            match *code {
                "name_taken" | "conflict" => FsError::Exists,
                _ => FsError::Forbidden,
            }
        }
        // dav-server's lock check answers 423 before the file system is
        // called where the node offers locks; core refusing here means a
        // lock taken in between, or (edge) one the internal node holds.
        CoreError::Locked { .. } => {
            tracing::info!(error = %e, "dav: locked by someone else");
            // Outside `noting_locks` (no request), nothing to note.
            let _ = LOCKED.try_with(|l| *l.borrow_mut() = Some(e.to_string()));
            FsError::Forbidden
        }
        CoreError::TooLarge { .. } => FsError::TooLarge,
        CoreError::InsufficientStorage { cause } => {
            tracing::error!(cause = %cause, "dav: storage full");
            FsError::InsufficientStorage
        }
        CoreError::Interrupted
        | CoreError::BadRange { .. }
        | CoreError::OutboxFull { .. }
        | CoreError::Unavailable(_) => {
            tracing::info!(error = %e, "dav: request failed");
            FsError::GeneralFailure
        }
        CoreError::Corrupt | CoreError::Internal(_) => {
            tracing::error!(error = %passerelle_http_common::chain(&e), "dav: internal error");
            FsError::GeneralFailure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_and_taken_names_keep_their_dav_meaning() {
        assert_eq!(fs_error(CoreError::NotFound("space")), FsError::NotFound);
        assert_eq!(
            fs_error(CoreError::conflict("name_taken", "x")),
            FsError::Exists
        );
        assert_eq!(
            fs_error(CoreError::conflict("space_archived", "x")),
            FsError::Forbidden
        );
        assert_eq!(
            fs_error(CoreError::invalid("invalid_name", "x")),
            FsError::Forbidden
        );
    }
}
