//! Service accounts (ADR 0008 §3): the identities business applications
//! file as. Created by an administrator, given roles in spaces like any
//! member, named in the audit log; no password, no session, no web login
//! (`may_authenticate` and the login use cases refuse them a password).

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{PrincipalId, Revision};
use crate::model::{Principal, PrincipalKind};
use crate::names::Login;

use super::accounts::display_name;
use super::{Actor, InternalApp};

impl InternalApp {
    /// Creates a service account (administrators and the CLI):
    /// `finances-helios`, "Helios (finances)".
    pub async fn create_service(
        &self,
        actor: &Actor,
        login: &str,
        name: &str,
    ) -> Result<Principal, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, login)?;
            let login = Login::parse(login).map_err(CoreError::name)?;
            let display_name = display_name(name)?;
            let p = Principal {
                id: PrincipalId::new(),
                login,
                display_name,
                email: String::new(),
                kind: PrincipalKind::Service,
                is_admin: false,
                disabled: false,
                password_hash: None,
                source: crate::model::AccountSource::Local,
                second_factor_reset: None,
                organisation: None,
                created_at: self.now(),
                revision: Revision::ZERO,
            };
            self.add_principal(actor, p, json!({ "kind": "service" }))
                .await
        })
        .await
    }

    /// The service account `login`, to act as (a drop folder's worker at
    /// start). Absent, disabled, or not a service account: `NotFound` or
    /// `Conflict` with a message that says which.
    pub async fn service_actor(&self, login: &str) -> Result<Actor, CoreError> {
        let login = Login::parse(login).map_err(|_| CoreError::NotFound("service account"))?;
        let mut tx = self.read().await?;
        let p = tx
            .principal_by_login(&login)
            .await?
            .ok_or(CoreError::NotFound("service account"))?;
        check_service(&p)?;
        Ok(Actor::Principal(p))
    }
}

/// A principal that may file flows: an enabled service account.
pub(super) fn check_service(p: &Principal) -> Result<(), CoreError> {
    if p.kind != PrincipalKind::Service {
        return Err(CoreError::conflict(
            "not_a_service_account",
            format!(
                "{} is not a service account: create one with `service add`",
                p.login
            ),
        ));
    }
    if p.disabled {
        return Err(CoreError::conflict(
            "user_disabled",
            format!("the service account {} is disabled", p.login),
        ));
    }
    Ok(())
}
