//! App passwords: one secret per device for WebDAV clients (office suites,
//! rclone, davfs2), sent with the account's login over HTTP Basic.
//!
//! Why not the account password: it would sit in every client's settings,
//! and ending one lost laptop's access would mean changing it everywhere.
//! An app password is 256 random bits, shown once, stored as a hash (a fast
//! one is enough: there is no dictionary to guard against), named after its
//! device and revocable on its own. It opens WebDAV only, never the API or
//! the pages. Agents only: contractors work through the edge's pages.

use serde_json::json;

use crate::error::CoreError;
use crate::ids::TokenId;
use crate::model::{ApiToken, PrincipalKind, TokenKind};

use super::access::Fail;
use super::accounts::{IssuedToken, random_hex, token_hash};
use super::{Actor, Passerelle};

/// Prefix of app passwords, so that secret scanners and people recognise
/// them (and `authenticate_basic` knows which check to run).
pub const APP_PASSWORD_PREFIX: &str = "psr_app_";

/// Most app passwords one account holds (a device each).
const MAX_PER_ACCOUNT: usize = 50;

impl Passerelle {
    /// Creates an app password for the actor's own account, named after
    /// the device that will use it. The secret is in the answer only.
    pub async fn create_app_password(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<IssuedToken, CoreError> {
        self.guarded(actor, async {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control)
            {
                return Err(CoreError::invalid(
                    "invalid_app_password_name",
                    "an app password's name (its device) has 1 to 100 characters",
                )
                .into());
            }
            let p = actor.principal()?;
            // A contractor's WebDAV client takes their password, unless
            // they log in with a second factor (ADR 0012): then an app
            // password, made from a session the code opened, is the only
            // way a client that cannot ask for a code gets in.
            if p.kind == PrincipalKind::Contractor && !self.needs_second_step(p).await? {
                return Err(CoreError::conflict(
                    "contractor_app_password",
                    "contractors use their password in WebDAV clients: app passwords are for \
                     those who log in with a second factor",
                )
                .into());
            }
            let mut tx = self.write().await?;
            let held = tx
                .list_tokens(Some(p.id))
                .await?
                .into_iter()
                .filter(|t| t.kind == TokenKind::AppPassword && !t.revoked)
                .count();
            if held >= MAX_PER_ACCOUNT {
                return Err(CoreError::conflict(
                    "too_many_app_passwords",
                    format!("an account holds at most {MAX_PER_ACCOUNT} app passwords: revoke those of devices no longer used"),
                )
                .into());
            }
            let secret = format!("{APP_PASSWORD_PREFIX}{}", random_hex(32));
            let token = ApiToken {
                id: TokenId::new(),
                principal: p.id,
                kind: TokenKind::AppPassword,
                name: name.to_owned(),
                token_hash: token_hash(&secret),
                created_at: self.clock.now(),
                expires_at: None,
                revoked: false,
            };
            tx.save_token(&token).await?;
            self.audit(
                &mut tx,
                actor,
                "app_password.create",
                None,
                Some(token.id.to_string()),
                json!({ "name": name }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(IssuedToken { token, secret })
        })
        .await
    }

    /// The actor's own app passwords, revoked ones included (so the list
    /// tells which device was cut off), newest last.
    pub async fn list_app_passwords(&self, actor: &Actor) -> Result<Vec<ApiToken>, CoreError> {
        let Some(id) = actor.id() else {
            return Ok(Vec::new());
        };
        let mut all = self.read().await?.list_tokens(Some(id)).await?;
        all.retain(|t| t.kind == TokenKind::AppPassword);
        Ok(all)
    }

    /// Revokes one of the actor's app passwords (any, for an
    /// administrator): the device using it gets 401 at its next request.
    pub async fn revoke_app_password(&self, actor: &Actor, id: TokenId) -> Result<(), CoreError> {
        self.revoke_secret(actor, id, TokenKind::AppPassword).await
    }

    /// The account an app password opens, if `login` is its owner's and it
    /// is live: `None` for anything else, which the caller answers like a
    /// wrong password.
    pub(super) async fn check_app_password(
        &self,
        login: &str,
        secret: &str,
    ) -> Result<Option<crate::model::Principal>, CoreError> {
        let mut tx = self.read().await?;
        let Some(t) = tx.token_by_hash(&token_hash(secret)).await? else {
            return Ok(None);
        };
        if t.kind != TokenKind::AppPassword
            || t.revoked
            || t.expires_at.is_some_and(|e| e <= self.clock.now())
        {
            return Ok(None);
        }
        let Some(p) = tx.principal(t.principal).await? else {
            return Ok(None);
        };
        let same_login = crate::names::Login::parse(login).is_ok_and(|l| l == p.login);
        // Agents; contractors only while they log in with a second factor
        // (their app passwords stop working if it is reset away).
        let kind_may = match p.kind {
            PrincipalKind::Agent => true,
            PrincipalKind::Contractor => self.needs_second_step(&p).await?,
            PrincipalKind::Service => false,
        };
        let may = super::accounts::may_authenticate(self.role, &p) && kind_may && same_login;
        Ok(may.then_some(p))
    }
}
