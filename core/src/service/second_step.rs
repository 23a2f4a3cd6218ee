//! Logging in with a second factor (issue 17 §2, ADR 0012). A right
//! password opens a session only for whom no second step is asked;
//! otherwise it gives a short-lived challenge, which a code from the
//! person's authenticator app (or a recovery code, once) turns into a
//! session, or which leads through enrolment first when the node's policy
//! requires a second factor and the person has none (or a manager reset
//! it). Challenges live in memory: a restart only means typing the
//! password again. Wrong codes are throttled and audited as wrong
//! passwords are; a code is never accepted twice.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::PrincipalId;
use crate::model::{Principal, PrincipalKind};
use crate::second_factor::{
    RECOVERY_CODES, SecondFactor, SecondFactorPolicy, looks_like_recovery, new_recovery_code,
    new_secret, normalize_recovery,
};

use super::accounts::{random_hex, token_hash};
use super::sessions::LoginOutcome;
use super::{Actor, Passerelle};

/// How long a challenge waits for its code.
const CHALLENGE_TTL: Duration = Duration::minutes(10);
/// Wrong codes one challenge takes before it is dropped (the password
/// must be typed again); the login's throttle counts them too.
const CHALLENGE_ATTEMPTS: u32 = 5;

/// What a right password leads to.
#[derive(Clone, Debug)]
pub enum LoginStep {
    /// Logged in (boxed: the other steps are a challenge only).
    Session(Box<LoginOutcome>),
    /// A code is asked next, with this challenge.
    Code { challenge: String },
    /// The person enrols a second factor first, with this challenge.
    Enrol { challenge: String },
}

/// What enrolment shows: the secret as text and as the URI the QR code
/// carries.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// Base32, in groups of four, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/…`, for the QR code.
    pub uri: String,
}

/// An enrolment confirmed: the session, and the recovery codes, shown
/// this once.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub session: LoginOutcome,
    pub recovery_codes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Code,
    Enrol,
}

#[derive(Clone, Debug)]
struct Pending {
    principal: PrincipalId,
    /// The login as typed, lower-cased: the throttle's key.
    key: String,
    need: Need,
    expires_at: OffsetDateTime,
    attempts: u32,
}

/// Challenges waiting for their code, by the hash of their token.
#[derive(Debug, Default)]
pub(crate) struct Challenges(Mutex<HashMap<ContentHash, Pending>>);

impl Challenges {
    fn issue(&self, p: &Principal, key: &str, need: Need, now: OffsetDateTime) -> String {
        let token = random_hex(32);
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, c| c.expires_at > now);
        map.insert(
            token_hash(&token),
            Pending {
                principal: p.id,
                key: key.to_owned(),
                need,
                expires_at: now + CHALLENGE_TTL,
                attempts: 0,
            },
        );
        token
    }

    /// The live challenge of `token` when it asks for `need`.
    fn find(&self, token: &str, need: Need, now: OffsetDateTime) -> Option<Pending> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&token_hash(token))
            .filter(|c| c.expires_at > now && c.need == need)
            .cloned()
    }

    /// Counts a wrong code; the challenge goes at the last allowed one.
    fn failed(&self, token: &str) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let key = token_hash(token);
        if let Some(c) = map.get_mut(&key) {
            c.attempts += 1;
            if c.attempts >= CHALLENGE_ATTEMPTS {
                map.remove(&key);
            }
        }
    }

    fn done(&self, token: &str) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&token_hash(token));
    }
}

/// A challenge that is unknown, expired, used or of the other kind: the
/// password must be typed again.
fn expired() -> CoreError {
    CoreError::conflict(
        "challenge_expired",
        "this login step expired or was already used: log in again",
    )
}

impl Passerelle {
    /// Checks a login and password: a session, or the second step it
    /// needs. Every failure looks the same, throttled and audited (see
    /// [`Passerelle::login`]).
    pub async fn begin_login(
        &self,
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<LoginStep, CoreError> {
        let now = self.clock.now();
        let key = login.trim().to_lowercase();
        let p = self.check_login(&key, login, password, address).await?;
        let need = self.second_step(&p).await?;
        let Some(need) = need else {
            let session = self.open_session(p, address, json!({})).await?;
            return Ok(LoginStep::Session(Box::new(session)));
        };
        let challenge = self.challenges.issue(&p, &key, need, now);
        Ok(match need {
            Need::Code => LoginStep::Code { challenge },
            Need::Enrol => LoginStep::Enrol { challenge },
        })
    }

    /// What `p` must give after their password on this node, if anything:
    /// a code when they hold a confirmed second factor (not voided by a
    /// reset); enrolment when the node requires one of contractors.
    async fn second_step(&self, p: &Principal) -> Result<Option<Need>, CoreError> {
        let factor = self.read().await?.second_factor(p.id).await?;
        if factor.is_some_and(|f| f.valid_for(p.second_factor_reset)) {
            return Ok(Some(Need::Code));
        }
        let required = self.settings.second_factor == SecondFactorPolicy::Required
            && p.kind == PrincipalKind::Contractor;
        Ok(required.then_some(Need::Enrol))
    }

    /// Whether `p` logs in with a second factor here: their account
    /// password alone then opens nothing (HTTP Basic takes app passwords
    /// only).
    pub(super) async fn needs_second_step(&self, p: &Principal) -> Result<bool, CoreError> {
        Ok(self.second_step(p).await?.is_some())
    }

    /// Whether `p`'s WebDAV clients take an app password rather than the
    /// account's password: agents (a directory account has none here),
    /// and whoever logs in with a second factor.
    pub async fn webdav_takes_app_password(&self, p: &Principal) -> Result<bool, CoreError> {
        Ok(p.kind == PrincipalKind::Agent || self.needs_second_step(p).await?)
    }

    /// The secret to enrol with, for an enrolment challenge: made at the
    /// first call, the same one again until confirmed (a page reloaded
    /// keeps the QR code already scanned valid).
    pub async fn enrolment(&self, challenge: &str) -> Result<Enrolment, CoreError> {
        let now = self.clock.now();
        let pending = self
            .challenges
            .find(challenge, Need::Enrol, now)
            .ok_or_else(expired)?;
        self.enrolment_of(pending.principal)
            .await?
            .ok_or_else(expired)
    }

    /// The unconfirmed factor `principal` enrols with: the one made
    /// already if it is still unconfirmed and of the account's current
    /// reset marker, else a new secret. `None` when the account is gone.
    /// Shared by the login's enrolment and an agent's own (ADR 0012).
    pub(super) async fn enrolment_of(
        &self,
        principal: PrincipalId,
    ) -> Result<Option<Enrolment>, CoreError> {
        let mut tx = self.write().await?;
        let Some(p) = tx.principal(principal).await? else {
            return Ok(None);
        };
        let factor = match tx.second_factor(p.id).await? {
            Some(f) if f.confirmed_at.is_none() && f.reset == p.second_factor_reset => f,
            _ => {
                let f = SecondFactor {
                    principal: p.id,
                    secret: new_secret(),
                    confirmed_at: None,
                    last_step: None,
                    recovery: Vec::new(),
                    reset: p.second_factor_reset,
                };
                tx.save_second_factor(&f).await?;
                f
            }
        };
        self.commit(tx).await?;
        Ok(Some(Enrolment {
            secret: factor.secret_text(),
            uri: factor.uri(&self.settings.site_name, p.login.as_str()),
        }))
    }

    /// Confirms enrolment with a first code: the factor counts from now,
    /// recovery codes are issued (returned this once, stored hashed), and
    /// the session opens.
    pub async fn confirm_enrolment(
        &self,
        challenge: &str,
        code: &str,
        address: Option<&str>,
    ) -> Result<Enrolled, CoreError> {
        let now = self.clock.now();
        let (pending, factor) = self.waiting(challenge, Need::Enrol, address, now).await?;
        let factor = factor
            .filter(|f| f.confirmed_at.is_none())
            .ok_or_else(expired)?;
        let p = self
            .read()
            .await?
            .principal(pending.principal)
            .await?
            .ok_or_else(expired)?;
        let Some(codes) = self.confirm_factor(&p, factor, code, now).await? else {
            return Err(self.wrong_code(challenge, &pending, address, now).await?);
        };
        self.challenges.done(challenge);
        self.throttle.record_success(&pending.key);
        let session = self
            .open_session(p, address, json!({ "second_factor": "totp" }))
            .await?;
        Ok(Enrolled {
            session,
            recovery_codes: codes,
        })
    }

    /// Confirms `p`'s unconfirmed `factor` with a first code: it counts
    /// from now, and recovery codes are issued (returned this once, stored
    /// hashed); audited `second_factor.enrol`. `None` when the code is not
    /// accepted (the caller counts the failure its way). Shared by the
    /// login's enrolment and an agent's own (ADR 0012).
    pub(super) async fn confirm_factor(
        &self,
        p: &Principal,
        factor: SecondFactor,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<String>>, CoreError> {
        let Some(step) = factor.accepts(code, now) else {
            return Ok(None);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let mut recovery = Vec::with_capacity(codes.len());
        for c in &codes {
            recovery.push(self.passwords.hash(&normalize_recovery(c)).await?);
        }
        let mut tx = self.write().await?;
        tx.save_second_factor(&SecondFactor {
            confirmed_at: Some(now),
            last_step: Some(step),
            recovery,
            ..factor
        })
        .await?;
        let actor = Actor::Principal(p.clone());
        let target = Some(p.login.to_string());
        self.audit(
            &mut tx,
            &actor,
            "second_factor.enrol",
            None,
            target,
            json!({}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Some(codes))
    }

    /// The second step of a login: a code of the person's authenticator
    /// app, or one of their recovery codes (which is then spent).
    pub async fn complete_login(
        &self,
        challenge: &str,
        code: &str,
        address: Option<&str>,
    ) -> Result<LoginOutcome, CoreError> {
        let now = self.clock.now();
        let (pending, factor) = self.waiting(challenge, Need::Code, address, now).await?;
        let factor = factor.ok_or_else(expired)?;
        let before = factor.clone();
        let (updated, how) = if looks_like_recovery(code) {
            match self.spend_recovery(&factor, code).await? {
                Some(f) => (f, "recovery"),
                None => return Err(self.wrong_code(challenge, &pending, address, now).await?),
            }
        } else {
            match factor.accepts(code, now) {
                Some(step) => (
                    SecondFactor {
                        last_step: Some(step),
                        ..factor
                    },
                    "totp",
                ),
                None => return Err(self.wrong_code(challenge, &pending, address, now).await?),
            }
        };
        let mut tx = self.write().await?;
        let p = tx
            .principal(pending.principal)
            .await?
            .filter(|p| before.valid_for(p.second_factor_reset))
            .ok_or_else(expired)?;
        // Saved only if still the one checked: two codes of the same step
        // racing each other, one of them is refused.
        if tx.second_factor(p.id).await?.as_ref() != Some(&before) {
            return Err(self.wrong_code(challenge, &pending, address, now).await?);
        }
        tx.save_second_factor(&updated).await?;
        self.commit(tx).await?;
        self.challenges.done(challenge);
        self.throttle.record_success(&pending.key);
        if how == "recovery" {
            let mut tx = self.write().await?;
            let actor = Actor::Principal(p.clone());
            let detail = json!({ "left": updated.recovery.len() });
            let target = Some(p.login.to_string());
            self.audit(
                &mut tx,
                &actor,
                "second_factor.recovery",
                None,
                target,
                detail,
            )
            .await?;
            self.commit(tx).await?;
        }
        self.open_session(p, address, json!({ "second_factor": how }))
            .await
    }

    /// The live challenge asking for `need`, unless its login is
    /// throttled, with the person's second factor as stored.
    async fn waiting(
        &self,
        challenge: &str,
        need: Need,
        address: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(Pending, Option<SecondFactor>), CoreError> {
        let pending = self
            .challenges
            .find(challenge, need, now)
            .ok_or_else(expired)?;
        self.check_throttle(&pending.key, address, now)?;
        let factor = self.read().await?.second_factor(pending.principal).await?;
        Ok((pending, factor))
    }

    /// `factor` without the recovery code `typed`, if it holds it.
    pub(super) async fn spend_recovery(
        &self,
        factor: &SecondFactor,
        typed: &str,
    ) -> Result<Option<SecondFactor>, CoreError> {
        let typed = normalize_recovery(typed);
        for (i, phc) in factor.recovery.iter().enumerate() {
            if self.passwords.verify(&typed, phc).await? {
                let mut left = factor.clone();
                left.recovery.remove(i);
                return Ok(Some(left));
            }
        }
        Ok(None)
    }

    /// A wrong code: counted against the challenge and the login, audited.
    async fn wrong_code(
        &self,
        challenge: &str,
        pending: &Pending,
        address: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<CoreError, CoreError> {
        self.challenges.failed(challenge);
        self.throttle.record_failure(&pending.key, address, now);
        let mut tx = self.write().await?;
        let target: String = pending.key.chars().take(64).collect();
        self.audit(
            &mut tx,
            &Actor::System,
            "login.failed",
            None,
            Some(target),
            json!({ "address": address, "second_factor": true }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(CoreError::Unauthenticated)
    }
}

impl super::InternalApp {
    /// Voids a contractor's second factor (a lost phone): a manager of a
    /// space the contractor is a member of asks; the edge receives it with
    /// the account, ends the contractor's sessions there, and asks them to
    /// enrol again at their next login. Audited.
    pub async fn reset_second_factor(
        &self,
        actor: &Actor,
        space: crate::ids::SpaceId,
        contractor: PrincipalId,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, space).await?;
            a.require(crate::role::Action::Manage, || space.to_string())?;
            let now = self.clock.now();
            let member = tx
                .membership(space, contractor)
                .await?
                .filter(|m| m.active_at(now));
            let mut p = match (member, tx.principal(contractor).await?) {
                (Some(_), Some(p)) if p.kind == PrincipalKind::Contractor => p,
                _ => return Err(CoreError::NotFound("member").into()),
            };
            p.second_factor_reset = Some(now);
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            let target = Some(p.login.to_string());
            self.audit(
                &mut tx,
                actor,
                "contractor.second_factor_reset",
                Some(space),
                target,
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, super::access::Fail>(())
        })
        .await
    }
}
