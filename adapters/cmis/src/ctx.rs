//! What one request carries: the caller, the binding's parameters (names
//! compared without case, as clients spell them both ways), the URLs the
//! repository's info gives out, the catalogue read once, and the logins of
//! each space's members read at most once.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::SpaceId;
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::{client_origin, client_used_tls};

use crate::auth;
use crate::error::{CmisError, CmisResult};
use crate::ids::ObjectId;
use crate::objects::{Names, Shape};
use crate::{BASE, Cmis, REPOSITORY_ID};

/// Most items a page holds, whatever `maxItems` asks.
pub(crate) const MAX_ITEMS: usize = 1_000;
/// Items a page holds when `maxItems` is absent.
const DEFAULT_ITEMS: usize = 100;

/// The query string's parameters, names lower-cased.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn new(raw: HashMap<String, String>) -> Self {
        Params(
            raw.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `objectId`, if given; one this repository never gave out names no
    /// object.
    pub(crate) fn object_id(&self) -> CmisResult<Option<ObjectId>> {
        match self.get("objectid") {
            None => Ok(None),
            Some(raw) => ObjectId::parse(raw)
                .map(Some)
                .ok_or_else(CmisError::not_found),
        }
    }

    /// `skipCount` and `maxItems`, bounded.
    pub(crate) fn page(&self) -> CmisResult<(usize, usize)> {
        let number = |name: &str, default: usize| -> CmisResult<usize> {
            match self.get(name) {
                None => Ok(default),
                Some(v) => v.trim().parse::<usize>().map_err(|_| {
                    CmisError::invalid_argument(format!("{name} must be a whole number"))
                }),
            }
        };
        let skip = number("skipcount", 0)?;
        let max = number("maxitems", DEFAULT_ITEMS)?.clamp(1, MAX_ITEMS);
        Ok((skip, max))
    }

    /// How objects are written: `succinct`, `filter`.
    pub(crate) fn shape(&self) -> Shape {
        let filter = self
            .get("filter")
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "*")
            .map(|f| f.split(',').map(|p| p.trim().to_owned()).collect());
        Shape {
            succinct: self.flag("succinct"),
            filter,
        }
    }
}

/// The absolute URLs clients are given (they call them as they are).
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    pub(crate) repository: String,
    pub(crate) root: String,
    /// The web pages' address, for `thinClientURI`.
    pub(crate) origin: String,
}

impl Urls {
    /// From the address the client used (through a trusted proxy: the one
    /// it forwarded, with its scheme).
    pub(crate) fn of(parts: &Parts, cmis: &Cmis) -> Self {
        let origin = client_origin(parts, &cmis.trusted_proxies).unwrap_or_else(|| {
            // No usable Host: the scheme still follows the channel.
            let scheme = if client_used_tls(parts, &cmis.trusted_proxies) {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://localhost")
        });
        let repository = format!("{origin}{BASE}/{REPOSITORY_ID}");
        Urls {
            root: format!("{repository}/root"),
            repository,
            origin,
        }
    }
}

/// One request's context.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) cmis: Cmis,
    pub(crate) actor: Actor,
    pub(crate) params: Params,
    /// The path below the root folder's URL, on the routes that have one.
    pub(crate) path: Option<String>,
    pub(crate) shape: Shape,
    pub(crate) urls: Urls,
    pub(crate) catalogue: Vec<DocumentType>,
    names: Mutex<HashMap<SpaceId, Names>>,
}

impl Ctx {
    async fn new(
        cmis: Cmis,
        actor: Actor,
        params: Params,
        path: Option<String>,
        urls: Urls,
    ) -> CmisResult<Self> {
        let catalogue = cmis.app.list_document_types().await?;
        Ok(Ctx {
            shape: params.shape(),
            cmis,
            actor,
            params,
            path,
            urls,
            catalogue,
            names: Mutex::new(HashMap::new()),
        })
    }

    /// The logins of `space`'s members (for `cmis:createdBy`).
    pub(crate) async fn names(&self, space: SpaceId) -> CmisResult<Names> {
        if let Some(n) = self.cached(space) {
            return Ok(n);
        }
        let members = self.cmis.app.list_members(&self.actor, space).await?;
        let names = Names(
            members
                .into_iter()
                .map(|m| (m.principal.id, m.principal.login.to_string()))
                .collect(),
        );
        if let Ok(mut cache) = self.names.lock() {
            cache.insert(space, names.clone());
        }
        Ok(names)
    }

    fn cached(&self, space: SpaceId) -> Option<Names> {
        self.names.lock().ok()?.get(&space).cloned()
    }

    /// The document type `key`, if the catalogue has it.
    pub(crate) fn doc_type(&self, key: Option<&str>) -> Option<&DocumentType> {
        let key = key?;
        self.catalogue.iter().find(|t| t.key == key)
    }
}

/// The start of every request: the repository in the URL must be this
/// one, the caller authenticated, the parameters read. The rejection is
/// the response to send.
impl FromRequestParts<Cmis> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, cmis: &Cmis) -> Result<Self, Response> {
        // The service document's route has no parameter: nothing to read.
        let captured = Path::<HashMap<String, String>>::from_request_parts(parts, cmis)
            .await
            .map(|Path(p)| p)
            .unwrap_or_default();
        if captured.get("repo").is_some_and(|r| r != REPOSITORY_ID) {
            return Err(CmisError::from(CoreError::NotFound("repository")).into_response());
        }
        let Query(raw) = Query::<HashMap<String, String>>::from_request_parts(parts, cmis)
            .await
            .map_err(|e| CmisError::invalid_argument(e.body_text()).into_response())?;
        let actor = auth::actor(cmis, parts)
            .await
            .map_err(IntoResponse::into_response)?;
        let urls = Urls::of(parts, cmis);
        let path = captured.get("path").cloned();
        Ctx::new(cmis.clone(), actor, Params::new(raw), path, urls)
            .await
            .map_err(IntoResponse::into_response)
    }
}
