//! # passerelle-tests
//!
//! End-to-end harness: a real internal node (SQLite file or a fresh
//! PostgreSQL database, filesystem blobs, the axum API on a loopback port)
//! started in-process through the node library, and an HTTP client.
//! Real-process tests (signals, kill -9, the CLI) live beside the binary in
//! `internal-node/tests/`, where Cargo gives the binary's path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use passerelle_core::Actor;
use passerelle_core::fakes::FastPasswords;
use passerelle_core::service::NewAgent;
use passerelle_internal::{Config, Node};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

/// Which metadata engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database, dropped with the guard.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// `None` when `PASSERELLE_TEST_PG_URL` is unset (the test is skipped),
    /// except under `PASSERELLE_REQUIRE_PG=1`, where that is a failure.
    pub async fn create() -> anyhow::Result<Option<Self>> {
        let Ok(admin_url) = std::env::var("PASSERELLE_TEST_PG_URL") else {
            if std::env::var("PASSERELLE_REQUIRE_PG").as_deref() == Ok("1") {
                anyhow::bail!("PASSERELLE_REQUIRE_PG=1 but PASSERELLE_TEST_PG_URL is not set");
            }
            eprintln!("skipped: set PASSERELLE_TEST_PG_URL to run the PostgreSQL variant");
            return Ok(None);
        };
        let name = format!("passerelle_test_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(&admin_url)
            .await
            .context("cannot reach PostgreSQL at PASSERELLE_TEST_PG_URL")?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Ok(Some(Self {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside the test's runtime: use a small one of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let conn = Database::connect(&admin).await?;
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
    }
}

/// A running node and a client for it.
#[derive(Debug)]
pub struct TestNode {
    pub base: String,
    pub http: reqwest::Client,
    pub node: Node,
    pub data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// The administrator every test node starts with.
pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "un mot de passe de test";

impl TestNode {
    /// Starts a node; `None` when the PostgreSQL variant is skipped.
    pub async fn start(backend: Backend, max_upload_bytes: u64) -> anyhow::Result<Option<Self>> {
        let dir = tempfile::tempdir()?;
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match PgDatabase::create().await? {
                Some(db) => Some(db),
                None => return Ok(None),
            },
        };
        let data_dir = dir.path().join("data");
        let config = Config {
            data_dir: data_dir.clone(),
            database_url: pg.as_ref().map(|p| p.url.clone()),
            max_upload_bytes,
            ..Config::default()
        };
        let node = Node::open_with(config, Arc::new(FastPasswords)).await?;
        for (login, admin) in [(ADMIN, true), ("alice", false), ("bob", false)] {
            node.app
                .create_agent(
                    &Actor::System,
                    NewAgent {
                        login: login.into(),
                        display_name: login.into(),
                        email: format!("{login}@example.org"),
                        is_admin: admin,
                        password: Some(PASSWORD.into()),
                    },
                )
                .await?;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = node.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Some(Self {
            base,
            http: reqwest::Client::new(),
            node,
            data_dir,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
            _pg: pg,
        }))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A bearer token for `login` (business-application style: no CSRF).
    pub async fn token(&self, login: &str) -> anyhow::Result<String> {
        Ok(self
            .node
            .app
            .create_token(&Actor::System, login, "tests", None)
            .await?
            .secret)
    }

    /// Files in the blob store's temporary directory (must be none at rest).
    pub fn temporaries(&self) -> usize {
        std::fs::read_dir(self.data_dir.join("tmp"))
            .map(|r| r.count())
            .unwrap_or(0)
    }

    /// Stops the server, runs `between` on the stopped node's data (an
    /// operator's step: deleting the search index…), and serves again on
    /// a new port (`base` changes).
    pub async fn restart(&mut self, between: impl FnOnce(&Path)) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        between(&self.data_dir);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        self.base = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = self.node.clone();
        self.task = Some(tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await
        }));
        self.shutdown = Some(tx);
        Ok(())
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        Ok(())
    }
}

/// A client acting with a bearer token.
#[derive(Clone, Debug)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub auth: String,
}

impl Api {
    pub async fn for_user(node: &TestNode, login: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: node.http.clone(),
            base: format!("{}/api/v1", node.base),
            auth: format!("Bearer {}", node.token(login).await?),
        })
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
    }
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
    }
    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .put(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
    }
    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .patch(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
    }
    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .delete(format!("{}{path}", self.base))
            .header("Authorization", &self.auth)
    }

    /// Creates a space and returns its id.
    pub async fn space(&self, slug: &str) -> anyhow::Result<String> {
        let r = self
            .post("/spaces")
            .json(&json!({"slug": slug, "title": slug, "domain": "Finances"}))
            .send()
            .await?;
        anyhow::ensure!(
            r.status() == 201 || r.status() == 200,
            "create space: {} {}",
            r.status(),
            r.text().await?
        );
        let v: Value = r.json().await?;
        Ok(v["id"]
            .as_str()
            .or(v["space"]["id"].as_str())
            .context("space id")?
            .to_owned())
    }

    /// Uploads `body` as `name` at the root of `space`; returns the response JSON.
    pub async fn upload(
        &self,
        space: &str,
        name: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let r = self
            .post(&format!("/spaces/{space}/documents"))
            .query(&[("name", name)])
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let v = r.json().await.unwrap_or(Value::Null);
        Ok((status, v))
    }
}
