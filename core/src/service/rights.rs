//! What an actor may do in a space, for driving adapters that show or hide
//! actions: they ask core instead of re-deriving the rights table, so a
//! button shown is a write core accepts.

use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::role::{Action, Role};

use super::access::{Access, Fail};
use super::{Actor, Passerelle};

/// An actor's rights in one space, as one read resolved them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rights {
    /// The effective role (see [`super::Access`]).
    role: Role,
    /// An archived space takes no write of any kind.
    archived: bool,
    /// Who asks, for the "own" rights.
    actor: Option<PrincipalId>,
}

impl Rights {
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether core would accept `action` now: the role allows it and, for
    /// a write (create, edit, delete), the space is not archived. Managing
    /// stays open in an archived space (un-archiving is managing).
    pub fn may(&self, action: Action) -> bool {
        let write = matches!(
            action,
            Action::Create | Action::Edit { .. } | Action::Delete { .. }
        );
        self.role.allows(action) && !(write && self.archived)
    }

    /// Whether the actor may edit (rename, move, set metadata, add a
    /// version to) something created by `created_by`.
    pub fn may_edit(&self, created_by: PrincipalId) -> bool {
        self.may(Action::Edit {
            own: self.actor == Some(created_by),
        })
    }

    /// Whether the actor may move to the trash something created by
    /// `created_by`.
    pub fn may_delete(&self, created_by: PrincipalId) -> bool {
        self.may(Action::Delete {
            own: self.actor == Some(created_by),
        })
    }
}

impl Passerelle {
    /// The actor's rights in a space. A space the actor cannot see is
    /// `NotFound` (and audited as a denial), as for every use case.
    pub async fn rights(&self, actor: &Actor, space: SpaceId) -> Result<Rights, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a: Access = self.access(&mut tx, actor, space).await?;
            Ok::<_, Fail>(Rights {
                role: a.role,
                archived: a.space.archived,
                actor: actor.id(),
            })
        })
        .await
    }

    /// Whether the actor may do `action` in `space` now; a space the actor
    /// cannot see allows nothing.
    pub async fn may(
        &self,
        actor: &Actor,
        space: SpaceId,
        action: Action,
    ) -> Result<bool, CoreError> {
        match self.rights(actor, space).await {
            Ok(r) => Ok(r.may(action)),
            Err(CoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
