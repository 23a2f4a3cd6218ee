//! The harness: a fresh application per test, agents, sessions, requests.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository, mem_search};
use passerelle_core::ports::SystemClock;
use passerelle_core::service::{Indexer, NewAgent, Search};
use passerelle_core::{Actor, CoreSettings, EdgeApp, InternalApp};
use passerelle_http::{AppState, HttpConfig, edge_router, router};
use passerelle_passwords::Argon2Passwords;
use serde_json::Value;
use tower::ServiceExt;

/// The internal node's state: writes applied at once (as its composition).
pub fn internal_state(app: &InternalApp, search: Search, config: HttpConfig) -> AppState {
    AppState::new(app.shared().clone(), Arc::new(app.writes()), search, config)
}

/// An edge's state: writes queued in its outbox (as its composition).
pub fn edge_state(app: &EdgeApp, search: Search, config: HttpConfig) -> AppState {
    AppState::new(app.shared().clone(), Arc::new(app.writes()), search, config)
}

pub const PASSWORD: &str = "correct horse battery staple";

/// One node over empty in-memory stores: `A` is its role's use cases
/// ([`InternalApp`] or [`EdgeApp`]).
pub struct TestApp<A = InternalApp> {
    pub router: Router,
    pub app: A,
    pub blobs: Arc<MemBlobStore>,
    /// Search over an in-memory index, as the router serves it.
    pub search: Search,
    /// Brings the index up to date: see [`TestApp::index_now`].
    pub indexer: Indexer,
}

/// A logged-in browser: its cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    /// `passerelle_session=<token>`, as a browser sends it back.
    pub cookie: String,
    pub csrf: String,
}

/// A response with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
            .unwrap_or("")
    }

    /// Asserts a problem+json response with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status.as_u16());
        p
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(CoreSettings::default(), HttpConfig::default()).await
    }

    pub async fn with(settings: CoreSettings, config: HttpConfig) -> Self {
        let (repo, blobs) = (
            Arc::new(MemRepository::new()),
            Arc::new(MemBlobStore::new()),
        );
        let app = InternalApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(SystemClock),
            Arc::new(Argon2Passwords::for_tests()),
            settings,
        );
        for t in default_catalogue() {
            app.save_document_type(&Actor::System, t)
                .await
                .expect("seed document types");
        }
        let (search, indexer, _) = mem_search(&app, repo);
        let router = router(internal_state(&app, search.clone(), config), app.clone());
        Self {
            router,
            app,
            blobs,
            search,
            indexer,
        }
    }

    /// An edge node over empty in-memory stores: nothing is replicated yet
    /// (seed it with `app.apply_changes`, as the replication does).
    pub fn edge() -> TestApp<EdgeApp> {
        Self::edge_with(CoreSettings::default())
    }

    /// As [`TestApp::edge`], with these settings.
    pub fn edge_with(settings: CoreSettings) -> TestApp<EdgeApp> {
        let (repo, blobs) = (
            Arc::new(MemRepository::new()),
            Arc::new(MemBlobStore::new()),
        );
        let app = EdgeApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(SystemClock),
            Arc::new(FastPasswords),
            settings,
        );
        let (search, indexer, _) = mem_search(&app, repo);
        let router = edge_router(
            edge_state(&app, search.clone(), HttpConfig::default()),
            app.clone(),
        );
        TestApp {
            router,
            app,
            blobs,
            search,
            indexer,
        }
    }

    /// Creates an agent whose password is [`PASSWORD`].
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

    /// An agent, logged in.
    pub async fn user(&self, login: &str) -> Session {
        self.agent(login, false).await;
        self.login(login).await
    }
}

/// What tests do on either node: requests, logins.
impl<A> TestApp<A> {
    /// Runs the indexer until the index holds every committed write (a
    /// node's worker does it in the background).
    pub async fn index_now(&self) {
        while !self.indexer.run().await.expect("index run").caught_up {}
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// Logs in through the API.
    pub async fn login(&self, login: &str) -> Session {
        let reply = self
            .send(json(
                Method::POST,
                "/api/v1/auth/login",
                &serde_json::json!({"login": login, "password": PASSWORD}),
            ))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        session_of(&reply)
    }

    /// Creates a space through the API and returns its id.
    pub async fn space(&self, s: &Session, slug: &str) -> String {
        let r = self
            .send(with_session(
                json(
                    Method::POST,
                    "/api/v1/spaces",
                    &serde_json::json!({"slug": slug, "title": slug}),
                ),
                s,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["id"].as_str().expect("id").to_owned()
    }

    /// Uploads `content` as `name` at the root of `space`.
    pub async fn upload(
        &self,
        s: &Session,
        space: &str,
        name: &str,
        content: &'static [u8],
    ) -> Reply {
        let uri = format!("/api/v1/spaces/{space}/documents?name={}", pct(name));
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(content))
            .expect("request");
        self.send(with_session(req, s)).await
    }
}

/// The session from a login reply.
pub fn session_of(reply: &Reply) -> Session {
    let set_cookie = reply.header(header::SET_COOKIE);
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("cookie pair")
        .to_owned();
    let csrf = reply.json()["csrf_token"]
        .as_str()
        .expect("csrf_token")
        .to_owned();
    Session { cookie, csrf }
}

/// A JSON request.
pub fn json(method: Method, uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request")
}

/// A request without body.
pub fn empty(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

/// Adds the session cookie and its CSRF header, as the web UI does.
pub fn with_session(mut req: Request<Body>, s: &Session) -> Request<Body> {
    let h = req.headers_mut();
    h.insert(header::COOKIE, s.cookie.parse().expect("cookie"));
    h.insert("x-csrf-token", s.csrf.parse().expect("csrf"));
    req
}

/// Adds the session cookie only (what a cross-site form would send).
pub fn with_cookie_only(mut req: Request<Body>, s: &Session) -> Request<Body> {
    req.headers_mut()
        .insert(header::COOKIE, s.cookie.parse().expect("cookie"));
    req
}

pub fn with_header(mut req: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    req.headers_mut()
        .insert(name, value.parse().expect("header value"));
    req
}

/// Percent-encodes a query value.
pub fn pct(s: &str) -> String {
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

/// Fills a route's `{param}`s with values of the right shape.
pub fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{n}" => "1".to_owned(),
            "{login}" | "{key}" => "someone".to_owned(),
            s if s.starts_with('{') => "00000000-0000-7000-8000-000000000000".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}
