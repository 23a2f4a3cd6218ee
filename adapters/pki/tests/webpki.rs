//! The certificates this crate issues, checked by the same rustls/webpki
//! verifiers the grpc adapter configures: what passes here is what the mTLS
//! link accepts, and each certificate a peer must refuse is refused for the
//! right reason (expiry, unknown issuer, wrong usage).

use std::net::IpAddr;
use std::sync::Arc;

use passerelle_pki::{CA_VALIDITY, IssueOptions, IssuedBundle, NODE_VALIDITY, NodeId, Pki};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, Error, RootCertStore};

fn id(s: &str) -> NodeId {
    NodeId::parse(s).expect("valid id")
}

fn roots(pki: &Pki) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(pki.ca_der().clone())
        .expect("CA accepted as a root");
    Arc::new(roots)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The internal node checking an edge it dialled at `name`.
fn verify_server(pki: &Pki, bundle: &IssuedBundle, name: &str) -> Result<(), Error> {
    let verifier = WebPkiServerVerifier::builder_with_provider(roots(pki), provider())
        .build()
        .expect("verifier");
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    verifier
        .verify_server_cert(bundle.cert_der(), &[], &name, &[], UnixTime::now())
        .map(|_| ())
}

/// An edge checking the internal node's client certificate.
fn verify_client(pki: &Pki, bundle: &IssuedBundle) -> Result<(), Error> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(pki), provider())
        .build()
        .expect("verifier");
    verifier
        .verify_client_cert(bundle.cert_der(), &[], UnixTime::now())
        .map(|_| ())
}

struct Setup {
    _tmp: tempfile::TempDir,
    pki: Pki,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(&tmp.path().join("pki"), "Passerelle CA test", CA_VALIDITY).expect("init");
    Setup { _tmp: tmp, pki }
}

fn edge_options() -> IssueOptions {
    let ip: IpAddr = "203.0.113.10".parse().expect("ip");
    IssueOptions::edge(["edge.example.fr"], [ip])
}

#[test]
fn an_edge_certificate_is_accepted_for_its_dns_name_and_ip() {
    let s = setup();
    let bundle = s
        .pki
        .issue_edge(
            &id("edge-1"),
            &["edge.example.fr".into()],
            &["203.0.113.10".parse().expect("ip")],
            NODE_VALIDITY,
        )
        .expect("issue");
    verify_server(&s.pki, &bundle, "edge.example.fr").expect("by DNS name");
    verify_server(&s.pki, &bundle, "203.0.113.10").expect("by IP");
    assert!(matches!(
        verify_server(&s.pki, &bundle, "other.example.fr"),
        Err(Error::InvalidCertificate(
            CertificateError::NotValidForNameContext { .. }
        ))
    ));
}

#[test]
fn an_internal_certificate_is_accepted_as_a_client() {
    let s = setup();
    let bundle = s
        .pki
        .issue_internal(&id("internal"), NODE_VALIDITY)
        .expect("issue");
    verify_client(&s.pki, &bundle).expect("accepted");
}

#[test]
fn a_certificate_reloaded_from_disk_still_verifies() {
    let s = setup();
    let reopened = Pki::open(s.pki.dir()).expect("open");
    let bundle = reopened
        .issue_with(&id("internal"), &IssueOptions::internal())
        .expect("issue");
    verify_client(&s.pki, &bundle).expect("accepted by the original CA");
}

#[test]
fn an_expired_certificate_is_refused() {
    let s = setup();
    let edge = s
        .pki
        .issue_with(&id("edge-1"), &edge_options().expired())
        .expect("issue");
    assert!(matches!(
        verify_server(&s.pki, &edge, "edge.example.fr"),
        Err(Error::InvalidCertificate(
            CertificateError::ExpiredContext { .. }
        ))
    ));
    let internal = s
        .pki
        .issue_with(&id("internal"), &IssueOptions::internal().expired())
        .expect("issue");
    assert!(matches!(
        verify_client(&s.pki, &internal),
        Err(Error::InvalidCertificate(
            CertificateError::ExpiredContext { .. }
        ))
    ));
}

#[test]
fn a_not_yet_valid_certificate_is_refused() {
    let s = setup();
    let bundle = s
        .pki
        .issue_with(&id("internal"), &IssueOptions::internal().not_yet_valid())
        .expect("issue");
    assert!(matches!(
        verify_client(&s.pki, &bundle),
        Err(Error::InvalidCertificate(
            CertificateError::NotValidYetContext { .. }
        ))
    ));
}

/// webpki matches the root by subject name first: a foreign CA of another
/// name is an unknown issuer, one of the same name (the default name is the
/// host's) fails on the signature. Both are refusals.
fn refused_as_foreign(result: Result<(), Error>) -> bool {
    matches!(
        result,
        Err(Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature
        ))
    )
}

#[test]
fn a_certificate_from_a_foreign_ca_is_refused() {
    let s = setup();
    let same_name = setup();
    let tmp = tempfile::tempdir().expect("tempdir");
    let other_name = Pki::init(tmp.path(), "Someone else's CA", CA_VALIDITY).expect("init");
    for foreign in [&same_name.pki, &other_name] {
        let edge = foreign
            .issue_with(&id("edge-1"), &edge_options())
            .expect("issue");
        let result = verify_server(&s.pki, &edge, "edge.example.fr");
        assert!(refused_as_foreign(result.clone()), "{result:?}");
        let internal = foreign
            .issue_with(&id("internal"), &IssueOptions::internal())
            .expect("issue");
        let result = verify_client(&s.pki, &internal);
        assert!(refused_as_foreign(result.clone()), "{result:?}");
    }
}

#[test]
fn each_certificate_only_serves_its_side() {
    let s = setup();
    let edge = s
        .pki
        .issue_with(&id("edge-1"), &edge_options())
        .expect("issue");
    let result = verify_client(&s.pki, &edge);
    assert!(
        matches!(
            result,
            Err(Error::InvalidCertificate(
                CertificateError::InvalidPurposeContext { .. }
            ))
        ),
        "an edge (serverAuth) certificate must not authenticate a client: {result:?}"
    );
    let internal = s
        .pki
        .issue_with(
            &id("internal"),
            &IssueOptions {
                dns: vec!["edge.example.fr".into()],
                ..IssueOptions::internal()
            },
        )
        .expect("issue");
    let result = verify_server(&s.pki, &internal, "edge.example.fr");
    assert!(
        matches!(
            result,
            Err(Error::InvalidCertificate(
                CertificateError::InvalidPurposeContext { .. }
            ))
        ),
        "an internal (clientAuth) certificate must not authenticate a server: {result:?}"
    );
}
