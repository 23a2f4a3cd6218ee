//! Search (both nodes) and extraction statuses: `GET /search` reads its
//! query string as pairs, since `meta.<key>` filters have keys of the
//! catalogue's choosing; the administrators' list of extraction problems
//! is the internal node's.

use axum::extract::State;
use axum::http::StatusCode;
use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::service::SearchAsk;
use passerelle_http_common::{ApiError, Authenticated};
use time::Date;
use time::macros::format_description;
use uuid::Uuid;

use super::Problems;
use crate::AppState;
use crate::dto::{
    ExtractionDto, ExtractionProblemDto, PageOf, PageQuery, SearchQueryDoc, SearchResultsDto,
    sort_named,
};
use crate::extract::{Json, Path, Query};

/// Hits per page when the query string says nothing.
const DEFAULT_LIMIT: usize = 20;

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
    let ask = ask_of(&pairs)?;
    let page = st.search.search(&actor, ask).await?;
    Ok(Json((&page).into()))
}

/// Reads the query string; repeated parameters: the last one counts,
/// except `meta.<key>`, which add up.
pub(crate) fn ask_of(pairs: &[(String, String)]) -> Result<SearchAsk, ApiError> {
    let mut ask = SearchAsk {
        limit: DEFAULT_LIMIT,
        ..SearchAsk::default()
    };
    let f = &mut ask.filters;
    for (key, value) in pairs {
        match key.as_str() {
            "q" => ask.text = value.clone(),
            "space" => f.space = Some(SpaceId::from_uuid(uuid("space", value)?)),
            "type" => f.doc_type = Some(value.clone()).filter(|v| !v.is_empty()),
            "author" => f.author = Some(PrincipalId::from_uuid(uuid("author", value)?)),
            "folder" => f.folder = Some(FolderId::from_uuid(uuid("folder", value)?)),
            "modified_after" => f.modified_after = Some(day("modified_after", value)?),
            "modified_before" => f.modified_before = Some(day("modified_before", value)?),
            "sort" => {
                ask.sort = sort_named(value)
                    .ok_or_else(|| invalid("invalid_sort", "sort is relevance, date or name"))?;
            }
            "limit" => {
                ask.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=passerelle_core::search::MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid("invalid_limit", "limit is 1 to 100"))?;
            }
            "cursor" => {
                ask.offset = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= passerelle_core::search::MAX_OFFSET)
                    .ok_or_else(|| {
                        invalid("invalid_cursor", "cursor is the next_cursor of a page")
                    })?;
            }
            "trash" => ask.trash = value == "true",
            other => {
                if let Some(meta) = other.strip_prefix("meta.") {
                    f.meta.push((meta.to_owned(), value.clone()));
                }
                // Anything else is ignored, as HTTP clients expect.
            }
        }
    }
    Ok(ask)
}

fn invalid(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, detail)
}

fn uuid(name: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::bad_request(format!("{name} must be a UUID")))
}

fn day(name: &str, value: &str) -> Result<Date, ApiError> {
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::bad_request(format!("{name} must be a date, YYYY-MM-DD")))
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
