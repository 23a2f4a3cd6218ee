//! Access resolution: which role the actor holds in a space, and the guard
//! that records denials in the audit log.

use std::future::Future;

use crate::blob::BlobError;
use crate::error::CoreError;
use crate::ids::SpaceId;
use crate::model::{PrincipalKind, Space, Visibility};
use crate::ports::{PasswordError, RepoError, Tx};
use crate::role::{Action, Role};

use super::{Actor, Passerelle};

/// A space as the actor may use it.
#[derive(Clone, Debug, PartialEq)]
pub struct Access {
    pub space: Space,
    /// The effective role: the membership's, Manager for administrators,
    /// Reader for agents in a public space they are not a member of.
    pub role: Role,
}

/// A use case's failure before it is reported: a denial is recorded in the
/// audit log (in its own transaction, once the use case's one is dropped).
#[derive(Debug)]
pub(crate) enum Fail {
    Error(CoreError),
    Denied {
        space: Option<SpaceId>,
        target: String,
        reason: &'static str,
        shown: CoreError,
    },
}

impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        Fail::Error(e)
    }
}
impl From<RepoError> for Fail {
    fn from(e: RepoError) -> Self {
        Fail::Error(e.into())
    }
}
impl From<BlobError> for Fail {
    fn from(e: BlobError) -> Self {
        Fail::Error(e.into())
    }
}
impl From<PasswordError> for Fail {
    fn from(e: PasswordError) -> Self {
        Fail::Error(e.into())
    }
}

pub(crate) type Outcome<T> = Result<T, Fail>;

impl Access {
    /// Checks that the role allows `action`; the space is visible, so the
    /// refusal is `Forbidden` (and audited).
    pub(crate) fn require(&self, action: Action, target: impl FnOnce() -> String) -> Outcome<()> {
        if self.role.allows(action) {
            return Ok(());
        }
        Err(Fail::Denied {
            space: Some(self.space.id),
            target: target(),
            reason: "role does not allow this action",
            shown: CoreError::Forbidden("your role in this space does not allow this action"),
        })
    }

    /// Writes are refused in an archived space (restoring it is a `Manage`
    /// action that does not call this).
    pub(crate) fn require_writable(&self) -> Outcome<()> {
        if self.space.archived {
            return Err(CoreError::conflict(
                "space_archived",
                "this space is archived: it is read-only",
            )
            .into());
        }
        Ok(())
    }

    /// Whether the actor created the thing (for "own" rights).
    pub(crate) fn owns(actor: &Actor, created_by: crate::ids::PrincipalId) -> bool {
        actor.id() == Some(created_by)
    }
}

impl Passerelle {
    /// Runs a use case body and records a denial, if it ended in one, after
    /// its transaction is gone.
    pub(crate) async fn guarded<T>(
        &self,
        actor: &Actor,
        body: impl Future<Output = Outcome<T>>,
    ) -> Result<T, CoreError> {
        match body.await {
            Ok(v) => Ok(v),
            Err(Fail::Error(e)) => Err(e),
            Err(Fail::Denied {
                space,
                target,
                reason,
                shown,
            }) => {
                tracing::info!(actor = ?actor.id(), ?space, %target, reason, "access denied");
                self.audit_denial(actor, space, target, reason).await;
                Err(shown)
            }
        }
    }

    /// The actor's access to a space. Absent and invisible are both
    /// `NotFound`; an invisible one is recorded as a denial.
    pub(crate) async fn access(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
    ) -> Outcome<Access> {
        self.access_as(tx, actor, space, "space").await
    }

    /// `access` to the space of a thing the caller named by its own id (a
    /// document, folder, trash item, invitation): absent and invisible both
    /// answer "`what` not found", exactly as an id that does not exist, so
    /// the reply does not tell that the thing exists in a space one cannot
    /// see (ADR 0002, invariant 8).
    pub(crate) async fn access_as(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        what: &'static str,
    ) -> Outcome<Access> {
        let Some(s) = tx.space(space).await? else {
            return Err(CoreError::NotFound(what).into());
        };
        let role = match actor {
            Actor::System => Some(Role::Manager),
            Actor::Principal(p) if p.is_admin => Some(Role::Manager),
            // A membership past its end date grants nothing from that
            // instant, on either node, before any sweep removes it.
            Actor::Principal(p) => match tx
                .membership(space, p.id)
                .await?
                .filter(|m| m.active_at(self.now()))
            {
                // A contractor never manages (ADR 0002, invariant 1): a row
                // saying otherwise, whatever wrote it, grants no more than
                // a collaborator's rights.
                Some(m) if p.kind == PrincipalKind::Contractor => {
                    Some(m.role.min(Role::Collaborator))
                }
                Some(m) => Some(m.role),
                _ if s.visibility == Visibility::Public && p.kind == PrincipalKind::Agent => {
                    Some(Role::Reader)
                }
                _ => None,
            },
        };
        match role {
            Some(role) => Ok(Access { space: s, role }),
            None => Err(Fail::Denied {
                space: Some(space),
                target: space.to_string(),
                reason: "not a member of the space",
                shown: CoreError::NotFound(what),
            }),
        }
    }

    /// Only administrators (or the CLI) may do this.
    pub(crate) fn require_admin(&self, actor: &Actor, target: &str) -> Outcome<()> {
        if actor.is_admin() {
            Ok(())
        } else {
            Err(Fail::Denied {
                space: None,
                target: target.to_owned(),
                reason: "administrator only",
                shown: CoreError::Forbidden("only an administrator may do this"),
            })
        }
    }
}
