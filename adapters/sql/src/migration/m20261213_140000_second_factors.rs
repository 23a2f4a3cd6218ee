//! Second factors (ADR 0012): `principals.second_factor_reset`, when a
//! manager last voided a person's enrolment (replicated to the edge), and
//! the node-local `second_factors` table (a TOTP secret, the last time
//! step accepted, the hashes of unused recovery codes as a JSON array),
//! which never replicates.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE principals ADD COLUMN second_factor_reset BIGINT",
    "CREATE TABLE second_factors (
        principal_id {uuid} PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,
        secret TEXT NOT NULL, -- hex
        confirmed_at BIGINT,
        last_step BIGINT,
        recovery TEXT NOT NULL,
        reset BIGINT
    )",
];

const DOWN: &[&str] = &[
    "DROP TABLE second_factors",
    "ALTER TABLE principals DROP COLUMN second_factor_reset",
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
