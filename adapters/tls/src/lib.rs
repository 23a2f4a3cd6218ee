//! Mutual TLS 1.3 between Passerelle's nodes: rustls configurations for the
//! edge (server) and the internal node (client), each checking the peer's
//! chain AND its node identity, and [`ReloadingTls`], which follows
//! certificate renewals on disk.
//!
//! A library of the adapters, apart from the gRPC transport that uses it
//! (`passerelle-grpc`), so that trust is read and reviewed in one place and
//! other listeners can share it; it knows no transport (no tonic, no hyper).
//!
//! Policy, whichever the side:
//! - TLS 1.3 only, ring provider, ALPN `h2`;
//! - no session resumption (no tickets, no session cache): every connection runs
//!   a full handshake, so every connection re-checks chain, validity and
//!   identity; this also makes 0-RTT impossible (it rides on resumption), on top
//!   of early data being switched off explicitly;
//! - the peer's certificate must chain to the configured CA and carry a
//!   `passerelle://node/<id>` URI SAN: on the edge, an id in
//!   [`PeerPolicy::allowed`]; on the internal node, the id of the one edge the
//!   link dials (a configuration per link, so that no edge's certificate can
//!   answer for another); the client also checks the server's DNS name / IP as
//!   usual.

mod identity;
mod reload;
mod verify;

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, VerifierBuilderError, WebPkiClientVerifier};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde::Deserialize;
use x509_parser::prelude::{FromDer, X509Certificate};

pub use identity::{IdentityError, NODE_URI_PREFIX, NodeId, node_id_from_der};
pub use reload::ReloadingTls;

pub use verify::{aborted_by_peer, handshake_failure_reason};

use identity::AllowList;
use verify::{NodeClientVerifier, NodeServerVerifier};

/// ALPN protocol id of HTTP/2, the only protocol gRPC runs on here.
const ALPN_H2: &[u8] = b"h2";

/// Where a node's TLS material lives (PEM files), as node configs give it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// This node's certificate chain, leaf first.
    pub cert: PathBuf,
    /// This node's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The Passerelle CA that issued the peer's certificate.
    pub ca: PathBuf,
}

/// Which clients an edge accepts, by node id (the `<id>` of their
/// `passerelle://node/<id>` URI SAN). An empty list is a configuration error.
/// The internal node's side has no list: each link names its one edge
/// ([`client_config`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerPolicy {
    /// Node ids allowed as peer, each `[a-z0-9-]{1,63}`.
    pub allowed: Vec<String>,
}

/// Why TLS material or a TLS connection cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file cannot be read.
    #[error("cannot read {}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("{} is not valid PEM", path.display())]
    NotPem {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{} holds no certificate", path.display())]
    NoCertificate { path: PathBuf },
    /// A key file holds no private key.
    #[error("{} holds no private key", path.display())]
    NoPrivateKey { path: PathBuf },
    /// A CA certificate cannot serve as a trust anchor.
    #[error("the CA certificate in {} is unusable", path.display())]
    BadCa {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    /// No verifier can be built from the CA file.
    #[error("no usable trust anchor in {}", path.display())]
    UnusableCa {
        path: PathBuf,
        #[source]
        source: VerifierBuilderError,
    },
    /// The key is invalid or is not the certificate's key.
    #[error("the key {} does not go with the certificate {}", key.display(), cert.display())]
    KeyMismatch {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
    /// This node's own certificate names no valid node.
    #[error("this node's certificate {} carries no usable node identity", path.display())]
    OwnIdentity {
        path: PathBuf,
        #[source]
        source: IdentityError,
    },
    /// This node's own certificate is expired or not valid yet.
    #[error("this node's certificate {} is expired or not valid yet", path.display())]
    OwnCertificateOutOfValidity { path: PathBuf },
    /// This node's own certificate is another node's: its peer, which
    /// expects the configured id, would refuse it at every connection.
    #[error("this node's certificate {} names node {found}, but this node is {expected}", path.display())]
    OwnIdentityMismatch {
        path: PathBuf,
        expected: NodeId,
        found: NodeId,
    },
    /// The peer allow-list is empty or holds an invalid id.
    #[error("invalid peer policy")]
    Policy(#[source] IdentityError),
    /// rustls refused the protocol settings (cannot happen with ring and TLS 1.3).
    #[error("TLS settings refused")]
    Settings(#[source] rustls::Error),
    /// The files cannot be watched for renewal.
    #[error("cannot watch the TLS files for changes")]
    Watch(#[source] notify::Error),
    /// Watching needs a Tokio runtime to run its reload task.
    #[error("TLS reloading must be started from within a Tokio runtime")]
    NoRuntime,
    /// The endpoint is not an `https://host:port` URI.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },
    /// The name to verify the server against is neither a DNS name nor an IP.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// The connection failed: unreachable, timed out, or the TLS handshake was
    /// refused (by either side; the cause chain says which).
    #[error("cannot connect to {endpoint}")]
    Unreachable {
        endpoint: String,
        /// The transport's error (tonic's, for the gRPC client).
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Installs ring as the process-wide rustls provider, if no provider is yet.
/// The configurations here name ring explicitly anyway; this is for other
/// rustls users in the same process (STACK.md, gotcha 1).
pub fn install_default_provider() {
    // Err means a provider is already installed: fine either way.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The edge's server configuration: TLS 1.3 only, client certificate required,
/// chained to `files.ca` and naming a node in `policy.allowed`.
pub fn server_config(files: &TlsFiles, policy: &PeerPolicy) -> Result<Arc<ServerConfig>, TlsError> {
    install_default_provider();
    let allowed = AllowList::parse(&policy.allowed).map_err(TlsError::Policy)?;
    let own = OwnMaterial::load(files)?;
    let provider = ring_provider();
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(own.roots), provider.clone())
        .build()
        .map_err(|source| TlsError::UnusableCa {
            path: files.ca.clone(),
            source,
        })?;
    let verifier = Arc::new(NodeClientVerifier {
        inner: webpki,
        allowed,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Settings)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(own.chain, own.key)
        .map_err(|source| key_mismatch(files, source))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    config.max_early_data_size = 0;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    Ok(Arc::new(config))
}

/// The client configuration of one link of the internal node: TLS 1.3 only,
/// presents `files.cert`, trusts `files.ca` only, and accepts a server only
/// if its certificate is valid for the name dialled AND names `server`, the
/// edge this link dials. Each link has its own: a configuration accepting
/// several edges would let edge-1's certificate bring up edge-2's link.
pub fn client_config(files: &TlsFiles, server: &NodeId) -> Result<Arc<ClientConfig>, TlsError> {
    install_default_provider();
    let own = OwnMaterial::load(files)?;
    let provider = ring_provider();
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(own.roots),
        provider.clone(),
    )
    .build()
    .map_err(|source| TlsError::UnusableCa {
        path: files.ca.clone(),
        source,
    })?;
    let verifier = Arc::new(NodeServerVerifier {
        inner: webpki,
        expected: server.clone(),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Settings)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(own.chain, own.key)
        .map_err(|source| key_mismatch(files, source))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    config.enable_early_data = false;
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// Checks that this node's certificate (`files.cert`, its leaf) names
/// `expected`, the node id this node is configured with. Blocking: it reads
/// the file.
pub fn check_own_identity(files: &TlsFiles, expected: &NodeId) -> Result<(), TlsError> {
    let chain = read_certificates(&files.cert)?;
    let found = node_id_from_der(&chain[0]).map_err(|source| TlsError::OwnIdentity {
        path: files.cert.clone(),
        source,
    })?;
    if found == *expected {
        Ok(())
    } else {
        Err(TlsError::OwnIdentityMismatch {
            path: files.cert.clone(),
            expected: expected.clone(),
            found,
        })
    }
}

fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn key_mismatch(files: &TlsFiles, source: rustls::Error) -> TlsError {
    TlsError::KeyMismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    }
}

/// This node's certificate chain and key, and the CA it trusts, read and
/// checked (the files are small; callers on the runtime use `spawn_blocking`).
struct OwnMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    roots: RootCertStore,
}

impl OwnMaterial {
    fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let chain = read_certificates(&files.cert)?;
        check_own_leaf(&files.cert, &chain[0])?;
        let key =
            PrivateKeyDer::from_pem_slice(&read(&files.key)?).map_err(|source| match source {
                pem::Error::NoItemsFound => TlsError::NoPrivateKey {
                    path: files.key.clone(),
                },
                source => TlsError::NotPem {
                    path: files.key.clone(),
                    source,
                },
            })?;
        let mut roots = RootCertStore::empty();
        for ca in read_certificates(&files.ca)? {
            roots.add(ca).map_err(|source| TlsError::BadCa {
                path: files.ca.clone(),
                source,
            })?;
        }
        Ok(Self { chain, key, roots })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

/// Every certificate of a PEM file; at least one.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::NotPem {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Refuses, at load time rather than at the peer's handshake, an own
/// certificate the peer would refuse anyway: no node id, or out of validity.
fn check_own_leaf(path: &Path, leaf: &CertificateDer<'_>) -> Result<(), TlsError> {
    node_id_from_der(leaf).map_err(|source| TlsError::OwnIdentity {
        path: path.to_owned(),
        source,
    })?;
    let valid_now = X509Certificate::from_der(leaf)
        .map(|(_, cert)| cert.validity().is_valid())
        .unwrap_or(false);
    if !valid_now {
        return Err(TlsError::OwnCertificateOutOfValidity {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Displays an error followed by its sources (`a: b: c`), for the one place
/// where an error is logged.
pub(crate) struct ErrorChain<'a>(pub(crate) &'a (dyn StdError + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}
