//! The harness: a fresh application per test and a cookie-keeping client.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::fakes::{
    FastPasswords, MemAntivirus, MemBlobStore, MemMailer, MemRepository, mem_search,
};
use passerelle_core::ports::SystemClock;
use passerelle_core::service::{DocumentWrites, Indexer, NewAgent};
use passerelle_core::{Actor, CoreSettings, EdgeApp, InternalApp};
use passerelle_http_common::{AppState, HttpConfig};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const EDGE: &str = "edge-1";

/// One node over empty in-memory stores, with its API and pages: `A` is
/// its role's use cases ([`InternalApp`] or [`EdgeApp`]).
pub struct TestApp<A = InternalApp> {
    pub router: Router,
    pub app: A,
    /// Brings the in-memory search index up to date: see
    /// [`TestApp::index_now`].
    pub indexer: Indexer,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> &str {
        self.header(header::LOCATION)
    }

    /// The first `_csrf` hidden field of the page.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "_csrf").unwrap_or_else(|| panic!("no _csrf in {}", self.body))
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_redirect_to(&self, prefix: &str) -> &Self {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert!(
            self.location().starts_with(prefix),
            "redirect to {} instead of {prefix}",
            self.location()
        );
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) -> &Self {
        // askama escapes apostrophes in text.
        let escaped = needle.replace('\'', "&#39;");
        assert!(
            self.body.contains(needle) || self.body.contains(&escaped),
            "{needle:?} not in:\n{}",
            self.body
        );
        self
    }
}

/// `value` of the first input named `name`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl TestApp {
    pub async fn internal() -> Self {
        Self::with(
            CoreSettings {
                edges: vec![EDGE.parse().expect("node id")],
                ..CoreSettings::default()
            },
            HttpConfig {
                secure_cookies: false,
                edge_public_urls: BTreeMap::from([(
                    EDGE.into(),
                    "https://partenaires.example.fr".into(),
                )]),
                embed_frame_ancestors: vec!["https://intranet.example.fr".into()],
                ..HttpConfig::default()
            },
        )
        .await
    }

    /// As [`TestApp::internal`], agents' uploads scanned by `antivirus`
    /// (ADR 0010).
    pub async fn scanning(antivirus: Arc<MemAntivirus>) -> Self {
        let settings = CoreSettings {
            edges: vec![EDGE.parse().expect("node id")],
            scan_agent_uploads: true,
            ..CoreSettings::default()
        };
        let config = HttpConfig {
            secure_cookies: false,
            ..HttpConfig::default()
        };
        Self::composed_with(
            settings,
            config,
            |app, _, _| Arc::new(app.writes()),
            Some(antivirus),
            None,
        )
        .await
    }

    /// As [`TestApp::internal`], with a mail relay and the edge's address
    /// in core: invitations are mailed (ADR 0013 §6).
    pub async fn mailing(mailer: Arc<MemMailer>) -> Self {
        let settings = CoreSettings {
            edges: vec![EDGE.parse().expect("node id")],
            edge_urls: BTreeMap::from([(
                EDGE.parse().expect("node id"),
                "https://partenaires.example.fr".into(),
            )]),
            ..CoreSettings::default()
        };
        let config = HttpConfig {
            secure_cookies: false,
            edge_public_urls: BTreeMap::from([(
                EDGE.into(),
                "https://partenaires.example.fr".into(),
            )]),
            ..HttpConfig::default()
        };
        Self::composed_with(
            settings,
            config,
            |app, _, _| Arc::new(app.writes()),
            None,
            Some(mailer),
        )
        .await
    }

    pub async fn with(settings: CoreSettings, config: HttpConfig) -> Self {
        // The internal node's composition: writes applied at once.
        Self::composed(settings, config, |app, _, _| Arc::new(app.writes())).await
    }

    /// The internal node's routers over the writes `writes` makes of its
    /// use cases and stores: what a composition chooses, the pages follow.
    pub async fn composed(
        settings: CoreSettings,
        config: HttpConfig,
        writes: impl FnOnce(
            &InternalApp,
            Arc<MemRepository>,
            Arc<MemBlobStore>,
        ) -> Arc<dyn DocumentWrites>,
    ) -> Self {
        Self::composed_with(settings, config, writes, None, None).await
    }

    /// [`TestApp::composed`], with an antivirus when given.
    async fn composed_with(
        settings: CoreSettings,
        config: HttpConfig,
        writes: impl FnOnce(
            &InternalApp,
            Arc<MemRepository>,
            Arc<MemBlobStore>,
        ) -> Arc<dyn DocumentWrites>,
        antivirus: Option<Arc<MemAntivirus>>,
        mailer: Option<Arc<MemMailer>>,
    ) -> Self {
        let (repo, blobs) = (
            Arc::new(MemRepository::new()),
            Arc::new(MemBlobStore::new()),
        );
        let mut app = InternalApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(SystemClock),
            Arc::new(FastPasswords),
            settings,
        );
        if let Some(antivirus) = antivirus {
            app = app.with_antivirus(antivirus);
        }
        if let Some(mailer) = mailer {
            app = app.with_mailer(mailer);
        }
        for t in default_catalogue() {
            app.save_document_type(&Actor::System, t)
                .await
                .expect("seed document types");
        }
        let (search, indexer, _) = mem_search(&app, repo.clone());
        let state = AppState::new(
            app.shared().clone(),
            writes(&app, repo, blobs),
            search,
            config,
        );
        let router = passerelle_http::router(state.clone(), app.clone())
            .merge(passerelle_web::router(state, app.clone()));
        Self {
            router,
            app,
            indexer,
        }
    }

    pub fn edge() -> TestApp<EdgeApp> {
        Self::edge_with(CoreSettings::default())
    }

    /// As [`TestApp::edge`], with these settings.
    pub fn edge_with(settings: CoreSettings) -> TestApp<EdgeApp> {
        let repo = Arc::new(MemRepository::new());
        let app = EdgeApp::new(
            repo.clone(),
            Arc::new(MemBlobStore::new()),
            Arc::new(SystemClock),
            Arc::new(FastPasswords),
            settings,
        );
        let (search, indexer, _) = mem_search(&app, repo);
        // The edge's composition: writes queued in the outbox.
        let state = AppState::new(
            app.shared().clone(),
            Arc::new(app.writes()),
            search,
            HttpConfig {
                secure_cookies: false,
                ..HttpConfig::default()
            },
        );
        let router = passerelle_http::edge_router(state.clone(), app.clone())
            .merge(passerelle_web::edge_router(state, app.clone()));
        TestApp {
            router,
            app,
            indexer,
        }
    }

    pub async fn agent(&self, login: &str, is_admin: bool) {
        self.app
            .create_agent(
                &Actor::System,
                NewAgent {
                    login: login.into(),
                    display_name: format!("Agent {login}"),
                    email: format!("{login}@example.org"),
                    is_admin,
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("create agent");
    }

    /// A browser logged in as a new agent.
    pub async fn user(&self, login: &str) -> Browser {
        self.agent(login, false).await;
        let mut b = self.browser();
        b.login(login, PASSWORD).await.assert_redirect_to("/spaces");
        b
    }
}

/// What tests do on either node.
impl<A> TestApp<A> {
    /// Runs the indexer until the index holds every committed write (a
    /// node's worker does it in the background).
    pub async fn index_now(&self) {
        while !self.indexer.run().await.expect("index run").caught_up {}
    }

    pub fn browser(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            cookies: BTreeMap::new(),
            accept_language: None,
        }
    }
}

/// One part of a multipart form: `Text(name, value)` or
/// `File(name, file name, media type, content)`.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

/// A browser: keeps cookies, sends forms.
pub struct Browser {
    router: Router,
    pub cookies: BTreeMap<String, String>,
    pub accept_language: Option<&'static str>,
}

impl Browser {
    pub async fn send(&mut self, mut req: Request<Body>) -> Reply {
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(header::COOKIE, jar.parse().expect("cookie header"));
        }
        if let Some(l) = self.accept_language {
            req.headers_mut()
                .insert(header::ACCEPT_LANGUAGE, l.parse().expect("header"));
        }
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let (parts, body) = res.into_parts();
        for c in parts.headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().expect("ascii cookie");
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let body = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&mut self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    /// GETs `page`, then posts `form` with the page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.get(page).await.csrf();
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post(action, &all).await
    }

    pub async fn login(&mut self, login: &str, password: &str) -> Reply {
        self.submit(
            "/login",
            "/login",
            &[("login", login), ("password", password), ("next", "")],
        )
        .await
    }

    /// The session's CSRF token (from any page's meta tag).
    pub async fn api_csrf(&mut self) -> String {
        let page = self.get("/spaces").await;
        let marker = "name=\"csrf-token\" content=\"";
        let at = page.body.find(marker).expect("meta");
        let rest = &page.body[at + marker.len()..];
        rest[..rest.find('"').expect("end")].to_owned()
    }

    /// Uploads through the REST API as the page script does.
    pub async fn upload(
        &mut self,
        space: &str,
        name: &str,
        content: &'static [u8],
        media: &str,
    ) -> String {
        let csrf = self.api_csrf().await;
        let r = self
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!(
                        "/api/v1/spaces/{space}/documents?name={}",
                        enc(name)
                    ))
                    .header(header::CONTENT_TYPE, media)
                    .header("x-csrf-token", csrf)
                    .body(Body::from(content))
                    .expect("request"),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        v["document"]["id"].as_str().expect("id").to_owned()
    }

    /// Posts a `multipart/form-data` form as a browser does without
    /// script: parts in order, files with their name and media type.
    pub async fn post_multipart(&mut self, uri: &str, parts: &[Part<'_>]) -> Reply {
        const BOUNDARY: &str = "----passerelle-test-boundary-7d91";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match part {
                Part::Text(name, value) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                            .as_bytes(),
                    );
                    body.extend_from_slice(value.as_bytes());
                }
                Part::File(name, file_name, media, content) => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; \
                             filename=\"{file_name}\"\r\nContent-Type: {media}\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(content);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    /// An upload core refuses (a name with a forbidden character).
    pub async fn upload_refused(&mut self, space: &str, name: &str) {
        let csrf = self.api_csrf().await;
        let r = self
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!(
                        "/api/v1/spaces/{space}/documents?name={}",
                        enc(name)
                    ))
                    .header("x-csrf-token", csrf)
                    .body(Body::from("x"))
                    .expect("request"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }

    /// Creates a space through its form; returns its id.
    pub async fn space(&mut self, slug: &str, title: &str) -> String {
        let r = self
            .submit(
                "/spaces",
                "/spaces",
                &[("slug", slug), ("title", title), ("domain", "Finances")],
            )
            .await;
        r.assert_redirect_to("/spaces/");
        let loc = r.location();
        loc["/spaces/".len()..loc.find('?').unwrap_or(loc.len())].to_owned()
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
