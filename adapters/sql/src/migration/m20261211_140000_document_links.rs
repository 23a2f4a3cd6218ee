//! Typed links between documents (ADR 0008 §4): revisioned like the
//! documents (a removal is a tombstone, `removed`), one row per (from, to,
//! kind) so that a link made again revives its row. The space is the
//! source's: links are authorised and replicated with it. The author is
//! not a foreign key, as for documents: an edge holds only the space's
//! members, and an administrator may link without being one.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE document_links (
        id {uuid} PRIMARY KEY,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        from_id {uuid} NOT NULL REFERENCES documents (id),
        to_id {uuid} NOT NULL REFERENCES documents (id),
        kind TEXT NOT NULL,
        created_by {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        removed BOOLEAN NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE UNIQUE INDEX document_links_ends ON document_links (from_id, to_id, kind)",
    // A document's incoming links (its outgoing ones use the index above).
    "CREATE INDEX document_links_to ON document_links (to_id)",
    // A space's rows by revision: the change feed.
    "CREATE INDEX document_links_feed ON document_links (space_id, revision)",
];

const DOWN: &[&str] = &["DROP TABLE document_links"];

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
