//! Static assets embedded in the binary, served under content-hashed names
//! (`/static/app.<hash>.css`) so browsers may cache them for a year: a new
//! build with a changed file changes its name.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    stem: &'static str,
    ext: &'static str,
    media_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        stem: "app",
        ext: "css",
        media_type: "text/css; charset=utf-8",
        body: include_str!("../static/app.css"),
    },
    Asset {
        stem: "app",
        ext: "js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/app.js"),
    },
];

/// Served name of each asset: `stem.<12 hex of BLAKE3>.ext`.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = blake3::hash(a.body.as_bytes()).to_hex();
            format!("{}.{}.{}", a.stem, &hash.as_str()[..12], a.ext)
        })
        .collect()
});

fn url_of(stem: &str, ext: &str) -> String {
    ASSETS
        .iter()
        .zip(NAMES.iter())
        .find(|(a, _)| a.stem == stem && a.ext == ext)
        .map(|(_, n)| format!("/static/{n}"))
        .unwrap_or_default()
}

/// URL of the style sheet.
pub fn css_url() -> String {
    url_of("app", "css")
}

/// URL of the script.
pub fn js_url() -> String {
    url_of("app", "js")
}

/// `GET /static/{name}`: only the current hashed names exist.
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().zip(NAMES.iter()).find(|(_, n)| **n == name) {
        Some((a, _)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.media_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_a_content_hash() {
        let css = css_url();
        assert!(
            css.starts_with("/static/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/static/app.".len() + 12 + ".css".len());
        assert_ne!(css_url(), js_url());
    }
}
