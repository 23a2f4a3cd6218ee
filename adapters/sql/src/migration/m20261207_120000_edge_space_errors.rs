//! The internal node records, per edge, the shared spaces whose replication
//! fails while the link is up, with why (issue 12: a full edge disk).
//! A JSON array of `[space id, error]` pairs beside `cursors`; existing rows
//! start with none.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["ALTER TABLE edge_status ADD COLUMN space_errors TEXT NOT NULL DEFAULT '[]'"];

const DOWN: &[&str] = &["ALTER TABLE edge_status DROP COLUMN space_errors"];

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
