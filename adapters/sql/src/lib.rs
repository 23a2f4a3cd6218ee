//! # passerelle-sql
//!
//! A driven adapter of the hexagon: the metadata store behind core's
//! `Repository`/`Tx` ports, on sea-orm, with SQLite (the embedded default:
//! one file in the data directory) or PostgreSQL (production, by URL). One
//! migration set serves both engines.
//!
//! It depends on `passerelle-core` only — never on another adapter — and
//! keeps sea-orm to itself: entities are private, converted to and from the
//! domain types here, and database errors are translated into `RepoError`
//! (unique violation → `Conflict`, lock or serialisation failure → `Busy`,
//! anything else, corrupt rows included → `Storage`).
//!
//! Modules:
//! - `repository`: [`SqlRepository`] — connect, migrate, begin (writer
//!   serialisation per engine).
//! - `tx`: the `Tx` implementation, one submodule per group of the port.
//! - `extractions`: core's `ExtractionLog` port on the same database,
//!   outside transactions (its rows are not revisioned).
//! - `properties`: core's `PropertyStore` port (WebDAV dead properties),
//!   likewise outside the revisioned history.
//! - `entity`: sea-orm entities and their conversions; `convert`: shared
//!   conversions (times as unix nanoseconds, hashes, names, JSON).
//! - `migration`: the schema, one `mYYYYMMDD_HHMMSS_name.rs` per migration.
//! - `error`: `DbErr` → `RepoError`.
//!
//! The contract suite every `Repository` must pass (this adapter on both
//! engines and core's `MemRepository`) is in `tests/repository/contract`.

mod convert;
mod entity;
mod error;
mod extractions;
mod migration;
mod properties;
mod repository;
mod tx;

pub use repository::{Engine, SqlRepository};

/// Log directives a node adds to its filter: PostgreSQL's notices ("relation
/// seaql_migrations already exists, skipping") and the migrator's per-
/// migration lines would otherwise fill INFO logs at every start.
pub const QUIET_LOG_DIRECTIVES: &[&str] =
    &["sqlx::postgres::notice=warn", "sea_orm_migration=warn"];
