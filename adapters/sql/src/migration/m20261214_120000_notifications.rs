//! Notifications (ADR 0013): people's subscriptions (a row per person,
//! space and followed folder or document; the nil uuid for the whole
//! space, and a nil person for the space's default), the planner's state
//! (cursors, the unsubscribe key) and the outbox of notices. Node-local:
//! none of them replicates.

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE subscriptions (
        principal_id {uuid} NOT NULL,
        space_id {uuid} NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
        target_kind BIGINT NOT NULL, -- 0 space, 1 folder, 2 document
        target_id {uuid} NOT NULL,
        frequency TEXT NOT NULL,
        PRIMARY KEY (principal_id, space_id, target_kind, target_id)
    )",
    "CREATE INDEX subscriptions_space ON subscriptions (space_id)",
    "CREATE TABLE notify_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )",
    "CREATE TABLE notices (
        id {uuid} PRIMARY KEY,
        recipient_id {uuid} NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body_text TEXT NOT NULL,
        body_html TEXT NOT NULL,
        unsubscribe TEXT,
        created_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        last_error TEXT,
        sent_at BIGINT
    )",
    "CREATE INDEX notices_due ON notices (state, next_attempt_at)",
    "CREATE INDEX notices_recipient ON notices (recipient_id, sent_at)",
    "CREATE INDEX notices_created ON notices (created_at)",
];

const DOWN: &[&str] = &[
    "DROP TABLE notices",
    "DROP TABLE notify_state",
    "DROP TABLE subscriptions",
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
