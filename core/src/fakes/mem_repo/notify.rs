//! `NotificationStore` on the in-memory transaction: subscriptions, the
//! spaces' defaults, the planner's state and the notices, in the same
//! [`State`](super::State) as the audit log they are planned from, so a
//! notice commits with the cursor that covers its events, as in SQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemTx, missing, paged};
use crate::ids::{NoticeId, PrincipalId, SpaceId};
use crate::model::{AuditEntry, Page, Paged};
use crate::notify::store::{ActivityQuery, NotificationStore};
use crate::notify::{Followed, Frequency, Notice, NoticeState, Subscription};
use crate::ports::RepoError;

/// [`Followed`] as an ordered key, as the SQL table's `target` columns
/// (kind, then uuid; the nil uuid for the whole space).
pub(super) type FollowKey = (u8, uuid::Uuid);

pub(super) fn follow_key(f: Followed) -> FollowKey {
    match f {
        Followed::Space => (0, uuid::Uuid::nil()),
        Followed::Folder(id) => (1, id.as_uuid()),
        Followed::Document(id) => (2, id.as_uuid()),
    }
}

fn followed(k: FollowKey) -> Followed {
    match k.0 {
        1 => Followed::Folder(crate::ids::FolderId::from_uuid(k.1)),
        2 => Followed::Document(crate::ids::DocumentId::from_uuid(k.1)),
        _ => Followed::Space,
    }
}

/// Whether `e` is one `q` asks for (its `limit` and order aside).
fn matches(q: &ActivityQuery, e: &AuditEntry) -> bool {
    e.seq > q.after_seq
        && q.before_seq.is_none_or(|b| e.seq < b)
        && q.actions.contains(&e.action.as_str())
        && q.actor.is_none_or(|a| e.actor == Some(a))
        && q.since.is_none_or(|t| e.at >= t)
        && q.until.is_none_or(|t| e.at < t)
        && q.spaces
            .as_ref()
            .is_none_or(|ss| e.space.is_some_and(|s| ss.contains(&s)))
}

#[async_trait]
impl NotificationStore for MemTx {
    async fn activity(&mut self, q: &ActivityQuery) -> Result<Vec<AuditEntry>, RepoError> {
        let s = self.state();
        let take = usize::try_from(q.limit).unwrap_or(usize::MAX);
        let it = s.audit.values().filter(|e| matches(q, e));
        Ok(if q.oldest_first {
            it.take(take).cloned().collect()
        } else {
            it.rev().take(take).cloned().collect()
        })
    }

    async fn subscriptions_of(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Vec<Subscription>, RepoError> {
        Ok(self
            .state()
            .subscriptions
            .iter()
            .filter(|((p, _, _), _)| *p == principal)
            .map(|(&(p, s, k), &f)| Subscription {
                principal: p,
                space: s,
                followed: followed(k),
                frequency: f,
            })
            .collect())
    }

    async fn subscriptions_in(&mut self, space: SpaceId) -> Result<Vec<Subscription>, RepoError> {
        Ok(self
            .state()
            .subscriptions
            .iter()
            .filter(|((_, s, _), _)| *s == space)
            .map(|(&(p, s, k), &f)| Subscription {
                principal: p,
                space: s,
                followed: followed(k),
                frequency: f,
            })
            .collect())
    }

    async fn save_subscription(&mut self, sub: &Subscription) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&sub.principal) {
            return Err(missing("principal", sub.principal));
        }
        if !s.spaces.contains_key(&sub.space) {
            return Err(missing("space", sub.space));
        }
        s.subscriptions.insert(
            (sub.principal, sub.space, follow_key(sub.followed)),
            sub.frequency,
        );
        Ok(())
    }

    async fn delete_subscription(&mut self, sub: &Subscription) -> Result<(), RepoError> {
        self.state_mut()?.subscriptions.remove(&(
            sub.principal,
            sub.space,
            follow_key(sub.followed),
        ));
        Ok(())
    }

    async fn space_frequency(&mut self, space: SpaceId) -> Result<Option<Frequency>, RepoError> {
        Ok(self.state().space_frequencies.get(&space).copied())
    }

    async fn set_space_frequency(
        &mut self,
        space: SpaceId,
        frequency: Frequency,
    ) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.spaces.contains_key(&space) {
            return Err(missing("space", space));
        }
        s.space_frequencies.insert(space, frequency);
        Ok(())
    }

    async fn notify_state(&mut self, key: &str) -> Result<Option<String>, RepoError> {
        Ok(self.state().notify_state.get(key).cloned())
    }

    async fn set_notify_state(&mut self, key: &str, value: &str) -> Result<(), RepoError> {
        self.state_mut()?
            .notify_state
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn queue_notice(&mut self, n: &Notice) -> Result<bool, RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&n.recipient) {
            return Err(missing("principal", n.recipient));
        }
        if s.notices.contains_key(&n.id) {
            return Ok(false);
        }
        s.notices.insert(n.id, n.clone());
        Ok(true)
    }

    async fn save_notice(&mut self, n: &Notice) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&n.recipient) {
            return Err(missing("principal", n.recipient));
        }
        s.notices.insert(n.id, n.clone());
        Ok(())
    }

    async fn notice(&mut self, id: NoticeId) -> Result<Option<Notice>, RepoError> {
        Ok(self.state().notices.get(&id).cloned())
    }

    async fn withdraw_notice(&mut self, id: NoticeId) -> Result<bool, RepoError> {
        let s = self.state_mut()?;
        if s.notices
            .get(&id)
            .is_some_and(|n| n.state == NoticeState::Pending)
        {
            s.notices.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn due_notices(
        &mut self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Notice>, RepoError> {
        let mut v: Vec<Notice> = self
            .state()
            .notices
            .values()
            .filter(|n| n.state == NoticeState::Pending && n.next_attempt_at <= now)
            .cloned()
            .collect();
        v.sort_by_key(|n| (n.next_attempt_at, n.created_at, n.id));
        v.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(v)
    }

    async fn list_notices(
        &mut self,
        state: Option<NoticeState>,
        page: Page,
    ) -> Result<Paged<Notice>, RepoError> {
        let mut v: Vec<Notice> = self
            .state()
            .notices
            .values()
            .filter(|n| state.is_none_or(|s| n.state == s))
            .cloned()
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(paged(v, page))
    }

    async fn count_sent_since(
        &mut self,
        recipient: PrincipalId,
        since: OffsetDateTime,
    ) -> Result<u64, RepoError> {
        Ok(self
            .state()
            .notices
            .values()
            .filter(|n| n.recipient == recipient && n.sent_at.is_some_and(|t| t >= since))
            .count() as u64)
    }
}
