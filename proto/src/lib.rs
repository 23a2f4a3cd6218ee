//! Passerelle's replication protocol: the `.proto` files under `proto/` and the
//! Rust code prost and tonic generate from them at build time (with protox, so no
//! system `protoc` is needed).
//!
//! Place in the hexagon: a leaf shared by `passerelle-grpc` only. Generated types
//! never reach `passerelle-core`; the grpc adapter converts them at its boundary.
//! This crate depends on no other Passerelle crate and holds no logic.
//!
//! Modules:
//! - [`v1`]: package `passerelle.replication.v1` — the messages, the
//!   `Replication` service, its client (`v1::replication_client::ReplicationClient`,
//!   used by the internal node) and its server trait
//!   (`v1::replication_server::{Replication, ReplicationServer}`, implemented by
//!   the edge node).
//!
//! Compatibility rules live in the `.proto` file: fields are never renumbered or
//! reused; a breaking change is a new package (`v2`) beside this one.

/// Package `passerelle.replication.v1`, generated from
/// `proto/passerelle/replication/v1/replication.proto`.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations
)]
pub mod v1 {
    tonic::include_proto!("passerelle.replication.v1");
}

/// Version of the protocol this build speaks, sent in `HelloRequest` and
/// `HelloResponse`.
pub const PROTOCOL_VERSION: u32 = 1;
