//! What the directory's groups grant (ADR 0009 §6): a mapped group makes
//! its members the node's administrators, others make them members of a
//! space with a role. Applied to one directory account at a time, at its
//! login and at each directory sync, in one unit of work, each change
//! audited as the system's. Groups decide only what they granted: a
//! membership a manager gave by hand is never changed or removed here,
//! and local accounts are never touched.

use serde_json::json;

use crate::directory::GroupDn;
use crate::error::CoreError;
use crate::ids::PrincipalId;
use crate::model::{AccountSource, GrantedBy, Membership, Space};
use crate::ports::Tx;
use crate::role::Role;

use super::spaces::another_agent_manager;
use super::{Actor, Passerelle};

/// What following one account's groups changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupChanges {
    /// The administrator flag was set or cleared.
    pub admin: bool,
    /// Memberships added, changed or removed.
    pub memberships: u64,
}

/// One space's membership as the groups want it.
struct Wanted<'a> {
    space: &'a Space,
    role: Option<Role>,
    groups: Vec<&'a GroupDn>,
}

impl Passerelle {
    /// Brings the directory account `id`'s administrator flag and
    /// group-granted memberships in step with `groups`. Nothing without a
    /// mapping; a mapped space that does not exist (yet) is skipped.
    pub(super) async fn follow_groups(
        &self,
        id: PrincipalId,
        groups: &[GroupDn],
    ) -> Result<GroupChanges, CoreError> {
        let mapping = self.groups.clone();
        let mut changes = GroupChanges::default();
        if mapping.is_empty() {
            return Ok(changes);
        }
        let mut tx = self.write().await?;
        let Some(mut p) = tx.principal(id).await? else {
            return Ok(changes);
        };
        if p.source != AccountSource::Directory || p.disabled {
            return Ok(changes);
        }
        if let Some(admin) = mapping.admin(groups)
            && admin != p.is_admin
        {
            p.is_admin = admin;
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            let detail = json!({ "admin": admin, "granted_by": "directory" });
            let target = Some(p.login.to_string());
            self.audit(
                &mut tx,
                &Actor::System,
                "principal.admin",
                None,
                target,
                detail,
            )
            .await?;
            changes.admin = true;
        }
        let mut spaces = Vec::new();
        for (slug, role) in mapping.roles(groups) {
            match tx.space_by_slug(slug.as_str()).await? {
                Some(space) if !space.archived => spaces.push((space, role)),
                Some(_) => {}
                None => tracing::warn!(%slug, "group mapping: no such space, skipped"),
            }
        }
        for (space, role) in &spaces {
            let wanted = Wanted {
                space,
                role: *role,
                groups: mapping.groups_of(&space.slug),
            };
            if self.follow_membership(&mut tx, &p, wanted).await? {
                changes.memberships += 1;
            }
        }
        if changes != GroupChanges::default() {
            self.commit(tx).await?;
        }
        Ok(changes)
    }

    /// One space: the membership the groups grant added, its role changed,
    /// or removed when they no longer grant one. A manager's membership is
    /// left as it is; the space's last agent manager is kept (and logged)
    /// rather than leave it unmanaged. Whether anything changed.
    async fn follow_membership(
        &self,
        tx: &mut Box<dyn Tx>,
        p: &crate::model::Principal,
        wanted: Wanted<'_>,
    ) -> Result<bool, CoreError> {
        let space = wanted.space;
        let now = tx.membership(space.id, p.id).await?.filter(|m| !m.removed);
        if now
            .as_ref()
            .is_some_and(|m| m.granted_by == GrantedBy::Manager)
        {
            return Ok(false);
        }
        let groups: Vec<&str> = wanted.groups.iter().map(|g| g.as_str()).collect();
        let (membership, action) = match (now, wanted.role) {
            (None, None) => return Ok(false),
            (Some(m), Some(role)) if m.role == role => return Ok(false),
            (None, Some(role)) => {
                let mut m = Membership::granted(space.id, p.id, role, tx.next_revision().await?);
                m.granted_by = GrantedBy::Directory;
                (m, "member.add")
            }
            (Some(mut m), wanted_role) => {
                let leaves_management =
                    m.role == Role::Manager && wanted_role != Some(Role::Manager);
                if leaves_management && !another_agent_manager(tx, space.id, p.id).await? {
                    tracing::warn!(space = %space.slug, login = %p.login,
                        "group mapping: the space's last manager is kept");
                    return Ok(false);
                }
                match wanted_role {
                    Some(role) => {
                        m.role = role;
                        m.revision = tx.next_revision().await?;
                        (m, "member.role")
                    }
                    None => {
                        m.removed = true;
                        m.revision = tx.next_revision().await?;
                        (m, "member.remove")
                    }
                }
            }
        };
        tx.save_membership(&membership).await?;
        let detail = json!({
            "role": membership.role.as_str(),
            "granted_by": "directory",
            "groups": groups,
        });
        let target = Some(p.login.to_string());
        self.audit(tx, &Actor::System, action, Some(space.id), target, detail)
            .await?;
        Ok(true)
    }
}
