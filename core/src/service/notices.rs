//! Planning and delivering notices (issue 18 §3–4, ADR 0013 §4). The
//! planner reads the feed past its cursor and writes, in the same
//! transaction as the moved cursor, one outbox row per recipient whose
//! choice is "immediate"; at each digest boundary it writes one row per
//! recipient of a daily or weekly digest, its id derived from (recipient,
//! kind, period) so that a restart re-plans nothing. The sender hands due
//! rows to the relay and marks them sent after its acceptance; a relay
//! down delays them with backoff, a permanent refusal is kept for
//! administrators. Who is told is decided by the rights at planning time:
//! a person who may not read the space now hears nothing of it.
//!
//! Each node mails its own people: the internal node its agents, an edge
//! its contractors, through its own relay (the edge never relays through
//! the LAN).

use std::collections::{BTreeMap, HashMap, HashSet};

use time::OffsetDateTime;

use crate::error::CoreError;
use crate::ids::{NoticeId, PrincipalId, SpaceId};
use crate::model::{AuditEntry, Language, Page, Paged, Principal, PrincipalKind};
use crate::notify::mail::{MailError, OutgoingMail};
use crate::notify::render::{self, Item, Line, Section};
use crate::notify::store::ActivityQuery;
use crate::notify::unsubscribe::UnsubscribeKey;
use crate::notify::{
    DigestSchedule, EventKind, FEED_ACTIONS, Frequency, Notice, NoticeKind, NoticeState, group,
    retry_after,
};
use crate::ports::Tx;
use crate::role::Role;

use super::access::Fail;
use super::activity::{
    Described, Names, Notifications, chosen_frequency, describe, unsubscribe_key,
};
use super::{Actor, NodeRole, Passerelle};

mod bounces;
mod invitations;

pub use bounces::BounceRun;
use invitations::forget_link;
pub(super) use invitations::{InvitationMail, invitation_notice};

/// The planner's cursor over the audit log, for immediate notices.
const IMMEDIATE_CURSOR: &str = "immediate_seq";
/// Audit entries one planning run considers at most.
const PLAN_BATCH: u64 = 500;
/// Notices one delivery run hands to the relay at most.
const DELIVERY_BATCH: u64 = 50;

/// What a planning run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanRun {
    /// Audit entries considered.
    pub events: u64,
    /// Notices written to the outbox.
    pub queued: u64,
}

/// What a delivery run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub sent: u64,
    /// Left for later: the relay down, or the recipient's rate limit.
    pub delayed: u64,
    pub refused: u64,
}

/// A recipient's events, by space, oldest first.
type Pile = BTreeMap<PrincipalId, BTreeMap<SpaceId, Vec<AuditEntry>>>;

impl Notifications {
    /// Writes the immediate notices of the events past the cursor. The
    /// first run on a node starts at the log's end: history is not mailed.
    pub async fn plan_immediate(&self) -> Result<PlanRun, CoreError> {
        let app = &self.app;
        let mut tx = app.write().await?;
        let Some(after) = tx
            .notify_state(IMMEDIATE_CURSOR)
            .await?
            .and_then(|v| v.parse::<i64>().ok())
        else {
            let head = tx.audit_head().await?.map_or(0, |(seq, _)| seq);
            tx.set_notify_state(IMMEDIATE_CURSOR, &head.to_string())
                .await?;
            app.commit(tx).await?;
            return Ok(PlanRun::default());
        };
        let entries = tx
            .activity(&ActivityQuery {
                actions: FEED_ACTIONS.to_vec(),
                after_seq: after,
                oldest_first: true,
                limit: PLAN_BATCH,
                ..ActivityQuery::default()
            })
            .await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            return Ok(PlanRun::default());
        };
        let events = entries.len() as u64;
        let pile = self
            .recipients(&mut tx, entries, Frequency::Immediate)
            .await?;
        let mut queued = 0;
        for (recipient, spaces) in pile {
            let first = spaces
                .values()
                .flat_map(|v| v.iter().map(|e| e.seq))
                .min()
                .unwrap_or(last);
            let id = NoticeId::derived(&[
                &recipient.to_string(),
                NoticeKind::Immediate.as_str(),
                &first.to_string(),
            ]);
            if self
                .queue(&mut tx, id, recipient, NoticeKind::Immediate, spaces)
                .await?
            {
                queued += 1;
            }
        }
        tx.set_notify_state(IMMEDIATE_CURSOR, &last.to_string())
            .await?;
        app.commit(tx).await?;
        Ok(PlanRun { events, queued })
    }

    /// Writes the digests of the periods that ended since the last run
    /// (daily, then weekly). A period is planned once: its end is kept,
    /// and a notice's id names its recipient and period.
    pub async fn plan_digests(&self) -> Result<PlanRun, CoreError> {
        let mut run = PlanRun::default();
        for f in [Frequency::Daily, Frequency::Weekly] {
            let r = self.plan_digest(f).await?;
            run.events += r.events;
            run.queued += r.queued;
        }
        Ok(run)
    }

    async fn plan_digest(&self, frequency: Frequency) -> Result<PlanRun, CoreError> {
        let app = &self.app;
        let schedule = app.settings.notifications.schedule;
        let (Some(kind), Some(end)) = (
            NoticeKind::digest(frequency),
            schedule.last_boundary(frequency, app.now()),
        ) else {
            return Ok(PlanRun::default());
        };
        let key = format!("{}_digest_end", frequency.as_str());
        let mut tx = app.write().await?;
        let done = tx
            .notify_state(&key)
            .await?
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        if done.is_some_and(|d| d >= end) {
            return Ok(PlanRun::default());
        }
        // After a long stop, one digest covers everything since the last
        // (at most a few periods: older news is in the feed).
        let start = done
            .unwrap_or(end - DigestSchedule::period(frequency))
            .max(end - DigestSchedule::period(frequency) * 4);
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let batch = tx
                .activity(&ActivityQuery {
                    actions: FEED_ACTIONS.to_vec(),
                    after_seq: after,
                    since: Some(start),
                    until: Some(end),
                    oldest_first: true,
                    limit: PLAN_BATCH,
                    ..ActivityQuery::default()
                })
                .await?;
            let n = batch.len() as u64;
            after = batch.last().map_or(after, |e| e.seq);
            entries.extend(batch);
            if n < PLAN_BATCH {
                break;
            }
        }
        let events = entries.len() as u64;
        let pile = self.recipients(&mut tx, entries, frequency).await?;
        let mut queued = 0;
        let period = end.unix_timestamp().to_string();
        for (recipient, spaces) in pile {
            let id = NoticeId::derived(&[&recipient.to_string(), kind.as_str(), &period]);
            if self.queue(&mut tx, id, recipient, kind, spaces).await? {
                queued += 1;
            }
        }
        tx.set_notify_state(&key, &end.unix_timestamp().to_string())
            .await?;
        app.commit(tx).await?;
        Ok(PlanRun { events, queued })
    }

    /// Who hears of `entries` at `frequency`, with what: the people this
    /// node mails who may read the space now and whose choice for the
    /// event's place is `frequency`, never of their own doing; a refusal
    /// only to its contractor and the space's managers.
    async fn recipients(
        &self,
        tx: &mut Box<dyn Tx>,
        entries: Vec<AuditEntry>,
        frequency: Frequency,
    ) -> Result<Pile, CoreError> {
        let mut pile: Pile = BTreeMap::new();
        let mut audience: HashMap<SpaceId, Vec<(Principal, Role)>> = HashMap::new();
        let mut subs = HashMap::new();
        let mut defaults = HashMap::new();
        let mut names = Names::default();
        for e in entries {
            let (Some(space), Some(kind)) = (e.space, EventKind::of_action(&e.action)) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = audience.entry(space) {
                slot.insert(self.audience(tx, space).await?);
                subs.insert(space, tx.subscriptions_in(space).await?);
                defaults.insert(space, tx.space_frequency(space).await?);
            }
            let place = describe(tx, &mut names, &e).await?.place;
            let contractor = e.detail["contractor"].as_str().map(str::to_owned);
            for (p, role) in audience.get(&space).into_iter().flatten() {
                if Some(p.id) == e.actor {
                    continue;
                }
                if kind == EventKind::Refused
                    && *role != Role::Manager
                    && contractor.as_deref() != Some(p.id.to_string().as_str())
                {
                    continue;
                }
                let chosen = chosen_frequency(
                    subs.get(&space).map_or(&[][..], Vec::as_slice),
                    p.id,
                    space,
                    defaults.get(&space).copied().flatten(),
                    place,
                );
                if chosen == frequency {
                    pile.entry(p.id)
                        .or_default()
                        .entry(space)
                        .or_default()
                        .push(e.clone());
                }
            }
        }
        Ok(pile)
    }

    /// The people this node mails about `space`: its members and those
    /// who follow something of it, enabled, with an address, of the kind
    /// this node serves, and who may read the space now.
    async fn audience(
        &self,
        tx: &mut Box<dyn Tx>,
        space: SpaceId,
    ) -> Result<Vec<(Principal, Role)>, CoreError> {
        let app = &self.app;
        let mut ids: Vec<PrincipalId> = tx
            .list_members(space)
            .await?
            .into_iter()
            .map(|m| m.principal)
            .collect();
        ids.extend(
            tx.subscriptions_in(space)
                .await?
                .iter()
                .map(|s| s.principal),
        );
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            let Some(p) = tx.principal(id).await? else {
                continue;
            };
            if p.disabled || p.email.trim().is_empty() || !mailed_here(app.role, p.kind) {
                continue;
            }
            match app.access(tx, &Actor::Principal(p.clone()), space).await {
                Ok(a) => out.push((p, a.role)),
                Err(Fail::Denied { .. }) => {}
                Err(Fail::Error(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Renders and queues one notice; whether it was new.
    async fn queue(
        &self,
        tx: &mut Box<dyn Tx>,
        id: NoticeId,
        recipient: PrincipalId,
        kind: NoticeKind,
        spaces: BTreeMap<SpaceId, Vec<AuditEntry>>,
    ) -> Result<bool, CoreError> {
        let app = &self.app;
        let Some(p) = tx.principal(recipient).await? else {
            return Ok(false);
        };
        let lang = tx
            .preferred_language(recipient)
            .await?
            .unwrap_or(Language::Fr);
        let base = app.settings.notifications.public_url.clone();
        let key = match &base {
            Some(_) => Some(unsubscribe_key(tx).await?),
            None => None,
        };
        let mut names = Names::default();
        let mut sections = Vec::new();
        for (space, mut entries) in spaces {
            let Some(s) = tx.space(space).await? else {
                continue;
            };
            entries.reverse();
            let mut lines = Vec::new();
            for g in group(entries) {
                let Some(newest) = g.newest() else { continue };
                let at = newest.at;
                let mut items = Vec::new();
                let mut reason = None;
                for e in &g.entries {
                    let Described {
                        item, reason: r, ..
                    } = describe(tx, &mut names, e).await?;
                    reason = reason.or(r);
                    items.push(Item {
                        comment: item.comment.clone(),
                        url: base
                            .as_ref()
                            .zip(item.document)
                            .map(|(b, d)| format!("{}/documents/{d}", b.trim_end_matches('/'))),
                        name: item.name,
                    });
                }
                lines.push(Line {
                    actor: names.of(tx, g.actor).await?,
                    kind: g.kind,
                    at,
                    items,
                    reason,
                });
            }
            sections.push(Section {
                space: s.title.clone(),
                url: base
                    .as_ref()
                    .map(|b| format!("{}/spaces/{space}", b.trim_end_matches('/'))),
                unsubscribe: unsubscribe_url(base.as_deref(), key.as_ref(), recipient, space),
                lines,
            });
        }
        if sections.is_empty() {
            return Ok(false);
        }
        let words = render::render(kind, lang, &app.settings.site_name, &sections);
        let now = app.now();
        let unsubscribe = match sections.as_slice() {
            [one] => one.unsubscribe.clone(),
            _ => None,
        };
        let notice = Notice::pending(id, recipient, &p.email, kind, words, unsubscribe, now);
        Ok(tx.queue_notice(&notice).await?)
    }

    /// Hands the due notices to the relay, one at a time, each marked in
    /// its own transaction once accepted. Without a relay nothing moves.
    pub async fn deliver_due(&self) -> Result<DeliveryRun, CoreError> {
        let app = &self.app;
        let Some(mailer) = app.mailer.clone() else {
            return Ok(DeliveryRun::default());
        };
        let now = app.now();
        let due = {
            let mut tx = app.read().await?;
            tx.due_notices(now, DELIVERY_BATCH).await?
        };
        let mut run = DeliveryRun::default();
        let hour_ago = now - time::Duration::hours(1);
        for mut n in due {
            let mut tx = app.write().await?;
            let sent = tx.count_sent_since(n.recipient, hour_ago).await?;
            if sent >= u64::from(app.settings.notifications.max_per_hour) {
                n.next_attempt_at = now + time::Duration::minutes(10);
                tx.save_notice(&n).await?;
                app.commit(tx).await?;
                run.delayed += 1;
                continue;
            }
            drop(tx);
            let outcome = mailer
                .send(&OutgoingMail {
                    id: n.id,
                    to: n.address.clone(),
                    subject: n.subject.clone(),
                    text: n.text.clone(),
                    html: n.html.clone(),
                    unsubscribe: n.unsubscribe.clone(),
                })
                .await;
            let now = app.now();
            let mut tx = app.write().await?;
            match outcome {
                Ok(()) => {
                    n.state = NoticeState::Sent;
                    n.sent_at = Some(now);
                    n.last_error = None;
                    run.sent += 1;
                }
                Err(MailError::Transient(why)) => {
                    n.attempts += 1;
                    n.next_attempt_at = now + retry_after(n.attempts);
                    n.last_error = Some(why);
                    run.delayed += 1;
                }
                Err(MailError::Permanent(why)) => {
                    n.state = NoticeState::Refused;
                    n.last_error = Some(why.clone());
                    run.refused += 1;
                    app.audit(
                        &mut tx,
                        &Actor::System,
                        "notification.refused",
                        None,
                        Some(n.recipient.to_string()),
                        serde_json::json!({ "notice": n.id.to_string(), "error": why }),
                    )
                    .await?;
                }
            }
            if n.state != NoticeState::Pending {
                let lang = tx
                    .preferred_language(n.recipient)
                    .await?
                    .unwrap_or(Language::Fr);
                forget_link(&mut n, lang);
            }
            tx.save_notice(&n).await?;
            app.commit(tx).await?;
        }
        Ok(run)
    }

    /// The outbox as administrators see it: notices in `state` (all for
    /// `None`), newest first.
    pub async fn notices(
        &self,
        actor: &Actor,
        state: Option<NoticeState>,
        page: Page,
    ) -> Result<Paged<Notice>, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            app.require_admin(actor, "notices")?;
            let mut tx = app.read().await?;
            Ok::<_, Fail>(tx.list_notices(state, page).await?)
        })
        .await
    }
}

/// Each node mails its own people (ADR 0013): agents from the internal
/// node, contractors from their edge.
fn mailed_here(role: NodeRole, kind: PrincipalKind) -> bool {
    match role {
        NodeRole::Internal => kind == PrincipalKind::Agent,
        NodeRole::Edge => kind == PrincipalKind::Contractor,
    }
}

fn unsubscribe_url(
    base: Option<&str>,
    key: Option<&UnsubscribeKey>,
    principal: PrincipalId,
    space: SpaceId,
) -> Option<String> {
    let (b, k) = (base?, key?);
    Some(format!(
        "{}/unsubscribe/{}",
        b.trim_end_matches('/'),
        k.token(principal, space)
    ))
}

impl Passerelle {
    /// Whether this node has a mail relay.
    pub fn mails(&self) -> bool {
        self.mailer.is_some()
    }
}
