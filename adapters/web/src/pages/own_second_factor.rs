//! `/account/second-factor` (internal node): an agent's own, optional
//! second factor (ADR 0012 §7). The page says whether it is on; enrolment
//! shows the QR code (inline SVG made on the server, as at the edge's
//! login) and the key as text, a first code confirms, the recovery codes
//! are shown once (`no-store`); turning it off asks a current code or the
//! password. Who may is core's to say: a directory account reads why not.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::service::{Enrolment, Proof};
use passerelle_core::{CoreError, InternalApp};
use passerelle_http_common::AppState;
use serde::Deserialize;

use super::second_factor::qr_svg;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

const HERE: &str = "/account/second-factor";

/// Enrolment under way: the QR code and the key.
#[derive(Debug)]
struct Shown {
    qr: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "own_second_factor.html")]
struct OwnPage {
    p: PageCtx,
    enrolled: bool,
    recovery_left: usize,
    /// Why the account may not enrol here, from the catalogue.
    refused: Option<&'static str>,
    shown: Option<Shown>,
    /// Just confirmed: shown this once.
    codes: Vec<String>,
    error: Option<&'static str>,
}

impl OwnPage {
    fn new(p: PageCtx) -> Self {
        Self {
            p,
            enrolled: false,
            recovery_left: 0,
            refused: None,
            shown: None,
            codes: Vec::new(),
            error: None,
        }
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").finish_non_exhaustive()
    }
}

/// `GET /account/second-factor`.
pub async fn page(
    Extension(internal): Extension<InternalApp>,
    web: Web,
) -> Result<Response, WebError> {
    let state = internal.own_second_factor(&web.actor).await?;
    let t = web.t();
    let mut page = OwnPage::new(web.page);
    page.enrolled = state.enrolled;
    page.recovery_left = state.recovery_left;
    page.refused = state.refused.map(|code| t.error(code));
    Ok(render(&page))
}

/// `POST /account/second-factor`: the secret to scan or type, and the
/// field of the first code.
pub async fn start(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    match internal.start_second_factor(&web.actor).await {
        Ok(shown) => Ok(enrol_page(web.page, shown, None)),
        Err(e) => back_with_error(HERE, &e),
    }
}

fn enrol_page(p: PageCtx, shown: Enrolment, error: Option<&'static str>) -> Response {
    let mut page = OwnPage::new(p);
    page.shown = Some(Shown {
        qr: qr_svg(&shown.uri),
        secret: shown.secret,
    });
    page.error = error;
    no_store(render(&page))
}

/// The secret is on the page: no cache keeps it.
fn no_store(res: Response) -> Response {
    let mut res = res.into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /account/second-factor/confirm`: the first code; the recovery
/// codes are shown once, on this response.
pub async fn confirm(
    Extension(internal): Extension<InternalApp>,
    State(st): State<AppState>,
    web: Web,
    parts: Parts,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let address = passerelle_http_common::client_address(&parts, &st.config.trusted_proxies);
    match internal
        .confirm_second_factor(&web.actor, &f.code, address.as_deref())
        .await
    {
        Ok(codes) => {
            let mut page = OwnPage::new(web.page);
            page.enrolled = true;
            page.recovery_left = codes.len();
            page.codes = codes;
            Ok(no_store(render(&page)))
        }
        // A wrong code: the same secret again, saying why.
        Err(e @ (CoreError::Invalid { .. } | CoreError::Throttled { .. })) => {
            let (_, code) = passerelle_http_common::classify(&e);
            let msg = web.t().error(code);
            match internal.start_second_factor(&web.actor).await {
                Ok(shown) => Ok(enrol_page(web.page, shown, Some(msg))),
                Err(e) => back_with_error(HERE, &e),
            }
        }
        Err(e) => back_with_error(HERE, &e),
    }
}

/// `POST /account/second-factor/disable`: a current code (or a recovery
/// code), else the password.
pub async fn disable(
    Extension(internal): Extension<InternalApp>,
    State(st): State<AppState>,
    web: Web,
    parts: Parts,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let proof = if f.code.trim().is_empty() {
        Proof::Password(f.password)
    } else {
        Proof::Code(f.code)
    };
    let address = passerelle_http_common::client_address(&parts, &st.config.trusted_proxies);
    match internal
        .disable_second_factor(&web.actor, proof, address.as_deref())
        .await
    {
        Ok(()) => Ok(see_other(&format!("{HERE}?ok=second_factor_disabled"))),
        Err(e) => back_with_error(HERE, &e),
    }
}
