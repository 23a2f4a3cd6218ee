//! `SqlRepository`: connecting, migrating, and opening transactions with the
//! serialisation of writers the port promises.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use passerelle_core::ports::{RepoError, Repository, Tx, TxMode};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::Mutex;
use tracing::{debug, info, instrument};

use crate::error::db_error;
use crate::migration::Migrator;
use crate::tx::SqlTx;

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// WAL lets readers run beside the single writer; a few connections suffice
/// on the small machines SQLite is meant for.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// PostgreSQL connections are short-lived. sqlx 0.9.0 can return to the
/// pool a connection whose `BEGIN` was cancelled (a replication task
/// aborted mid-call) still inside that transaction: the server then logs
/// "there is no transaction in progress", and the connection's next user
/// runs in a transaction it did not open (transact-rs/sqlx#4393, fixed
/// upstream by #4394, not yet released). Recycling connections bounds how
/// long such a connection lives; take the fix and relax these when sqlx
/// ships it.
const POSTGRES_MAX_LIFETIME: Duration = Duration::from_secs(300);
const POSTGRES_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Key of the PostgreSQL advisory lock that serialises migrations when
/// several processes start at once (ASCII "passmigr").
const MIGRATION_LOCK_KEY: i64 = 0x7061_7373_6d69_6772;

/// The database engine behind a [`SqlRepository`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a URL designates: `sqlite:…` or `postgres://…` /
    /// `postgresql://…`.
    pub fn of_url(url: &str) -> Result<Engine, RepoError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            // Only the scheme is echoed: the rest may hold a password.
            let scheme = url.split(':').next().unwrap_or_default();
            Err(RepoError::Storage(
                format!(
                    "unsupported database URL scheme {scheme:?}: expected sqlite: or postgres://"
                )
                .into(),
            ))
        }
    }
}

/// The metadata store on SQLite or PostgreSQL. Cheap to clone (a pool).
///
/// Write transactions are serialised, which makes revisions gapless and the
/// audit chain linear: on PostgreSQL each one starts by locking the
/// `node_state` row (`SELECT … FOR UPDATE`); on SQLite the writers of this
/// process queue on a mutex and then `BEGIN IMMEDIATE`, which also keeps out
/// writers of other processes. Read transactions take no lock (WAL on
/// SQLite, `REPEATABLE READ READ ONLY` on PostgreSQL).
#[derive(Clone)]
pub struct SqlRepository {
    db: DatabaseConnection,
    engine: Engine,
    /// SQLite only: this process's writers wait here rather than polling
    /// SQLite's busy handler. Held by the `Tx` until commit or drop.
    writer: Arc<Mutex<()>>,
}

impl fmt::Debug for SqlRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("SqlRepository")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl SqlRepository {
    /// Connects to `sqlite://PATH?mode=rwc` or `postgres://…` and applies
    /// pending migrations.
    ///
    /// On SQLite every connection uses WAL, `synchronous=FULL` (a committed
    /// transaction survives a power cut or `kill -9`), foreign keys and a
    /// busy timeout.
    #[instrument(skip_all, fields(engine = tracing::field::Empty))]
    pub async fn connect(url: &str) -> Result<Self, RepoError> {
        let engine = Engine::of_url(url)?;
        tracing::Span::current().record("engine", tracing::field::debug(engine));
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false);
        match engine {
            Engine::Sqlite => {
                options
                    .max_connections(SQLITE_MAX_CONNECTIONS)
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Full)
                            .foreign_keys(true)
                            .busy_timeout(SQLITE_BUSY_TIMEOUT)
                            // Deleted content is overwritten, not left in
                            // free pages: an un-shared space must leave
                            // nothing readable on an edge.
                            .pragma("secure_delete", "ON")
                    });
            }
            Engine::Postgres => {
                options
                    .max_connections(POSTGRES_MAX_CONNECTIONS)
                    .max_lifetime(POSTGRES_MAX_LIFETIME)
                    .idle_timeout(POSTGRES_IDLE_TIMEOUT);
            }
        }
        let db = Database::connect(options).await.map_err(db_error)?;
        let repo = Self {
            db,
            engine,
            writer: Arc::new(Mutex::new(())),
        };
        repo.migrate().await?;
        info!(?engine, "metadata store ready");
        Ok(repo)
    }

    /// Applies pending migrations (idempotent). Concurrent callers, in this
    /// process or others, are serialised and the later ones find nothing to do.
    #[instrument(skip_all, fields(engine = ?self.engine))]
    pub async fn migrate(&self) -> Result<(), RepoError> {
        let (txn, _writer) = self.begin_exclusive().await?;
        if self.engine == Engine::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await
            .map_err(db_error)?;
        }
        let pending = Migrator::get_pending_migrations(&txn)
            .await
            .map_err(db_error)?
            .len();
        Migrator::up(&txn, None).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        if pending > 0 {
            info!(applied = pending, "schema migrated");
        }
        Ok(())
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A transaction that holds the write lock of the engine: on SQLite the
    /// process mutex and `BEGIN IMMEDIATE`; on PostgreSQL a plain `BEGIN`
    /// (the caller locks what it needs).
    async fn begin_exclusive(
        &self,
    ) -> Result<
        (
            DatabaseTransaction,
            Option<tokio::sync::OwnedMutexGuard<()>>,
        ),
        RepoError,
    > {
        match self.engine {
            Engine::Sqlite => {
                let guard = Arc::clone(&self.writer).lock_owned().await;
                let options = TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                };
                let txn = self
                    .db
                    .begin_with_options(options)
                    .await
                    .map_err(db_error)?;
                Ok((txn, Some(guard)))
            }
            Engine::Postgres => Ok((self.db.begin().await.map_err(db_error)?, None)),
        }
    }

    /// A read-only snapshot that takes no lock: WAL on SQLite,
    /// `REPEATABLE READ READ ONLY` on PostgreSQL.
    pub(crate) async fn begin_read(&self) -> Result<DatabaseTransaction, RepoError> {
        match self.engine {
            Engine::Sqlite => self.db.begin().await,
            Engine::Postgres => {
                self.db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await
            }
        }
        .map_err(db_error)
    }

    /// SQLite: this process's writer lock, for a write made outside a `Tx`
    /// (the extraction log), so that it queues behind the write
    /// transactions rather than polling SQLite's busy handler. PostgreSQL
    /// needs none: row locks suffice.
    pub(crate) async fn sqlite_writer(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.engine {
            Engine::Sqlite => Some(Arc::clone(&self.writer).lock_owned().await),
            Engine::Postgres => None,
        }
    }

    /// The sea-orm connection (the pool): for the extraction log, which
    /// writes outside transactions, and this crate's tests.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[async_trait]
impl Repository for SqlRepository {
    /// A `Write` begin waits for the other writers. Dropping the future
    /// during that wait is safe: the half-open transaction is rolled back
    /// and the locks are released (the driver finishes the pending statement
    /// first).
    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, RepoError> {
        let tx = match mode {
            TxMode::Read => SqlTx::new(self.begin_read().await?, mode, None),
            TxMode::Write => {
                let (txn, writer) = self.begin_exclusive().await?;
                if self.engine == Engine::Postgres {
                    txn.execute_unprepared(
                        "SELECT revision FROM node_state WHERE id = 1 FOR UPDATE",
                    )
                    .await
                    .map_err(db_error)?;
                }
                SqlTx::new(txn, mode, writer)
            }
        };
        debug!(?mode, "transaction begun");
        Ok(Box::new(tx))
    }

    /// SQLite: checkpoints the write-ahead log and truncates it, so pages
    /// written before a deletion (the deleted content) leave the log; with
    /// `secure_delete` the database file keeps none either. PostgreSQL keeps
    /// dead tuples until autovacuum reuses them: nothing to do here (an edge
    /// on PostgreSQL relies on the database's own storage encryption).
    async fn scrub(&self) -> Result<(), RepoError> {
        if self.engine == Engine::Sqlite {
            let _writer = self.writer.lock().await;
            self.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    async fn pragma(repo: &SqlRepository, name: &str) -> String {
        let row = repo
            .connection()
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await
            .expect("pragma runs")
            .expect("pragma answers");
        row.try_get_by_index::<i64>(0)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .expect("pragma value")
    }

    #[tokio::test]
    async fn sqlite_connections_are_durable_wal_with_foreign_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("meta.db").display());
        let repo = SqlRepository::connect(&url).await.expect("connects");
        assert_eq!(repo.engine(), Engine::Sqlite);
        assert_eq!(pragma(&repo, "journal_mode").await, "wal");
        assert_eq!(pragma(&repo, "synchronous").await, "2", "FULL");
        assert_eq!(pragma(&repo, "foreign_keys").await, "1");
        assert_eq!(pragma(&repo, "busy_timeout").await, "10000");
        assert_eq!(pragma(&repo, "secure_delete").await, "1");
    }

    /// sqlx#4393: the pool must recycle PostgreSQL connections.
    #[tokio::test]
    async fn postgresql_connections_are_recycled() {
        let Some(url) = std::env::var("PASSERELLE_TEST_PG_URL").ok() else {
            assert!(
                std::env::var_os("PASSERELLE_REQUIRE_PG").is_none(),
                "PASSERELLE_REQUIRE_PG is set but PASSERELLE_TEST_PG_URL is not"
            );
            return;
        };
        // A database of its own: connecting migrates, and the shared one
        // must only ever hold the migrations of the branch that runs.
        use sea_orm::ConnectionTrait;
        let name = format!("passerelle_pool_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(url.as_str())
            .await
            .expect("admin");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let (base, _) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let at = base.rfind('/').expect("a database in the URL");
        let own = format!("{}/{name}", &base[..at]);
        let repo = SqlRepository::connect(&own).await.expect("connects");
        let pool = repo.connection().get_postgres_connection_pool().options();
        assert_eq!(pool.get_max_lifetime(), Some(POSTGRES_MAX_LIFETIME));
        assert_eq!(pool.get_idle_timeout(), Some(POSTGRES_IDLE_TIMEOUT));
        repo.connection().clone().close().await.ok();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop database");
    }

    #[test]
    fn an_unknown_url_scheme_is_refused_without_echoing_the_url() {
        let err = Engine::of_url("mysql://root:secret@db/x").expect_err("unsupported");
        let RepoError::Storage(source) = err else {
            panic!("expected Storage")
        };
        assert!(!source.to_string().contains("secret"), "{source}");
    }
}
