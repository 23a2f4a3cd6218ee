//! Last activity (ADR 0011 §5): table `activity`, the last day each
//! person was seen active, as a Julian day number. On an edge, written by
//! a contractor's first login or request of the day; on the internal
//! node, from the edges' reports (and a re-enabling), read by the sweep
//! that disables inactive contractors. Node-local, never replicated.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["CREATE TABLE activity (
        principal_id {uuid} PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,
        last_active_day BIGINT NOT NULL
    )"];

const DOWN: &[&str] = &["DROP TABLE activity"];

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
