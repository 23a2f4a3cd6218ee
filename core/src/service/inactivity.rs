//! Contractors inactive for too long are disabled (issue 17 §3, ADR 0011
//! §5). Contractors act only on an edge, so the edge notes the day each
//! one was last active (a login, a request, an invitation accepted: one
//! write per person and day, not one per request) and reports those days
//! up the link, which the internal node dials; the internal node, the
//! authority on accounts, keeps the latest day it heard of and disables
//! the contractors idle for longer than its `contractor_inactivity`. The
//! disabling replicates like an administrator's, and the edge ends their
//! sessions on receipt. A manager of one of their spaces (or an
//! administrator) re-enables them, which counts as activity that day.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::json;
use time::{Date, Duration, OffsetDateTime};

use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::{Page, Principal, PrincipalKind};
use crate::ports::Tx;
use crate::replication::NodeId;
use crate::role::Action;

use super::access::Fail;
use super::{Actor, EdgeApp, InternalApp, NodeRole, Passerelle};

/// How recent the last contact with every edge must be for the sweep to
/// judge anyone: an edge out of reach may hold activity not reported yet,
/// and nobody is disabled on missing news.
const FRESH_NEWS: Duration = Duration::days(1);

/// The days this process already wrote, by person: a contractor's every
/// request is checked against it, and only the first of a day writes.
#[derive(Debug, Default)]
pub(crate) struct Noted(Mutex<HashMap<PrincipalId, Date>>);

impl Passerelle {
    /// Notes that `p` is active today, if `p` is a contractor on an edge
    /// (their only node); nothing elsewhere.
    pub(super) async fn note_active(&self, p: &Principal) -> Result<(), CoreError> {
        if self.role != NodeRole::Edge || p.kind != PrincipalKind::Contractor {
            return Ok(());
        }
        let today = self.clock.now().date();
        {
            let noted = self.noted.0.lock().unwrap_or_else(PoisonError::into_inner);
            if noted.get(&p.id).is_some_and(|d| *d >= today) {
                return Ok(());
            }
        }
        let mut tx = self.write().await?;
        tx.record_active(p.id, today).await?;
        // Not `self.commit`: a day noted is no change for the link to send.
        tx.commit().await?;
        let mut noted = self.noted.0.lock().unwrap_or_else(PoisonError::into_inner);
        noted.insert(p.id, today);
        Ok(())
    }
}

impl EdgeApp {
    /// What the edge reports up the link: the last active day of each
    /// person it noted.
    pub async fn activity_report(&self) -> Result<Vec<(PrincipalId, Date)>, CoreError> {
        Ok(self.shared().read().await?.list_active().await?)
    }
}

/// The day of `at` by UTC, the day a person was active.
fn day_of(at: OffsetDateTime) -> Date {
    at.to_offset(time::UtcOffset::UTC).date()
}

impl InternalApp {
    /// Keeps what `edge` reported of its contractors' activity: the later
    /// of what is known and what is reported, for contractors this node
    /// knows (anything else an edge says is ignored: every input is
    /// hostile). How many days moved forward.
    pub async fn record_activity_report(
        &self,
        edge: &NodeId,
        report: &[(PrincipalId, Date)],
    ) -> Result<u64, CoreError> {
        let today = day_of(self.now());
        let mut tx = self.write().await?;
        let mut moved = 0;
        for (principal, day) in report {
            // A day to come is the edge's clock running ahead: today at most.
            let day = (*day).min(today);
            let contractor = tx
                .principal(*principal)
                .await?
                .is_some_and(|p| p.kind == PrincipalKind::Contractor);
            if !contractor || tx.last_active(*principal).await?.is_some_and(|d| d >= day) {
                continue;
            }
            tx.record_active(*principal, day).await?;
            moved += 1;
        }
        tx.commit().await?;
        if moved > 0 {
            tracing::debug!(%edge, moved, "contractors' activity reported");
        }
        Ok(moved)
    }

    /// Disables the contractors inactive for longer than the node's
    /// `contractor_inactivity` (off: `None`): last active (as the edges
    /// reported, or a re-enabling), else invited. Audited as the system's
    /// `principal.disable` with the reason. Judges nobody while an edge
    /// has not been heard from for a day (its news may be missing). How
    /// many were disabled.
    pub async fn disable_inactive_contractors(&self) -> Result<u64, CoreError> {
        let Some(idle) = self.settings().contractor_inactivity else {
            return Ok(0);
        };
        let now = self.now();
        let mut tx = self.write().await?;
        if !self.fresh_news(&mut tx, now).await? {
            return Ok(0);
        }
        let idle_ones = idle_contractors(&mut tx, now, idle).await?;
        for (mut p, last_day) in idle_ones.iter().cloned() {
            p.disabled = true;
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            tx.delete_sessions_of(p.id).await?;
            let detail = json!({
                "reason": "inactive",
                "last_active": last_day.map(|d| d.to_string()),
                "inactivity_days": idle.whole_days(),
            });
            let target = Some(p.login.to_string());
            self.audit(
                &mut tx,
                &Actor::System,
                "principal.disable",
                None,
                target,
                detail,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(idle_ones.len() as u64)
    }

    /// Whether every edge of this node was heard from within
    /// [`FRESH_NEWS`] (logged when one was not).
    async fn fresh_news(
        &self,
        tx: &mut Box<dyn Tx>,
        now: OffsetDateTime,
    ) -> Result<bool, CoreError> {
        for edge in &self.settings().edges {
            let heard = tx.edge_status(edge).await?.and_then(|s| s.last_contact);
            if heard.is_none_or(|t| now - t > FRESH_NEWS) {
                tracing::warn!(%edge, "no recent news of the edge: inactive contractors are not judged");
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Re-enables a disabled contractor (inactive, say): a manager of a
    /// space they are a member of. Counts as their activity today, so the
    /// next sweep gives them a whole period again. Audited
    /// `principal.enable`.
    pub async fn enable_contractor(
        &self,
        actor: &Actor,
        space: SpaceId,
        contractor: PrincipalId,
    ) -> Result<Principal, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, space).await?;
            a.require(Action::Manage, || space.to_string())?;
            let now = self.now();
            let member = tx
                .membership(space, contractor)
                .await?
                .filter(|m| m.active_at(now));
            let mut p = match (member, tx.principal(contractor).await?) {
                (Some(_), Some(p)) if p.kind == PrincipalKind::Contractor => p,
                _ => return Err(CoreError::NotFound("member").into()),
            };
            if !p.disabled {
                return Ok(p);
            }
            p.disabled = false;
            p.revision = tx.next_revision().await?;
            tx.save_principal(&p).await?;
            tx.record_active(p.id, day_of(now)).await?;
            let target = Some(p.login.to_string());
            self.audit(
                &mut tx,
                actor,
                "principal.enable",
                Some(space),
                target,
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(p)
        })
        .await
    }
}

/// The enabled contractors idle for longer than `idle` at `now`, each
/// with their last active day if any: counted from the end of that day,
/// or from the account's creation (the invitation) if later or if they
/// never came.
async fn idle_contractors(
    tx: &mut Box<dyn Tx>,
    now: OffsetDateTime,
    idle: Duration,
) -> Result<Vec<(Principal, Option<Date>)>, CoreError> {
    let active: HashMap<PrincipalId, Date> = tx.list_active().await?.into_iter().collect();
    let mut found = Vec::new();
    let mut page = Page::new(0, Page::MAX_LIMIT);
    loop {
        let principals = tx.list_principals(page).await?;
        let n = principals.items.len() as u64;
        for p in principals.items {
            if p.kind != PrincipalKind::Contractor || p.disabled {
                continue;
            }
            let last_day = active.get(&p.id).copied();
            let seen = last_day.map(|d| d.midnight().assume_utc() + Duration::days(1));
            let since = seen.map_or(p.created_at, |s| s.max(p.created_at));
            if now - since > idle {
                found.push((p, last_day));
            }
        }
        if n < page.limit {
            return Ok(found);
        }
        page = Page::new(page.offset + page.limit, page.limit);
    }
}
