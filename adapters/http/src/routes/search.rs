//! Search (both nodes) and extraction statuses: `GET /search` reads its
//! query string as pairs, since `meta.<key>` filters have keys of the
//! catalogue's choosing (the reader is `passerelle_http_common::search_params`,
//! shared with the results page); the administrators' list of extraction problems
//! is the internal node's.

use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::ContentHash;
use passerelle_core::ids::DocumentId;
use passerelle_http_common::search_params::{SearchParamError, ask_of};
use passerelle_http_common::{ApiError, Authenticated};
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{
    ExtractionDto, ExtractionProblemDto, PageOf, PageQuery, SearchQueryDoc, SearchResultsDto,
};
use crate::extract::{Json, Path, Query};

/// Finds documents by name, type, metadata and content, in the spaces the
/// caller may read (on an edge: the shared spaces held there). A space,
/// folder or author one cannot see finds nothing, as one that does not
/// exist. Malformed search text never fails: unbalanced quotes or unknown
/// fields are read as words. Malformed parameters (an id that is not a
/// UUID, a date that is not `YYYY-MM-DD`, an unknown sort) are a 400.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchQueryDoc),
    responses((status = 200, body = SearchResultsDto), Problems))]
pub(crate) async fn search(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<SearchResultsDto>, ApiError> {
    let ask = ask_of(&pairs).map_err(bad_params)?;
    let page = st.search.search(&actor, ask).await?;
    Ok(Json((&page).into()))
}

/// The shared reader's error as the API's 400 (its codes unchanged).
fn bad_params(e: SearchParamError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.code, e.detail)
}

/// What text extraction made of the document's current content (`null`
/// until the indexer has tried it). Not found for a document one cannot
/// read.
#[utoipa::path(get, path = "/documents/{id}/extraction", tag = "search",
    responses((status = 200, body = Option<ExtractionDto>), Problems))]
pub(crate) async fn document_extraction(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Option<ExtractionDto>>, ApiError> {
    let record = st
        .search
        .extraction_of(&actor, DocumentId::from_uuid(id))
        .await?;
    Ok(Json(record.as_ref().map(Into::into)))
}

/// Contents whose text could not be extracted (failures, time-outs,
/// limits, encryption, formats not read), last tried first, with the
/// documents holding them (administrators).
#[utoipa::path(get, path = "/admin/extractions", tag = "search", params(PageQuery),
    responses((status = 200, body = PageOf<ExtractionProblemDto>), Problems))]
pub(crate) async fn extraction_problems(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageOf<ExtractionProblemDto>>, ApiError> {
    let page = q.page();
    let problems = st.search.extraction_problems(&actor, page).await?;
    Ok(Json(PageOf::new(problems, page, |p| (&p).into())))
}

/// Asks for a content's extraction to be tried again at the indexer's next
/// run, whatever its attempts (administrators).
#[utoipa::path(post, path = "/admin/extractions/{hash}/retry", tag = "search",
    responses((status = 204, description = "Queued for the next run"), Problems))]
pub(crate) async fn retry_extraction(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(hash): Path<String>,
) -> Result<StatusCode, ApiError> {
    let hash: ContentHash = hash
        .parse()
        .map_err(|_| ApiError::bad_request("hash must be 64 hexadecimal digits"))?;
    st.search.retry_extraction(&actor, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
