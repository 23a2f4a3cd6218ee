//! Who calls: as WebDAV, HTTP Basic with an app password (or the account's
//! password), over TLS or from loopback only (`http_common::basic`), or a
//! bearer API token, the way service accounts of business applications
//! authenticate. Never a session cookie: the Browser binding's actions are
//! plain form POSTs, which a cookie would let any site send.

use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::basic::{Refused, authenticate_basic};

use crate::Cmis;
use crate::error::CmisError;

/// Why a request got no actor: the Basic refusals as WebDAV gives them, or
/// a bearer token core refused.
#[derive(Debug)]
pub(crate) enum Denied {
    Basic(Refused),
    Token(CmisError),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            // A CMIS client reads its exceptions as JSON: the directory
            // down or a throttled login say so in the binding's terms;
            // the other refusals (a challenge, TLS required) are HTTP's.
            Denied::Basic(Refused::Unavailable) => {
                CmisError::from(CoreError::Unavailable("the directory")).into_response()
            }
            Denied::Basic(Refused::Throttled { retry_after_secs }) => {
                CmisError::from(CoreError::Throttled { retry_after_secs }).into_response()
            }
            Denied::Basic(r) => r.into_response(),
            Denied::Token(e) => {
                let mut res = e.into_response();
                if res.status() == StatusCode::UNAUTHORIZED {
                    res.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer"),
                    );
                }
                res
            }
        }
    }
}

/// The actor of a request, or why it has none.
pub(crate) async fn actor(cmis: &Cmis, parts: &Parts) -> Result<Actor, Denied> {
    if let Some(token) = bearer(parts) {
        return cmis
            .app
            .authenticate_token(token)
            .await
            .map_err(|e| match e {
                CoreError::Unauthenticated | CoreError::NotFound(_) => {
                    Denied::Token(CmisError::from(CoreError::Unauthenticated))
                }
                other => Denied::Token(other.into()),
            });
    }
    authenticate_basic(cmis.app.shared(), parts, &cmis.trusted_proxies)
        .await
        .map_err(Denied::Basic)
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim())
        .filter(|s| !s.is_empty())
}
