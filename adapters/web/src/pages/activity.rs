//! The activity pages (issue 18, ADR 0013), on both nodes: the caller's
//! feed across their spaces, a space's feed with the caller's notification
//! setting (and the space's default for its managers), the unsubscribe
//! link of e-mails (no session: the signed token is the credential; the
//! GET only asks, since mail scanners follow links, and the POST does
//! it), and the administrators' view of the notification outbox.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::Page;
use passerelle_core::notify::render::verb;
use passerelle_core::notify::{EventKind, Followed, Frequency, NoticeState};
use passerelle_core::service::{FeedAsk, FeedPage, FeedScope};
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::view;
use crate::ctx::{Anonymous, PageCtx, Web, WebError, back_with_error, render, see_other};
use crate::i18n::Tr;

/// Lines per page of a feed.
const LINES: u64 = 30;

/// `?kind=&before=` of a feed page.
#[derive(Debug, Default, Deserialize)]
pub struct FeedParams {
    #[serde(default)]
    kind: String,
    before: Option<i64>,
}

#[derive(Debug)]
struct Item {
    name: String,
    href: Option<String>,
    comment: Option<String>,
}

#[derive(Debug)]
struct Line {
    kind: &'static str,
    actor: String,
    words: String,
    space: String,
    space_href: String,
    when: String,
    items: Vec<Item>,
    more: usize,
    reason: Option<String>,
}

#[derive(Debug)]
struct KindChoice {
    key: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Debug)]
pub(crate) struct FreqChoice {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) selected: bool,
}

/// The "notify me of this folder / document" form of a folder's or a
/// document's page: the most specific choice wins over the space's
/// (ADR 0013 §2), "never" included.
#[derive(Debug)]
pub(crate) struct FollowForm {
    pub(crate) sid: String,
    /// The form's hidden field naming what is followed: `folder` or
    /// `document`.
    pub(crate) field: &'static str,
    pub(crate) id: String,
    pub(crate) label: &'static str,
    pub(crate) choices: Vec<FreqChoice>,
}

/// The follow form of `followed` (a folder or a document of `space`) for
/// the caller, showing what they chose for it.
pub(crate) async fn follow_form(
    st: &AppState,
    web: &Web,
    space: SpaceId,
    followed: Followed,
) -> Result<FollowForm, CoreError> {
    let t = web.t();
    let (field, id, label) = match followed {
        Followed::Folder(f) => ("folder", f.to_string(), "activity.follow_folder"),
        Followed::Document(d) => ("document", d.to_string(), "activity.follow_document"),
        Followed::Space => ("", String::new(), "activity.my_frequency"),
    };
    let subs = st
        .app
        .notifications()
        .subscriptions(&web.actor, space)
        .await?;
    let chosen = subs
        .follows
        .iter()
        .find(|s| s.followed == followed)
        .map(|s| s.frequency);
    Ok(FollowForm {
        sid: space.to_string(),
        field,
        id,
        label: t.s(label),
        choices: freqs(t, chosen),
    })
}

/// Items a line names before "and N more".
const NAMED: usize = 10;

fn lines(t: Tr, page: &FeedPage) -> Vec<Line> {
    let lang = t.lang.into();
    page.lines
        .iter()
        .map(|l| Line {
            kind: l.kind.as_str(),
            actor: l.actor_name.clone(),
            words: verb(l.kind, lang, l.items.len()),
            space: l.space_title.clone(),
            space_href: format!("/spaces/{}", l.space),
            when: view::date(l.newest_at),
            items: l
                .items
                .iter()
                .take(NAMED)
                .map(|i| Item {
                    name: i.name.clone(),
                    href: i.document.map(|d| format!("/documents/{d}")),
                    comment: i.comment.clone(),
                })
                .collect(),
            more: l.items.len().saturating_sub(NAMED),
            reason: l.reason.clone(),
        })
        .collect()
}

fn kinds(t: Tr, chosen: Option<EventKind>) -> Vec<KindChoice> {
    EventKind::ALL
        .into_iter()
        .map(|k| KindChoice {
            key: k.as_str(),
            label: t.s(kind_key(k)),
            selected: chosen == Some(k),
        })
        .collect()
}

fn kind_key(k: EventKind) -> &'static str {
    match k {
        EventKind::Added => "activity.kind.added",
        EventKind::NewVersion => "activity.kind.new_version",
        EventKind::Changed => "activity.kind.changed",
        EventKind::Deleted => "activity.kind.deleted",
        EventKind::Restored => "activity.kind.restored",
        EventKind::FolderAdded => "activity.kind.folder_added",
        EventKind::Joined => "activity.kind.joined",
        EventKind::Left => "activity.kind.left",
        EventKind::Refused => "activity.kind.refused",
    }
}

fn freq_key(f: Frequency) -> &'static str {
    match f {
        Frequency::Never => "activity.freq.never",
        Frequency::Immediate => "activity.freq.immediate",
        Frequency::Daily => "activity.freq.daily",
        Frequency::Weekly => "activity.freq.weekly",
    }
}

fn freqs(t: Tr, chosen: Option<Frequency>) -> Vec<FreqChoice> {
    Frequency::ALL
        .into_iter()
        .map(|f| FreqChoice {
            key: f.as_str(),
            label: t.s(freq_key(f)),
            selected: chosen == Some(f),
        })
        .collect()
}

/// The space's notification settings, for the space's feed page.
#[derive(Debug)]
struct Settings {
    sid: String,
    default_label: &'static str,
    mine: Vec<FreqChoice>,
    manages: bool,
    space_default: Vec<FreqChoice>,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    p: PageCtx,
    heading: String,
    action: String,
    kinds: Vec<KindChoice>,
    lines: Vec<Line>,
    older: Option<String>,
    settings: Option<Settings>,
}

fn parse_kind(raw: &str) -> Result<Option<EventKind>, WebError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| WebError::Core(CoreError::invalid("invalid_kind", "unknown kind")))
}

fn older(action: &str, kind: &str, page: &FeedPage) -> Option<String> {
    page.next_before.map(|b| {
        if kind.is_empty() {
            format!("{action}?before={b}")
        } else {
            format!("{action}?kind={kind}&before={b}")
        }
    })
}

/// `GET /activity`: what happened in every space the caller may read.
pub async fn my_activity(
    State(st): State<AppState>,
    web: Web,
    Query(q): Query<FeedParams>,
) -> Result<Response, WebError> {
    let t = web.t();
    let kind = parse_kind(&q.kind)?;
    let ask = FeedAsk {
        scope: FeedScope::Mine,
        kinds: kind.into_iter().collect(),
        actor: None,
        before: q.before,
        limit: LINES,
    };
    let page = st.app.notifications().feed(&web.actor, &ask).await?;
    let action = "/activity".to_owned();
    Ok(render(&ActivityPage {
        heading: t.s("activity.title").to_owned(),
        kinds: kinds(t, kind),
        lines: lines(t, &page),
        older: older(&action, &q.kind, &page),
        action,
        settings: None,
        p: web.page,
    }))
}

/// `GET /spaces/{id}/activity`: what happened in the space, and how
/// often the caller hears of it.
pub async fn space_activity(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Query(q): Query<FeedParams>,
) -> Result<Response, WebError> {
    let t = web.t();
    let sid = SpaceId::from_uuid(id);
    let kind = parse_kind(&q.kind)?;
    let n = st.app.notifications();
    let ask = FeedAsk {
        scope: FeedScope::Space(sid),
        kinds: kind.into_iter().collect(),
        actor: None,
        before: q.before,
        limit: LINES,
    };
    let page = n.feed(&web.actor, &ask).await?;
    let view = st.app.get_space(&web.actor, sid).await?;
    let subs = n.subscriptions(&web.actor, sid).await?;
    let action = format!("/spaces/{sid}/activity");
    Ok(render(&ActivityPage {
        heading: t.f("activity.space_title", &view.space.title),
        kinds: kinds(t, kind),
        lines: lines(t, &page),
        older: older(&action, &q.kind, &page),
        action,
        settings: Some(Settings {
            sid: sid.to_string(),
            default_label: t.s(freq_key(subs.space_default)),
            mine: freqs(t, subs.chosen),
            manages: subs.manages,
            space_default: freqs(t, Some(subs.space_default)),
        }),
        p: web.page,
    }))
}

/// A frequency chosen in a form (empty: the space's default).
#[derive(Debug, Deserialize)]
pub struct FreqForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    frequency: String,
    /// A folder or a document of the space, from their pages' follow
    /// form; neither: the whole space.
    #[serde(default)]
    folder: Option<Uuid>,
    #[serde(default)]
    document: Option<Uuid>,
}

fn frequency(raw: &str) -> Result<Frequency, CoreError> {
    raw.parse()
        .map_err(|_| CoreError::invalid("invalid_frequency", "unknown frequency"))
}

/// `POST /spaces/{id}/subscription`: the caller's choice for the space,
/// or for one of its folders or documents (their pages' follow form).
pub async fn subscribe(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<FreqForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    // Back to the page the form is on.
    let (followed, back) = match (f.folder, f.document) {
        (_, Some(d)) => (
            Followed::Document(DocumentId::from_uuid(d)),
            format!("/documents/{d}"),
        ),
        (Some(folder), None) => (
            Followed::Folder(FolderId::from_uuid(folder)),
            format!("/spaces/{sid}?folder={folder}"),
        ),
        (None, None) => (Followed::Space, format!("/spaces/{sid}/activity")),
    };
    let chosen = match f.frequency.as_str() {
        "" => None,
        raw => match frequency(raw) {
            Ok(x) => Some(x),
            Err(e) => return back_with_error(&back, &e),
        },
    };
    match st
        .app
        .notifications()
        .subscribe(&web.actor, sid, followed, chosen)
        .await
    {
        Ok(()) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{sep}ok=subscription_saved")))
        }
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/subscription/default`: the space's default
/// (managers).
pub async fn space_default(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<FreqForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/activity");
    let result = match frequency(&f.frequency) {
        Ok(x) => {
            st.app
                .notifications()
                .set_space_default(&web.actor, sid, x)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("{back}?ok=subscription_saved"))),
        Err(e) => back_with_error(&back, &e),
    }
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    p: PageCtx,
    token: String,
    done: Option<String>,
}

/// `GET /unsubscribe/{token}`: asks to confirm (a mail scanner that
/// follows the link changes nothing).
pub async fn unsubscribe_form(Anonymous(p): Anonymous, Path(token): Path<String>) -> Response {
    render(&UnsubscribePage {
        p,
        token,
        done: None,
    })
}

/// `POST /unsubscribe/{token}`: done, from the page's button or a mail
/// reader's one-click (RFC 8058). A token this node did not sign is the
/// "not found" page.
pub async fn unsubscribe(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let title = st.app.notifications().unsubscribe(&token).await?;
    Ok(render(&UnsubscribePage {
        p,
        token,
        done: Some(title),
    }))
}

#[derive(Debug)]
struct NoticeRow {
    address: String,
    subject: String,
    state: &'static str,
    attempts: u32,
    created: String,
    next: String,
    error: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    p: PageCtx,
    state: String,
    total: u64,
    rows: Vec<NoticeRow>,
}

/// `?state=` of the outbox page.
#[derive(Debug, Default, Deserialize)]
pub struct NoticesParams {
    #[serde(default)]
    state: String,
}

/// `GET /admin/notices`: the notification outbox (administrators).
pub async fn notices(
    State(st): State<AppState>,
    web: Web,
    Query(q): Query<NoticesParams>,
) -> Result<Response, WebError> {
    let t = web.t();
    let state =
        match q.state.as_str() {
            "" => None,
            s => Some(s.parse::<NoticeState>().map_err(|_| {
                WebError::Core(CoreError::invalid("invalid_state", "unknown state"))
            })?),
        };
    let found = st
        .app
        .notifications()
        .notices(&web.actor, state, Page::new(0, 200))
        .await?;
    let rows = found
        .items
        .iter()
        .map(|n| NoticeRow {
            address: n.address.clone(),
            subject: n.subject.clone(),
            state: t.s(match n.state {
                NoticeState::Pending => "notices.pending",
                NoticeState::Sent => "notices.sent",
                NoticeState::Refused => "notices.refused",
            }),
            attempts: n.attempts,
            created: view::date(n.created_at),
            next: match n.state {
                NoticeState::Pending => view::date(n.next_attempt_at),
                _ => n.sent_at.map(view::date).unwrap_or_default(),
            },
            error: n.last_error.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(&NoticesPage {
        state: q.state,
        total: found.total,
        rows,
        p: web.page,
    }))
}
