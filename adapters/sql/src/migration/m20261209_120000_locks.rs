//! Locks (ADR 0007 §1): local to the node that took them (no `revision`
//! column, not in the change feed, not replicated).
//!
//! A resource is a kind and an id, so no foreign key can name it: the use
//! cases resolve it, and a purge deletes its locks. The owner and the
//! space are real references. Times are unix nanoseconds, as everywhere
//! in this schema; `token` orders ties as UUID bytes on both engines.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE locks (
        token {uuid} PRIMARY KEY,
        resource_kind TEXT NOT NULL,
        resource_id {uuid} NOT NULL,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        owner_id {uuid} NOT NULL REFERENCES principals (id),
        owner_info TEXT NULL,
        scope TEXT NOT NULL,
        depth TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        refreshed_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    // What covers a resource: its own locks and its ancestors'.
    "CREATE INDEX locks_resource ON locks (resource_id)",
    // A space's locks (what lies below a folder, an un-share purge).
    "CREATE INDEX locks_space ON locks (space_id)",
    // The sweep of expired locks.
    "CREATE INDEX locks_expiry ON locks (expires_at)",
];

const DOWN: &[&str] = &["DROP TABLE locks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN).await
    }
}
