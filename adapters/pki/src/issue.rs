//! What to issue and what comes out.
//!
//! [`IssueOptions`] describe a node certificate; the defaults are what ops get
//! from the CLI, and the fields let tests of other crates make the certificates
//! a peer must refuse: expired ([`IssueOptions::expired`]), not yet valid,
//! naming another node or none ([`Identity`]), or signed by a foreign CA (just
//! another [`Pki`](crate::Pki)).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    SanType, SerialNumber, string::Ia5String,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::files::{self, Access};
use crate::{CLOCK_SKEW, NODE_VALIDITY, NodeId, PkiError};

/// Names of the files of a bundle, in `issued/<id>/` or wherever it is written.
pub const CERT_FILE: &str = "cert.pem";
pub const KEY_FILE: &str = "key.pem";
pub const CA_FILE: &str = "ca.pem";

/// Which side of the gRPC link a certificate is for; it decides the extended
/// key usage, and is read back from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The edge is the TLS server (serverAuth), dialled by the internal node.
    Edge,
    /// The internal node is the TLS client (clientAuth).
    Internal,
}

impl Role {
    fn extended_key_usage(self) -> ExtendedKeyUsagePurpose {
        match self {
            Role::Edge => ExtendedKeyUsagePurpose::ServerAuth,
            Role::Internal => ExtendedKeyUsagePurpose::ClientAuth,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Edge => "edge",
            Role::Internal => "internal",
        })
    }
}

/// The URI SANs a certificate carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Identity {
    /// `passerelle://node/<id>` for the id it is issued to: the normal case.
    #[default]
    Node,
    /// No URI SAN: a certificate naming no node.
    Absent,
    /// Exactly these URIs, e.g. another node's, a malformed one, or two nodes.
    Uris(Vec<String>),
}

/// A node certificate to sign. `not_before = now + not_before_offset`,
/// `not_after = not_before + validity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOptions {
    pub role: Role,
    /// DNS names the edge is dialled by (server certificates).
    pub dns: Vec<String>,
    /// IP addresses the edge is dialled by (server certificates).
    pub ips: Vec<IpAddr>,
    pub identity: Identity,
    /// Negative: starts in the past. Default `-CLOCK_SKEW`.
    pub not_before_offset: Duration,
    /// Counted from not-before. Default one year.
    pub validity: Duration,
}

impl IssueOptions {
    /// A server certificate for an edge dialled by these names and addresses.
    pub fn edge<S: Into<String>>(
        dns: impl IntoIterator<Item = S>,
        ips: impl IntoIterator<Item = IpAddr>,
    ) -> Self {
        Self {
            dns: dns.into_iter().map(Into::into).collect(),
            ips: ips.into_iter().collect(),
            ..Self::internal()
        }
        .with_role(Role::Edge)
    }

    /// A client certificate for the internal node.
    pub fn internal() -> Self {
        Self {
            role: Role::Internal,
            dns: Vec::new(),
            ips: Vec::new(),
            identity: Identity::Node,
            not_before_offset: -CLOCK_SKEW,
            validity: NODE_VALIDITY,
        }
    }

    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    pub fn valid_for(mut self, validity: Duration) -> Self {
        self.validity = validity;
        self
    }

    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = identity;
        self
    }

    /// Valid from two days ago until yesterday.
    pub fn expired(mut self) -> Self {
        self.not_before_offset = -Duration::days(2);
        self.validity = Duration::days(1);
        self
    }

    /// Valid from tomorrow, for the current validity.
    pub fn not_yet_valid(mut self) -> Self {
        self.not_before_offset = Duration::days(1);
        self
    }

    /// The rcgen parameters; the key and the signature are the caller's.
    pub(crate) fn params(
        &self,
        id: &NodeId,
        now: OffsetDateTime,
    ) -> Result<CertificateParams, PkiError> {
        let mut sans = Vec::with_capacity(self.dns.len() + self.ips.len() + 1);
        for name in &self.dns {
            sans.push(SanType::DnsName(dns_name(name)?));
        }
        sans.extend(self.ips.iter().copied().map(SanType::IpAddress));
        let uris = match &self.identity {
            Identity::Node => vec![id.uri()],
            Identity::Absent => Vec::new(),
            Identity::Uris(uris) => uris.clone(),
        };
        for uri in uris {
            let ia5 = Ia5String::try_from(uri.as_str())
                .map_err(|e| PkiError::certificate(format!("invalid URI {uri:?}"), e))?;
            sans.push(SanType::URI(ia5));
        }

        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, id.as_str());
        let mut params = CertificateParams::default();
        params.distinguished_name = name;
        params.subject_alt_names = sans;
        params.not_before = now + self.not_before_offset;
        params.not_after = params.not_before + self.validity;
        params.serial_number = Some(random_serial());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![self.role.extended_key_usage()];
        params.use_authority_key_identifier_extension = true;
        Ok(params)
    }
}

/// Random, positive, 16 bytes: serials must not be guessable nor collide
/// (RFC 5280 allows up to 20 octets).
pub(crate) fn random_serial() -> SerialNumber {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    // High bit clear: positive. Second bit set: minimal encoding keeps 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// A DNS name as certificates carry it: lowercase LDH labels joined by dots
/// (upper case is folded: DNS names are case-insensitive).
fn dns_name(name: &str) -> Result<Ia5String, PkiError> {
    let bad = || PkiError::BadDnsName {
        name: name.to_owned(),
    };
    let lower = name.to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if lower.is_empty() || lower.len() > 253 || !lower.split('.').all(label_ok) {
        return Err(bad());
    }
    Ia5String::try_from(lower).map_err(|_| bad())
}

/// A signed node certificate with its fresh private key and the CA
/// certificate: all a node needs for its side of the mTLS link.
#[derive(Clone)]
pub struct IssuedBundle {
    pub id: NodeId,
    pub role: Role,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub cert_pem: String,
    /// PKCS#8 PEM. Never logged: `Debug` elides it.
    pub key_pem: String,
    pub ca_pem: String,
    /// Where the bundle was written (`issued/<id>/`); `None` for
    /// [`Pki::issue_with`](crate::Pki::issue_with), which writes nothing.
    pub dir: Option<PathBuf>,
    pub(crate) cert_der: CertificateDer<'static>,
    pub(crate) key_der: Vec<u8>,
    pub(crate) ca_der: CertificateDer<'static>,
}

impl IssuedBundle {
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.key_der.clone()).into()
    }

    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// Writes `key.pem` (0600), `ca.pem` and `cert.pem` into `dir` (created
    /// 0700 if missing), replacing files of those names. `cert.pem` comes last:
    /// its presence means a complete bundle. Also for tests that need files,
    /// e.g. a node configured with an expired certificate.
    pub fn write_to(&self, dir: &Path) -> Result<(), PkiError> {
        files::create_private_dir(dir)?;
        files::replace(
            &dir.join(KEY_FILE),
            self.key_pem.as_bytes(),
            Access::Private,
        )?;
        files::replace(&dir.join(CA_FILE), self.ca_pem.as_bytes(), Access::Public)?;
        files::replace(
            &dir.join(CERT_FILE),
            self.cert_pem.as_bytes(),
            Access::Public,
        )?;
        files::sync_dir(dir)
    }
}

impl fmt::Debug for IssuedBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedBundle")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("dir", &self.dir)
            .field("key_pem", &"[elided]")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_lowercase_ldh_labels() {
        for ok in ["edge.example.fr", "localhost", "a-1.b2.example", "x"] {
            assert_eq!(dns_name(ok).expect(ok).as_str(), ok);
        }
        assert_eq!(
            dns_name("Edge.Example.FR").expect("folded").as_str(),
            "edge.example.fr"
        );
        for bad in [
            "",
            "edge..example",
            ".edge",
            "edge.",
            "-edge.fr",
            "edge-.fr",
            "edge_1.fr",
            "*.example.fr",
            "édge.fr",
            "edge example",
            &format!("{}.fr", "a".repeat(64)),
        ] {
            assert!(
                matches!(dns_name(bad), Err(PkiError::BadDnsName { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn serials_are_positive_sixteen_bytes_and_differ() {
        let a = random_serial();
        let b = random_serial();
        assert_eq!(a.len(), 16);
        assert!(a.to_bytes()[0] & 0x80 == 0);
        assert_ne!(a, b);
    }

    #[test]
    fn expired_options_end_before_now() {
        let o = IssueOptions::internal().expired();
        assert!(o.not_before_offset + o.validity < Duration::ZERO);
    }

    #[test]
    fn edge_options_keep_names_and_role() {
        let o = IssueOptions::edge(["edge.example.fr"], ["203.0.113.10".parse().expect("ip")]);
        assert_eq!(o.role, Role::Edge);
        assert_eq!(o.dns, ["edge.example.fr"]);
        assert_eq!(o.ips.len(), 1);
        assert_eq!(o.validity, NODE_VALIDITY);
        assert_eq!(o.not_before_offset, -CLOCK_SKEW);
    }
}
