//! The second step of a login (ADR 0012): the code page, and enrolment
//! (the QR code, rendered here as inline SVG, no script; the secret as
//! text; a first code; then the recovery codes, shown once). The login's
//! challenge travels in an HttpOnly cookie scoped to `/login`, never in a
//! URL; the forms carry the login form's double-submit token.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::CoreError;
use passerelle_http_common::AppState;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use super::auth::{NextQuery, form_token, form_token_ok, session_redirect};
use crate::ctx::{Anonymous, PageCtx, WebError, local_redirect, render, see_other};
use crate::i18n::cookie;

/// Cookie of the challenge between the password and the code.
pub const STEP_COOKIE: &str = "passerelle_login_step";

/// Sends the browser to `page` (`/login/code`, `/login/enrol`) with the
/// challenge in its cookie.
pub fn to_step(page: &str, challenge: &str, next: &str, secure: bool) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let next = local_redirect(next).unwrap_or_default();
    let target = if next.is_empty() {
        page.to_owned()
    } else {
        format!("{page}?next={}", urlencode(next))
    };
    let mut res = see_other(&target);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{STEP_COOKIE}={challenge}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=600{secure}"
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn cleared_step(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{STEP_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Template)]
#[template(path = "second_factor_code.html")]
struct CodePage {
    p: PageCtx,
    form_csrf: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "second_factor_enrol.html")]
struct EnrolPage {
    p: PageCtx,
    form_csrf: String,
    next: String,
    /// The QR code, an SVG element made here from the URI.
    qr: String,
    secret: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "second_factor_recovery.html")]
struct RecoveryPage {
    p: PageCtx,
    next: String,
    codes: Vec<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: String,
    code: String,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").finish_non_exhaustive()
    }
}

/// Back to the login page, saying why (the step expired).
fn restart(secure: bool) -> Response {
    let mut res = see_other("/login?err=challenge_expired");
    res.headers_mut()
        .append(header::SET_COOKIE, cleared_step(secure));
    res
}

fn with_form_cookie(status: StatusCode, cookie: HeaderValue, body: Response) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

/// `GET /login/code`.
pub async fn code_form(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    Query(q): Query<NextQuery>,
) -> Response {
    code_page(&st, p, q.next, None, StatusCode::OK)
}

fn code_page(
    st: &AppState,
    p: PageCtx,
    next: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form_token(st.config.secure_cookies);
    let page = CodePage {
        p,
        form_csrf: token,
        next: local_redirect(&next).map(str::to_owned).unwrap_or_default(),
        error,
    };
    with_form_cookie(status, cookie, render(&page))
}

/// `POST /login/code`: the code (or a recovery code) opens the session.
pub async fn code(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    parts: Parts,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let secure = st.config.secure_cookies;
    let Some((challenge, address)) = posted(&st, &parts, &form.csrf)? else {
        return Ok(restart(secure));
    };
    match st
        .app
        .complete_login(&challenge, &form.code, address.as_deref())
        .await
    {
        Ok(outcome) => {
            let mut res = session_redirect(&st, &parts, outcome, &form.next).await?;
            res.headers_mut()
                .append(header::SET_COOKIE, cleared_step(secure));
            Ok(res)
        }
        Err(e) => Ok(match refusal(&st, &p, e)? {
            Refusal::Again(msg, status) => code_page(&st, p, form.next, Some(msg), status),
            Refusal::Over(res) => res,
        }),
    }
}

/// The challenge of a posted step and the client's address, its form
/// token checked; `None` when the step's cookie is gone.
fn posted(
    st: &AppState,
    parts: &Parts,
    csrf: &str,
) -> Result<Option<(String, Option<String>)>, WebError> {
    if !form_token_ok(&parts.headers, csrf) {
        return Err(WebError::Csrf);
    }
    let Some(challenge) = cookie(&parts.headers, STEP_COOKIE).map(str::to_owned) else {
        return Ok(None);
    };
    let address = passerelle_http_common::client_address(parts, &st.config.trusted_proxies);
    Ok(Some((challenge, address)))
}

/// What a refused code leads to.
enum Refusal {
    /// The page again, saying why.
    Again(&'static str, StatusCode),
    /// The step is over: to the login page.
    Over(Response),
}

fn refusal(st: &AppState, p: &PageCtx, e: CoreError) -> Result<Refusal, WebError> {
    match e {
        CoreError::Internal(e) => Err(CoreError::Internal(e).into()),
        CoreError::Conflict {
            code: "challenge_expired",
            ..
        } => Ok(Refusal::Over(restart(st.config.secure_cookies))),
        e => {
            let (status, code) = passerelle_http_common::classify(&e);
            let msg = if code == "unauthenticated" {
                p.t.s("twofa.wrong")
            } else {
                p.t.error(code)
            };
            Ok(Refusal::Again(msg, status))
        }
    }
}

/// `GET /login/enrol`: the secret to scan or type, and the code field.
pub async fn enrol_form(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    parts: Parts,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let Some(challenge) = cookie(&parts.headers, STEP_COOKIE).map(str::to_owned) else {
        return Ok(restart(st.config.secure_cookies));
    };
    enrol_page(&st, p, &challenge, q.next, None, StatusCode::OK).await
}

async fn enrol_page(
    st: &AppState,
    p: PageCtx,
    challenge: &str,
    next: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let shown = match st.app.enrolment(challenge).await {
        Ok(shown) => shown,
        Err(CoreError::Conflict {
            code: "challenge_expired",
            ..
        }) => return Ok(restart(st.config.secure_cookies)),
        Err(e) => return Err(e.into()),
    };
    let (token, cookie) = form_token(st.config.secure_cookies);
    let page = EnrolPage {
        qr: qr_svg(&shown.uri),
        secret: shown.secret,
        p,
        form_csrf: token,
        next: local_redirect(&next).map(str::to_owned).unwrap_or_default(),
        error,
    };
    Ok(with_form_cookie(status, cookie, render(&page)))
}

/// The QR code of `uri` as an inline `<svg>` element (the XML declaration
/// dropped); empty if the URI cannot be encoded (the text secret remains).
pub(super) fn qr_svg(uri: &str) -> String {
    let Ok(code) = QrCode::new(uri.as_bytes()) else {
        return String::new();
    };
    let image = code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    match image.find("<svg") {
        Some(i) => {
            image[i..].replacen("<svg ", "<svg aria-hidden=\"true\" focusable=\"false\" ", 1)
        }
        None => String::new(),
    }
}

/// `POST /login/enrol`: the first code confirms; the recovery codes are
/// shown once, on this response.
pub async fn enrol(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    parts: Parts,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let secure = st.config.secure_cookies;
    let Some((challenge, address)) = posted(&st, &parts, &form.csrf)? else {
        return Ok(restart(secure));
    };
    match st
        .app
        .confirm_enrolment(&challenge, &form.code, address.as_deref())
        .await
    {
        Ok(enrolled) => {
            let next = local_redirect(&form.next).unwrap_or("/spaces").to_owned();
            let session = session_redirect(&st, &parts, enrolled.session, &next).await?;
            let page = RecoveryPage {
                p,
                next,
                codes: enrolled.recovery_codes,
            };
            let mut res = render(&page).into_response();
            // The session's cookie (and the end of the previous one) from
            // the redirect it would have been.
            for v in session.headers().get_all(header::SET_COOKIE) {
                res.headers_mut().append(header::SET_COOKIE, v.clone());
            }
            res.headers_mut()
                .append(header::SET_COOKIE, cleared_step(secure));
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(e) => match refusal(&st, &p, e)? {
            Refusal::Again(msg, status) => {
                enrol_page(&st, p, &challenge, form.next, Some(msg), status).await
            }
            Refusal::Over(res) => Ok(res),
        },
    }
}
