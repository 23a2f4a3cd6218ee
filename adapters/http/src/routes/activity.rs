//! The activity feed and notification settings (issue 18, ADR 0013), on
//! both nodes (each serves its own people's), the administrators' view of
//! the outbox, and the unsubscribe link's target, which needs no session
//! (the signed token is the credential).

use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::CoreError;
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::notify::{EventKind, NoticeState};
use passerelle_core::service::{FeedAsk, FeedScope};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{
    FeedDto, FeedQuery, NoticeDto, NoticeQuery, PageOf, SpaceDefaultBody, SubscribeBody,
    SubscriptionDto, frequency,
};
use crate::extract::{Json, Path, Query};

/// Lines of a feed when the caller asks for no number.
const DEFAULT_LINES: u64 = 30;

fn ask(scope: FeedScope, q: &FeedQuery) -> Result<FeedAsk, CoreError> {
    let kinds = match q.kind.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                k.trim().parse::<EventKind>().map_err(|_| {
                    CoreError::invalid(
                        "invalid_kind",
                        format!(
                            "kind {k:?} is not one of added, new_version, changed, deleted, restored, folder_added, joined, left, refused"
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(FeedAsk {
        scope,
        kinds,
        actor: q.actor.map(PrincipalId::from_uuid),
        before: q.before,
        limit: q.limit.unwrap_or(DEFAULT_LINES),
    })
}

/// What happened in every space the caller may read, newest first,
/// grouped ("Paul Martin added 12 documents"). Security events (logins,
/// tokens) never appear; a contractor's refused operation only to its
/// author and the space's managers.
#[utoipa::path(get, path = "/activity", tag = "activity", params(FeedQuery),
    responses((status = 200, body = FeedDto), Problems))]
pub(crate) async fn my_activity(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<FeedQuery>,
) -> Result<Json<FeedDto>, ApiError> {
    let page = st
        .app
        .notifications()
        .feed(&actor, &ask(FeedScope::Mine, &q)?)
        .await?;
    Ok(Json((&page).into()))
}

/// What happened in one space; not found for a space the caller may not
/// read, as for one that does not exist.
#[utoipa::path(get, path = "/spaces/{id}/activity", tag = "activity", params(FeedQuery),
    responses((status = 200, body = FeedDto), Problems))]
pub(crate) async fn space_activity(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<FeedQuery>,
) -> Result<Json<FeedDto>, ApiError> {
    let scope = FeedScope::Space(SpaceId::from_uuid(id));
    let page = st
        .app
        .notifications()
        .feed(&actor, &ask(scope, &q)?)
        .await?;
    Ok(Json((&page).into()))
}

/// The caller's notification settings in the space.
#[utoipa::path(get, path = "/spaces/{id}/subscription", tag = "activity",
    responses((status = 200, body = SubscriptionDto), Problems))]
pub(crate) async fn get_subscription(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<SubscriptionDto>, ApiError> {
    let v = st
        .app
        .notifications()
        .subscriptions(&actor, SpaceId::from_uuid(id))
        .await?;
    Ok(Json((&v).into()))
}

/// Sets how often the caller hears of the space, or of one of its
/// folders or documents (`frequency` null: back to the space's rule).
#[utoipa::path(put, path = "/spaces/{id}/subscription", tag = "activity",
    request_body = SubscribeBody,
    responses((status = 200, body = SubscriptionDto), Problems))]
pub(crate) async fn put_subscription(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<SubscribeBody>,
) -> Result<Json<SubscriptionDto>, ApiError> {
    let space = SpaceId::from_uuid(id);
    let f = body.frequency.as_deref().map(frequency).transpose()?;
    let n = st.app.notifications();
    n.subscribe(&actor, space, body.followed.into(), f).await?;
    Ok(Json((&n.subscriptions(&actor, space).await?).into()))
}

/// Sets the space's default for members who chose nothing (managers).
#[utoipa::path(put, path = "/spaces/{id}/subscription/default", tag = "activity",
    request_body = SpaceDefaultBody,
    responses((status = 204, description = "Set"), Problems))]
pub(crate) async fn put_space_default(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<SpaceDefaultBody>,
) -> Result<StatusCode, ApiError> {
    st.app
        .notifications()
        .set_space_default(&actor, SpaceId::from_uuid(id), frequency(&body.frequency)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notification outbox (administrators): what waits, what was sent,
/// what the relay refused and why.
#[utoipa::path(get, path = "/admin/notices", tag = "activity", params(NoticeQuery),
    responses((status = 200, body = PageOf<NoticeDto>), Problems))]
pub(crate) async fn list_notices(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<NoticeQuery>,
) -> Result<Json<PageOf<NoticeDto>>, ApiError> {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<NoticeState>().map_err(|_| {
            CoreError::invalid(
                "invalid_state",
                format!("state {s:?} is not one of pending, sent, refused"),
            )
        })?),
    };
    let page = crate::dto::PageQuery {
        offset: q.offset,
        limit: q.limit,
    }
    .page();
    let found = st.app.notifications().notices(&actor, state, page).await?;
    Ok(Json(PageOf::new(found, page, |n| NoticeDto::from(&n))))
}

/// Follows an unsubscribe link of an e-mail (RFC 8058 one-click): the
/// person it names hears nothing more of its space. No session: the
/// signed token is the credential; one this node did not sign is 404.
#[utoipa::path(post, path = "/unsubscribe/{token}", tag = "activity",
    responses((status = 204, description = "Unsubscribed"), Problems))]
pub(crate) async fn unsubscribe(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.app.notifications().unsubscribe(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}
