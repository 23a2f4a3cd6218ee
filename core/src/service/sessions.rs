//! Logging in: the one password check (the node's hash, or the
//! directory's for directory accounts, ADR 0009), sessions opened,
//! resolved, ended and swept. Every failure looks the same to the caller
//! and is throttled and audited.

use serde_json::json;
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::model::{Language, Principal, Session};
use crate::names::Login;

use super::accounts::{may_authenticate, random_hex, token_hash};
use super::{Actor, Passerelle};

/// A fresh session: the secret token goes to the client (cookie), only its
/// hash is stored.
#[derive(Clone, Debug)]
pub struct LoginOutcome {
    pub principal: Principal,
    pub token: String,
    pub csrf: String,
    pub expires_at: OffsetDateTime,
}

/// A session resolved from its token.
#[derive(Clone, Debug)]
pub struct SessionAuth {
    pub actor: Actor,
    pub csrf: String,
    /// The language the user chose, if any (read in the same transaction,
    /// so a page needs no second query to pick its language).
    pub language: Option<Language>,
}

impl Passerelle {
    /// Checks a login and password and opens a session, for accounts that
    /// log in with a password alone: one that needs a second step is
    /// refused (`second_factor_required`; drivers that offer the second
    /// step call [`Passerelle::begin_login`]). Every failure looks the same
    /// to the caller (unknown login, wrong password, disabled) and is
    /// recorded in the audit log; repeated failures are throttled.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<LoginOutcome, CoreError> {
        match self.begin_login(login, password, address).await? {
            super::LoginStep::Session(outcome) => Ok(*outcome),
            _ => Err(CoreError::conflict(
                "second_factor_required",
                "this account logs in with a second factor",
            )),
        }
    }

    /// Refuses a login throttled for `key` or `address`.
    pub(super) fn check_throttle(
        &self,
        key: &str,
        address: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        match self.throttle.check(key, address, now) {
            Some(retry_after_secs) => Err(CoreError::Throttled { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Opens a session for `p`, audited `login.ok` with `detail`.
    pub(super) async fn open_session(
        &self,
        p: Principal,
        address: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<LoginOutcome, CoreError> {
        let now = self.clock.now();
        let token = random_hex(32);
        let csrf = random_hex(16);
        let session = Session {
            token_hash: token_hash(&token),
            principal: p.id,
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now + self.settings.session_ttl,
        };
        self.note_active(&p).await?;
        let mut tx = self.write().await?;
        tx.save_session(&session).await?;
        let actor = Actor::Principal(p.clone());
        let mut audit = json!({ "address": address });
        if let (Some(all), Some(more)) = (audit.as_object_mut(), detail.as_object()) {
            all.extend(more.clone());
        }
        self.audit(
            &mut tx,
            &actor,
            "login.ok",
            None,
            Some(p.login.to_string()),
            audit,
        )
        .await?;
        self.commit(tx).await?;
        Ok(LoginOutcome {
            principal: p,
            token,
            csrf,
            expires_at: session.expires_at,
        })
    }

    /// The principal whose password `password` is, throttled and audited
    /// as a login's first step; `key` is the login lower-cased.
    pub(super) async fn check_login(
        &self,
        key: &str,
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<Principal, CoreError> {
        let now = self.clock.now();
        self.check_throttle(key, address, now)?;
        let (ok, found) = self.check_password(login, password).await?;
        match (ok, found) {
            (true, Some(p)) => {
                self.throttle.record_success(key);
                Ok(p)
            }
            (_, found) => {
                let mut tx = self.write().await?;
                self.throttle.record_failure(key, address, now);
                let target: String = key.chars().take(64).collect();
                self.audit(
                    &mut tx,
                    &Actor::System,
                    "login.failed",
                    None,
                    Some(target),
                    json!({ "address": address, "known": found.is_some() }),
                )
                .await?;
                self.commit(tx).await?;
                Err(CoreError::Unauthenticated)
            }
        }
    }

    /// Whether `password` is `login`'s, with the principal found (if any).
    /// Unknown logins, disabled accounts and principals that may not act on
    /// this node spend the same time as a real check, so timing does not
    /// tell which logins exist.
    pub(super) async fn check_password(
        &self,
        login: &str,
        password: &str,
    ) -> Result<(bool, Option<Principal>), CoreError> {
        let found = match Login::parse(login) {
            Ok(l) => self.read().await?.principal_by_login(&l).await?,
            Err(_) => None,
        };
        // Never checked, locally or by the directory: an empty simple bind
        // is an anonymous success on many LDAP servers (ADR 0009). Hashed
        // anyway, so that it takes the time of a real check.
        if password.is_empty() {
            let _ = self.passwords.hash(password).await;
            return Ok((false, found));
        }
        if let Some(directory) = self.directory_for(found.as_ref()) {
            return self
                .check_in_directory(directory, login, password, found)
                .await;
        }
        let ok = match &found {
            Some(p) if may_authenticate(self.role, p) => match &p.password_hash {
                Some(phc) => self.passwords.verify(password, phc).await?,
                None => false,
            },
            _ => {
                let _ = self.passwords.hash(password).await;
                false
            }
        };
        Ok((ok, found))
    }

    /// Resolves a session cookie. Expired or unknown → `Unauthenticated`.
    pub async fn authenticate_session(&self, token: &str) -> Result<SessionAuth, CoreError> {
        let mut tx = self.read().await?;
        let s = tx
            .session(&token_hash(token))
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        if s.expires_at <= self.clock.now() {
            return Err(CoreError::Unauthenticated);
        }
        let p = tx
            .principal(s.principal)
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        if !may_authenticate(self.role, &p) {
            return Err(CoreError::Unauthenticated);
        }
        let language = tx.preferred_language(p.id).await?;
        drop(tx);
        self.note_active(&p).await?;
        Ok(SessionAuth {
            actor: Actor::Principal(p),
            csrf: s.csrf,
            language,
        })
    }

    /// Ends a session (idempotent).
    pub async fn logout(&self, token: &str) -> Result<(), CoreError> {
        let mut tx = self.write().await?;
        let h = token_hash(token);
        if let Some(s) = tx.session(&h).await? {
            tx.delete_session(&h).await?;
            let p = tx.principal(s.principal).await?;
            if let Some(p) = p {
                let login = p.login.to_string();
                self.audit(
                    &mut tx,
                    &Actor::Principal(p),
                    "logout",
                    None,
                    Some(login),
                    json!({}),
                )
                .await?;
            }
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// Removes expired sessions (periodic housekeeping).
    pub async fn sweep_sessions(&self) -> Result<u64, CoreError> {
        let mut tx = self.write().await?;
        let n = tx.delete_expired_sessions(self.clock.now()).await?;
        self.commit(tx).await?;
        Ok(n)
    }
}
