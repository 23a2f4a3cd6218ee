//! Access that ends (issue 17 §3): a manager sets the date a member's
//! access ends ("accès jusqu'au 31/03/2027"). From that instant the
//! membership grants nothing on either node (`Membership::active_at`, read
//! by every access check and list); the internal node's sweep then turns
//! it into a removal, audited, which replicates like any other; the edge
//! ends the sessions of a contractor left with no access, at the date
//! even when the link is down, since the end date travels with the
//! membership.

use serde_json::json;
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::{Membership, Page};
use crate::ports::Tx;
use crate::role::{Action, Role};

use super::access::Fail;
use super::spaces::MemberView;
use super::{Actor, EdgeApp, InternalApp, Passerelle};

/// How long before its end a membership is pointed out to managers.
pub const END_REMINDER: time::Duration = time::Duration::days(14);

impl InternalApp {
    /// Sets (or clears, with `None`) when `principal`'s access to `space`
    /// ends. Managers only; not a manager's own role (a space must not
    /// lose its managers by a date), not a membership a directory group
    /// grants, and not in the past.
    pub async fn set_member_end(
        &self,
        actor: &Actor,
        space: SpaceId,
        principal: PrincipalId,
        ends_at: Option<OffsetDateTime>,
    ) -> Result<MemberView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, space).await?;
            a.require(Action::Manage, || space.to_string())?;
            a.require_writable()?;
            let mut m = tx
                .membership(space, principal)
                .await?
                .filter(|m| m.active_at(self.now()))
                .ok_or(CoreError::NotFound("member"))?;
            self.refuse_group_granted(&m, &a.space)?;
            if ends_at.is_some() && m.role == Role::Manager {
                return Err(manager_end().into());
            }
            if let Some(end) = ends_at
                && end <= self.now()
            {
                return Err(CoreError::invalid(
                    "end_in_past",
                    "the end of access must be in the future: to end it now, remove the member",
                )
                .into());
            }
            if m.ends_at == ends_at {
                return Ok(self.member_view(&mut tx, m).await?);
            }
            m.ends_at = ends_at;
            m.revision = tx.next_revision().await?;
            tx.save_membership(&m).await?;
            let p = tx
                .principal(principal)
                .await?
                .ok_or(CoreError::NotFound("member"))?;
            let detail = json!({ "ends_at": ends_at.map(|e| crate::error::minute(&e)) });
            let target = Some(p.login.to_string());
            self.audit(&mut tx, actor, "member.end", Some(space), target, detail)
                .await?;
            let view = self.member_view(&mut tx, m).await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(view)
        })
        .await
    }

    /// Ends the access whose date has come: each such membership becomes
    /// a removal (the edge receives it as any), the member's unused
    /// invitations to the space are revoked, and each is audited
    /// `member.expire`. How many ended.
    pub async fn end_memberships(&self) -> Result<u64, CoreError> {
        let now = self.now();
        let mut tx = self.write().await?;
        let ended = tx.memberships_ended(now).await?;
        if ended.is_empty() {
            return Ok(0);
        }
        for mut m in ended.iter().cloned() {
            m.removed = true;
            m.revision = tx.next_revision().await?;
            tx.save_membership(&m).await?;
            let revoked = revoke_unused_invitations(&mut tx, &m).await?;
            let login = tx
                .principal(m.principal)
                .await?
                .map(|p| p.login.to_string());
            let detail = json!({
                "ends_at": m.ends_at.map(|e| crate::error::minute(&e)),
                "invitations_revoked": revoked,
            });
            self.audit(
                &mut tx,
                &Actor::System,
                "member.expire",
                Some(m.space),
                login,
                detail,
            )
            .await?;
            end_sessions_without_access(&mut tx, m.principal, now).await?;
        }
        self.commit(tx).await?;
        Ok(ended.len() as u64)
    }
}

impl EdgeApp {
    /// Ends the sessions of contractors whose last access ended, at its
    /// date, whether or not the internal node's removal has arrived (the
    /// link may be down). How many people were logged out.
    pub async fn end_ended_access(&self) -> Result<u64, CoreError> {
        let now = self.shared().now();
        let mut tx = self.shared().write().await?;
        let mut people: Vec<PrincipalId> = tx
            .memberships_ended(now)
            .await?
            .into_iter()
            .map(|m| m.principal)
            .collect();
        people.sort();
        people.dedup();
        let mut ended = 0;
        for p in people {
            if end_sessions_without_access(&mut tx, p, now).await? {
                ended += 1;
            }
        }
        self.shared().commit(tx).await?;
        Ok(ended)
    }
}

impl Passerelle {
    /// A member's row as the members page shows it.
    pub(super) async fn member_view(
        &self,
        tx: &mut Box<dyn Tx>,
        m: Membership,
    ) -> Result<MemberView, CoreError> {
        let principal = tx
            .principal(m.principal)
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        Ok(MemberView {
            principal,
            role: m.role,
            granted_by: m.granted_by,
            ends_at: m.ends_at,
        })
    }
}

/// A manager's access does not end by a date.
pub(super) fn manager_end() -> CoreError {
    CoreError::conflict(
        "manager_end_date",
        "a manager's access does not end by itself: give another role first, or remove the end date",
    )
}

/// Revokes `m`'s member's invitations to its space not used yet; their
/// ids.
pub(super) async fn revoke_unused_invitations(
    tx: &mut Box<dyn Tx>,
    m: &Membership,
) -> Result<Vec<String>, CoreError> {
    let mut revoked = Vec::new();
    for mut inv in tx.list_invitations(m.space).await? {
        if inv.principal == m.principal && !inv.revoked && inv.accepted_at.is_none() {
            inv.revoked = true;
            inv.revision = tx.next_revision().await?;
            tx.save_invitation(&inv).await?;
            revoked.push(inv.id.to_string());
        }
    }
    Ok(revoked)
}

/// Deletes `principal`'s sessions when no membership gives them access
/// `now` (a contractor's only way in is their spaces); whether it did.
pub(super) async fn end_sessions_without_access(
    tx: &mut Box<dyn Tx>,
    principal: PrincipalId,
    now: OffsetDateTime,
) -> Result<bool, CoreError> {
    let Some(p) = tx.principal(principal).await? else {
        return Ok(false);
    };
    if p.kind != crate::model::PrincipalKind::Contractor {
        return Ok(false);
    }
    if tx
        .list_spaces_of(principal, now, Page::new(0, 1))
        .await?
        .total
        > 0
    {
        return Ok(false);
    }
    tx.delete_sessions_of(principal).await?;
    Ok(true)
}
