//! App passwords (issue 15): a token row says what it opens, a bearer token
//! for the API or an app password for WebDAV clients. Existing rows are API
//! tokens, as they were issued.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api'"];

const DOWN: &[&str] = &["ALTER TABLE api_tokens DROP COLUMN kind"];

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
