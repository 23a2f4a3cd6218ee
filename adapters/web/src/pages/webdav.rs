//! `GET /account/webdav`: how to open the spaces from an office suite, a
//! file manager or rclone (issue 15 §5), on both nodes: the address as the
//! user reached this node, their login, which password to give, and the
//! address of each of their spaces.

use askama::Template;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use passerelle_core::model::Page;
use passerelle_http_common::{AppState, client_origin, client_used_tls};

use crate::ctx::{PageCtx, Web, WebError, render};

/// A space and its WebDAV address.
#[derive(Debug)]
struct SpaceDav {
    title: String,
    url: String,
}

#[derive(Template)]
#[template(path = "webdav.html")]
struct WebDavPage {
    p: PageCtx,
    login: String,
    /// `https://host/dav/` as the user reached this node.
    url: String,
    /// The same for LibreOffice (`vnd.sun.star.webdavs://…`) and GNOME
    /// Files (`davs://…`).
    libreoffice: String,
    gnome: String,
    /// Reached without TLS (and not from this machine): clients will send
    /// the password in clear, or refuse to.
    plain: bool,
    /// WebDAV clients take an app password here, not the password.
    app_password: bool,
    spaces: Vec<SpaceDav>,
}

/// `GET /account/webdav`.
pub async fn webdav(
    State(st): State<AppState>,
    parts: Parts,
    web: Web,
) -> Result<Response, WebError> {
    let trusted = &st.config.trusted_proxies;
    let origin = client_origin(&parts, trusted).unwrap_or_default();
    let tls = client_used_tls(&parts, trusted);
    let host = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
    let (lo, gnome) = if tls {
        ("vnd.sun.star.webdavs", "davs")
    } else {
        ("vnd.sun.star.webdav", "dav")
    };
    let mine = st.app.my_spaces(&web.actor, Page::new(0, 200)).await?;
    let spaces = mine
        .items
        .into_iter()
        .map(|s| SpaceDav {
            url: format!("{origin}/dav/{}/", s.space.slug.as_str()),
            title: s.space.title,
        })
        .collect();
    let app_password = st.app.webdav_takes_app_password(&web.me).await?;
    Ok(render(&WebDavPage {
        app_password,
        login: web.me.login.to_string(),
        url: format!("{origin}/dav/"),
        libreoffice: format!("{lo}://{host}/dav/"),
        gnome: format!("{gnome}://{host}/dav/"),
        plain: !tls
            && !host.starts_with("127.")
            && !host.starts_with("localhost")
            && !host.starts_with("[::1]"),
        spaces,
        p: web.page,
    }))
}
