//! `POST /invitations/accept`: a contractor opens the link of an invitation
//! and chooses a password (no session yet).

use passerelle_core::EdgeApp;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::request::Parts;
use passerelle_core::CoreError;
use passerelle_core::service::LoginThrottle;
use passerelle_http_common::{ApiError, client_address};
use time::OffsetDateTime;

use super::super::Problems;
use crate::AppState;
use crate::dto::{AcceptInvitationBody, UserDto};
use crate::extract::Json;

/// Failed acceptances by client address, with the login throttle's rules
/// (5 free failures, then 30 s doubling up to 15 min). Secrets are 256-bit,
/// so this is not what stops guessing: it keeps a scanner from using the
/// edge as an oracle at full speed, and its noise out of the database.
/// Without a known address (behind a proxy that does not forward it) every
/// client shares one budget, which only slows down acceptances, never a
/// logged-in contractor.
#[derive(Debug, Default)]
pub(crate) struct InvitationThrottle(LoginThrottle);

impl InvitationThrottle {
    fn key(address: Option<&str>) -> String {
        format!("invitation@{}", address.unwrap_or("-"))
    }

    fn check(&self, address: Option<&str>, now: OffsetDateTime) -> Result<(), ApiError> {
        match self.0.check(&Self::key(address), None, now) {
            Some(retry_after_secs) => Err(CoreError::Throttled { retry_after_secs }.into()),
            None => Ok(()),
        }
    }

    fn record_failure(&self, address: Option<&str>, now: OffsetDateTime) {
        self.0.record_failure(&Self::key(address), None, now);
    }
}

/// Accepts an invitation: sets the contractor's password, after which the
/// contractor logs in with the invited e-mail address. Unknown, used,
/// revoked and expired invitations are all 404 `not_found` (nothing to
/// tell apart for someone guessing); a password under the policy is 400
/// `weak_password` (the invitation stays usable). Repeated failures from
/// one address are throttled (429, Retry-After).
#[utoipa::path(post, path = "/invitations/accept", tag = "auth", security(()),
    responses((status = 200, body = UserDto, description = "Password set; log in with the invited address"), Problems))]
pub(crate) async fn accept_invitation(
    State(st): State<AppState>,
    Extension(edge): Extension<EdgeApp>,
    Extension(throttle): Extension<Arc<InvitationThrottle>>,
    parts: Parts,
    Json(body): Json<AcceptInvitationBody>,
) -> Result<Json<UserDto>, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let now = OffsetDateTime::now_utc();
    throttle.check(address.as_deref(), now)?;
    match edge.accept_invitation(&body.secret, &body.password).await {
        Ok(principal) => {
            tracing::info!(principal = %principal.id, "invitation accepted");
            Ok(Json(UserDto::from(&principal)))
        }
        Err(e @ CoreError::NotFound(_)) => {
            throttle.record_failure(address.as_deref(), now);
            Err(ApiError::from(e).with_detail("no usable invitation for this link"))
        }
        Err(e) => Err(e.into()),
    }
}
