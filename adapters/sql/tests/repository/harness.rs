//! Fresh, empty repositories for each test.
//!
//! PostgreSQL: `PASSERELLE_TEST_PG_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) names a server where a
//! database `passerelle_test_<uuid>` is created per test and dropped
//! `WITH (FORCE)` when the test ends, pass or fail. Without the variable the
//! PostgreSQL tests are skipped with a note, unless `PASSERELLE_REQUIRE_PG=1`
//! (CI), where that is a failure.

use std::sync::Arc;

use anyhow::Context;
use passerelle_core::fakes::MemRepository;
use passerelle_core::ports::Repository;
use passerelle_core::properties::PropertyStore;
use passerelle_core::search::ExtractionLog;
use passerelle_sql::SqlRepository;
use sea_orm::ConnectionTrait;
use tempfile::TempDir;

/// A repository under test and what must outlive it.
pub struct TestRepo {
    pub repo: Arc<dyn Repository>,
    /// The extraction log of the same store (the same value as `repo`).
    pub log: Arc<dyn ExtractionLog>,
    /// The dead properties of the same store (the same value as `repo`).
    pub props: Arc<dyn PropertyStore>,
    /// The database URL, for tests that reconnect or tamper with rows.
    pub url: Option<String>,
    /// Removes the temp dir when dropped (after `repo`: fields drop in order).
    _dir: Option<TempDir>,
    /// Drops the database when dropped (after `repo`).
    _database: Option<PgDatabase>,
}

pub fn memory() -> TestRepo {
    let repo = Arc::new(MemRepository::new());
    TestRepo {
        repo: repo.clone(),
        log: repo.clone(),
        props: repo,
        url: None,
        _dir: None,
        _database: None,
    }
}

pub fn sqlite_url(dir: &TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("metadata.db").display()
    )
}

pub async fn sqlite() -> anyhow::Result<TestRepo> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let url = sqlite_url(&dir);
    let repo = Arc::new(
        SqlRepository::connect(&url)
            .await
            .context("connect to SQLite")?,
    );
    Ok(TestRepo {
        repo: repo.clone(),
        log: repo.clone(),
        props: repo,
        url: Some(url),
        _dir: Some(dir),
        _database: None,
    })
}

/// `None` (after a note on stderr) when PostgreSQL is not configured and not
/// required.
pub async fn postgres() -> anyhow::Result<Option<TestRepo>> {
    let Some(db) = PgDatabase::create().await? else {
        return Ok(None);
    };
    let url = db.url();
    let repo = Arc::new(
        SqlRepository::connect(&url)
            .await
            .context("connect to PostgreSQL")?,
    );
    Ok(Some(TestRepo {
        repo: repo.clone(),
        log: repo.clone(),
        props: repo,
        url: Some(url),
        _dir: None,
        _database: Some(db),
    }))
}

/// A throw-away PostgreSQL database, dropped with the value.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> anyhow::Result<Option<Self>> {
        let Ok(admin_url) = std::env::var("PASSERELLE_TEST_PG_URL") else {
            if std::env::var("PASSERELLE_REQUIRE_PG").is_ok_and(|v| v == "1") {
                anyhow::bail!("PASSERELLE_REQUIRE_PG=1 but PASSERELLE_TEST_PG_URL is not set");
            }
            // Straight to stderr, past libtest's capture, once per run.
            static NOTE: std::sync::Once = std::sync::Once::new();
            NOTE.call_once(|| {
                let note = "note: PASSERELLE_TEST_PG_URL is not set: PostgreSQL tests skipped\n";
                std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes()).ok();
            });
            return Ok(None);
        };
        let name = format!("passerelle_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_url.as_str())
            .await
            .context("connect to PASSERELLE_TEST_PG_URL")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("create database {name}"))?;
        admin.close().await.ok();
        Ok(Some(Self { admin_url, name }))
    }

    /// The admin URL with this database's name as its path.
    pub fn url(&self) -> String {
        let (base, query) = match self.admin_url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.admin_url.as_str(), None),
        };
        let authority = base.find("://").map_or(0, |i| i + 3);
        let path = base[authority..]
            .find('/')
            .map_or(base.len(), |i| authority + i);
        let mut url = format!("{}/{}", &base[..path], self.name);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }
}

impl Drop for PgDatabase {
    /// Dropping needs async I/O and may run inside a runtime: a short-lived
    /// thread with its own runtime does it. `FORCE` ends the connections the
    /// repository's pool still holds.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let outcome = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let admin = sea_orm::Database::connect(admin_url.as_str()).await?;
                admin.execute_unprepared(&sql).await?;
                admin.close().await?;
                Ok(())
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e:#}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}
