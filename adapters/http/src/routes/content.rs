//! Content streams: uploads (the request body is the raw content, never
//! buffered) and downloads (attachment, ETag, single ranges).

use std::io;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::{Document, Version};
use passerelle_core::service::{NewDocument, NewVersion};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::{ApiError, Authenticated};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::Problems;
use super::written::answer;
use crate::AppState;
use crate::dto::{DocumentDto, OperationDto, UploadQuery, VersionQuery};
use crate::extract::{Json, Path, Query};
use passerelle_http_common::download::{
    RangeRequest, content_disposition, etag, if_range_allows, none_match, parse_range,
};

/// Header carrying an upload's metadata as a JSON object (the body is the content).
pub const METADATA_HEADER: &str = "x-passerelle-metadata";

/// Raw bytes, for the OpenAPI document.
pub(crate) struct RawContent;

impl PartialSchema for RawContent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for RawContent {}

/// The request body as a stream of chunks, as core's ports take content.
pub(crate) fn byte_stream(body: Body) -> ByteStream {
    Box::pin(
        body.into_data_stream()
            .map(|chunk| chunk.map_err(io::Error::other)),
    )
}

/// Refuses before reading a byte when the declared length is over the limit.
pub(crate) fn check_declared_length(headers: &HeaderMap, limit: u64) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => Err(ApiError::too_large(limit)),
        _ => Ok(()),
    }
}

pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Metadata from the header, else from `?metadata=`; it must be a JSON object.
pub(crate) fn upload_metadata(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Map<String, Value>, ApiError> {
    let raw = match headers.get(METADATA_HEADER) {
        // Raw UTF-8 is accepted in the header (what curl and most clients
        // send), not only ASCII with \u escapes.
        Some(v) => Some(
            std::str::from_utf8(v.as_bytes())
                .map_err(|_| ApiError::invalid_json("X-Passerelle-Metadata must be UTF-8 JSON"))?,
        ),
        None => query,
    };
    match raw {
        None => Ok(Map::new()),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::invalid_json("metadata must be a JSON object")),
            Err(e) => Err(ApiError::invalid_json(format!(
                "metadata are not valid JSON: {e}"
            ))),
        },
    }
}

/// Creates a document. The body is the raw content, streamed to the blob
/// store; name, folder, type and comment are query parameters, the media
/// type is `Content-Type`, metadata are a JSON object in
/// `X-Passerelle-Metadata` (or `?metadata=`). Over the size limit: 413
/// `too_large`, and nothing is stored.
#[utoipa::path(post, path = "/spaces/{id}/documents", tag = "documents",
    params(UploadQuery, ("X-Passerelle-Metadata" = Option<String>, Header, description = "Metadata as a JSON object")),
    request_body(content = RawContent, content_type = "application/octet-stream", description = "The raw content (any media type)"),
    responses((status = 201, body = DocumentDto), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn upload(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_declared_length(&headers, st.app.settings().max_upload_bytes)?;
    let new = NewDocument {
        space: SpaceId::from_uuid(id),
        folder: q.folder.map(FolderId::from_uuid),
        name: q.name,
        doc_type: q.doc_type,
        metadata: upload_metadata(&headers, q.metadata.as_deref())?,
        media_type: media_type(&headers),
        comment: q.comment.unwrap_or_default(),
    };
    let written = st.writes.upload(&actor, new, byte_stream(body)).await?;
    Ok(answer(written, |view| {
        (StatusCode::CREATED, Json(DocumentDto::from(&view)))
    }))
}

/// Adds a version; the body is the raw content (as for an upload). On an
/// edge the version is based on the current one there, or on the
/// contractor's own previous save of it not yet back down.
#[utoipa::path(post, path = "/documents/{id}/versions", tag = "documents", params(VersionQuery),
    request_body(content = RawContent, content_type = "application/octet-stream", description = "The raw content"),
    responses((status = 201, body = DocumentDto), (status = 202, body = OperationDto, description = "On an edge: pending until the internal node applies it"), Problems))]
pub(crate) async fn upload_version(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    Query(q): Query<VersionQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_declared_length(&headers, st.app.settings().max_upload_bytes)?;
    let new = NewVersion {
        media_type: media_type(&headers),
        comment: q.comment.unwrap_or_default(),
    };
    let written = st
        .writes
        .new_version(&actor, DocumentId::from_uuid(id), new, byte_stream(body))
        .await?;
    Ok(answer(written, |view| {
        (StatusCode::CREATED, Json(DocumentDto::from(&view)))
    }))
}

/// The current content, as an attachment. `ETag` is the BLAKE3 hash;
/// `If-None-Match` → 304; one `Range` (`bytes=a-b`, `a-`, `-n`) → 206,
/// outside the content → 416.
#[utoipa::path(get, path = "/documents/{id}/content", tag = "documents",
    params(
        ("Range" = Option<String>, Header, description = "One byte range"),
        ("If-None-Match" = Option<String>, Header, description = "ETag(s) the client holds"),
    ),
    responses(
        (status = 200, body = RawContent, content_type = "application/octet-stream", description = "The content"),
        (status = 206, body = RawContent, content_type = "application/octet-stream", description = "The requested range"),
        (status = 304, description = "Not modified"),
        Problems,
    ))]
pub(crate) async fn download(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let view = st
        .app
        .get_document(&actor, DocumentId::from_uuid(id))
        .await?;
    serve_version(&st, &actor, &view.document, &view.version, &headers).await
}

/// The content of version `n` (same headers as the current content).
#[utoipa::path(get, path = "/documents/{id}/versions/{n}/content", tag = "documents",
    params(
        ("Range" = Option<String>, Header, description = "One byte range"),
        ("If-None-Match" = Option<String>, Header, description = "ETag(s) the client holds"),
    ),
    responses(
        (status = 200, body = RawContent, content_type = "application/octet-stream", description = "The content"),
        (status = 206, body = RawContent, content_type = "application/octet-stream", description = "The requested range"),
        (status = 304, description = "Not modified"),
        Problems,
    ))]
pub(crate) async fn download_version(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((id, n)): Path<(Uuid, u32)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = DocumentId::from_uuid(id);
    let view = st.app.get_document(&actor, id).await?;
    let version = st
        .app
        .list_versions(&actor, id)
        .await?
        .into_iter()
        .find(|v| v.number == n)
        .ok_or(CoreError::NotFound("version"))?;
    serve_version(&st, &actor, &view.document, &version, &headers).await
}

fn header_value(s: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(s).map_err(|e| CoreError::Internal(Box::new(e)).into())
}

/// Answers a download of `version`: 304, 206, 416 or 200, streamed.
async fn serve_version(
    st: &AppState,
    actor: &Actor,
    doc: &Document,
    version: &Version,
    req: &HeaderMap,
) -> Result<Response, ApiError> {
    let tag = etag(&version.hash);
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, header_value(&tag)?);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    if none_match(req, &tag) {
        return Ok(with_headers(
            StatusCode::NOT_MODIFIED,
            headers,
            Body::empty(),
        ));
    }
    let range = match req.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if if_range_allows(req, &tag) => parse_range(r, version.size),
        _ => RangeRequest::Full,
    };
    let (status, range) = match range {
        RangeRequest::Unsatisfiable => return Err(ApiError::range_not_satisfiable(version.size)),
        RangeRequest::Full => (StatusCode::OK, None),
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
    };
    let opened = st
        .app
        .open_version(actor, doc.id, Some(version.number), range.clone())
        .await?;
    let length = match &range {
        Some(r) => {
            let content_range = format!("bytes {}-{}/{}", r.start, r.end - 1, version.size);
            headers.insert(header::CONTENT_RANGE, header_value(&content_range)?);
            r.end - r.start
        }
        None => version.size,
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let content_type = HeaderValue::from_str(&version.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&content_disposition(doc.name.as_str()))?,
    );
    Ok(with_headers(
        status,
        headers,
        Body::from_stream(opened.content),
    ))
}

fn with_headers(status: StatusCode, headers: HeaderMap<HeaderValue>, body: Body) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}
