//! Where an account's password is checked (ADR 0009): `local` for every
//! account made so far, `directory` for agents made at their first login
//! through the authority's directory.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["ALTER TABLE principals ADD COLUMN source TEXT NOT NULL DEFAULT 'local'"];

const DOWN: &[&str] = &["ALTER TABLE principals DROP COLUMN source"];

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
