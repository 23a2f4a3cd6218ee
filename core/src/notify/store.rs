//! The notification tables, as a part of the repository's transaction
//! ([`NotificationStore`]): planning a notice and moving the cursor that
//! says its events were considered commit together, so a restart or
//! kill -9 between them plans nothing twice.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Frequency, Notice, NoticeState, Subscription};
use crate::ids::{NoticeId, PrincipalId, SpaceId};
use crate::model::{AuditEntry, Page, Paged};
use crate::ports::RepoError;

/// Which audit entries a feed or a planner reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Entries of these spaces only; `None` for every space (an
    /// administrator's feed, the planner).
    pub spaces: Option<Vec<SpaceId>>,
    /// Entries with one of these actions only (never empty in practice:
    /// the feed's list, or a part of it).
    pub actions: Vec<&'static str>,
    /// Entries by this actor only.
    pub actor: Option<PrincipalId>,
    /// Entries with `seq > after` only.
    pub after_seq: i64,
    /// Entries with `seq < before` only (paging back through a feed).
    pub before_seq: Option<i64>,
    /// Entries at or after this instant only.
    pub since: Option<OffsetDateTime>,
    /// Entries before this instant only.
    pub until: Option<OffsetDateTime>,
    /// Oldest first (a planner) rather than newest first (a feed).
    pub oldest_first: bool,
    pub limit: u64,
}

/// The notification part of a transaction.
#[async_trait]
pub trait NotificationStore: Send {
    /// Audit entries matching `q`, in the order it asks.
    async fn activity(&mut self, q: &ActivityQuery) -> Result<Vec<AuditEntry>, RepoError>;

    /// A person's choices, every space.
    async fn subscriptions_of(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Vec<Subscription>, RepoError>;
    /// Everyone's choices in one space.
    async fn subscriptions_in(&mut self, space: SpaceId) -> Result<Vec<Subscription>, RepoError>;
    /// Inserts or replaces the choice for (principal, space, followed).
    async fn save_subscription(&mut self, s: &Subscription) -> Result<(), RepoError>;
    /// Forgets the choice for (principal, space, followed); nothing if none.
    async fn delete_subscription(&mut self, s: &Subscription) -> Result<(), RepoError>;

    /// What a space's manager chose for members who chose nothing.
    async fn space_frequency(&mut self, space: SpaceId) -> Result<Option<Frequency>, RepoError>;
    async fn set_space_frequency(
        &mut self,
        space: SpaceId,
        frequency: Frequency,
    ) -> Result<(), RepoError>;

    /// A value the planner keeps (its cursors, the unsubscribe key).
    async fn notify_state(&mut self, key: &str) -> Result<Option<String>, RepoError>;
    async fn set_notify_state(&mut self, key: &str, value: &str) -> Result<(), RepoError>;

    /// Inserts a notice unless one with its id exists; whether it did.
    async fn queue_notice(&mut self, n: &Notice) -> Result<bool, RepoError>;
    /// Replaces a notice (its delivery state).
    async fn save_notice(&mut self, n: &Notice) -> Result<(), RepoError>;
    /// The notice `id`, if the outbox has it.
    async fn notice(&mut self, id: NoticeId) -> Result<Option<Notice>, RepoError>;
    /// Forgets the notice `id` if it is still pending (what it announced
    /// is void: a revoked invitation); whether it did. A sent or refused
    /// one stays, as the record of what happened.
    async fn withdraw_notice(&mut self, id: NoticeId) -> Result<bool, RepoError>;
    /// Pending notices due at `now`, the longest waiting first.
    async fn due_notices(
        &mut self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Notice>, RepoError>;
    /// Notices in `state` (every state for `None`), newest first.
    async fn list_notices(
        &mut self,
        state: Option<NoticeState>,
        page: Page,
    ) -> Result<Paged<Notice>, RepoError>;
    /// How many notices went to `recipient` at or after `since`.
    async fn count_sent_since(
        &mut self,
        recipient: PrincipalId,
        since: OffsetDateTime,
    ) -> Result<u64, RepoError>;
}
