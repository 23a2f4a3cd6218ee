//! Notifications (issue 18, ADR 0013): what people are told of their
//! spaces' activity. The activity *is* the audit log read for people: a
//! closed list of action codes maps to the kinds of event a feed shows,
//! and everything else (logins, tokens, the directory's sync) never
//! reaches a feed or an e-mail. Subscriptions say how often each person
//! hears of a space (or of one folder or document they follow); the
//! notices planned from them wait in an outbox until the node's relay
//! accepts them.
//!
//! This module holds the pure parts: the kinds, the subscription rules,
//! the periods of digests, the grouping of a feed, the notice rows. The
//! use cases are in `service::activity` and `service::notices`.

pub mod mail;
pub mod render;
pub mod store;
pub mod unsubscribe;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time};

use crate::ids::{DocumentId, FolderId, NoticeId, PrincipalId, SpaceId};
use crate::model::AuditEntry;

/// What happened, as a feed and an e-mail say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A document added (uploaded, copied in, filed).
    Added,
    /// A new version of a document (or an older one restored as current).
    NewVersion,
    /// A document renamed, moved or its metadata changed.
    Changed,
    /// A document or folder sent to the trash.
    Deleted,
    /// A document or folder back from the trash.
    Restored,
    /// A folder made.
    FolderAdded,
    /// Someone joined the space (added by a manager, or a contractor who
    /// accepted an invitation).
    Joined,
    /// Someone left the space (removed, or their access ended).
    Left,
    /// A contractor's operation the internal node refused (shown to its
    /// author and the space's managers only).
    Refused,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::Added,
        EventKind::NewVersion,
        EventKind::Changed,
        EventKind::Deleted,
        EventKind::Restored,
        EventKind::FolderAdded,
        EventKind::Joined,
        EventKind::Left,
        EventKind::Refused,
    ];

    /// The kind an audit action is shown as; `None` for what never reaches
    /// a feed (security and administration).
    pub fn of_action(action: &str) -> Option<EventKind> {
        Some(match action {
            "document.upload" | "document.copy" => EventKind::Added,
            "document.version" | "document.restore_version" => EventKind::NewVersion,
            "document.update" | "document.metadata" => EventKind::Changed,
            "document.delete" | "folder.delete" => EventKind::Deleted,
            "trash.restore" => EventKind::Restored,
            "folder.create" => EventKind::FolderAdded,
            "member.add" | "contractor.accept" => EventKind::Joined,
            "member.remove" | "member.end" | "member.expire" => EventKind::Left,
            "replication.rejected" => EventKind::Refused,
            _ => return None,
        })
    }

    /// The audit actions shown as one of `kinds` (all of them for none).
    pub fn actions(kinds: &[EventKind]) -> Vec<&'static str> {
        FEED_ACTIONS
            .iter()
            .copied()
            .filter(|a| {
                kinds.is_empty() || EventKind::of_action(a).is_some_and(|k| kinds.contains(&k))
            })
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::NewVersion => "new_version",
            EventKind::Changed => "changed",
            EventKind::Deleted => "deleted",
            EventKind::Restored => "restored",
            EventKind::FolderAdded => "folder_added",
            EventKind::Joined => "joined",
            EventKind::Left => "left",
            EventKind::Refused => "refused",
        }
    }
}

impl FromStr for EventKind {
    type Err = UnknownKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(UnknownKey)
    }
}

/// Every audit action a feed shows.
pub const FEED_ACTIONS: [&str; 16] = [
    "document.upload",
    "document.copy",
    "document.version",
    "document.restore_version",
    "document.update",
    "document.metadata",
    "document.delete",
    "folder.delete",
    "trash.restore",
    "folder.create",
    "member.add",
    "contractor.accept",
    "member.remove",
    "member.end",
    "member.expire",
    "replication.rejected",
];

/// A key that names nothing known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown key")]
pub struct UnknownKey;

/// How often a person hears of a space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Never,
    /// One e-mail per batch of events, within a minute or so.
    Immediate,
    /// One e-mail a day, if anything happened.
    Daily,
    /// One e-mail a week, if anything happened.
    Weekly,
}

impl Frequency {
    pub const ALL: [Frequency; 4] = [
        Frequency::Never,
        Frequency::Immediate,
        Frequency::Daily,
        Frequency::Weekly,
    ];

    /// A space whose manager chose nothing: a daily digest (issue 18 §2).
    pub const DEFAULT: Frequency = Frequency::Daily;

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Never => "never",
            Frequency::Immediate => "immediate",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }
}

impl FromStr for Frequency {
    type Err = UnknownKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(UnknownKey)
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a subscription is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Followed {
    /// Everything of the space.
    Space,
    /// A folder's documents (not its subfolders').
    Folder(FolderId),
    /// One document.
    Document(DocumentId),
}

/// One person's choice for a space, a folder or a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub principal: PrincipalId,
    pub space: SpaceId,
    pub followed: Followed,
    pub frequency: Frequency,
}

/// What one event is about, for matching it against what people follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventPlace {
    pub document: Option<DocumentId>,
    pub folder: Option<FolderId>,
}

/// How often `principal` hears of an event at `place` of a space: a
/// followed document first, then a followed folder, then their choice for
/// the space, then the space's default. The most specific choice wins,
/// "never" included: who follows one document of a space they muted hears
/// of that document only.
pub fn frequency_for(
    subscriptions: &[Subscription],
    space_default: Option<Frequency>,
    place: EventPlace,
) -> Frequency {
    let find = |f: Followed| {
        subscriptions
            .iter()
            .find(|s| s.followed == f)
            .map(|s| s.frequency)
    };
    place
        .document
        .and_then(|d| find(Followed::Document(d)))
        .or_else(|| place.folder.and_then(|f| find(Followed::Folder(f))))
        .or_else(|| find(Followed::Space))
        .or(space_default)
        .unwrap_or(Frequency::DEFAULT)
}

/// When digests are sent: every day at `at` (UTC), and weekly on
/// Mondays at that time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestSchedule {
    /// The time of day (UTC) digests are due.
    pub at: Time,
}

impl Default for DigestSchedule {
    /// 06:00 UTC: 7 or 8 in the morning in France, before the working day.
    fn default() -> Self {
        Self {
            at: Time::MIDNIGHT + Duration::hours(6),
        }
    }
}

impl FromStr for DigestSchedule {
    type Err = UnknownKey;
    /// `"06:00"` or `"06:00:30"` (UTC).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(UnknownKey);
        }
        let n = |i: usize| parts.get(i).map_or(Ok(0), |p| p.parse::<u8>());
        let (Ok(h), Ok(m), Ok(sec)) = (n(0), n(1), n(2)) else {
            return Err(UnknownKey);
        };
        Time::from_hms(h, m, sec)
            .map(|at| Self { at })
            .map_err(|_| UnknownKey)
    }
}

impl fmt::Display for DigestSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = self.at.as_hms();
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

impl DigestSchedule {
    /// The end of the last period of `frequency` that ended at or before
    /// `now` (`None` for the frequencies that have no digest).
    pub fn last_boundary(
        &self,
        frequency: Frequency,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let now = now.to_offset(time::UtcOffset::UTC);
        let mut at = now.replace_time(self.at);
        if at > now {
            at -= Duration::days(1);
        }
        match frequency {
            Frequency::Daily => Some(at),
            Frequency::Weekly => {
                let back = at.weekday().number_days_from_monday();
                Some(at - Duration::days(i64::from(back)))
            }
            Frequency::Never | Frequency::Immediate => None,
        }
    }

    /// How far back a digest looks when there was none before (a new node,
    /// or one whose digests were never planned): one period.
    pub fn period(frequency: Frequency) -> Duration {
        match frequency {
            Frequency::Weekly => Duration::weeks(1),
            _ => Duration::days(1),
        }
    }
}

/// Why a notice was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Immediate,
    Daily,
    Weekly,
    /// A contractor's invitation: its link is a credential, removed from
    /// the outbox once sent.
    Invitation,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Immediate => "immediate",
            NoticeKind::Daily => "daily",
            NoticeKind::Weekly => "weekly",
            NoticeKind::Invitation => "invitation",
        }
    }

    /// The digest kind of a frequency, if it has one.
    pub fn digest(f: Frequency) -> Option<NoticeKind> {
        match f {
            Frequency::Daily => Some(NoticeKind::Daily),
            Frequency::Weekly => Some(NoticeKind::Weekly),
            Frequency::Never | Frequency::Immediate => None,
        }
    }
}

impl FromStr for NoticeKind {
    type Err = UnknownKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            NoticeKind::Immediate,
            NoticeKind::Daily,
            NoticeKind::Weekly,
            NoticeKind::Invitation,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(UnknownKey)
    }
}

/// Where a notice is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Waiting for its first try, or for a retry after a failure.
    Pending,
    /// The relay accepted it.
    Sent,
    /// The relay refused it for good (a bad address, a policy): kept and
    /// shown to administrators, never retried.
    Refused,
}

impl NoticeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Pending => "pending",
            NoticeState::Sent => "sent",
            NoticeState::Refused => "refused",
        }
    }
}

impl FromStr for NoticeState {
    type Err = UnknownKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            NoticeState::Pending,
            NoticeState::Sent,
            NoticeState::Refused,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(UnknownKey)
    }
}

/// A message in the outbox, rendered when planned (the texts say what was
/// true then) and sent as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub id: NoticeId,
    pub recipient: PrincipalId,
    /// The address it goes to, as the account had it when planned.
    pub address: String,
    pub kind: NoticeKind,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The unsubscribe address of the one space the notice is about, for
    /// the `List-Unsubscribe` header (the body has one link per space).
    pub unsubscribe: Option<String>,
    pub created_at: OffsetDateTime,
    pub state: NoticeState,
    /// Tries that failed (the relay down, a temporary refusal).
    pub attempts: u32,
    /// Not sent before this instant (backoff after a failure, or the
    /// recipient's rate limit).
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

impl Notice {
    /// A notice to `address` with these words, due at `now`, never tried.
    pub fn pending(
        id: NoticeId,
        recipient: PrincipalId,
        address: &str,
        kind: NoticeKind,
        words: render::Rendered,
        unsubscribe: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            recipient,
            address: address.trim().to_owned(),
            kind,
            subject: words.subject,
            text: words.text,
            html: words.html,
            unsubscribe,
            created_at: now,
            state: NoticeState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        }
    }
}

/// The wait before the try after `attempts` failures: 30 s doubling, at
/// most an hour, so that a relay down for a day is tried 30-odd times and
/// a relay back finds its mail within the hour.
pub fn retry_after(attempts: u32) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts.min(10));
    Duration::seconds(i64::try_from(secs.min(3600)).unwrap_or(3600))
}

/// One line of a feed: consecutive events of one person, of one kind, in
/// one space, close in time ("Paul Martin a déposé 12 documents").
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityGroup {
    pub kind: EventKind,
    pub actor: Option<PrincipalId>,
    pub space: SpaceId,
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

impl ActivityGroup {
    pub fn newest(&self) -> Option<&AuditEntry> {
        self.entries.first()
    }
    pub fn oldest(&self) -> Option<&AuditEntry> {
        self.entries.last()
    }
}

/// Events of one group are at most this far apart from its newest one.
pub const GROUP_WINDOW: Duration = Duration::hours(1);

/// Groups audit entries (newest first, already filtered to what a feed
/// shows) into feed lines: an entry joins the line before it when it has
/// the same actor, kind and space and is within [`GROUP_WINDOW`] of the
/// line's newest entry.
pub fn group(entries: Vec<AuditEntry>) -> Vec<ActivityGroup> {
    let mut out: Vec<ActivityGroup> = Vec::new();
    for e in entries {
        let (Some(kind), Some(space)) = (EventKind::of_action(&e.action), e.space) else {
            continue;
        };
        if let Some(last) = out.last_mut() {
            let close = last.newest().is_some_and(|n| n.at - e.at <= GROUP_WINDOW);
            if last.kind == kind && last.actor == e.actor && last.space == space && close {
                last.entries.push(e);
                continue;
            }
        }
        out.push(ActivityGroup {
            kind,
            actor: e.actor,
            space,
            entries: vec![e],
        });
    }
    out
}

#[cfg(test)]
mod tests;
