//! WebDAV dead properties per resource (ADR 0007 §2): local client state
//! (no `revision` column, not in the change feed, not replicated).
//!
//! No foreign key: a resource is a space, a folder or a document, three
//! tables; a property of a purged item is an orphan row, harmless and
//! small (core bounds them per resource). `namespace` and `name` are
//! sorted keys (`{key}`): listed in code-point order on both engines.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &["CREATE TABLE dead_properties (
        resource_kind TEXT NOT NULL,
        resource_id {uuid} NOT NULL,
        namespace {key} NOT NULL,
        name {key} NOT NULL,
        xml TEXT NOT NULL,
        PRIMARY KEY (resource_kind, resource_id, namespace, name)
    )"];

const DOWN: &[&str] = &["DROP TABLE dead_properties"];

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
