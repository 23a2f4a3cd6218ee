//! `/account/second-factor`: an agent's own, optional second factor on the
//! internal node (ADR 0012 §7): enrol (the secret and its `otpauth://`
//! URI), confirm with a first code (the recovery codes, once), turn off
//! with a proof. Who may is core's to say (`directory_account`,
//! `second_factor_off`…).

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use passerelle_core::service::Proof;
use passerelle_core::{CoreError, InternalApp};
use passerelle_http_common::{ApiError, Authenticated, client_address};

use super::Problems;
use crate::AppState;
use crate::dto::{
    DisableSecondFactorBody, EnrolmentResponse, OwnCodeBody, OwnSecondFactorDto,
    RecoveryCodesResponse,
};
use crate::extract::Json;

/// The caller's second factor: enrolled or not, recovery codes left, and
/// why the account may not enrol here, if it may not.
#[utoipa::path(get, path = "/account/second-factor", tag = "accounts",
    responses((status = 200, body = OwnSecondFactorDto), Problems))]
pub(crate) async fn own_second_factor(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
) -> Result<Json<OwnSecondFactorDto>, ApiError> {
    let s = internal.own_second_factor(&actor).await?;
    Ok(Json(OwnSecondFactorDto {
        enrolled: s.enrolled,
        recovery_codes_left: s.recovery_left,
        refused: s.refused.map(str::to_owned),
    }))
}

/// Starts enrolment (a local account only; 409 `directory_account` for a
/// directory one): the secret as text and the `otpauth://` URI, the same
/// until confirmed.
#[utoipa::path(post, path = "/account/second-factor", tag = "accounts",
    responses((status = 200, body = EnrolmentResponse), Problems))]
pub(crate) async fn start_second_factor(
    Extension(internal): Extension<InternalApp>,
    Authenticated(actor): Authenticated,
) -> Result<Json<EnrolmentResponse>, ApiError> {
    let e = internal.start_second_factor(&actor).await?;
    Ok(Json(EnrolmentResponse {
        secret: e.secret,
        uri: e.uri,
    }))
}

/// Confirms enrolment with a first code (400 `wrong_code` otherwise): the
/// next logins ask for a code. The recovery codes are in this response
/// only.
#[utoipa::path(post, path = "/account/second-factor/confirm", tag = "accounts",
    request_body = OwnCodeBody,
    responses((status = 200, body = RecoveryCodesResponse), Problems))]
pub(crate) async fn confirm_second_factor(
    Extension(internal): Extension<InternalApp>,
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    parts: Parts,
    Json(body): Json<OwnCodeBody>,
) -> Result<Json<RecoveryCodesResponse>, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let recovery_codes = internal
        .confirm_second_factor(&actor, &body.code, address.as_deref())
        .await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Turns the caller's second factor off, given a current code (or a
/// recovery code) or the password (400 `wrong_proof` otherwise,
/// throttled). Audited.
#[utoipa::path(post, path = "/account/second-factor/disable", tag = "accounts",
    request_body = DisableSecondFactorBody,
    responses((status = 204, description = "Turned off"), Problems))]
pub(crate) async fn disable_second_factor(
    Extension(internal): Extension<InternalApp>,
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    parts: Parts,
    Json(body): Json<DisableSecondFactorBody>,
) -> Result<StatusCode, ApiError> {
    let proof = match (body.code, body.password) {
        (Some(code), None) => Proof::Code(code),
        (None, Some(password)) => Proof::Password(password),
        _ => {
            return Err(
                CoreError::invalid("invalid_proof", "give either `code` or `password`").into(),
            );
        }
    };
    let address = client_address(&parts, &st.config.trusted_proxies);
    internal
        .disable_second_factor(&actor, proof, address.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
