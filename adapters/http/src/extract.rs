//! Extractors whose rejections are problem+json: [`Json`] (`invalid_json`),
//! [`Path`] and [`Query`] (`bad_request`). The rejections' mapping lives
//! beside `ApiError`, in `passerelle-http-common`.

use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use passerelle_http_common::ApiError;
use serde::Serialize;

/// JSON body in, JSON body out. A malformed or mistyped body is a 400
/// `invalid_json` problem naming what is wrong.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; an id that is not a UUID is a 400 `bad_request`.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters; malformed ones are a 400 `bad_request`.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);
