//! Users' settings that stay on this node: the interface language a user
//! chose (issue 4). A table of its own rather than a column of `principals`:
//! principals are replicated to edges (ADR 0003) and a setting is not — each
//! node keeps what the user chose there, and the change feed is unchanged.
//!
//! `ON DELETE CASCADE`: an edge deletes principals when their last space is
//! un-shared (`purge_space`), and their settings go with them.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["CREATE TABLE principal_settings (
        principal_id {uuid} PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,
        language TEXT
    )"];

const DOWN: &[&str] = &["DROP TABLE principal_settings"];

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
