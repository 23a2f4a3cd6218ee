//! Who decides a membership (`manager`, or `directory` for one a mapped
//! directory group grants, ADR 0009 §6) and when it ends by itself
//! (`ends_at`, Unix nanoseconds; none: it does not), issue 17. Every
//! membership made so far is a manager's, without an end.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE memberships ADD COLUMN granted_by TEXT NOT NULL DEFAULT 'manager'",
    "ALTER TABLE memberships ADD COLUMN ends_at BIGINT",
    // The sweep that ends access at its date reads only the dated rows.
    "CREATE INDEX memberships_ends_at ON memberships (ends_at) WHERE ends_at IS NOT NULL",
];

const DOWN: &[&str] = &[
    "DROP INDEX memberships_ends_at",
    "ALTER TABLE memberships DROP COLUMN ends_at",
    "ALTER TABLE memberships DROP COLUMN granted_by",
];

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
