//! CMIS's errors (CMIS 1.1 §5.2.10, the Browser binding's JSON
//! `{"exception": …, "message": …}` and statuses), and the one mapping of
//! `CoreError` to them. Clients branch on the exception's name; the
//! message is for people. Internal causes are logged, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::CoreError;
use serde_json::json;

/// A CMIS exception, as the Browser binding answers it.
#[derive(Debug)]
pub(crate) struct CmisError {
    pub(crate) status: StatusCode,
    /// CMIS's name for it (`objectNotFound`, `constraint`…).
    pub(crate) exception: &'static str,
    pub(crate) message: String,
    retry_after: Option<u64>,
}

impl CmisError {
    fn new(status: StatusCode, exception: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            exception,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidArgument", message)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "objectNotFound", "no such object")
    }

    pub(crate) fn not_supported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "notSupported", message)
    }

    pub(crate) fn constraint(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "constraint", message)
    }

    pub(crate) fn versioning(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "versioning", message)
    }
}

impl From<CoreError> for CmisError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            // Absent and not visible read alike, whatever the object.
            CoreError::NotFound(_) => Self::not_found(),
            CoreError::Forbidden(_) => {
                Self::new(StatusCode::FORBIDDEN, "permissionDenied", message)
            }
            CoreError::Unauthenticated => {
                Self::new(StatusCode::UNAUTHORIZED, "permissionDenied", message)
            }
            CoreError::Throttled { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "runtime", message)
            },
            CoreError::OutboxFull {
                retry_after_secs, ..
            } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "runtime", message)
            },
            CoreError::Invalid { .. } | CoreError::Interrupted => Self::invalid_argument(message),
            CoreError::BadRange { .. } => Self::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalidArgument",
                message,
            ),
            CoreError::Conflict {
                code: "name_taken", ..
            } => Self::new(StatusCode::CONFLICT, "nameConstraintViolation", message),
            CoreError::Conflict { .. } => Self::constraint(message),
            // Someone else's check-out or lock: the write waits for it.
            CoreError::Locked { .. } => Self::new(StatusCode::CONFLICT, "updateConflict", message),
            CoreError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "constraint", message)
            }
            // What it waits for (the directory) may take a moment: the
            // client is told when to come back.
            CoreError::Unavailable(_) => Self {
                retry_after: Some(30),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "runtime", message)
            },
            CoreError::InsufficientStorage { .. } => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage",
                "the server has no storage space left: nothing was saved; try again later",
            ),
            CoreError::Corrupt | CoreError::Internal(_) => {
                tracing::error!(error = %passerelle_http_common::chain(&e), "cmis: request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "runtime",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for CmisError {
    fn into_response(self) -> Response {
        let body = json!({ "exception": self.exception, "message": self.message });
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub(crate) type CmisResult<T> = Result<T, CmisError>;

/// A handler's answer: its response, or its exception's.
pub(crate) fn answer(result: CmisResult<Response>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_the_exceptions_clients_branch_on() {
        let cases = [
            (CoreError::NotFound("document"), 404, "objectNotFound"),
            (CoreError::Forbidden("x"), 403, "permissionDenied"),
            (
                CoreError::conflict("name_taken", "taken"),
                409,
                "nameConstraintViolation",
            ),
            (CoreError::conflict("other", "no"), 409, "constraint"),
            (CoreError::invalid("bad", "bad"), 400, "invalidArgument"),
            (CoreError::TooLarge { limit: 1 }, 413, "constraint"),
        ];
        for (e, status, exception) in cases {
            let c = CmisError::from(e);
            assert_eq!((c.status.as_u16(), c.exception), (status, exception));
        }
    }

    #[test]
    fn an_internal_cause_is_never_shown() {
        let e = CoreError::Internal("disk /srv/secret broke".into());
        let c = CmisError::from(e);
        assert_eq!(c.exception, "runtime");
        assert!(!c.message.contains("secret"));
    }
}
