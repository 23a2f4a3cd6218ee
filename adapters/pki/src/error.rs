//! Errors of the PKI. Messages end with the fix when there is one: they reach
//! ops through `passerelle-internal pki …`.

use std::path::PathBuf;

use crate::NodeId;
use passerelle_core::replication::InvalidNodeId;

/// A boxed cause from rcgen or x509-parser, kept as the error's source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(
        "a CA already exists in {dir} (ca.pem or ca.key present); refusing to replace it, as every certificate it signed would stop working. Use it as it is, or choose another directory with --dir"
    )]
    AlreadyInitialised { dir: PathBuf },

    #[error(
        "no CA in {dir} (ca.pem and ca.key expected): create one with `passerelle-internal pki init`"
    )]
    NotInitialised { dir: PathBuf },

    #[error(
        "{path} can be read by group or others (mode {mode:03o}); a private key must not be: run `chmod 600 {path}`",
        path = path.display()
    )]
    InsecureKeyFile { path: PathBuf, mode: u32 },

    #[error("invalid node id {id:?}: 1 to 63 characters among a-z, 0-9 and '-'")]
    BadNodeId { id: String },

    #[error("invalid DNS name {name:?}: labels of a-z, 0-9 and '-' separated by dots")]
    BadDnsName { name: String },

    #[error(
        "an edge certificate needs at least one DNS name or IP address (the address the internal node dials): add --dns or --ip"
    )]
    MissingServerName,

    #[error("invalid validity {validity}: it must be positive")]
    BadValidity { validity: time::Duration },

    #[error("invalid CA name {name:?}: it must not be empty")]
    BadCaName { name: String },

    #[error(
        "{id} already has a certificate in {dir}: renew it with `passerelle-internal pki renew --id {id}`, or delete that directory first to issue it with other names"
    )]
    AlreadyIssued { id: NodeId, dir: PathBuf },

    #[error(
        "no certificate issued for {id} (expected {dir}): issue one with `passerelle-internal pki issue-edge` or `issue-internal`"
    )]
    NotIssued { id: NodeId, dir: PathBuf },

    #[error(
        "{path} does not hold the private key of the CA certificate beside it (ca.pem): restore the matching pair from your backup"
    )]
    KeyMismatch { path: PathBuf },

    #[error("{path} is neither an edge (serverAuth) nor an internal (clientAuth) certificate")]
    UnknownRole { path: PathBuf },

    #[error(
        "the certificate names several nodes ({ids:?}): a node certificate carries exactly one passerelle://node/ URI"
    )]
    AmbiguousNodeId { ids: Vec<String> },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A certificate or key could not be generated, signed or parsed.
    #[error("{what}: {source}")]
    Certificate {
        what: String,
        #[source]
        source: BoxError,
    },
}

impl PkiError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn certificate(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Certificate {
            what: what.into(),
            source: source.into(),
        }
    }
}

impl From<InvalidNodeId> for PkiError {
    fn from(e: InvalidNodeId) -> Self {
        PkiError::BadNodeId { id: e.id }
    }
}
