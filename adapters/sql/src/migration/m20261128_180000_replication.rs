//! Replication storage (ADR 0003): invitations (replicated, so they carry a
//! `revision`), the edge's outbox of contractor operations, the internal
//! node's ledger of applied edge operations and its view of each edge, and
//! the edge's cursor per space.
//!
//! Conventions as in the initial schema (times in unix nanoseconds, hashes
//! as hex, JSON as text). Foreign keys: invitations and outbox items need
//! their space, so that `purge_space` leaves nothing behind; the principal
//! columns have none (like memberships, whose principal may arrive later on
//! an edge). The ledger, edge states and cursors have none either: the
//! ledger must be able to record an operation refused because its space
//! does not exist, and a cursor may be set before its space row arrives.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE invitations (
        id {uuid} PRIMARY KEY,
        principal_id {uuid} NOT NULL,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        secret_hash TEXT NOT NULL UNIQUE,
        created_by {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        accepted_at BIGINT,
        revoked BOOLEAN NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX invitations_space ON invitations (space_id, created_at)",
    "CREATE INDEX invitations_revision ON invitations (revision)",
    // `seq` never goes back, even after the last items are purged
    // (AUTOINCREMENT on SQLite, a sequence on PostgreSQL).
    "CREATE TABLE outbox (
        seq {serial},
        op_id {uuid} NOT NULL UNIQUE,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        contractor_id {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        op TEXT NOT NULL,
        outcome TEXT,
        detail TEXT NOT NULL
    )",
    "CREATE INDEX outbox_space ON outbox (space_id, seq)",
    "CREATE INDEX outbox_pending ON outbox (seq) WHERE outcome IS NULL",
    "CREATE TABLE applied_ops (
        op_id {uuid} PRIMARY KEY,
        edge TEXT NOT NULL,
        space_id {uuid} NOT NULL,
        contractor_id {uuid} NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        document_id {uuid},
        op TEXT NOT NULL
    )",
    "CREATE INDEX applied_ops_quarantine ON applied_ops (space_id, at)
        WHERE outcome = 'rejected'",
    "CREATE TABLE edge_status (
        edge {key} PRIMARY KEY,
        last_contact BIGINT,
        last_error TEXT,
        cursors TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE TABLE cursors (
        space_id {uuid} PRIMARY KEY,
        revision BIGINT NOT NULL
    )",
];

/// Children before parents (foreign keys).
const DOWN: &[&str] = &[
    "DROP TABLE cursors",
    "DROP TABLE edge_status",
    "DROP TABLE applied_ops",
    "DROP TABLE outbox",
    "DROP TABLE invitations",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on SQLite too (sea-orm wraps only PostgreSQL by default).
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
