//! The activity feed and people's subscriptions (issue 18 §1–2, ADR
//! 0013): the audit entries of the spaces the caller may read *now*,
//! kept to what a feed shows and grouped into lines; each person's choice
//! of how often they hear of a space, a folder or a document; the space's
//! default set by its managers; and the unsubscribe link's use case, which
//! needs no session.

use std::collections::HashMap;

use serde_json::json;
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::model::{AuditEntry, Space};
use crate::notify::store::ActivityQuery;
use crate::notify::unsubscribe::{KEY_BYTES, UnsubscribeKey};
use crate::notify::{
    EventKind, EventPlace, Followed, Frequency, Subscription, frequency_for, group,
};
use crate::ports::Tx;
use crate::role::{Action, Role};

use super::access::{Fail, Outcome};
use super::search::readable_spaces;
use super::{Actor, Passerelle};

/// The notification use cases of a node.
#[derive(Clone, Debug)]
pub struct Notifications {
    pub(super) app: Passerelle,
}

impl Passerelle {
    /// The feed, subscriptions and notices of this node.
    pub fn notifications(&self) -> Notifications {
        Notifications { app: self.clone() }
    }
}

/// Whose feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedScope {
    /// One space's.
    Space(SpaceId),
    /// Every space the caller may read.
    Mine,
}

/// A page of a feed asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedAsk {
    pub scope: FeedScope,
    /// Only these kinds (all for none).
    pub kinds: Vec<EventKind>,
    /// Only what this person did.
    pub actor: Option<PrincipalId>,
    /// The `next_before` of the page before.
    pub before: Option<i64>,
    /// Lines per page.
    pub limit: u64,
}

/// A thing a line is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedItem {
    pub name: String,
    /// The document, when it is live (its page can be opened).
    pub document: Option<DocumentId>,
    pub folder: Option<FolderId>,
    /// What its author said of the version (uploads and new versions).
    pub comment: Option<String>,
}

/// One line of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedLine {
    pub kind: EventKind,
    pub actor: Option<PrincipalId>,
    pub actor_name: String,
    pub space: SpaceId,
    pub space_title: String,
    pub newest_at: OffsetDateTime,
    pub oldest_at: OffsetDateTime,
    /// Newest first, one per event.
    pub items: Vec<FeedItem>,
    /// Why a contractor's operation was refused (refusals only).
    pub reason: Option<String>,
}

/// A page of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedPage {
    pub lines: Vec<FeedLine>,
    /// Ask again with this as `before` for older lines; `None` at the end.
    pub next_before: Option<i64>,
}

/// A person's notification settings in one space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionsView {
    pub space: SpaceId,
    /// What the person chose for the space (`None`: the space's default).
    pub chosen: Option<Frequency>,
    /// The space's default, as its managers set it.
    pub space_default: Frequency,
    /// The folders and documents they follow, with how often.
    pub follows: Vec<Subscription>,
    /// The caller may set the space's default.
    pub manages: bool,
}

/// Raw entries read per feed line asked, at most: lines group several
/// entries, and a page must not cost a scan of the whole log.
const ENTRIES_PER_LINE: u64 = 20;
const MAX_ENTRIES: u64 = 2000;
/// The key of the unsubscribe key in the notification state.
pub(super) const UNSUBSCRIBE_KEY: &str = "unsubscribe_key";

impl Notifications {
    /// A page of the feed of a space, or of every space the caller may
    /// read. A space the caller may not read is "not found", as absent.
    pub async fn feed(&self, actor: &Actor, ask: &FeedAsk) -> Result<FeedPage, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.read().await?;
            let readable: HashMap<SpaceId, (Space, Role)> =
                readable_spaces(&mut tx, actor, app.now())
                    .await?
                    .into_iter()
                    .map(|(s, r)| (s.id, (s, r)))
                    .collect();
            let spaces = match ask.scope {
                FeedScope::Space(id) => {
                    app.access(&mut tx, actor, id).await?;
                    vec![id]
                }
                FeedScope::Mine => readable.keys().copied().collect(),
            };
            let limit = ask.limit.clamp(1, 100);
            let q = ActivityQuery {
                spaces: Some(spaces),
                actions: EventKind::actions(&ask.kinds),
                actor: ask.actor,
                before_seq: ask.before,
                limit: (limit * ENTRIES_PER_LINE).min(MAX_ENTRIES),
                ..ActivityQuery::default()
            };
            let entries = tx.activity(&q).await?;
            let full = entries.len() as u64 == q.limit;
            let last_read = entries.last().map(|e| e.seq);
            let shown: Vec<AuditEntry> = entries
                .into_iter()
                .filter(|e| refusal_visible(e, actor, &readable))
                .collect();
            let mut groups = group(shown);
            let mut next_before = if full { last_read } else { None };
            if groups.len() as u64 > limit {
                groups.truncate(limit as usize);
                next_before = groups.last().and_then(|g| g.oldest()).map(|e| e.seq);
            }
            let mut names = Names::default();
            let mut lines = Vec::with_capacity(groups.len());
            for g in groups {
                let (Some(newest), Some(oldest)) = (g.newest(), g.oldest()) else {
                    continue;
                };
                let (newest_at, oldest_at) = (newest.at, oldest.at);
                let mut items = Vec::with_capacity(g.entries.len());
                let mut reason = None;
                for e in &g.entries {
                    let d = describe(&mut tx, &mut names, e).await?;
                    reason = reason.or(d.reason);
                    items.push(d.item);
                }
                lines.push(FeedLine {
                    kind: g.kind,
                    actor: g.actor,
                    actor_name: names.of(&mut tx, g.actor).await?,
                    space: g.space,
                    space_title: readable
                        .get(&g.space)
                        .map_or_else(String::new, |(s, _)| s.title.clone()),
                    newest_at,
                    oldest_at,
                    items,
                    reason,
                });
            }
            Ok::<_, Fail>(FeedPage { lines, next_before })
        })
        .await
    }

    /// The caller's notification settings in a space they may read.
    pub async fn subscriptions(
        &self,
        actor: &Actor,
        space: SpaceId,
    ) -> Result<SubscriptionsView, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let p = actor.principal()?.clone();
            let mut tx = app.read().await?;
            let a = app.access(&mut tx, actor, space).await?;
            let space_default = tx
                .space_frequency(space)
                .await?
                .unwrap_or(Frequency::DEFAULT);
            let mine: Vec<Subscription> = tx
                .subscriptions_of(p.id)
                .await?
                .into_iter()
                .filter(|s| s.space == space)
                .collect();
            let chosen = mine
                .iter()
                .find(|s| s.followed == Followed::Space)
                .map(|s| s.frequency);
            Ok::<_, Fail>(SubscriptionsView {
                space,
                chosen,
                space_default,
                follows: mine
                    .into_iter()
                    .filter(|s| s.followed != Followed::Space)
                    .collect(),
                manages: a.role.allows(Action::Manage),
            })
        })
        .await
    }

    /// Sets how often the caller hears of a space, or of a folder or a
    /// document of it (`None` forgets the choice: the space's default, or
    /// for a folder or document, the space's rule again).
    pub async fn subscribe(
        &self,
        actor: &Actor,
        space: SpaceId,
        followed: Followed,
        frequency: Option<Frequency>,
    ) -> Result<(), CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let p = actor.principal()?.clone();
            let mut tx = app.write().await?;
            app.access(&mut tx, actor, space).await?;
            check_followed(&mut tx, space, followed).await?;
            let s = Subscription {
                principal: p.id,
                space,
                followed,
                frequency: frequency.unwrap_or(Frequency::DEFAULT),
            };
            match frequency {
                Some(_) => tx.save_subscription(&s).await?,
                None => tx.delete_subscription(&s).await?,
            }
            app.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Sets the space's default for members who chose nothing (managers).
    pub async fn set_space_default(
        &self,
        actor: &Actor,
        space: SpaceId,
        frequency: Frequency,
    ) -> Result<(), CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.write().await?;
            let a = app.access(&mut tx, actor, space).await?;
            a.require(Action::Manage, || space.to_string())?;
            tx.set_space_frequency(space, frequency).await?;
            app.audit(
                &mut tx,
                actor,
                "space.notification_default",
                Some(space),
                Some(space.to_string()),
                json!({ "frequency": frequency.as_str() }),
            )
            .await?;
            app.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Follows an unsubscribe link: the person named by the token hears
    /// nothing more of its space. No session is needed; a token this node
    /// did not sign is "not found". Answers the space's title, for the
    /// page that confirms it.
    pub async fn unsubscribe(&self, token: &str) -> Result<String, CoreError> {
        let app = &self.app;
        let mut tx = app.write().await?;
        let key = unsubscribe_key(&mut tx).await?;
        let Some((principal, space)) = key.verify(token) else {
            return Err(CoreError::NotFound("unsubscribe link"));
        };
        let (Some(s), Some(_)) = (tx.space(space).await?, tx.principal(principal).await?) else {
            return Err(CoreError::NotFound("unsubscribe link"));
        };
        tx.save_subscription(&Subscription {
            principal,
            space,
            followed: Followed::Space,
            frequency: Frequency::Never,
        })
        .await?;
        let me = Actor::System;
        app.audit(
            &mut tx,
            &me,
            "notification.unsubscribe",
            Some(space),
            Some(principal.to_string()),
            json!({ "by": "link" }),
        )
        .await?;
        app.commit(tx).await?;
        Ok(s.title)
    }
}

/// A refused operation is shown to its contractor and to the space's
/// managers only: others see it was not applied by its absence.
fn refusal_visible(
    e: &AuditEntry,
    actor: &Actor,
    readable: &HashMap<SpaceId, (Space, Role)>,
) -> bool {
    if EventKind::of_action(&e.action) != Some(EventKind::Refused) {
        return true;
    }
    let manager = e
        .space
        .and_then(|s| readable.get(&s))
        .is_some_and(|(_, r)| *r == Role::Manager);
    let author = actor
        .id()
        .is_some_and(|id| e.detail["contractor"].as_str() == Some(id.to_string().as_str()));
    manager || author
}

/// A followed folder or document must be of the space.
async fn check_followed(tx: &mut Box<dyn Tx>, space: SpaceId, f: Followed) -> Outcome<()> {
    let of_space = match f {
        Followed::Space => true,
        Followed::Folder(id) => tx
            .folder(id)
            .await?
            .is_some_and(|x| x.space == space && x.trashed.is_none()),
        Followed::Document(id) => tx
            .document(id)
            .await?
            .is_some_and(|x| x.space == space && x.trashed.is_none()),
    };
    if of_space {
        Ok(())
    } else {
        Err(CoreError::NotFound("folder or document").into())
    }
}

/// The node's unsubscribe key, made at its first use.
pub(super) async fn unsubscribe_key(tx: &mut Box<dyn Tx>) -> Result<UnsubscribeKey, CoreError> {
    if let Some(k) = tx
        .notify_state(UNSUBSCRIBE_KEY)
        .await?
        .and_then(|h| UnsubscribeKey::from_hex(&h))
    {
        return Ok(k);
    }
    let mut bytes = [0u8; KEY_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let key = UnsubscribeKey::from_bytes(bytes);
    tx.set_notify_state(UNSUBSCRIBE_KEY, &key.to_hex()).await?;
    Ok(key)
}

/// Display names, looked up once per feed or plan.
#[derive(Default)]
pub(super) struct Names(HashMap<PrincipalId, String>);

impl Names {
    /// The person's display name; the node's own work is "Passerelle".
    pub(super) async fn of(
        &mut self,
        tx: &mut Box<dyn Tx>,
        id: Option<PrincipalId>,
    ) -> Result<String, CoreError> {
        let Some(id) = id else {
            return Ok("Passerelle".to_owned());
        };
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let name = tx
            .principal(id)
            .await?
            .map_or_else(|| id.to_string(), |p| p.display_name);
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

/// What one event is about, named for people.
pub(super) struct Described {
    pub item: FeedItem,
    pub place: EventPlace,
    pub reason: Option<String>,
}

/// Names the thing an audit entry is about: a document by its current
/// name (linked while live), a folder or a member by name, a refusal with
/// its reason.
pub(super) async fn describe(
    tx: &mut Box<dyn Tx>,
    names: &mut Names,
    e: &AuditEntry,
) -> Result<Described, CoreError> {
    let recorded = e.detail["name"].as_str().map(str::to_owned);
    let target = e.target.as_deref().unwrap_or_default();
    let mut item = FeedItem {
        name: recorded.clone().unwrap_or_default(),
        document: None,
        folder: None,
        comment: e.detail["comment"].as_str().map(str::to_owned),
    };
    let mut place = EventPlace::default();
    let mut reason = None;
    if e.action.starts_with("document.") {
        if let Ok(id) = target.parse::<DocumentId>() {
            place.document = Some(id);
            if let Some(d) = tx.document(id).await? {
                place.folder = d.folder;
                item.folder = d.folder;
                item.name = d.name.as_str().to_owned();
                item.document = d.trashed.is_none().then_some(id);
            }
        }
    } else if e.action.starts_with("folder.") || e.action == "trash.restore" {
        if let Ok(id) = target.parse::<FolderId>() {
            place.folder = Some(id);
            item.folder = Some(id);
        } else if let Ok(id) = target.parse::<DocumentId>() {
            place.document = Some(id);
            if let Some(d) = tx.document(id).await? {
                item.document = d.trashed.is_none().then_some(id);
                place.folder = d.folder;
            }
        }
    } else if e.action.starts_with("member.") {
        item.name = names.of(tx, target.parse::<PrincipalId>().ok()).await?;
    } else if e.action == "contractor.accept" {
        item.name = names.of(tx, e.actor).await?;
    } else if e.action == "replication.rejected" {
        reason = e.detail["detail"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| Some(e.detail["detail"].to_string()));
        item.name = e.detail["name"]
            .as_str()
            .map_or_else(|| target.to_owned(), str::to_owned);
    }
    if item.name.is_empty() {
        item.name = target.to_owned();
    }
    Ok(Described {
        item,
        place,
        reason,
    })
}

/// How often `principal` hears of an event at `place` of `space`.
pub(super) fn chosen_frequency(
    subs: &[Subscription],
    principal: PrincipalId,
    space: SpaceId,
    space_default: Option<Frequency>,
    place: EventPlace,
) -> Frequency {
    let theirs: Vec<Subscription> = subs
        .iter()
        .filter(|s| s.principal == principal && s.space == space)
        .cloned()
        .collect();
    frequency_for(&theirs, space_default, place)
}
