//! The certificates issued to nodes, as stored in `issued/<id>/`: issuing for
//! ops, listing, renewing. Everything is read back from the certificates
//! themselves (role from the extended key usage, names from the SANs), so the
//! inventory cannot disagree with what was handed out.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::authority::ISSUED_DIR;
use crate::files::{self, Access};
use crate::issue::{CERT_FILE, KEY_FILE};
use crate::{Identity, IssueOptions, IssuedBundle, NodeId, Pki, PkiError, RENEWAL_THRESHOLD, Role};

/// Suffix of the files a renewal replaced, kept until the next one.
pub const PREVIOUS_SUFFIX: &str = ".previous";

/// Where a certificate stands in its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expiry {
    Valid,
    /// Expires within the renewal threshold.
    RenewSoon,
    Expired,
}

/// A certificate found in `issued/<id>/cert.pem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCert {
    /// The directory's name.
    pub id: NodeId,
    pub role: Role,
    /// Hex, as `openssl x509 -serial` shows it.
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
    /// URI SANs, normally just `passerelle://node/<id>`.
    pub uris: Vec<String>,
    /// False if another CA (e.g. a replaced one) signed it: peers will refuse it.
    pub signed_by_ca: bool,
    /// A `cert.pem.previous` from the last renewal is present.
    pub has_previous: bool,
    /// At listing time, with [`RENEWAL_THRESHOLD`].
    pub expiry: Expiry,
    pub dir: PathBuf,
}

impl IssuedCert {
    pub fn expiry_at(&self, now: OffsetDateTime, threshold: Duration) -> Expiry {
        if self.not_after <= now {
            Expiry::Expired
        } else if self.not_after <= now + threshold {
            Expiry::RenewSoon
        } else {
            Expiry::Valid
        }
    }
}

impl Pki {
    /// Issues and stores the server bundle of an edge dialled by `dns` / `ips`
    /// (at least one), in `issued/<id>/`. Refuses an id that already has one.
    pub fn issue_edge(
        &self,
        id: &NodeId,
        dns: &[String],
        ips: &[IpAddr],
        validity: Duration,
    ) -> Result<IssuedBundle, PkiError> {
        check_validity(validity)?;
        if dns.is_empty() && ips.is_empty() {
            return Err(PkiError::MissingServerName);
        }
        let options =
            IssueOptions::edge(dns.iter().cloned(), ips.iter().copied()).valid_for(validity);
        self.store(self.issue_with(id, &options)?)
    }

    /// Issues and stores the client bundle of the internal node in
    /// `issued/<id>/`. Refuses an id that already has one.
    pub fn issue_internal(
        &self,
        id: &NodeId,
        validity: Duration,
    ) -> Result<IssuedBundle, PkiError> {
        check_validity(validity)?;
        self.store(self.issue_with(id, &IssueOptions::internal().valid_for(validity))?)
    }

    /// Writes a bundle from [`Pki::issue_with`] to `issued/<id>/`, where
    /// `list` and `renew` find it; refuses an id that already has one.
    pub fn store(&self, mut bundle: IssuedBundle) -> Result<IssuedBundle, PkiError> {
        let dir = self.bundle_dir(&bundle.id);
        if files::exists(&dir.join(CERT_FILE))? {
            return Err(PkiError::AlreadyIssued { id: bundle.id, dir });
        }
        files::create_private_dir(&self.dir().join(ISSUED_DIR))?;
        bundle.write_to(&dir)?;
        tracing::info!(node = %bundle.id, role = %bundle.role, not_after = %bundle.not_after, "certificate issued");
        bundle.dir = Some(dir);
        Ok(bundle)
    }

    /// Every certificate in `issued/`, by id. Directories that are not node
    /// ids, or hold no `cert.pem` yet, are skipped.
    pub fn list(&self) -> Result<Vec<IssuedCert>, PkiError> {
        let issued = self.dir().join(ISSUED_DIR);
        let entries = match fs::read_dir(&issued) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(PkiError::io(&issued, e)),
        };
        let now = OffsetDateTime::now_utc();
        let mut certs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| PkiError::io(&issued, e))?;
            let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|n| NodeId::parse(n).ok())
            else {
                tracing::warn!(path = %entry.path().display(), "not a node directory, skipped");
                continue;
            };
            let dir = entry.path();
            if !files::exists(&dir.join(CERT_FILE))? {
                continue;
            }
            certs.push(self.read_issued(id, dir, now)?);
        }
        certs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(certs)
    }

    /// The issued certificates expiring within `threshold` (or expired).
    pub fn needs_renewal(&self, threshold: Duration) -> Result<Vec<IssuedCert>, PkiError> {
        let limit = OffsetDateTime::now_utc() + threshold;
        let mut certs = self.list()?;
        certs.retain(|c| c.not_after <= limit);
        Ok(certs)
    }

    /// Re-issues `id`'s certificate with a new key, the same role and names,
    /// for `validity`. The replaced `cert.pem` and `key.pem` stay as
    /// `*.pem.previous` (until the next renewal), so a rollout can be undone.
    pub fn renew(&self, id: &NodeId, validity: Duration) -> Result<IssuedBundle, PkiError> {
        check_validity(validity)?;
        let dir = self.bundle_dir(id);
        if !files::exists(&dir.join(CERT_FILE))? {
            return Err(PkiError::NotIssued {
                id: id.clone(),
                dir,
            });
        }
        let old = self.read_issued(id.clone(), dir.clone(), OffsetDateTime::now_utc())?;
        let options = IssueOptions {
            role: old.role,
            dns: old.dns,
            ips: old.ips,
            identity: Identity::Node,
            ..IssueOptions::internal()
        }
        .valid_for(validity);
        let mut bundle = self.issue_with(id, &options)?;

        // New files first, under temporary names; then each old file moves
        // aside and the new one takes its place.
        for (name, contents, access) in [
            (KEY_FILE, &bundle.key_pem, Access::Private),
            (CERT_FILE, &bundle.cert_pem, Access::Public),
        ] {
            let path = dir.join(name);
            let new = files::sibling(&path, ".new");
            files::remove_if_exists(&new)?;
            files::write_new(&new, contents.as_bytes(), access)?;
            if files::exists(&path)? {
                files::rename(&path, &files::sibling(&path, PREVIOUS_SUFFIX))?;
            }
            files::rename(&new, &path)?;
        }
        files::replace(
            &dir.join(crate::issue::CA_FILE),
            bundle.ca_pem.as_bytes(),
            Access::Public,
        )?;
        files::sync_dir(&dir)?;
        tracing::info!(node = %id, role = %bundle.role, not_after = %bundle.not_after, "certificate renewed");
        bundle.dir = Some(dir);
        Ok(bundle)
    }

    fn read_issued(
        &self,
        id: NodeId,
        dir: PathBuf,
        now: OffsetDateTime,
    ) -> Result<IssuedCert, PkiError> {
        let path = dir.join(CERT_FILE);
        let pem = files::read_to_string(&path)?;
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| PkiError::certificate(format!("cannot read {}", path.display()), e))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| PkiError::certificate(format!("cannot parse {}", path.display()), e))?;
        let role = role_of(&cert).ok_or_else(|| PkiError::UnknownRole { path: path.clone() })?;
        let (dns, ips, uris) = names_of(&cert, &path)?;
        let mut issued = IssuedCert {
            id,
            role,
            serial: cert.raw_serial_as_string(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            dns,
            ips,
            uris,
            signed_by_ca: self.signed(&cert),
            has_previous: files::exists(&files::sibling(&path, PREVIOUS_SUFFIX))?,
            expiry: Expiry::Valid,
            dir,
        };
        issued.expiry = issued.expiry_at(now, RENEWAL_THRESHOLD);
        Ok(issued)
    }
}

fn check_validity(validity: Duration) -> Result<(), PkiError> {
    if validity <= Duration::ZERO {
        return Err(PkiError::BadValidity { validity });
    }
    Ok(())
}

fn role_of(cert: &X509Certificate<'_>) -> Option<Role> {
    let eku = cert.extended_key_usage().ok()??.value;
    match (eku.server_auth, eku.client_auth) {
        (true, false) => Some(Role::Edge),
        (false, true) => Some(Role::Internal),
        _ => None,
    }
}

type Names = (Vec<String>, Vec<IpAddr>, Vec<String>);

fn names_of(cert: &X509Certificate<'_>, path: &Path) -> Result<Names, PkiError> {
    let san = cert.subject_alternative_name().map_err(|e| {
        PkiError::certificate(format!("cannot read the names in {}", path.display()), e)
    })?;
    let (mut dns, mut ips, mut uris) = (Vec::new(), Vec::new(), Vec::new());
    for name in san.iter().flat_map(|ext| ext.value.general_names.iter()) {
        match name {
            GeneralName::DNSName(d) => dns.push((*d).to_owned()),
            GeneralName::URI(u) => uris.push((*u).to_owned()),
            GeneralName::IPAddress(bytes) => {
                if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                    ips.push(IpAddr::from(v4));
                } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                    ips.push(IpAddr::from(v6));
                }
            }
            _ => {}
        }
    }
    Ok((dns, ips, uris))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::{CA_VALIDITY, NODE_VALIDITY, node_id_of};

    fn id(s: &str) -> NodeId {
        NodeId::parse(s).expect("valid id")
    }

    fn new_pki(dir: &Path) -> Pki {
        Pki::init(dir, "Passerelle CA test", CA_VALIDITY).expect("init")
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn edge_1(pki: &Pki) -> IssuedBundle {
        pki.issue_edge(
            &id("edge-1"),
            &["edge.example.fr".to_owned()],
            &["203.0.113.10".parse().expect("ip")],
            NODE_VALIDITY,
        )
        .expect("issue edge")
    }

    #[test]
    fn issue_edge_writes_the_bundle_ops_copy() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let bundle = edge_1(&pki);
        let dir = tmp.path().join("issued/edge-1");
        assert_eq!(bundle.dir.as_deref(), Some(dir.as_path()));
        assert_eq!(mode_of(&dir.join("key.pem")), 0o600);
        assert_eq!(
            fs::read_to_string(dir.join("cert.pem")).expect("cert"),
            bundle.cert_pem
        );
        assert_eq!(
            fs::read_to_string(dir.join("key.pem")).expect("key"),
            bundle.key_pem
        );
        assert_eq!(
            fs::read_to_string(dir.join("ca.pem")).expect("ca"),
            pki.ca_pem()
        );
        assert_eq!(
            node_id_of(bundle.cert_der()).expect("parse"),
            Some(id("edge-1"))
        );
    }

    #[test]
    fn issuing_twice_for_one_id_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let first = edge_1(&pki);
        let err = pki
            .issue_internal(&id("edge-1"), NODE_VALIDITY)
            .expect_err("refused");
        assert!(matches!(err, PkiError::AlreadyIssued { .. }));
        assert!(err.to_string().contains("pki renew --id edge-1"), "{err}");
        let on_disk = fs::read_to_string(tmp.path().join("issued/edge-1/cert.pem")).expect("cert");
        assert_eq!(on_disk, first.cert_pem);
    }

    #[test]
    fn an_edge_needs_a_name_and_validities_must_be_positive() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        assert!(matches!(
            pki.issue_edge(&id("edge-1"), &[], &[], NODE_VALIDITY),
            Err(PkiError::MissingServerName)
        ));
        assert!(matches!(
            pki.issue_internal(&id("internal"), Duration::days(-1)),
            Err(PkiError::BadValidity { .. })
        ));
        assert!(matches!(
            pki.issue_edge(&id("edge-1"), &["bad_name".into()], &[], NODE_VALIDITY),
            Err(PkiError::BadDnsName { .. })
        ));
        assert!(pki.list().expect("list").is_empty(), "nothing half-written");
    }

    #[test]
    fn list_reads_roles_names_and_flags_expiry() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        assert!(pki.list().expect("empty list").is_empty());
        edge_1(&pki);
        pki.issue_internal(&id("internal"), NODE_VALIDITY)
            .expect("internal");
        pki.issue_internal(&id("soon"), Duration::days(10))
            .expect("soon");
        let expired = pki
            .issue_with(
                &id("old"),
                &IssueOptions::edge(["old.example.fr"], []).expired(),
            )
            .expect("expired");
        pki.store(expired).expect("store");
        fs::create_dir(tmp.path().join("issued/Not_A_Node")).expect("stray dir");

        let list = pki.list().expect("list");
        let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["edge-1", "internal", "old", "soon"]);

        let edge = &list[0];
        assert_eq!(edge.role, Role::Edge);
        assert_eq!(edge.dns, ["edge.example.fr"]);
        assert_eq!(edge.ips, ["203.0.113.10".parse::<IpAddr>().expect("ip")]);
        assert_eq!(edge.uris, ["passerelle://node/edge-1"]);
        assert!(edge.signed_by_ca && !edge.has_previous);
        assert_eq!(edge.expiry, Expiry::Valid);

        assert_eq!(list[1].role, Role::Internal);
        assert_eq!(list[1].expiry, Expiry::Valid);
        assert_eq!(list[2].expiry, Expiry::Expired);
        assert_eq!(list[3].expiry, Expiry::RenewSoon);

        let due: Vec<String> = pki
            .needs_renewal(RENEWAL_THRESHOLD)
            .expect("due")
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(due, ["old", "soon"]);
    }

    #[test]
    fn list_flags_certificates_of_another_ca() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let foreign = new_pki(other.path());
        let bundle = foreign
            .issue_with(&id("edge-9"), &IssueOptions::edge(["localhost"], []))
            .expect("issue");
        pki.store(bundle).expect("store");
        let list = pki.list().expect("list");
        assert!(!list[0].signed_by_ca);
    }

    #[test]
    fn renew_changes_the_key_keeps_the_names_and_the_previous_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let first = edge_1(&pki);
        let before = pki.list().expect("list").remove(0);

        let renewed = pki.renew(&id("edge-1"), Duration::days(90)).expect("renew");
        assert_ne!(renewed.key_pem, first.key_pem);
        assert_ne!(renewed.cert_pem, first.cert_pem);
        assert_eq!(renewed.role, Role::Edge);

        let dir = tmp.path().join("issued/edge-1");
        assert_eq!(
            fs::read_to_string(dir.join("key.pem")).expect("key"),
            renewed.key_pem
        );
        assert_eq!(
            fs::read_to_string(dir.join("cert.pem.previous")).expect("old"),
            first.cert_pem
        );
        assert_eq!(
            fs::read_to_string(dir.join("key.pem.previous")).expect("old"),
            first.key_pem
        );
        assert_eq!(mode_of(&dir.join("key.pem")), 0o600);
        assert_eq!(mode_of(&dir.join("key.pem.previous")), 0o600);

        let after = pki.list().expect("list").remove(0);
        assert_eq!(
            (&after.dns, &after.ips, &after.uris),
            (&before.dns, &before.ips, &before.uris)
        );
        assert_eq!(after.role, Role::Edge);
        assert_ne!(after.serial, before.serial);
        assert!(after.has_previous && after.signed_by_ca);
        assert!(after.not_after < before.not_after, "90 days, not a year");

        // The next renewal replaces the previous files with the current ones.
        let third = pki
            .renew(&id("edge-1"), NODE_VALIDITY)
            .expect("renew again");
        assert_eq!(
            fs::read_to_string(dir.join("key.pem.previous")).expect("old"),
            renewed.key_pem
        );
        assert_eq!(
            fs::read_to_string(dir.join("key.pem")).expect("key"),
            third.key_pem
        );
        assert!(!dir.join("key.pem.new").exists() && !dir.join("cert.pem.new").exists());
    }

    #[test]
    fn renew_fixes_an_expired_certificate_and_keeps_an_internal_role() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let expired = pki
            .issue_with(&id("internal"), &IssueOptions::internal().expired())
            .expect("expired");
        pki.store(expired).expect("store");
        let renewed = pki.renew(&id("internal"), NODE_VALIDITY).expect("renew");
        assert_eq!(renewed.role, Role::Internal);
        let now = pki.list().expect("list").remove(0);
        assert_eq!(now.expiry, Expiry::Valid);
        assert_eq!(now.role, Role::Internal);
        assert_eq!(now.uris, ["passerelle://node/internal"]);
    }

    #[test]
    fn renewing_an_unknown_id_says_how_to_issue_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        let err = pki
            .renew(&id("edge-7"), NODE_VALIDITY)
            .expect_err("unknown");
        assert!(matches!(err, PkiError::NotIssued { .. }));
        assert!(err.to_string().contains("issue-edge"), "{err}");
    }

    #[test]
    fn expiry_at_uses_the_threshold() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pki = new_pki(tmp.path());
        pki.issue_internal(&id("internal"), Duration::days(40))
            .expect("issue");
        let cert = pki.list().expect("list").remove(0);
        let now = OffsetDateTime::now_utc();
        assert_eq!(cert.expiry_at(now, Duration::days(30)), Expiry::Valid);
        assert_eq!(cert.expiry_at(now, Duration::days(45)), Expiry::RenewSoon);
        assert_eq!(
            cert.expiry_at(now + Duration::days(41), Duration::days(30)),
            Expiry::Expired
        );
    }
}
