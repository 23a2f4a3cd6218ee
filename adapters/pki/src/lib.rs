//! The private certificate authority of a Passerelle deployment.
//!
//! **Place in the hexagon**: a driven adapter of the *internal node only*. The
//! internal node dials the edge nodes over gRPC with mutual TLS 1.3
//! (DESIGN.md §4); the CA that signs both sides' certificates lives here and its
//! key never leaves the internal node's disk. `passerelle-edge` must never link
//! this crate (nor rcgen): the edge only receives a bundle of files
//! (`cert.pem`, `key.pem`, `ca.pem`) that ops copy to the DMZ. The grpc adapter,
//! which both nodes link, keeps its own small copy of [`node_id_of`] for that
//! reason. This crate depends on no other Passerelle crate.
//!
//! **Node identity**: every node certificate carries a URI SAN
//! `passerelle://node/<id>` ([`NodeId::uri`]); each side checks it against its
//! allow-list after the chain.
//!
//! **On disk** (`<data_dir>/pki` by default, mode 0700):
//! ```text
//! ca.pem                         CA certificate (public)
//! ca.key                         CA private key, 0600, refused if group/other can read it
//! issued/<id>/cert.pem           node certificate
//! issued/<id>/key.pem            node private key, 0600
//! issued/<id>/ca.pem             CA certificate, so the directory is a complete bundle
//! issued/<id>/*.pem.previous     the files the last renewal replaced
//! ```
//! The inventory is derived from these files (the certificates say everything:
//! role by extended key usage, names, expiry), so nothing can drift.
//!
//! **Modules**
//! - [`node_id`] — [`NodeId`], the URI SAN, [`node_id_of`].
//! - [`authority`] — [`Pki`]: `init`, `open`, signing ([`Pki::issue_with`]).
//! - [`issue`] — what to issue ([`IssueOptions`], [`Role`], [`Identity`]) and the
//!   result ([`IssuedBundle`]); test helpers for expired or mis-named certificates.
//! - [`inventory`] — the issued certificates on disk: `issue_edge`,
//!   `issue_internal`, `list`, `renew`, `needs_renewal`.
//! - [`error`] — [`PkiError`].
//! - `files` — private-file creation (0600 from the first byte) and permission checks.

pub mod authority;
pub mod error;
mod files;
pub mod inventory;
pub mod issue;
pub mod node_id;

pub use authority::{CaInfo, Pki};
pub use error::PkiError;
pub use inventory::{Expiry, IssuedCert};
pub use issue::{Identity, IssueOptions, IssuedBundle, Role};
pub use node_id::{NODE_URI_PREFIX, NodeId, node_id_of};

use time::Duration;

/// Default lifetime of a node certificate.
pub const NODE_VALIDITY: Duration = Duration::days(365);
/// Default lifetime of the CA certificate.
pub const CA_VALIDITY: Duration = Duration::days(3650);
/// Certificates start this long before they are made, so a peer whose clock
/// runs a little behind still accepts them.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
/// `list` flags certificates expiring within this delay as to renew.
pub const RENEWAL_THRESHOLD: Duration = Duration::days(30);

/// Now, in whole seconds: what a certificate can encode, so the times we
/// report equal the times read back from the certificate.
pub(crate) fn now_in_seconds() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now - Duration::nanoseconds(i64::from(now.nanosecond()))
}
