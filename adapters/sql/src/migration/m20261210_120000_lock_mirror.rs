//! The edge's mirror of the internal node's locks (ADR 0007, "Locks seen
//! on the edge"): rows replaced space by space with each snapshot, no
//! token, no revision.
//!
//! The holder is an agent the edge may not know (no foreign key: the name
//! is kept beside the id). The space is a real reference, so a purge drops
//! the mirror before the space row. `seq` keeps the snapshot's order for
//! locks taken at the same instant.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE lock_mirror (
        seq {serial},
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        resource_kind TEXT NOT NULL,
        resource_id {uuid} NOT NULL,
        holder_id {uuid} NOT NULL,
        holder_name TEXT NOT NULL,
        scope TEXT NOT NULL,
        depth TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    // What covers a resource: its own locks and its ancestors'.
    "CREATE INDEX lock_mirror_resource ON lock_mirror (resource_id)",
    // A snapshot replaces its space's rows.
    "CREATE INDEX lock_mirror_space ON lock_mirror (space_id)",
];

const DOWN: &[&str] = &["DROP TABLE lock_mirror"];

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
