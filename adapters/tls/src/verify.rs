//! Certificate verifiers that check the chain with WebPKI first, then the
//! peer's node identity (a client of the edge against its allow-list, the
//! edge a link dials against that edge's id), so a peer with a valid chain
//! but the wrong identity fails the handshake itself (no request is ever served).

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};

use super::identity::{AllowList, IdentityError, NodeId, expect_node};

/// Server side: a client certificate is required, must chain to the CA and
/// must name an allowed node.
#[derive(Debug)]
pub(crate) struct NodeClientVerifier {
    /// The WebPKI verifier rooted at the configured CA: chain, validity, EKU.
    pub(crate) inner: Arc<dyn ClientCertVerifier>,
    /// Nodes allowed to connect.
    pub(crate) allowed: AllowList,
}

impl ClientCertVerifier for NodeClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        self.allowed.check(end_entity).map_err(refused)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Client side: the server certificate must chain to the CA, be valid for the
/// name dialled (WebPKI hostname check) and name the edge this link is for.
#[derive(Debug)]
pub(crate) struct NodeServerVerifier {
    /// The WebPKI verifier rooted at the configured CA: chain, validity, name.
    pub(crate) inner: Arc<dyn ServerCertVerifier>,
    /// The one node this client accepts as its server: the edge it dials.
    pub(crate) expected: NodeId,
}

impl ServerCertVerifier for NodeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        expect_node(end_entity, &self.expected).map_err(refused)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// An identity refusal as rustls reports certificate problems (the peer gets a
/// `bad_certificate` alert), keeping our reason for the log.
fn refused(err: IdentityError) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(err))))
}

/// A one-line reason for a failed handshake, for logs: rustls' own message,
/// except for our identity refusals, whose `Debug`-shaped default would hide
/// the node id.
pub fn handshake_failure_reason(err: &io::Error) -> String {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => {
            format!("invalid peer certificate: {other}")
        }
        Some(tls) => tls.to_string(),
        None => err.to_string(),
    }
}

/// Whether the handshake failed because the peer sent a fatal alert (it
/// refused us, or gave up), rather than because we refused it.
pub fn aborted_by_peer(err: &io::Error) -> bool {
    matches!(
        err.get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::AlertReceived(_))
    )
}
