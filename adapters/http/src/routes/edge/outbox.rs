//! A contractor's operations on the edge node: their writes (the shared
//! write handlers, over the edge's `DocumentWrites`) wait in the outbox
//! until the internal node decides; this lists them, pending and decided.
//! While the outbox holds as many pending operations as the edge allows,
//! writes are refused with 503 `outbox_full` and `Retry-After`, nothing
//! stored.

use axum::extract::State;
use passerelle_core::ids::SpaceId;
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::super::Problems;
use crate::AppState;
use crate::dto::{OperationDto, PageOf, PageQuery};
use crate::extract::{Json, Path, Query};

/// One page of the caller's operations in a space, pending and decided,
/// newest first, with their total (writes to the space: the acceptance of
/// the caller's invitation, which also goes up through the outbox, is not
/// listed). Decided ones are kept for the edge's retention period.
#[utoipa::path(get, path = "/spaces/{id}/operations", tag = "operations", params(PageQuery),
    responses((status = 200, body = PageOf<OperationDto>), Problems))]
pub(crate) async fn my_operations(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<OperationDto>>, ApiError> {
    let page = q.page();
    let items = st
        .writes
        .queued_writes(&actor, SpaceId::from_uuid(id), page)
        .await?;
    Ok(Json(PageOf::new(items, page, |i| (&i).into())))
}
