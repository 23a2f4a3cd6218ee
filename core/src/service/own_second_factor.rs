//! An agent's own second factor on the internal node (issue 17 §2, ADR
//! 0012 §7): optional, chosen by the person from their account page or the
//! API, for local accounts only (a directory account's authority is the
//! directory, which has its own policy). Enrolment and confirmation are
//! the login's (`enrolment_of`, `confirm_factor`), so the factor is the
//! same row, asked by the same `begin_login` → `/login/code` step once
//! confirmed. Turning it off takes a proof (a current code, a recovery
//! code or the password): an unlocked screen alone must not strip it.

use serde_json::json;

use crate::error::CoreError;
use crate::model::{AccountSource, Principal, PrincipalKind};
use crate::second_factor::{SecondFactor, SecondFactorPolicy, looks_like_recovery};

use super::second_step::Enrolment;
use super::{Actor, InternalApp};

/// What the account page shows of the caller's second factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnSecondFactor {
    /// A confirmed factor: logins ask for a code.
    pub enrolled: bool,
    /// Recovery codes not spent yet.
    pub recovery_left: usize,
    /// Why this account may not enrol here (a stable problem code:
    /// `directory_account`, `second_factor_off`), if it may not.
    pub refused: Option<&'static str>,
}

/// How the person proves it is them before turning their factor off.
#[derive(Clone, PartialEq, Eq)]
pub enum Proof {
    /// A code of the authenticator app, or a recovery code.
    Code(String),
    /// The account's password.
    Password(String),
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither a code nor a password goes to a log.
        f.write_str(match self {
            Proof::Code(_) => "Proof::Code(..)",
            Proof::Password(_) => "Proof::Password(..)",
        })
    }
}

/// The directory is a directory account's authority: the node adds no
/// factor of its own to it.
fn directory_account() -> CoreError {
    CoreError::conflict(
        "directory_account",
        "this account logs in through the directory: its second factor is the directory's to manage",
    )
}

fn policy_off() -> CoreError {
    CoreError::conflict(
        "second_factor_off",
        "this node offers no second factor (its policy is off)",
    )
}

fn no_factor() -> CoreError {
    CoreError::conflict(
        "no_second_factor",
        "this account has no second factor to confirm or turn off",
    )
}

impl InternalApp {
    /// The caller's second factor as their account page shows it.
    pub async fn own_second_factor(&self, actor: &Actor) -> Result<OwnSecondFactor, CoreError> {
        let p = self.current(actor).await?;
        let factor = self.read().await?.second_factor(p.id).await?;
        let confirmed = factor.filter(|f| f.valid_for(p.second_factor_reset));
        Ok(OwnSecondFactor {
            enrolled: confirmed.is_some(),
            recovery_left: confirmed.map_or(0, |f| f.recovery.len()),
            refused: self.may_enrol(&p).err().and_then(|e| match e {
                CoreError::Conflict { code, .. } => Some(code),
                _ => None,
            }),
        })
    }

    /// Starts (or shows again, until confirmed) the caller's enrolment:
    /// the secret as text and the `otpauth://` URI of the QR code. A
    /// local agent only, on a node whose policy is not off, not enrolled
    /// already (`second_factor_enrolled`: turn it off first).
    pub async fn start_second_factor(&self, actor: &Actor) -> Result<Enrolment, CoreError> {
        let p = self.current(actor).await?;
        self.may_enrol(&p)?;
        if self.confirmed(&p).await?.is_some() {
            return Err(CoreError::conflict(
                "second_factor_enrolled",
                "a second factor is enrolled already: turn it off first to enrol another",
            ));
        }
        self.enrolment_of(p.id)
            .await?
            .ok_or(CoreError::Unauthenticated)
    }

    /// Confirms the caller's enrolment with a first code: from now on
    /// their logins ask for a code. The recovery codes are returned this
    /// once. A wrong code is refused (`wrong_code`) and counted by the
    /// login throttle, like a wrong code at login.
    pub async fn confirm_second_factor(
        &self,
        actor: &Actor,
        code: &str,
        address: Option<&str>,
    ) -> Result<Vec<String>, CoreError> {
        let now = self.now();
        let p = self.current(actor).await?;
        self.may_enrol(&p)?;
        let key = p.login.as_str().to_lowercase();
        self.check_throttle(&key, address, now)?;
        let factor = self
            .read()
            .await?
            .second_factor(p.id)
            .await?
            .filter(|f| f.confirmed_at.is_none() && f.reset == p.second_factor_reset)
            .ok_or_else(no_factor)?;
        match self.confirm_factor(&p, factor, code, now).await? {
            Some(codes) => {
                self.throttle.record_success(&key);
                Ok(codes)
            }
            None => {
                self.throttle.record_failure(&key, address, now);
                Err(CoreError::invalid(
                    "wrong_code",
                    "this is not the code the authenticator app shows now",
                ))
            }
        }
    }

    /// Turns the caller's second factor off, on proof that it is them (a
    /// current code, a recovery code, or the password): their logins then
    /// take the password alone. A wrong proof is refused (`wrong_proof`),
    /// throttled and audited; the removal is audited
    /// `second_factor.disable`.
    pub async fn disable_second_factor(
        &self,
        actor: &Actor,
        proof: Proof,
        address: Option<&str>,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let p = self.current(actor).await?;
        let key = p.login.as_str().to_lowercase();
        self.check_throttle(&key, address, now)?;
        let factor = self.confirmed(&p).await?.ok_or_else(no_factor)?;
        let how = match &proof {
            Proof::Code(c) if looks_like_recovery(c) => {
                self.spend_recovery(&factor, c).await?.map(|_| "recovery")
            }
            Proof::Code(c) => factor.accepts(c, now).map(|_| "totp"),
            Proof::Password(pw) => match &p.password_hash {
                Some(phc) if !pw.is_empty() => {
                    self.passwords.verify(pw, phc).await?.then_some("password")
                }
                _ => None,
            },
        };
        let mut tx = self.write().await?;
        let target = Some(p.login.to_string());
        let Some(how) = how else {
            self.throttle.record_failure(&key, address, now);
            self.audit(
                &mut tx,
                actor,
                "second_factor.disable_refused",
                None,
                target,
                json!({ "address": address }),
            )
            .await?;
            self.commit(tx).await?;
            return Err(CoreError::invalid(
                "wrong_proof",
                "give a current code of the authenticator app, a recovery code, or your password",
            ));
        };
        self.throttle.record_success(&key);
        tx.delete_second_factor(p.id).await?;
        let detail = json!({ "proof": how, "address": address });
        self.audit(
            &mut tx,
            actor,
            "second_factor.disable",
            None,
            target,
            detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// The caller's account as stored now (a session's copy may be older).
    async fn current(&self, actor: &Actor) -> Result<Principal, CoreError> {
        let id = actor.principal()?.id;
        self.read()
            .await?
            .principal(id)
            .await?
            .filter(|p| !p.disabled)
            .ok_or(CoreError::Unauthenticated)
    }

    /// `p`'s confirmed factor, not voided by a reset.
    async fn confirmed(&self, p: &Principal) -> Result<Option<SecondFactor>, CoreError> {
        let factor = self.read().await?.second_factor(p.id).await?;
        Ok(factor.filter(|f| f.valid_for(p.second_factor_reset)))
    }

    /// Whether `p` may enrol a factor of their own here: an agent with a
    /// local account, on a node that offers one.
    fn may_enrol(&self, p: &Principal) -> Result<(), CoreError> {
        if p.kind != PrincipalKind::Agent {
            return Err(CoreError::Forbidden(
                "only agents enrol a second factor from their account",
            ));
        }
        if p.source == AccountSource::Directory {
            return Err(directory_account());
        }
        if self.settings.second_factor == SecondFactorPolicy::Off {
            return Err(policy_off());
        }
        Ok(())
    }
}
