//! Extraction statuses per content hash (ADR 0006 §3): derived data written
//! outside the revisioned history (no `revision` column, not in the change
//! feed, not replicated: each node extracts what it holds).
//!
//! No foreign key to `versions`: a status belongs to a content, whatever
//! documents hold it, and outlives them (the same bytes uploaded again need
//! no new extraction). `hash` is a sorted key (`{key}`): `problems` breaks
//! ties by it in code-point order on both engines. Times are unix
//! nanoseconds, as everywhere in this schema.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE extractions (
        hash {key} PRIMARY KEY,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        tried_at BIGINT NOT NULL,
        next_try BIGINT NULL
    )",
    // `due`: the retries whose time has come, soonest first.
    "CREATE INDEX extractions_due ON extractions (next_try)",
    // `problems`: filtered by status, last tried first.
    "CREATE INDEX extractions_problems ON extractions (status, tried_at)",
];

const DOWN: &[&str] = &["DROP TABLE extractions"];

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
