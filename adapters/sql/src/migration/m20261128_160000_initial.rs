//! The initial schema: every entity of the domain model.
//!
//! Conventions: times are `BIGINT` unix nanoseconds; content hashes are
//! 64-hex `TEXT`; JSON (metadata, field definitions, audit detail) is `TEXT`,
//! kept byte for byte; replicable rows carry an indexed `revision`; deletions
//! are tombstones. Folders and documents carry `name_key` (the lowercased
//! name): a partial unique index keeps live names unique per parent, the
//! root being keyed by the space id (`NULL`s are distinct in unique indexes).

use sea_orm_migration::prelude::*;

use super::run;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE node_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        revision BIGINT NOT NULL
    )",
    "INSERT INTO node_state (id, revision) VALUES (1, 0)",
    "CREATE TABLE principals (
        id {uuid} PRIMARY KEY,
        login {key} NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        email TEXT NOT NULL,
        kind TEXT NOT NULL,
        is_admin BOOLEAN NOT NULL,
        disabled BOOLEAN NOT NULL,
        password_hash TEXT,
        organisation TEXT,
        created_at BIGINT NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX principals_revision ON principals (revision)",
    "CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        principal_id {uuid} NOT NULL REFERENCES principals (id),
        csrf TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    "CREATE INDEX sessions_principal ON sessions (principal_id)",
    "CREATE INDEX sessions_expiry ON sessions (expires_at)",
    "CREATE TABLE api_tokens (
        id {uuid} PRIMARY KEY,
        principal_id {uuid} NOT NULL REFERENCES principals (id),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        revoked BOOLEAN NOT NULL
    )",
    "CREATE INDEX api_tokens_principal ON api_tokens (principal_id, created_at)",
    "CREATE TABLE spaces (
        id {uuid} PRIMARY KEY,
        slug {key} NOT NULL UNIQUE,
        title {key} NOT NULL,
        title_key {key} NOT NULL,
        description TEXT NOT NULL,
        domain TEXT NOT NULL,
        visibility TEXT NOT NULL,
        edge TEXT,
        archived BOOLEAN NOT NULL,
        created_by {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX spaces_by_title ON spaces (title_key, title, id)",
    "CREATE INDEX spaces_revision ON spaces (revision)",
    "CREATE TABLE memberships (
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        principal_id {uuid} NOT NULL,
        role TEXT NOT NULL,
        removed BOOLEAN NOT NULL,
        revision BIGINT NOT NULL,
        PRIMARY KEY (space_id, principal_id)
    )",
    "CREATE INDEX memberships_principal ON memberships (principal_id)",
    "CREATE INDEX memberships_revision ON memberships (revision)",
    "CREATE TABLE folders (
        id {uuid} PRIMARY KEY,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        parent_id {uuid},
        name TEXT NOT NULL,
        name_key {key} NOT NULL,
        created_by {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        trashed_at BIGINT,
        trashed_by {uuid},
        trashed_with_folder {uuid},
        purged BOOLEAN NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX folders_by_parent ON folders (space_id, parent_id, name_key)",
    "CREATE UNIQUE INDEX folders_live_name
        ON folders (space_id, (COALESCE(parent_id, space_id)), name_key)
        WHERE trashed_at IS NULL AND NOT purged",
    "CREATE INDEX folders_revision ON folders (revision)",
    "CREATE TABLE documents (
        id {uuid} PRIMARY KEY,
        space_id {uuid} NOT NULL REFERENCES spaces (id),
        folder_id {uuid},
        name TEXT NOT NULL,
        name_key {key} NOT NULL,
        doc_type TEXT,
        metadata TEXT NOT NULL,
        current_version BIGINT NOT NULL,
        created_by {uuid} NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        trashed_at BIGINT,
        trashed_by {uuid},
        trashed_with_folder {uuid},
        purged BOOLEAN NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX documents_by_folder ON documents (space_id, folder_id, name_key)",
    "CREATE UNIQUE INDEX documents_live_name
        ON documents (space_id, (COALESCE(folder_id, space_id)), name_key)
        WHERE trashed_at IS NULL AND NOT purged",
    "CREATE INDEX documents_revision ON documents (revision)",
    "CREATE TABLE versions (
        document_id {uuid} NOT NULL REFERENCES documents (id),
        number BIGINT NOT NULL,
        hash TEXT NOT NULL,
        size BIGINT NOT NULL,
        media_type TEXT NOT NULL,
        author_id {uuid} NOT NULL,
        comment TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revision BIGINT NOT NULL,
        PRIMARY KEY (document_id, number)
    )",
    "CREATE INDEX versions_hash ON versions (hash)",
    "CREATE INDEX versions_revision ON versions (revision)",
    "CREATE TABLE document_types (
        type_key {key} PRIMARY KEY,
        label TEXT NOT NULL,
        domain TEXT NOT NULL,
        description TEXT NOT NULL,
        retention_years BIGINT NOT NULL,
        fields TEXT NOT NULL,
        revision BIGINT NOT NULL
    )",
    "CREATE INDEX document_types_revision ON document_types (revision)",
    "CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        actor_id {uuid},
        action TEXT NOT NULL,
        space_id {uuid},
        target TEXT,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )",
    "CREATE INDEX audit_log_space ON audit_log (space_id, seq)",
];

/// Children before parents (foreign keys).
const DOWN: &[&str] = &[
    "DROP TABLE audit_log",
    "DROP TABLE document_types",
    "DROP TABLE versions",
    "DROP TABLE documents",
    "DROP TABLE folders",
    "DROP TABLE memberships",
    "DROP TABLE spaces",
    "DROP TABLE api_tokens",
    "DROP TABLE sessions",
    "DROP TABLE principals",
    "DROP TABLE node_state",
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
