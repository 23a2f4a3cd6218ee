//! The edge's outbox stays bounded (issue 12): `decided_at`, when an
//! item's first verdict came back, from which the retention of decided
//! items counts (pruning by creation time would delete, right after a long
//! outage, verdicts the contractor never had the time to see); `kind`, the
//! tag of the operation's JSON, so that a contractor's list pages and counts
//! their writes without parsing JSON (acceptances of invitations left out).
//!
//! Existing rows: `kind` is read from their JSON (each engine's JSON
//! function); decided ones get their creation time as `decided_at`, the
//! only time known, so the first prune after the upgrade may take them.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE outbox ADD COLUMN decided_at BIGINT",
    "UPDATE outbox SET decided_at = created_at WHERE outcome IS NOT NULL",
    // A contractor's page: their items of one space, by seq.
    "CREATE INDEX outbox_contractor ON outbox (space_id, contractor_id, seq)",
    // The prune: decided items by age.
    "CREATE INDEX outbox_decided ON outbox (decided_at) WHERE outcome IS NOT NULL",
];

/// Fills `kind` of the rows written before this migration.
fn backfill_kind(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::Postgres => "UPDATE outbox SET kind = (op::jsonb ->> 'kind')",
        _ => "UPDATE outbox SET kind = json_extract(op, '$.kind')",
    }
}

const DOWN: &[&str] = &[
    "DROP INDEX outbox_decided",
    "DROP INDEX outbox_contractor",
    "ALTER TABLE outbox DROP COLUMN decided_at",
    "ALTER TABLE outbox DROP COLUMN kind",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, UP).await?;
        manager
            .get_connection()
            .execute_unprepared(backfill_kind(manager.get_database_backend()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN).await
    }
}
