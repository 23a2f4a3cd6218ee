//! Edge: which space each blob was sent for, from before its first byte is
//! written until a batch of the space names it (issue 12, ADR 0003 "Blob
//! accounting"). A blob pushed whole before its batch was applied was named
//! by nothing, so an un-share purge left it on the DMZ host.
//!
//! No foreign key to `spaces`: like a cursor, a claim is recorded before the
//! space's first batch brings its row. `purge_space` deletes a space's claims
//! with its rows. `hash` is a sorted key (`{key}`), listed in code-point order
//! on both engines.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["CREATE TABLE blob_claims (
        space_id {uuid} NOT NULL,
        hash {key} NOT NULL,
        PRIMARY KEY (space_id, hash)
    )"];

const DOWN: &[&str] = &["DROP TABLE blob_claims"];

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
