//! Translation of database errors into `RepoError`: unique violations become
//! `Conflict`, lock and serialisation failures `Busy`, a full disk `Full`,
//! the rest `Storage` (the cause kept as the source).

use passerelle_core::ports::RepoError;
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlErr};

/// The generic translation; a unique violation keeps the database's message.
pub(crate) fn db_error(e: DbErr) -> RepoError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = e.sql_err() {
        return RepoError::Conflict(message);
    }
    if is_busy(&e) {
        return RepoError::Busy(Box::new(e));
    }
    if let Some(cause) = full_disk(&e) {
        return RepoError::Full {
            cause,
            source: Box::new(e),
        };
    }
    RepoError::Storage(Box::new(e))
}

/// For a write whose only possible unique violation is known: the conflict
/// says what clashed, in the same words as the in-memory fake.
pub(crate) fn write_error(e: DbErr, conflict: impl FnOnce() -> String) -> RepoError {
    match db_error(e) {
        RepoError::Conflict(_) => RepoError::Conflict(conflict()),
        other => other,
    }
}

fn sqlx_error(e: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => Some(s),
        _ => None,
    }
}

/// Why the database refused a write for lack of room, if it did: SQLite's
/// `SQLITE_FULL` ("database or disk is full"), PostgreSQL's `disk_full`
/// (53100: "could not extend file …: No space left on device"), or a full
/// disk met by the driver itself. In words for operators.
fn full_disk(e: &DbErr) -> Option<String> {
    use sea_orm::sqlx::Error;
    match sqlx_error(e)? {
        Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            if d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                sqlite_full(&code).then(|| format!("database disk full (SQLite: {})", d.message()))
            } else {
                postgres_full(&code)
                    .then(|| format!("database disk full (PostgreSQL {code}: {})", d.message()))
            }
        }
        Error::Io(io) => match io.kind() {
            std::io::ErrorKind::StorageFull => Some("database disk full (ENOSPC)".into()),
            std::io::ErrorKind::QuotaExceeded => {
                Some("database disk quota exceeded (EDQUOT)".into())
            }
            _ => None,
        },
        _ => None,
    }
}

/// `SQLITE_FULL` (13) and its extended codes: the primary code is the low
/// byte.
fn sqlite_full(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|c| c & 0xff == 13)
}

/// `disk_full`: PostgreSQL's code for `ENOSPC` on its files.
fn postgres_full(code: &str) -> bool {
    code == "53100"
}

/// Transient failures that a retry of the whole transaction may cure.
fn is_busy(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    if matches!(e, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) {
        return true;
    }
    match sqlx_error(e) {
        Some(Error::PoolTimedOut) => true,
        Some(Error::Database(d)) => {
            let code = d.code().unwrap_or_default();
            if d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // Extended result codes: the primary code is the low byte.
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6) and their variants.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                // serialization_failure, deadlock_detected, lock_not_available
                matches!(&*code, "40001" | "40P01" | "55P03")
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};

    use super::*;

    #[test]
    fn sqlite_full_and_postgres_disk_full_are_full_and_busy_is_not() {
        assert!(sqlite_full("13"));
        assert!(!sqlite_full("5"), "SQLITE_BUSY");
        assert!(!sqlite_full("2067"), "SQLITE_CONSTRAINT_UNIQUE");
        assert!(postgres_full("53100"));
        assert!(!postgres_full("40001"));
    }

    #[tokio::test]
    async fn a_sqlite_database_out_of_room_is_full_with_its_cause_not_a_storage_failure() {
        // `max_page_count` caps the file as a full disk would: SQLite
        // answers SQLITE_FULL, "database or disk is full".
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("f.db").display());
        let db = Database::connect(ConnectOptions::new(url).max_connections(1).to_owned())
            .await
            .expect("connects");
        for sql in ["CREATE TABLE t (x BLOB)", "PRAGMA max_page_count = 8"] {
            db.execute_unprepared(sql).await.expect("setup");
        }
        let e = db
            .execute_unprepared("INSERT INTO t VALUES (randomblob(100000))")
            .await
            .expect_err("no room");
        match db_error(e) {
            RepoError::Full { cause, .. } => {
                assert!(cause.contains("database or disk is full"), "{cause}")
            }
            other => panic!("{other:?}"),
        }
    }
}
