//! The ingestion ledger of drop folders (ADR 0008 §2): one row per file
//! filed, keyed by the drop folder's name and the file's content hash, so
//! the same bytes dropped again, or handed again after a `kill -9`, file
//! nothing new. Written in the same transaction as the documents.
//!
//! Internal node only; never revisioned, never replicated. `documents` is
//! a JSON array of document ids (the receipt), read whole with the row;
//! `reference` the business key another flow finds it by (an act's
//! number).

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE ingestions (
        source {key} NOT NULL,
        hash TEXT NOT NULL,
        file_name TEXT NOT NULL,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        filed_by {uuid} NOT NULL REFERENCES principals (id),
        filed_at BIGINT NOT NULL,
        documents TEXT NOT NULL,
        reference TEXT NULL,
        PRIMARY KEY (source, hash)
    )",
    // An act's acknowledgement finds the act's filing, and the reverse.
    "CREATE INDEX ingestions_reference ON ingestions (reference)",
];

const DOWN: &[&str] = &["DROP TABLE ingestions"];

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
