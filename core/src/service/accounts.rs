//! Accounts: agents, their settings and passwords, who may authenticate
//! where. Logging in and sessions are `sessions`.

use rand::RngCore;
use serde_json::json;

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{PrincipalId, Revision};
use crate::model::{ApiToken, Language, Page, Paged, Principal, PrincipalKind};
use crate::names::Login;

use super::access::{Fail, Outcome};
use super::{Actor, InternalApp, NodeRole, Passerelle};

/// A new internal agent.
#[derive(Clone, Debug)]
pub struct NewAgent {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub is_admin: bool,
    /// `None`: the account cannot log in until a password is set.
    pub password: Option<String>,
}

/// A new API token; `secret` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

pub(super) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Tokens are 256-bit random values, so a fast hash is enough to store them
/// (no dictionary to guard against, unlike passwords).
pub(super) fn token_hash(token: &str) -> ContentHash {
    ContentHash::of(token.as_bytes())
}

/// A principal's own settings: only that principal (or the CLI).
fn require_self(actor: &Actor, principal: PrincipalId) -> Result<(), Fail> {
    match actor {
        Actor::System => Ok(()),
        Actor::Principal(p) if p.id == principal => Ok(()),
        Actor::Principal(_) => Err(Fail::Denied {
            space: None,
            target: principal.to_string(),
            reason: "another user's settings",
            shown: CoreError::Forbidden("a user changes only their own settings"),
        }),
    }
}

/// Whether `p` may authenticate on this node with a password, a session
/// or an app password: a contractor only on an edge (ADR 0002, invariant
/// 5), a service account never (ADR 0008 §3: tokens only), whatever rows
/// exist for them here.
pub(super) fn may_authenticate(node: NodeRole, p: &Principal) -> bool {
    !p.disabled
        && match p.kind {
            PrincipalKind::Agent => true,
            PrincipalKind::Contractor => node == NodeRole::Edge,
            PrincipalKind::Service => false,
        }
}

/// Whether `p` may authenticate with an API token: agents, and service
/// accounts on the internal node (an edge holds a service account's row
/// as an author's name, nothing more); never a contractor.
pub(super) fn may_use_token(node: NodeRole, p: &Principal) -> bool {
    !p.disabled
        && match p.kind {
            PrincipalKind::Agent => true,
            PrincipalKind::Service => node == NodeRole::Internal,
            PrincipalKind::Contractor => false,
        }
}

/// Prefix of API tokens, so secret scanners and people recognise them.
pub const API_TOKEN_PREFIX: &str = "psr_";

impl Passerelle {
    pub(crate) fn check_password_policy(&self, password: &str) -> Result<(), CoreError> {
        if password.chars().count() < self.settings.min_password_len {
            return Err(CoreError::invalid(
                "weak_password",
                format!(
                    "a password has at least {} characters",
                    self.settings.min_password_len
                ),
            ));
        }
        if password.len() > 1024 {
            return Err(CoreError::invalid(
                "weak_password",
                "a password has at most 1024 bytes",
            ));
        }
        Ok(())
    }

    /// Number of accounts (the CLI's `init` refuses to run twice).
    pub async fn count_principals(&self) -> Result<u64, CoreError> {
        Ok(self.read().await?.count_principals().await?)
    }

    pub async fn list_principals(
        &self,
        actor: &Actor,
        page: Page,
    ) -> Result<Paged<Principal>, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, "principals")?;
            Ok(self.read().await?.list_principals(page).await?)
        })
        .await
    }

    /// Finds an account by login (administrators, and managers adding members).
    pub async fn principal_by_login(
        &self,
        actor: &Actor,
        login: &str,
    ) -> Result<Principal, CoreError> {
        let login = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
        if actor.id().is_none() && !actor.is_admin() {
            return Err(CoreError::NotFound("user"));
        }
        self.read()
            .await?
            .principal_by_login(&login)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    /// The language `principal` chose (`None`: none, the interface follows
    /// the browser). Only the principal itself (or the CLI) may read it.
    pub async fn preferred_language(
        &self,
        actor: &Actor,
        principal: PrincipalId,
    ) -> Result<Option<Language>, CoreError> {
        self.guarded(actor, async {
            require_self(actor, principal)?;
            let mut tx = self.read().await?;
            if tx.principal(principal).await?.is_none() {
                return Err(CoreError::NotFound("user").into());
            }
            Ok::<_, Fail>(tx.preferred_language(principal).await?)
        })
        .await
    }

    /// Sets the language of `principal`'s interface, or clears it with
    /// `None`. A user sets only their own: anyone else (administrators
    /// included) is refused and the attempt audited. Idempotent.
    pub async fn set_preferred_language(
        &self,
        actor: &Actor,
        principal: PrincipalId,
        language: Option<Language>,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            require_self(actor, principal)?;
            let mut tx = self.write().await?;
            if tx.principal(principal).await?.is_none() {
                return Err(CoreError::NotFound("user").into());
            }
            if tx.preferred_language(principal).await? == language {
                return Ok(());
            }
            tx.set_preferred_language(principal, language).await?;
            self.audit(
                &mut tx,
                actor,
                "principal.language",
                None,
                Some(principal.to_string()),
                json!({ "language": language.map(Language::code) }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Sets a password (the account itself, an administrator or the CLI).
    /// Ends the account's other sessions.
    pub async fn set_password(
        &self,
        actor: &Actor,
        login: &str,
        password: &str,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let parsed = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
            self.check_password_policy(password)?;
            let phc = self.passwords.hash(password).await?;
            let mut tx = self.write().await?;
            let mut p = tx
                .principal_by_login(&parsed)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if actor.id() != Some(p.id) {
                self.require_admin(actor, login)?;
            }
            if p.kind == PrincipalKind::Contractor && self.role == NodeRole::Internal {
                return Err(CoreError::conflict(
                    "contractor_password",
                    "a contractor sets their password on the edge, through their invitation link",
                )
                .into());
            }
            if p.kind == PrincipalKind::Service {
                return Err(CoreError::conflict(
                    "service_password",
                    "a service account has no password: issue it an API token",
                )
                .into());
            }
            if p.source == crate::model::AccountSource::Directory {
                return Err(CoreError::conflict(
                    "directory_password",
                    "this account's password is the directory's: change it there",
                )
                .into());
            }
            p.password_hash = Some(phc);
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            tx.delete_sessions_of(p.id).await?;
            self.audit(
                &mut tx,
                actor,
                "principal.password",
                None,
                Some(p.login.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }
}

impl InternalApp {
    /// Creates an internal agent (administrators and the CLI).
    pub async fn create_agent(&self, actor: &Actor, new: NewAgent) -> Result<Principal, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, &new.login)?;
            let login = Login::parse(&new.login).map_err(CoreError::name)?;
            let display_name = display_name(&new.display_name)?;
            let email = new.email.trim().to_owned();
            if !email.is_empty()
                && (!email.contains('@')
                    || email.len() > 254
                    || email.chars().any(char::is_whitespace))
            {
                return Err(CoreError::invalid("invalid_email", "not an e-mail address").into());
            }
            let password_hash = match &new.password {
                Some(pw) => {
                    self.check_password_policy(pw)?;
                    Some(self.passwords.hash(pw).await?)
                }
                None => None,
            };
            let p = Principal {
                id: PrincipalId::new(),
                login,
                display_name,
                email,
                kind: PrincipalKind::Agent,
                is_admin: new.is_admin,
                disabled: false,
                password_hash,
                source: crate::model::AccountSource::Local,
                second_factor_reset: None,
                organisation: None,
                created_at: self.clock.now(),
                revision: Revision::ZERO,
            };
            let detail = json!({ "admin": p.is_admin });
            self.add_principal(actor, p, detail).await
        })
        .await
    }

    /// Saves a new account, its login free, with its first revision, and
    /// audits it as `principal.create` with `detail`.
    pub(super) async fn add_principal(
        &self,
        actor: &Actor,
        mut p: Principal,
        detail: serde_json::Value,
    ) -> Outcome<Principal> {
        let mut tx = self.write().await?;
        if tx.principal_by_login(&p.login).await?.is_some() {
            return Err(CoreError::conflict(
                "login_taken",
                format!("the login {} is taken", p.login),
            )
            .into());
        }
        p.revision = tx.next_revision().await?;
        tx.save_principal(&p).await?;
        let login = p.login.to_string();
        self.audit(
            &mut tx,
            actor,
            "principal.create",
            None,
            Some(login),
            detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(p)
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        login: &str,
        disabled: bool,
    ) -> Result<Principal, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, login)?;
            let login = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
            let mut tx = self.write().await?;
            let mut p = tx
                .principal_by_login(&login)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if actor.id() == Some(p.id) && disabled {
                return Err(CoreError::conflict(
                    "cannot_disable_self",
                    "you cannot disable your own account",
                )
                .into());
            }
            p.disabled = disabled;
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            if disabled {
                tx.delete_sessions_of(p.id).await?;
            } else if p.kind == PrincipalKind::Contractor {
                // A whole period again before the inactivity sweep
                // judges them (ADR 0011 §5).
                let today = self.clock.now().to_offset(time::UtcOffset::UTC).date();
                tx.record_active(p.id, today).await?;
            }
            let action = if disabled {
                "principal.disable"
            } else {
                "principal.enable"
            };
            self.audit(
                &mut tx,
                actor,
                action,
                None,
                Some(p.login.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(p)
        })
        .await
    }

    /// Changes an account's display name (an administrator, or the account
    /// itself). The principal's new revision carries the name to the edges
    /// holding a space they are a member of, and to the search index, whose
    /// entries name them as author (ADR 0006).
    ///
    /// # Errors
    /// `Invalid` for a name that is empty, longer than 200 characters or
    /// holds control characters; `NotFound` for an unknown login;
    /// `Forbidden` for anyone else.
    pub async fn rename_principal(
        &self,
        actor: &Actor,
        login: &str,
        new_name: &str,
    ) -> Result<Principal, CoreError> {
        self.guarded(actor, async {
            let parsed = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
            let name = display_name(new_name)?;
            let mut tx = self.write().await?;
            let mut p = tx
                .principal_by_login(&parsed)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if actor.id() != Some(p.id) {
                self.require_admin(actor, login)?;
            }
            if p.display_name == name {
                // Nothing changes: no new revision to replicate and index.
                return Ok(p);
            }
            p.display_name = name;
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            self.audit(
                &mut tx,
                actor,
                "principal.rename",
                None,
                Some(p.login.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(p)
        })
        .await
    }
}

/// A display name as typed, trimmed, if it is one: 1 to 200 characters,
/// none of them a control character (it is shown in pages, logs and mails).
pub(super) fn display_name(raw: &str) -> Result<String, CoreError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "invalid_display_name",
            "a display name has 1 to 200 characters, none of them a control character",
        ));
    }
    Ok(name.to_owned())
}
