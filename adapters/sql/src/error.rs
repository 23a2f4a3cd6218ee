//! Translation of database errors into `RepoError`: unique violations become
//! `Conflict`, lock and serialisation failures `Busy`, the rest `Storage`
//! (the cause kept as the source).

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
