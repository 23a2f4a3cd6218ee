//! Errors as RFC 9457 `application/problem+json`, with stable `code`s.
//!
//! [`classify`] is the one mapping of core errors to HTTP statuses and
//! codes, for every HTTP adapter (the pages map the same codes to their
//! messages); [`ApiError::from`]`(CoreError)` builds the API's problem on
//! it, logs internal causes once, and shows them to nobody.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::CoreError;
use passerelle_core::doctype::FieldError;
use serde::Serialize;

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error body (RFC 9457).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:passerelle:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    pub status: u16,
    /// Human explanation of this occurrence (English).
    pub detail: String,
    /// Stable machine code (`not_found`, `csrf`, `invalid_metadata`…).
    pub code: String,
    /// One entry per invalid field (metadata validation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
    /// The lock that refused the write (`code: locked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockProblem>,
    /// A login's second step (`code: second_factor_required` or
    /// `second_factor_enrolment`): sent back with the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// Who holds the lock that refused a write, and until when.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockProblem {
    /// The holder's principal id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub holder: passerelle_core::ids::PrincipalId,
    /// The holder's display name.
    pub holder_name: String,
    /// When the lock expires by itself (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: time::OffsetDateTime,
}

/// One refused field.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// What only some problems carry.
#[derive(Debug)]
enum Extra {
    Lock(LockProblem),
    Challenge(String),
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    fields: Vec<FieldError>,
    /// `Retry-After` seconds (throttled logins, a full edge outbox).
    retry_after: Option<u64>,
    /// Size for `Content-Range: bytes */<size>` (unsatisfiable range).
    unsatisfiable_size: Option<u64>,
    /// What only some problems carry (the lock that refused a write, a
    /// login's challenge); boxed, as it is rare and would make every
    /// `Result<_, ApiError>` larger.
    extra: Option<Box<Extra>>,
}

impl ApiError {
    /// A password accepted, a second step asked: `code` says which
    /// (`second_factor_required`, `second_factor_enrolment`).
    pub fn second_step(code: &'static str, challenge: String) -> Self {
        let detail = match code {
            "second_factor_enrolment" => {
                "password accepted: enrol a second factor (POST /auth/login/enrolment), then confirm it with a code"
            }
            _ => "password accepted: send a code of your authenticator app (POST /auth/login/code)",
        };
        Self {
            extra: Some(Box::new(Extra::Challenge(challenge))),
            ..Self::new(StatusCode::UNAUTHORIZED, code, detail)
        }
    }

    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            fields: Vec::new(),
            retry_after: None,
            unsatisfiable_size: None,
            extra: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn invalid_json(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "authentication required",
        )
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong X-CSRF-Token header (cookie sessions send the token returned at login)",
        )
    }

    pub fn too_large(limit: u64) -> Self {
        Self::from(CoreError::TooLarge { limit })
    }

    pub fn range_not_satisfiable(size: u64) -> Self {
        Self::from(CoreError::BadRange { size })
    }

    /// Replaces the human explanation, keeping status and code.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// The one mapping of core errors to HTTP: status and stable code.
pub fn classify(e: &CoreError) -> (StatusCode, &'static str) {
    match e {
        CoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        CoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        CoreError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        CoreError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
        CoreError::Invalid { code, .. } => (StatusCode::BAD_REQUEST, code),
        CoreError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
        // WebDAV's status (RFC 4918 §11.3), for every path to the same
        // lock: the API and the pages say it the same way.
        CoreError::Locked { .. } => (StatusCode::LOCKED, "locked"),
        CoreError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        CoreError::Interrupted => (StatusCode::BAD_REQUEST, "interrupted"),
        CoreError::BadRange { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"),
        // The edge is fine but cannot take more until the internal node
        // drains its outbox: a temporary refusal, retried later.
        CoreError::OutboxFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "outbox_full"),
        // The node's disk is full: not a bug, and not the client's fault;
        // nothing was stored, and the same request may pass once ops free
        // room.
        CoreError::InsufficientStorage { .. } => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
        // The directory did not answer: a login not judged, to retry;
        // local accounts still log in (ADR 0009).
        CoreError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        CoreError::Corrupt | CoreError::Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// What contractors and API clients read when the node's storage is full:
/// the cause names server paths, for operators only (logged).
const STORAGE_FULL_DETAIL: &str =
    "the server has no storage space left: nothing was saved; try again later";

/// The error and its sources, for the log.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let (status, code) = classify(&e);
        let mut out = ApiError::new(status, code, e.to_string());
        match e {
            CoreError::Invalid { fields, .. } => out.fields = fields,
            CoreError::Throttled { retry_after_secs }
            | CoreError::OutboxFull {
                retry_after_secs, ..
            } => out.retry_after = Some(retry_after_secs),
            CoreError::BadRange { size } => out.unsatisfiable_size = Some(size),
            CoreError::Locked {
                holder,
                holder_name,
                until,
            } => {
                out.extra = Some(Box::new(Extra::Lock(LockProblem {
                    holder,
                    holder_name,
                    until,
                })))
            }
            CoreError::InsufficientStorage { cause } => {
                tracing::warn!(%cause, "write refused: storage full");
                out.detail = STORAGE_FULL_DETAIL.into();
            }
            CoreError::Corrupt => {
                tracing::error!(error = %e, "stored content failed verification");
                out.detail = "internal error".into();
            }
            CoreError::Internal(_) => {
                tracing::error!(error = %chain(&e), "request failed");
                out.detail = "internal error".into();
            }
            _ => {}
        }
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:passerelle:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            fields: self
                .fields
                .into_iter()
                .map(|f| FieldProblem {
                    field: f.field,
                    problem: f.problem,
                })
                .collect(),
            lock: match self.extra.as_deref() {
                Some(Extra::Lock(l)) => Some(l.clone()),
                _ => None,
            },
            challenge: match self.extra.map(|e| *e) {
                Some(Extra::Challenge(c)) => Some(c),
                _ => None,
            },
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (self.status, json).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(size) = self.unsatisfiable_size
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

// Rejections of axum's extractors (a malformed body, a path id that is
// not a UUID, a bad query) become problems like every other refusal. They
// live beside `ApiError`, not beside the API's extractor wrappers, because
// only the crate of `ApiError` may implement `From` for it.

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", r.body_text())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a body with Content-Type: application/json",
            ),
            _ => ApiError::invalid_json(r.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_absent_things_are_both_not_found() {
        assert_eq!(
            classify(&CoreError::NotFound("space")),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }

    #[test]
    fn core_codes_pass_through_with_their_status() {
        assert_eq!(
            classify(&CoreError::conflict("last_manager", "x")),
            (StatusCode::CONFLICT, "last_manager")
        );
        assert_eq!(
            classify(&CoreError::invalid("invalid_name", "x")),
            (StatusCode::BAD_REQUEST, "invalid_name")
        );
    }

    #[test]
    fn a_full_outbox_is_unavailable_for_a_while_not_an_internal_error() {
        let e = CoreError::OutboxFull {
            pending: 10_000,
            retry_after_secs: 60,
        };
        assert_eq!(
            classify(&e),
            (StatusCode::SERVICE_UNAVAILABLE, "outbox_full")
        );
        let res = ApiError::from(e).into_response();
        assert_eq!(res.headers()[header::RETRY_AFTER], "60");
    }

    #[test]
    fn a_full_disk_is_507_storage_full_and_hides_where_the_disk_is() {
        let e = CoreError::InsufficientStorage {
            cause: "disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
        };
        assert_eq!(
            classify(&e),
            (StatusCode::INSUFFICIENT_STORAGE, "storage_full")
        );
        let e = ApiError::from(e);
        assert_eq!(e.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert!(e.detail.contains("nothing was saved"), "{}", e.detail);
        assert!(!e.detail.contains("/var/lib"), "{}", e.detail);
    }

    #[test]
    fn a_blob_store_out_of_disk_reaches_clients_as_507_not_500() {
        let full = passerelle_core::blob::BlobError::Full {
            cause: "disk full (ENOSPC)".into(),
            source: Some(Box::new(std::io::Error::from_raw_os_error(28))),
        };
        let res = ApiError::from(CoreError::from(full)).into_response();
        assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    /// What axum's JSON extractor says about this body, as a problem.
    async fn json_problem(content_type: &str, body: &'static str) -> ApiError {
        use axum::extract::FromRequest;
        let req = axum::http::Request::post("/")
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .expect("request");
        let rejection = axum::Json::<serde_json::Value>::from_request(req, &())
            .await
            .expect_err("the body is refused");
        ApiError::from(rejection)
    }

    #[tokio::test]
    async fn refused_json_bodies_are_problems_with_stable_codes() {
        let e = json_problem("application/json", "{").await;
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::BAD_REQUEST, "invalid_json")
        );
        let e = json_problem("text/plain", "{}").await;
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        );
    }

    #[test]
    fn a_lock_is_423_locked_with_its_holder_and_expiry_in_the_body() {
        let holder = passerelle_core::ids::PrincipalId::new();
        let until = time::macros::datetime!(2026-12-06 17:40 UTC);
        let e = CoreError::Locked {
            holder,
            holder_name: "Paul Martin".into(),
            until,
        };
        assert_eq!(classify(&e), (StatusCode::LOCKED, "locked"));
        let e = ApiError::from(e);
        let Some(Extra::Lock(lock)) = e.extra.as_deref() else {
            panic!("the lock travels")
        };
        assert_eq!(
            (lock.holder, lock.holder_name.as_str()),
            (holder, "Paul Martin")
        );
        assert_eq!(lock.until, until);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::from(CoreError::Internal("database password is hunter2".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.detail, "internal error");
    }
}
