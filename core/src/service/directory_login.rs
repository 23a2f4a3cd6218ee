//! Agents whose password the authority's directory checks (ADR 0009): the
//! one place where a directory answer becomes an account. A login nobody
//! has yet, or a directory account, is asked of the directory; a right
//! password makes the account at its first login (an agent with no local
//! password) or brings its name and e-mail up to date. Local accounts are
//! never asked of the directory: the break-glass administrator works when
//! it is down, and no directory entry takes over a local login.

use serde_json::json;

use crate::directory::{Directory, DirectoryEntry, DirectoryError};
use crate::error::CoreError;
use crate::ids::PrincipalId;
use crate::model::{AccountSource, Principal, PrincipalKind};
use crate::names::Login;

use super::accounts::may_authenticate;
use super::{Actor, Passerelle};

impl Passerelle {
    /// The directory, when `found` (the account of the login, if any) is
    /// one it decides for.
    pub(super) fn directory_for(&self, found: Option<&Principal>) -> Option<&dyn Directory> {
        let directory = self.directory.as_deref()?;
        match found {
            None => Some(directory),
            Some(p) if p.source == AccountSource::Directory => Some(directory),
            Some(_) => None,
        }
    }

    /// Asks the directory; on a right password, the account (made or
    /// updated) and whether it may log in here.
    pub(super) async fn check_in_directory(
        &self,
        directory: &dyn Directory,
        login: &str,
        password: &str,
        found: Option<Principal>,
    ) -> Result<(bool, Option<Principal>), CoreError> {
        let Ok(parsed) = Login::parse(login) else {
            return Ok((false, found));
        };
        match directory.verify(parsed.as_str(), password).await {
            Ok(Some(mut entry)) => {
                let groups = std::mem::take(&mut entry.groups);
                let mut p = self.provision(&parsed, entry).await?;
                // The groups decide what this login may do: followed before
                // it starts, not at the next sync.
                if self.follow_groups(p.id, &groups).await?.admin {
                    let mut tx = self.read().await?;
                    p = tx.principal(p.id).await?.unwrap_or(p);
                }
                Ok((may_authenticate(self.role, &p), Some(p)))
            }
            Ok(None) => Ok((false, found)),
            Err(e @ DirectoryError::Unavailable(_)) => {
                tracing::warn!(error = %e, "directory login: no answer");
                Err(CoreError::Unavailable("the directory"))
            }
            Err(e @ DirectoryError::Misconfigured(_)) => {
                tracing::error!(error = %e, "directory login: the node's [ldap] settings are refused");
                Err(CoreError::Unavailable("the directory"))
            }
        }
    }

    /// The account of a directory agent who gave the right password: made
    /// at the first login, its name and e-mail brought up to date after.
    async fn provision(
        &self,
        login: &Login,
        entry: DirectoryEntry,
    ) -> Result<Principal, CoreError> {
        let mut tx = self.write().await?;
        let display_name = if entry.display_name.trim().is_empty() {
            login.to_string()
        } else {
            entry.display_name.trim().to_owned()
        };
        let email = entry.email.trim().to_owned();
        let (p, action) = match tx.principal_by_login(login).await? {
            // Made by a concurrent login, or a local account of the same
            // login meanwhile: the directory decides for neither here.
            Some(p) if p.source != AccountSource::Directory => return Ok(p),
            Some(p) if p.display_name == display_name && p.email == email => return Ok(p),
            Some(mut p) => {
                p.display_name = display_name;
                p.email = email;
                p.revision = tx.next_revision().await?;
                (p, "principal.directory_update")
            }
            None => (
                Principal {
                    id: PrincipalId::new(),
                    login: login.clone(),
                    display_name,
                    email,
                    kind: PrincipalKind::Agent,
                    is_admin: false,
                    disabled: false,
                    password_hash: None,
                    source: AccountSource::Directory,
                    second_factor_reset: None,
                    organisation: None,
                    created_at: self.clock.now(),
                    revision: tx.next_revision().await?,
                },
                "principal.provision",
            ),
        };
        tx.save_principal(&p).await?;
        self.audit(
            &mut tx,
            &Actor::System,
            action,
            None,
            Some(p.login.to_string()),
            json!({ "source": "directory", "name": p.display_name, "email": p.email }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(p)
    }
}
