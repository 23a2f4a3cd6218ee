//! API tokens: business applications and scripts act as an agent with a
//! bearer token (never a contractor, ADR 0002 invariant 5).

use serde_json::json;
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::ids::TokenId;
use crate::model::{ApiToken, PrincipalKind, TokenKind};
use crate::names::Login;

use super::access::Fail;
use super::accounts::{API_TOKEN_PREFIX, IssuedToken, may_use_token, random_hex, token_hash};
use super::{Actor, Passerelle};

impl Passerelle {
    /// Resolves a bearer API token.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Actor, CoreError> {
        if !secret.starts_with(API_TOKEN_PREFIX) {
            return Err(CoreError::Unauthenticated);
        }
        let mut tx = self.read().await?;
        let t = tx
            .token_by_hash(&token_hash(secret))
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        // An app password opens WebDAV with its login, never the API alone.
        if t.kind != TokenKind::Api
            || t.revoked
            || t.expires_at.is_some_and(|e| e <= self.clock.now())
        {
            return Err(CoreError::Unauthenticated);
        }
        let p = tx
            .principal(t.principal)
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        // No token is issued to a contractor; one left from before that rule
        // (or planted in the database) opens nothing.
        if !may_use_token(self.role, &p) {
            return Err(CoreError::Unauthenticated);
        }
        Ok(Actor::Principal(p))
    }

    /// Issues an API token acting as `login` (oneself, or anyone for an
    /// administrator: a business application's service account).
    pub async fn create_token(
        &self,
        actor: &Actor,
        login: &str,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, CoreError> {
        self.guarded(actor, async {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(CoreError::invalid(
                    "invalid_token_name",
                    "a token name has 1 to 100 characters",
                )
                .into());
            }
            let parsed = Login::parse(login).ok();
            let own = matches!(actor, Actor::Principal(p) if Some(&p.login) == parsed.as_ref());
            // Checked before the look-up: the answer to a non-administrator
            // must not tell whether another login exists (ADR 0002, 8).
            if !own {
                self.require_admin(actor, login)?;
            }
            let login = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
            let mut tx = self.write().await?;
            let p = tx
                .principal_by_login(&login)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if p.kind == PrincipalKind::Contractor {
                return Err(CoreError::conflict(
                    "contractor_token",
                    "contractors get no API token: they work through the edge's pages",
                )
                .into());
            }
            let secret = format!("{API_TOKEN_PREFIX}{}", random_hex(32));
            let token = ApiToken {
                id: TokenId::new(),
                principal: p.id,
                kind: TokenKind::Api,
                name: name.to_owned(),
                token_hash: token_hash(&secret),
                created_at: self.clock.now(),
                expires_at,
                revoked: false,
            };
            tx.save_token(&token).await?;
            self.audit(
                &mut tx,
                actor,
                "token.create",
                None,
                Some(token.id.to_string()),
                json!({ "for": login.as_str(), "name": name }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(IssuedToken { token, secret })
        })
        .await
    }

    /// Tokens of the actor (or all, for an administrator).
    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>, CoreError> {
        let filter = if actor.is_admin() { None } else { actor.id() };
        if filter.is_none() && !actor.is_admin() {
            return Ok(Vec::new());
        }
        let mut all = self.read().await?.list_tokens(filter).await?;
        all.retain(|t| t.kind == TokenKind::Api);
        Ok(all)
    }

    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<(), CoreError> {
        self.revoke_secret(actor, id, TokenKind::Api).await
    }

    /// Revokes a token or app password of the actor (any, for an
    /// administrator). Another's, or one of the other kind, is `NotFound`.
    pub(super) async fn revoke_secret(
        &self,
        actor: &Actor,
        id: TokenId,
        kind: TokenKind,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut t = tx
                .token(id)
                .await?
                .filter(|t| t.kind == kind)
                .ok_or(CoreError::NotFound("token"))?;
            if actor.id() != Some(t.principal) && !actor.is_admin() {
                return Err(CoreError::NotFound("token").into());
            }
            t.revoked = true;
            tx.save_token(&t).await?;
            let action = match kind {
                TokenKind::Api => "token.revoke",
                TokenKind::AppPassword => "app_password.revoke",
            };
            self.audit(
                &mut tx,
                actor,
                action,
                None,
                Some(id.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }
}
