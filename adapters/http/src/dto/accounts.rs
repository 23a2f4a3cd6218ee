//! Sessions, users and API tokens.

use passerelle_core::model::{ApiToken, Language, Principal};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PrincipalKindDto, double_option};

/// `POST /auth/login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login: String,
    pub password: String,
}

/// `POST /auth/login/code` and `/auth/login/enrolment/confirm`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// From the 401 of `POST /auth/login`.
    pub challenge: String,
    /// Six digits of the authenticator app, or a recovery code.
    pub code: String,
}

/// `POST /auth/login/enrolment`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBody {
    pub challenge: String,
}

/// The secret to enrol with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolmentResponse {
    /// Base32 in groups of four, to type in by hand.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code carries.
    pub uri: String,
}

/// An enrolment confirmed: the session (cookie) and the recovery codes,
/// shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolledResponse {
    pub login: LoginResponse,
    pub recovery_codes: Vec<String>,
}

/// A new session: the token itself is in the `passerelle_session` cookie.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserDto,
    /// Send it back as `X-CSRF-Token` on every POST/PUT/PATCH/DELETE.
    pub csrf_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /auth/me`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserDto,
    /// The interface language the user chose on this node; `null`: none
    /// (pages follow the browser's `Accept-Language`).
    pub language: Option<LanguageDto>,
    /// The session's CSRF token (absent for bearer tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LanguageDto {
    Fr,
    En,
}

impl From<Language> for LanguageDto {
    fn from(l: Language) -> Self {
        match l {
            Language::Fr => LanguageDto::Fr,
            Language::En => LanguageDto::En,
        }
    }
}

impl From<LanguageDto> for Language {
    fn from(l: LanguageDto) -> Self {
        match l {
            LanguageDto::Fr => Language::Fr,
            LanguageDto::En => Language::En,
        }
    }
}

/// `PATCH /auth/me`: the caller's own settings. An absent field is kept.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// `"fr"`, `"en"`, or `null` to follow the browser again.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<LanguageDto>, nullable)]
    pub language: Option<Option<LanguageDto>>,
}

/// An account, as the API shows it (never its password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub kind: PrincipalKindDto,
    pub is_admin: bool,
    pub disabled: bool,
    /// Whether a password is set (the account can log in).
    pub has_password: bool,
    /// `local`, or `directory` for an agent whose password the
    /// authority's directory checks (no password here).
    pub source: String,
    pub organisation: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&Principal> for UserDto {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.id.as_uuid(),
            login: p.login.to_string(),
            display_name: p.display_name.clone(),
            email: p.email.clone(),
            kind: p.kind.into(),
            is_admin: p.is_admin,
            disabled: p.disabled,
            has_password: p.password_hash.is_some(),
            source: p.source.as_str().to_owned(),
            organisation: p.organisation.clone(),
            created_at: p.created_at,
        }
    }
}

/// `POST /users`: a new internal agent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub is_admin: bool,
    /// Absent: the account cannot log in until a password is set.
    pub password: Option<String>,
}

/// `POST /tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// Whose token (default: the caller; another account needs an administrator).
    pub login: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// An API token, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: Uuid,
    pub principal: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.as_uuid(),
            principal: t.principal.as_uuid(),
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
        }
    }
}

/// A new token: `secret` is shown this once and never stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedTokenDto {
    pub token: TokenDto,
    /// `psr_…`: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// `POST /app-passwords`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppPasswordBody {
    /// The device that will use it ("LibreOffice, poste 12", "rclone").
    pub name: String,
}

/// A new app password: `secret` is shown this once and never stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedAppPasswordDto {
    pub app_password: TokenDto,
    /// The login to give the WebDAV client with it.
    pub login: String,
    /// `psr_app_…`: the password of the WebDAV client (HTTP Basic).
    pub secret: String,
}

/// `GET /account/second-factor`: the caller's second factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnSecondFactorDto {
    /// Logins ask for a code.
    pub enrolled: bool,
    /// Recovery codes not spent yet.
    pub recovery_codes_left: usize,
    /// Why the account may not enrol here (`directory_account`,
    /// `second_factor_off`), if it may not.
    pub refused: Option<String>,
}

/// `POST /account/second-factor/confirm`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnCodeBody {
    /// Six digits of the authenticator app.
    pub code: String,
}

/// `POST /account/second-factor/disable`: one proof, a current code (or
/// a recovery code) or the account's password.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableSecondFactorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for DisableSecondFactorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the code nor the password goes to a log.
        f.debug_struct("DisableSecondFactorBody")
            .finish_non_exhaustive()
    }
}

/// `POST /account/second-factor/confirm`: the recovery codes, shown this
/// once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    pub recovery_codes: Vec<String>,
}
