//! The CA itself: made once by [`Pki::init`], reloaded by [`Pki::open`], and
//! the only thing that signs ([`Pki::issue_with`]).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;

use crate::files::{self, Access};
use crate::issue::{IssueOptions, IssuedBundle, random_serial};
use crate::{CLOCK_SKEW, NodeId, PkiError};

pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca.key";
/// Sub-directory holding one bundle directory per node.
pub const ISSUED_DIR: &str = "issued";

/// The CA certificate, as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaInfo {
    /// Its common name, e.g. "Passerelle CA intranet-1".
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// The private CA in a directory: its certificate, and its key loaded to sign.
pub struct Pki {
    dir: PathBuf,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    ca_info: CaInfo,
    /// The CA's subject and signing key; rcgen's `Debug` elides the key.
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    /// Makes a new CA (ECDSA P-256) in `dir` (created 0700 if missing):
    /// `ca.key` created 0600, then `ca.pem`. Refuses if either file exists:
    /// replacing a CA silently would orphan every certificate it signed.
    pub fn init(dir: &Path, ca_name: &str, validity: Duration) -> Result<Self, PkiError> {
        if ca_name.trim().is_empty() {
            return Err(PkiError::BadCaName {
                name: ca_name.to_owned(),
            });
        }
        if validity <= Duration::ZERO {
            return Err(PkiError::BadValidity { validity });
        }
        let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        if files::exists(&cert_path)? || files::exists(&key_path)? {
            return Err(PkiError::AlreadyInitialised {
                dir: dir.to_owned(),
            });
        }
        files::create_private_dir(dir)?;

        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| PkiError::certificate("cannot generate the CA key", e))?;
        let params = ca_params(ca_name, crate::now_in_seconds(), validity);
        let cert = params
            .self_signed(&key)
            .map_err(|e| PkiError::certificate("cannot sign the CA certificate", e))?;

        // create_new: if another `init` raced us, exactly one wins.
        files::write_new(&key_path, key.serialize_pem().as_bytes(), Access::Private).map_err(
            |e| match e {
                PkiError::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists => {
                    PkiError::AlreadyInitialised {
                        dir: dir.to_owned(),
                    }
                }
                other => other,
            },
        )?;
        files::write_new(&cert_path, cert.pem().as_bytes(), Access::Public)?;
        files::sync_dir(dir)?;
        tracing::info!(dir = %dir.display(), name = ca_name, "CA created");

        let ca_info = CaInfo {
            name: ca_name.to_owned(),
            not_before: params.not_before,
            not_after: params.not_after,
        };
        Ok(Self {
            dir: dir.to_owned(),
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            ca_info,
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads the CA of `dir`. Refuses a `ca.key` that group or others can read,
    /// and a key that is not the certificate's.
    pub fn open(dir: &Path) -> Result<Self, PkiError> {
        let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        if !files::exists(&cert_path)? || !files::exists(&key_path)? {
            return Err(PkiError::NotInitialised {
                dir: dir.to_owned(),
            });
        }
        files::check_private(&key_path)?;
        let key = KeyPair::from_pem(&files::read_to_string(&key_path)?).map_err(|e| {
            PkiError::certificate(format!("cannot read the key in {}", key_path.display()), e)
        })?;
        let ca_pem = files::read_to_string(&cert_path)?;
        let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| {
            PkiError::certificate(format!("cannot read {}", cert_path.display()), e)
        })?;
        let (_, cert) = x509_parser::parse_x509_certificate(&ca_der).map_err(|e| {
            PkiError::certificate(format!("cannot parse {}", cert_path.display()), e)
        })?;
        if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(PkiError::KeyMismatch { path: key_path });
        }
        let ca_info = CaInfo {
            name: common_name(&cert).unwrap_or_default(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
        };
        let issuer = Issuer::from_ca_cert_der(&ca_der, key).map_err(|e| {
            PkiError::certificate(format!("cannot use {} as a CA", cert_path.display()), e)
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            ca_pem,
            ca_der,
            ca_info,
            issuer,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of a node's bundle: `<dir>/issued/<id>`.
    pub fn bundle_dir(&self, id: &NodeId) -> PathBuf {
        self.dir.join(ISSUED_DIR).join(id.as_str())
    }

    /// The CA certificate in PEM: the trust root both sides configure.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    pub fn ca_info(&self) -> &CaInfo {
        &self.ca_info
    }

    /// Signs a certificate for `id` with a fresh ECDSA P-256 key, in memory:
    /// nothing is written (see [`IssuedBundle::write_to`], or `issue_edge` /
    /// `issue_internal` for the stored bundles ops use). No check on the
    /// options beyond what a certificate can encode, so tests can make
    /// expired, not-yet-valid or mis-named certificates.
    pub fn issue_with(
        &self,
        id: &NodeId,
        options: &IssueOptions,
    ) -> Result<IssuedBundle, PkiError> {
        let params = options.params(id, crate::now_in_seconds())?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| PkiError::certificate("cannot generate a key", e))?;
        let cert = params.signed_by(&key, &self.issuer).map_err(|e| {
            PkiError::certificate(format!("cannot sign the certificate of {id}"), e)
        })?;
        Ok(IssuedBundle {
            id: id.clone(),
            role: options.role,
            not_before: params.not_before,
            not_after: params.not_after,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: self.ca_pem.clone(),
            dir: None,
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            ca_der: self.ca_der.clone(),
        })
    }

    /// Whether this CA signed `cert`: the issuer name is the CA's subject and
    /// the signature verifies with the CA key.
    pub(crate) fn signed(&self, cert: &X509Certificate<'_>) -> bool {
        let Ok((_, ca)) = x509_parser::parse_x509_certificate(&self.ca_der) else {
            return false;
        };
        cert.issuer().as_raw() == ca.subject().as_raw()
            && cert.verify_signature(Some(ca.public_key())).is_ok()
    }
}

impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki")
            .field("dir", &self.dir)
            .field("ca", &self.ca_info)
            .finish_non_exhaustive()
    }
}

/// A CA that signs node certificates only (path length 0): even a stolen
/// node key cannot mint further certificates.
fn ca_params(name: &str, now: OffsetDateTime, validity: Duration) -> CertificateParams {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.not_before = now - CLOCK_SKEW;
    params.not_after = params.not_before + validity;
    params.serial_number = Some(random_serial());
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

pub(crate) fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::net::IpAddr;
    use std::os::unix::fs::PermissionsExt;

    use x509_parser::extensions::GeneralName;

    use super::*;
    use crate::{CA_VALIDITY, Identity, NODE_VALIDITY, Role, node_id_of};

    fn id(s: &str) -> NodeId {
        NodeId::parse(s).expect("valid id")
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn new_pki(dir: &Path) -> Pki {
        Pki::init(dir, "Passerelle CA test", CA_VALIDITY).expect("init")
    }

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        x509_parser::parse_x509_certificate(der).expect("parses").1
    }

    fn general_names(cert: &X509Certificate<'_>) -> Vec<String> {
        let san = cert.subject_alternative_name().expect("san ok");
        san.iter()
            .flat_map(|ext| ext.value.general_names.iter())
            .map(|n| match n {
                GeneralName::DNSName(d) => format!("dns:{d}"),
                GeneralName::URI(u) => format!("uri:{u}"),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => format!("ip:{}", IpAddr::from(<[u8; 4]>::try_from(*b).expect("v4"))),
                    _ => format!("ip:{}", IpAddr::from(<[u8; 16]>::try_from(*b).expect("v6"))),
                },
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn init_writes_a_0600_key_and_refuses_to_run_twice() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("pki");
        let pki = new_pki(&dir);
        assert_eq!(mode_of(&dir.join(CA_KEY_FILE)), 0o600);
        assert_eq!(mode_of(&dir), 0o700);
        let ca = parse(pki.ca_der());
        assert!(ca.is_ca());
        assert_eq!(common_name(&ca).as_deref(), Some("Passerelle CA test"));
        let lifetime = ca.validity().not_after.to_datetime() - OffsetDateTime::now_utc();
        assert!(lifetime > CA_VALIDITY - Duration::hours(1) && lifetime <= CA_VALIDITY);

        let before = fs::read(dir.join(CA_KEY_FILE)).expect("read key");
        let err = Pki::init(&dir, "Another", CA_VALIDITY).expect_err("second init refused");
        assert!(matches!(err, PkiError::AlreadyInitialised { .. }), "{err}");
        assert!(
            err.to_string().contains("--dir"),
            "the message tells the fix: {err}"
        );
        assert_eq!(fs::read(dir.join(CA_KEY_FILE)).expect("read key"), before);
    }

    #[test]
    fn init_refuses_when_only_the_key_is_left() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::write(tmp.path().join(CA_KEY_FILE), "old").expect("write");
        assert!(matches!(
            Pki::init(tmp.path(), "CA", CA_VALIDITY),
            Err(PkiError::AlreadyInitialised { .. })
        ));
    }

    #[test]
    fn init_refuses_an_empty_name_or_validity() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            Pki::init(tmp.path(), " ", CA_VALIDITY),
            Err(PkiError::BadCaName { .. })
        ));
        assert!(matches!(
            Pki::init(tmp.path(), "CA", Duration::ZERO),
            Err(PkiError::BadValidity { .. })
        ));
    }

    #[test]
    fn open_reloads_the_same_ca() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let made = new_pki(tmp.path());
        let opened = Pki::open(tmp.path()).expect("open");
        assert_eq!(opened.ca_pem(), made.ca_pem());
        assert_eq!(opened.ca_info(), made.ca_info());
        // Certificates signed after reopening chain to the original CA.
        let bundle = opened
            .issue_with(&id("internal"), &IssueOptions::internal())
            .expect("issue");
        assert!(made.signed(&parse(bundle.cert_der())));
    }

    #[test]
    fn open_refuses_a_world_readable_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        new_pki(tmp.path());
        let key = tmp.path().join(CA_KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = Pki::open(tmp.path()).expect_err("refused");
        assert!(matches!(err, PkiError::InsecureKeyFile { .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn open_refuses_a_key_that_is_not_the_cas() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        new_pki(tmp.path());
        new_pki(other.path());
        fs::copy(other.path().join(CA_KEY_FILE), tmp.path().join(CA_KEY_FILE)).expect("copy");
        assert!(matches!(
            Pki::open(tmp.path()),
            Err(PkiError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn open_without_a_ca_says_how_to_make_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = Pki::open(tmp.path()).expect_err("no CA");
        assert!(matches!(err, PkiError::NotInitialised { .. }));
        assert!(err.to_string().contains("pki init"), "{err}");
    }

    #[test]
    fn edge_certificate_chains_to_the_ca_with_its_names_and_server_auth() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let ip: IpAddr = "203.0.113.10".parse().expect("ip");
        let options = IssueOptions::edge(["edge.example.fr"], [ip]);
        let bundle = pki.issue_with(&id("edge-1"), &options).expect("issue");
        let cert = parse(bundle.cert_der());
        let ca = parse(pki.ca_der());

        cert.verify_signature(Some(ca.public_key()))
            .expect("signed by the CA");
        assert_eq!(cert.issuer().as_raw(), ca.subject().as_raw());
        assert!(pki.signed(&cert));
        assert!(!cert.is_ca());
        assert_eq!(
            general_names(&cert),
            [
                "dns:edge.example.fr",
                "ip:203.0.113.10",
                "uri:passerelle://node/edge-1"
            ]
        );
        let eku = cert
            .extended_key_usage()
            .expect("ok")
            .expect("present")
            .value;
        assert!(eku.server_auth && !eku.client_auth);
        assert_eq!(bundle.role, Role::Edge);
        assert_eq!(bundle.ca_pem, pki.ca_pem());
        // The PEMs and DERs describe the same certificate and key.
        assert_eq!(
            CertificateDer::from_pem_slice(bundle.cert_pem.as_bytes()).expect("pem"),
            *bundle.cert_der()
        );
        let key = KeyPair::from_pem(&bundle.key_pem).expect("key pem");
        assert_eq!(
            cert.public_key().subject_public_key.data.as_ref(),
            key.public_key_raw()
        );
        assert!(!format!("{bundle:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn internal_certificate_has_client_auth_and_its_uri_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let bundle = pki
            .issue_with(&id("internal"), &IssueOptions::internal())
            .expect("issue");
        let cert = parse(bundle.cert_der());
        let eku = cert
            .extended_key_usage()
            .expect("ok")
            .expect("present")
            .value;
        assert!(eku.client_auth && !eku.server_auth);
        assert_eq!(general_names(&cert), ["uri:passerelle://node/internal"]);
        assert_eq!(bundle.not_after, cert.validity().not_after.to_datetime());
        assert_eq!(bundle.not_before, cert.validity().not_before.to_datetime());
        let lifetime = bundle.not_after - OffsetDateTime::now_utc();
        assert!(lifetime > NODE_VALIDITY - Duration::hours(1) && lifetime <= NODE_VALIDITY);
        assert!(bundle.not_before < OffsetDateTime::now_utc() - Duration::minutes(4));
    }

    #[test]
    fn node_id_of_round_trips() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        for (name, options) in [
            ("edge-1", IssueOptions::edge(["localhost"], [])),
            ("internal", IssueOptions::internal()),
            ("x", IssueOptions::internal()),
        ] {
            let bundle = pki.issue_with(&id(name), &options).expect("issue");
            assert_eq!(
                node_id_of(bundle.cert_der()).expect("parse"),
                Some(id(name))
            );
        }
    }

    #[test]
    fn identity_options_make_wrong_or_missing_identities() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let issue = |identity: Identity| {
            let options = IssueOptions::edge(["localhost"], []).with_identity(identity);
            pki.issue_with(&id("edge-1"), &options).expect("issue")
        };

        let other = issue(Identity::Uris(vec![id("edge-2").uri()]));
        assert_eq!(
            node_id_of(other.cert_der()).expect("parse"),
            Some(id("edge-2"))
        );

        let absent = issue(Identity::Absent);
        assert_eq!(node_id_of(absent.cert_der()).expect("parse"), None);

        let foreign_uri = issue(Identity::Uris(vec!["https://example.fr/".into()]));
        assert_eq!(node_id_of(foreign_uri.cert_der()).expect("parse"), None);

        let bad = issue(Identity::Uris(vec!["passerelle://node/../x".into()]));
        assert!(matches!(
            node_id_of(bad.cert_der()),
            Err(PkiError::BadNodeId { .. })
        ));

        let two = issue(Identity::Uris(vec![id("edge-1").uri(), id("edge-2").uri()]));
        assert!(matches!(
            node_id_of(two.cert_der()),
            Err(PkiError::AmbiguousNodeId { .. })
        ));
    }

    #[test]
    fn expired_option_produces_not_after_in_the_past() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let bundle = pki
            .issue_with(
                &id("edge-1"),
                &IssueOptions::edge(["localhost"], []).expired(),
            )
            .expect("issue");
        let cert = parse(bundle.cert_der());
        let now = OffsetDateTime::now_utc();
        assert!(cert.validity().not_after.to_datetime() < now);
        assert!(bundle.not_after < now);
        assert!(!cert.validity().is_valid());
        assert!(pki.signed(&cert), "expired, but still from this CA");

        let later = pki
            .issue_with(&id("edge-1"), &IssueOptions::internal().not_yet_valid())
            .expect("issue");
        assert!(parse(later.cert_der()).validity().not_before.to_datetime() > now);
    }

    #[test]
    fn a_foreign_ca_does_not_verify() {
        let ours = tempfile::tempdir().expect("tempdir");
        let theirs = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(ours.path());
        // Same name on purpose: only the key tells them apart.
        let foreign = new_pki(theirs.path());
        let bundle = foreign
            .issue_with(&id("edge-1"), &IssueOptions::edge(["localhost"], []))
            .expect("issue");
        let cert = parse(bundle.cert_der());
        assert!(!pki.signed(&cert));
        assert!(foreign.signed(&cert));
        assert!(
            cert.verify_signature(Some(parse(pki.ca_der()).public_key()))
                .is_err()
        );
    }

    #[test]
    fn serial_numbers_differ_between_certificates() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let a = pki
            .issue_with(&id("a"), &IssueOptions::internal())
            .expect("a");
        let b = pki
            .issue_with(&id("a"), &IssueOptions::internal())
            .expect("b");
        assert_ne!(
            parse(a.cert_der()).raw_serial(),
            parse(b.cert_der()).raw_serial()
        );
        assert_ne!(a.key_pem, b.key_pem);
    }

    #[test]
    fn write_to_makes_a_bundle_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(&tmp.path().join("pki"));
        let bundle = pki
            .issue_with(
                &id("edge-1"),
                &IssueOptions::edge(["localhost"], []).expired(),
            )
            .expect("issue");
        let out = tmp.path().join("expired");
        bundle.write_to(&out).expect("write");
        assert_eq!(mode_of(&out.join("key.pem")), 0o600);
        assert_eq!(
            fs::read_to_string(out.join("cert.pem")).expect("cert"),
            bundle.cert_pem
        );
        assert_eq!(
            fs::read_to_string(out.join("ca.pem")).expect("ca"),
            pki.ca_pem()
        );
    }
}
