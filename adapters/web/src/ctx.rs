//! What every page handler works with: the [`Web`] extractor (the logged-in
//! user, the session's CSRF token, the page context), [`WebError`] and the
//! layers that give pages their headers and error pages.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use passerelle_core::model::{Principal, PrincipalKind};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::AppState;
use subtle::ConstantTimeEq;

use crate::assets;
use crate::i18n::{Lang, Tr};

/// What the pages mounted beside the shared ones offer, as the router that
/// mounted them says: the layout links only to pages that exist here, and
/// never asks which node it runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offers {
    /// Members, sharing, trash, audit, settings, folder renaming and
    /// deletion, version restoring, and administration for administrators.
    pub management: bool,
    /// The acceptance of a contractor's invitation.
    pub invitations: bool,
    /// The site is the contractors' portal: the brand says so.
    pub partner_portal: bool,
}

/// The logged-in user as the layout shows it.
#[derive(Clone, Debug)]
pub struct UserCtx {
    pub name: String,
    pub is_admin: bool,
    pub contractor: bool,
}

/// What the layout (`base.html`) needs on every page.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub t: Tr,
    pub lang: &'static str,
    /// The session's CSRF token, put in every form (empty when logged out).
    pub csrf: String,
    pub user: Option<UserCtx>,
    pub offers: Offers,
    pub css: String,
    pub js: String,
    /// Path and query of this page, for the language switch to come back.
    pub here: String,
    /// A success message after a redirect (`?ok=<key>`), from the catalogue.
    pub notice: Option<&'static str>,
    /// A failure after a redirect (`?err=<code>`), from the catalogue.
    pub alert: Option<&'static str>,
    /// The search text shown in the header's search box: the results page
    /// keeps its query there, other pages leave it empty.
    pub search_text: String,
}

impl PageCtx {
    pub fn new(parts: &Parts, lang: Lang) -> Self {
        let t = Tr::new(lang);
        let query = parts.uri.query().unwrap_or("");
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        };
        let notice = param("ok").and_then(|k| t.lookup(&format!("notice.{k}")));
        let alert = param("err").map(|code| t.error(&code));
        Self {
            t,
            lang: lang.code(),
            csrf: String::new(),
            user: None,
            offers: parts
                .extensions
                .get::<Offers>()
                .copied()
                .unwrap_or_default(),
            css: assets::css_url(),
            js: assets::js_url(),
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
            notice,
            alert,
            search_text: String::new(),
        }
    }
}

/// The logged-in user of a page request (session cookie only: pages never
/// take bearer tokens). Without a valid session: redirect to the login page.
#[derive(Debug)]
pub struct Web {
    pub actor: Actor,
    pub me: Principal,
    pub page: PageCtx,
}

impl Web {
    pub fn t(&self) -> Tr {
        self.page.t
    }

    /// Checks a form's `_csrf` field against the session's token.
    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if csrf_eq(given, &self.page.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

pub(crate) fn csrf_eq(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

impl FromRequestParts<AppState> for Web {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, WebError> {
        // Back to the page after login; a form's target cannot be replayed
        // with GET, so after an expired session on a POST: "Mes espaces".
        let next = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let login = || WebError::Login { next: next.clone() };
        let token = passerelle_http_common::session_token(&parts.headers).ok_or_else(login)?;
        let session = match st.app.authenticate_session(token).await {
            Ok(s) => s,
            Err(e @ CoreError::Internal(_)) => return Err(WebError::Core(e)),
            Err(_) => return Err(login()),
        };
        let Actor::Principal(me) = session.actor.clone() else {
            return Err(login());
        };
        let mut page = PageCtx::new(parts, Lang::of_user(session.language, &parts.headers));
        page.csrf = session.csrf;
        page.user = Some(UserCtx {
            name: me.display_name.clone(),
            is_admin: me.is_admin,
            contractor: me.kind == PrincipalKind::Contractor,
        });
        Ok(Web {
            actor: session.actor,
            me,
            page,
        })
    }
}

/// The language and page context of a request without a session (login,
/// invitation).
#[derive(Debug)]
pub struct Anonymous(pub PageCtx);

impl<S: Send + Sync> FromRequestParts<S> for Anonymous {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Anonymous(PageCtx::new(parts, Lang::of(&parts.headers))))
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    /// No session: go to the login page, then come back to `next`.
    Login {
        next: String,
    },
    /// A form without the session's CSRF token.
    Csrf,
    Core(CoreError),
}

impl From<CoreError> for WebError {
    fn from(e: CoreError) -> Self {
        WebError::Core(e)
    }
}

/// Set on an error response; [`render_errors`] turns it into a page in the
/// request's language.
#[derive(Clone, Copy, Debug)]
struct ErrorMarker(&'static str);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            WebError::Login { next } => {
                let next = local_redirect(next).unwrap_or("/");
                return see_other(&format!("/login?next={}", encode(next)));
            }
            WebError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            WebError::Core(e) => {
                let (status, code) = passerelle_http_common::classify(e);
                if status.is_server_error() {
                    tracing::error!(error = %e, "page failed");
                }
                (status, code)
            }
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorMarker(code));
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    p: PageCtx,
    status: u16,
    message: &'static str,
}

/// Renders [`WebError`] responses as a page in the request's language.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let page = PageCtx::new(&parts, Lang::of(&parts.headers));
    let res = next.run(Request::from_parts(parts, body)).await;
    let Some(ErrorMarker(code)) = res.extensions().get::<ErrorMarker>().copied() else {
        return res;
    };
    let status = res.status();
    let message = page.t.error(code);
    let html = ErrorPage {
        p: page,
        status: status.as_u16(),
        message,
    };
    (status, render(&html)).into_response()
}

/// Renders a template; a failure (a bug) is a logged 500.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The Content-Security-Policy of pages; `frame_ancestors` is `'none'`
/// except on the embeddable view.
pub fn csp(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// The configured embedding origins as CSP sources: entries with characters
/// that could end the directive are dropped; none left: `'none'`.
pub fn frame_ancestors(configured: &[String]) -> String {
    let ok: Vec<&str> = configured
        .iter()
        .map(|s| s.trim())
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ":/.-*_'".contains(c))
        })
        .collect();
    if ok.is_empty() {
        "'none'".into()
    } else {
        ok.join(" ")
    }
}

/// Security headers of every page (unless the handler set them): CSP,
/// no framing (but for the embeddable view), no sniffing, no caching.
pub async fn page_headers(
    State(embed_ancestors): State<Arc<str>>,
    req: Request,
    next: Next,
) -> Response {
    let embed = req.uri().path().starts_with("/embed/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let policy = csp(if embed { &embed_ancestors } else { "'none'" });
    set_default(h, header::CONTENT_SECURITY_POLICY, &policy);
    if !embed {
        set_default(h, header::X_FRAME_OPTIONS, "DENY");
    }
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(h, header::REFERRER_POLICY, "same-origin");
    set_default(h, header::CACHE_CONTROL, "no-store");
    res
}

fn set_default(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if !h.contains_key(&name)
        && let Ok(v) = HeaderValue::from_str(value)
    {
        h.insert(name, v);
    }
}

/// Longest redirect target taken from a form or a query: a page's own
/// path and query are far shorter; anything longer is not ours.
pub const MAX_REDIRECT_LEN: usize = 2048;

/// `raw` when it is a safe target for a redirect taken from a form or a
/// query (`back`, `next`): a path on this site. `None` otherwise; the
/// caller then sends to a default page.
///
/// Browsers resolve `Location` leniently: they drop TAB, CR and LF
/// anywhere, read `\` as `/`, and take `//host` as another site. So the
/// target must start with exactly one `/`, and hold only visible ASCII
/// without `\` (no control character, DEL, space or other whitespace, no
/// non-ASCII byte), which also makes it a valid header value. Percent
/// escapes may stay (`/%09/x`): URL parsers do not decode them when
/// resolving, so such a path stays on this site.
pub fn local_redirect(raw: &str) -> Option<&str> {
    let b = raw.as_bytes();
    let safe = b.len() <= MAX_REDIRECT_LEN
        && b.first() == Some(&b'/')
        && b.get(1) != Some(&b'/')
        && b.iter().all(|&c| c.is_ascii_graphic() && c != b'\\');
    safe.then_some(raw)
}

/// Percent-encodes a value for a query string.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Redirect after a successful POST (303: the browser GETs it).
///
/// Every page redirect goes through here, so `to` is checked once more
/// with [`local_redirect`]: handlers build targets from typed ids, but a
/// target that slipped through unchecked must neither leave the site nor
/// become a 500 (an invalid `Location` header value); it goes to `/`.
pub fn see_other(to: &str) -> Response {
    let location = match local_redirect(to).map(HeaderValue::from_str) {
        Some(Ok(v)) => v,
        _ => {
            tracing::warn!(len = to.len(), "unsafe redirect target replaced by /");
            HeaderValue::from_static("/")
        }
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Redirect after a failed POST, with the error's code for the next page.
pub fn back_with_error(to: &str, e: &CoreError) -> Result<Response, WebError> {
    let (status, code) = passerelle_http_common::classify(e);
    match e {
        // A full disk refused the write: the form's page says so, and that
        // nothing was saved; where the disk is full is for ops (logged).
        CoreError::InsufficientStorage { cause } => {
            tracing::warn!(%cause, "form refused: storage full");
            let sep = if to.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{to}{sep}err={code}")))
        }
        CoreError::NotFound(_) | CoreError::Unauthenticated => {
            Err(WebError::Core(CoreError::NotFound("page")))
        }
        // A full outbox is unavailable for a while, not broken: the form's
        // page says so, and that nothing was saved, like for a refusal.
        _ if status.is_server_error() && !matches!(e, CoreError::OutboxFull { .. }) => {
            Err(WebError::Core(CoreError::Internal(e.to_string().into())))
        }
        _ => {
            let sep = if to.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{to}{sep}err={code}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_redirect_targets() {
        for good in ["/", "/spaces/1?x=2&ok=y", "/%09/x", "/documents/a#top"] {
            assert_eq!(local_redirect(good), Some(good), "{good}");
        }
        let long = format!("/{}", "a".repeat(MAX_REDIRECT_LEN));
        for bad in [
            "",
            "spaces",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example/",
            "/\r\n/evil.example",
            "\t//evil.example",
            " /spaces",
            "/a b",
            "/\x7f",
            "/\0",
            "/a\\b",
            "/caf\u{e9}",
            "/a\u{a0}b",
            "https://evil.example",
            "/a\r\nSet-Cookie: x",
            long.as_str(),
        ] {
            assert_eq!(local_redirect(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_redirect_never_fails_and_never_leaves_the_site() {
        for (to, expected) in [
            ("/spaces?ok=x", "/spaces?ok=x"),
            ("/\x7f", "/"),
            ("/\t/evil.example", "/"),
            ("//evil.example", "/"),
        ] {
            let res = see_other(to);
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert_eq!(res.headers()[header::LOCATION], expected, "{to:?}");
        }
    }

    #[test]
    fn a_full_disk_sends_the_form_back_saying_so_not_to_an_error_page() {
        let full = CoreError::InsufficientStorage {
            cause: "disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
        };
        let res = back_with_error("/spaces/1?folder=2", &full).expect("back to the form");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()[header::LOCATION],
            "/spaces/1?folder=2&err=storage_full"
        );
    }

    #[test]
    fn frame_ancestors_keeps_safe_sources_only() {
        assert_eq!(frame_ancestors(&[]), "'none'");
        assert_eq!(
            frame_ancestors(&["https://intranet.example.fr".into(), "'self'".into()]),
            "https://intranet.example.fr 'self'"
        );
        assert_eq!(
            frame_ancestors(&["https://a.example; script-src *".into()]),
            "'none'"
        );
    }

    #[test]
    fn the_page_policy_has_no_inline_allowance() {
        let p = csp("'none'");
        assert!(!p.contains("unsafe"));
        assert!(p.contains("script-src 'self'") && p.contains("object-src 'none'"));
    }

    #[test]
    fn csrf_comparison_needs_a_non_empty_exact_token() {
        assert!(csrf_eq("abc", "abc"));
        assert!(!csrf_eq("abd", "abc"));
        assert!(!csrf_eq("", ""));
    }
}
