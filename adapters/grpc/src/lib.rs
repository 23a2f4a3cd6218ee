//! Passerelle replication over gRPC (tonic) with mutual TLS 1.3 (rustls): the
//! edge node's server and the internal node's client (DESIGN.md §4–5).
//!
//! Place in the hexagon: a driven/driving adapter. It depends on
//! `passerelle-core`, `passerelle-proto` and `passerelle-tls` (the nodes'
//! mutual TLS, which the coming HTTPS listeners share), never on a storage
//! or driving adapter, and links
//! no certificate-issuing code (rcgen is a dev-dependency only, so the edge
//! binary never holds CA-signing code). Generated protobuf types stay here.
//!
//! Transport guarantees, on both sides: TLS 1.3 only, ring provider, no session
//! resumption and no 0-RTT, the peer's chain checked against the configured CA
//! AND its node identity (URI SAN `passerelle://node/<id>`): the edge checks
//! its clients against an allow-list, each link of the internal node checks
//! that the server is the very edge it dials; refusals are logged at `warn`
//! with the peer address and reason.
//!
//! Modules:
//! - [`tls`]: `passerelle-tls`, re-exported because this crate's API takes
//!   its types (rustls configurations, node identities, [`ReloadingTls`],
//!   which follows certificate renewals on disk).
//! - [`server`]: [`server::serve_tls`], the edge's accept loop feeding tonic, and
//!   [`server::PeerInfo`], the authenticated peer every request carries.
//! - [`client`]: [`client::connect`], a tonic `Channel` to an edge through our
//!   own TLS connector.
//! - [`convert`]: protobuf ⇄ core types, validating everything that arrives.
//! - [`edge_service`]: the `Replication` service an edge serves.
//! - [`peer`]: core's `EdgePeer` port over the gRPC client, and [`peer::Dial`],
//!   the connector a link calls (the link itself is core's:
//!   `passerelle_core::replication::link`).
//! - [`TokioTimer`]: core's `Timer` port over tokio's clock.

pub mod client;
pub mod convert;
pub mod edge_service;
pub mod peer;
pub mod server;

pub use client::connect;
pub use peer::{Dial, GrpcEdgePeer};

/// Core's `Timer` port over tokio's clock: the waits of the replication
/// links (idle, backoff).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl passerelle_core::ports::Timer for TokioTimer {
    fn sleep(&self, d: std::time::Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// HTTP/2 flow-control window of one stream, both ways. The 64 KiB default
/// would stall a blob stream on every round trip; this lets about four
/// 1 MiB chunks be in flight per stream.
pub const STREAM_WINDOW: u32 = 4 << 20;

/// HTTP/2 window of the whole connection: bounds what concurrent blob
/// pushes buffer on the receiver.
pub const CONNECTION_WINDOW: u32 = 16 << 20;

/// Largest HTTP/2 frame each side accepts: 1 MiB chunks travel in a few
/// frames instead of 64 (the default is 16 KiB).
pub const MAX_FRAME: u32 = 1 << 20;
pub use passerelle_tls as tls;
pub use server::{PeerInfo, ServeError, serve_tls};
pub use tls::{NodeId, PeerPolicy, ReloadingTls, TlsError, TlsFiles};
