//! The activity feed, subscriptions and the notification outbox as the
//! API speaks them (ADR 0013).

use passerelle_core::notify::{Followed, Frequency, Notice};
use passerelle_core::service::{FeedItem, FeedLine, FeedPage, SubscriptionsView};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// `?kind=&actor=&before=&limit=` of a feed.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only these kinds, comma-separated: `added`, `new_version`,
    /// `changed`, `deleted`, `restored`, `folder_added`, `joined`,
    /// `left`, `refused`.
    pub kind: Option<String>,
    /// Only what this person did.
    pub actor: Option<Uuid>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// Lines per page (1 to 100, default 30).
    pub limit: Option<u64>,
}

/// A thing a feed line is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedItemDto {
    pub name: String,
    /// The document, while it is live.
    pub document: Option<Uuid>,
    pub folder: Option<Uuid>,
    /// What the author said of the version (uploads and new versions).
    pub comment: Option<String>,
}

/// One line of a feed: one person's events of one kind in one space,
/// close in time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedLineDto {
    pub kind: String,
    pub actor: Option<Uuid>,
    pub actor_name: String,
    pub space: Uuid,
    pub space_title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub newest_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub oldest_at: OffsetDateTime,
    /// Newest first.
    pub items: Vec<FeedItemDto>,
    /// Why a contractor's operation was refused (refusals only).
    pub reason: Option<String>,
}

/// A page of a feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedDto {
    pub lines: Vec<FeedLineDto>,
    /// Pass as `before` for older lines; absent at the end.
    pub next_before: Option<i64>,
}

fn item(i: &FeedItem) -> FeedItemDto {
    FeedItemDto {
        name: i.name.clone(),
        document: i.document.map(|d| d.as_uuid()),
        folder: i.folder.map(|f| f.as_uuid()),
        comment: i.comment.clone(),
    }
}

fn line(l: &FeedLine) -> FeedLineDto {
    FeedLineDto {
        kind: l.kind.as_str().to_owned(),
        actor: l.actor.map(|a| a.as_uuid()),
        actor_name: l.actor_name.clone(),
        space: l.space.as_uuid(),
        space_title: l.space_title.clone(),
        newest_at: l.newest_at,
        oldest_at: l.oldest_at,
        items: l.items.iter().map(item).collect(),
        reason: l.reason.clone(),
    }
}

impl From<&FeedPage> for FeedDto {
    fn from(p: &FeedPage) -> Self {
        Self {
            lines: p.lines.iter().map(line).collect(),
            next_before: p.next_before,
        }
    }
}

/// What is followed: the space, or one folder or document of it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FollowedDto {
    Space,
    Folder { id: Uuid },
    Document { id: Uuid },
}

impl From<Followed> for FollowedDto {
    fn from(f: Followed) -> Self {
        match f {
            Followed::Space => FollowedDto::Space,
            Followed::Folder(id) => FollowedDto::Folder { id: id.as_uuid() },
            Followed::Document(id) => FollowedDto::Document { id: id.as_uuid() },
        }
    }
}

impl From<FollowedDto> for Followed {
    fn from(f: FollowedDto) -> Self {
        match f {
            FollowedDto::Space => Followed::Space,
            FollowedDto::Folder { id } => {
                Followed::Folder(passerelle_core::ids::FolderId::from_uuid(id))
            }
            FollowedDto::Document { id } => {
                Followed::Document(passerelle_core::ids::DocumentId::from_uuid(id))
            }
        }
    }
}

/// A followed folder or document and how often.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowDto {
    pub followed: FollowedDto,
    pub frequency: String,
}

/// The caller's notification settings in a space.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionDto {
    /// `never`, `immediate`, `daily` or `weekly`; `null`: the space's
    /// default.
    pub frequency: Option<String>,
    /// The space's default, as its managers set it.
    pub space_default: String,
    pub follows: Vec<FollowDto>,
    /// The caller may change the space's default.
    pub manages: bool,
}

impl From<&SubscriptionsView> for SubscriptionDto {
    fn from(v: &SubscriptionsView) -> Self {
        Self {
            frequency: v.chosen.map(|f| f.as_str().to_owned()),
            space_default: v.space_default.as_str().to_owned(),
            follows: v
                .follows
                .iter()
                .map(|s| FollowDto {
                    followed: s.followed.into(),
                    frequency: s.frequency.as_str().to_owned(),
                })
                .collect(),
            manages: v.manages,
        }
    }
}

/// A choice to set: for the space (default), a folder or a document;
/// `frequency` null forgets it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    #[serde(default = "space")]
    pub followed: FollowedDto,
    pub frequency: Option<String>,
}

fn space() -> FollowedDto {
    FollowedDto::Space
}

/// The space's default for members who chose nothing.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceDefaultBody {
    pub frequency: String,
}

/// `?state=` of the outbox list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// `pending`, `sent` or `refused`; all when absent.
    pub state: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

/// A notice of the outbox, as administrators see it (not its body).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeDto {
    pub id: Uuid,
    pub recipient: Uuid,
    pub address: String,
    pub kind: String,
    pub subject: String,
    pub state: String,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

impl From<&Notice> for NoticeDto {
    fn from(n: &Notice) -> Self {
        Self {
            id: n.id.as_uuid(),
            recipient: n.recipient.as_uuid(),
            address: n.address.clone(),
            kind: n.kind.as_str().to_owned(),
            subject: n.subject.clone(),
            state: n.state.as_str().to_owned(),
            attempts: n.attempts,
            created_at: n.created_at,
            next_attempt_at: n.next_attempt_at,
            last_error: n.last_error.clone(),
            sent_at: n.sent_at,
        }
    }
}

/// Parses a frequency of a request.
pub fn frequency(raw: &str) -> Result<Frequency, passerelle_core::CoreError> {
    raw.parse().map_err(|_| {
        passerelle_core::CoreError::invalid(
            "invalid_frequency",
            format!("frequency {raw:?} is not one of never, immediate, daily, weekly"),
        )
    })
}
