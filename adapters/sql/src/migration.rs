//! Schema migrations with sea-orm-migration: one file per migration under
//! `migration/`, named `mYYYYMMDD_HHMMSS_name.rs` (sea-orm takes the
//! migration's name from the file). One migration set serves both engines.

use sea_orm_migration::prelude::*;

mod m20261128_160000_initial;
mod m20261128_180000_replication;
mod m20261204_120000_principal_settings;
mod m20261206_120000_blob_claims;
mod m20261207_120000_edge_space_errors;
mod m20261207_130000_outbox_retention;
mod m20261208_120000_extractions;
mod m20261209_100000_app_passwords;
mod m20261209_120000_locks;
mod m20261209_140000_dead_properties;
mod m20261210_120000_lock_mirror;
mod m20261211_120000_ingestions;
mod m20261211_140000_document_links;
mod m20261212_120000_account_source;
mod m20261213_120000_membership_grants;
mod m20261213_140000_second_factors;
mod m20261214_100000_activity;
mod m20261214_120000_notifications;

/// Every migration, oldest first. Never edit an applied migration: add one.
#[derive(Debug)]
pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_160000_initial::Migration),
            Box::new(m20261128_180000_replication::Migration),
            Box::new(m20261204_120000_principal_settings::Migration),
            Box::new(m20261206_120000_blob_claims::Migration),
            Box::new(m20261207_120000_edge_space_errors::Migration),
            Box::new(m20261207_130000_outbox_retention::Migration),
            Box::new(m20261208_120000_extractions::Migration),
            Box::new(m20261209_100000_app_passwords::Migration),
            Box::new(m20261209_120000_locks::Migration),
            Box::new(m20261209_140000_dead_properties::Migration),
            Box::new(m20261210_120000_lock_mirror::Migration),
            Box::new(m20261211_120000_ingestions::Migration),
            Box::new(m20261211_140000_document_links::Migration),
            Box::new(m20261212_120000_account_source::Migration),
            Box::new(m20261213_120000_membership_grants::Migration),
            Box::new(m20261213_140000_second_factors::Migration),
            Box::new(m20261214_100000_activity::Migration),
            Box::new(m20261214_120000_notifications::Migration),
        ]
    }
}

/// Runs DDL templates (see [`ddl`]) in order: what every migration's `up`
/// and `down` do.
pub(crate) async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for template in statements {
        db.execute_unprepared(&ddl(manager.get_database_backend(), template))
            .await?;
    }
    Ok(())
}

/// Column types that differ between engines, substituted in the DDL.
///
/// - `{uuid}`: `UUID` on PostgreSQL; `BLOB` on SQLite, where sqlx binds a
///   `Uuid` as its 16 bytes.
/// - `{key}`: a text column that is sorted or compared: `COLLATE "C"` on
///   PostgreSQL so that ordering is by code point, as SQLite's `BINARY` and
///   Rust's `str` order it (the in-memory fake agrees with both).
/// - `{serial}`: an increasing `BIGINT` primary key that is never reused:
///   `BIGSERIAL` on PostgreSQL; `INTEGER … AUTOINCREMENT` on SQLite (the
///   rowid, 64-bit; without `AUTOINCREMENT` a deleted maximum would be
///   handed out again).
pub(crate) fn ddl(backend: sea_orm::DbBackend, template: &str) -> String {
    let (uuid, key, serial) = match backend {
        sea_orm::DbBackend::Postgres => ("UUID", r#"TEXT COLLATE "C""#, "BIGSERIAL PRIMARY KEY"),
        _ => ("BLOB", "TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    };
    template
        .replace("{uuid}", uuid)
        .replace("{key}", key)
        .replace("{serial}", serial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqlRepository;

    #[tokio::test]
    async fn migrations_roll_back_and_apply_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        let repo = SqlRepository::connect(&url)
            .await
            .expect("connects and migrates");
        let db = repo.connection();
        assert!(
            Migrator::get_pending_migrations(db)
                .await
                .expect("status")
                .is_empty()
        );
        Migrator::down(db, None).await.expect("rolls back");
        assert_eq!(
            Migrator::get_pending_migrations(db)
                .await
                .expect("status")
                .len(),
            Migrator::migrations().len()
        );
        repo.migrate().await.expect("applies again");
        assert!(
            Migrator::get_pending_migrations(db)
                .await
                .expect("status")
                .is_empty()
        );
    }
}
