//! A throwaway OpenLDAP server for tests (ADR 0009): Debian's `slapd`
//! started on two loopback ports (`ldap://`, `ldaps://` with a certificate
//! for 127.0.0.1 signed by a CA made here) in a temp directory, seeded
//! with the caller's LDIF by `ldapadd`, killed on drop. The memberof
//! overlay keeps `memberOf` on entries named by a `groupOfNames`, as
//! Active Directory does. Missing `slapd` is
//! a failure under CI (`.ci/run` installs it) and a skip elsewhere.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};

const SLAPD: &str = "/usr/sbin/slapd";
/// The directory's suffix.
pub const BASE: &str = "dc=metropole,dc=example";
/// Its administrator, who seeds it.
pub const ROOT_DN: &str = "cn=admin,dc=metropole,dc=example";
/// Its password.
pub const ROOT_PASSWORD: &str = "root secret";

/// A free loopback port (bound then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A throwaway slapd; killed on drop.
#[derive(Debug)]
pub struct Slapd {
    child: Child,
    /// `ldap://127.0.0.1:<port>` (StartTLS offered).
    pub ldap: String,
    /// `ldaps://127.0.0.1:<port>`.
    pub ldaps: String,
    /// The CA that signed the server's certificate (PEM).
    pub ca: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM
/// files in `dir`: `(ca, cert, key)`.
pub fn certificates(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let cert = params.signed_by(&key, &issuer)?;
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem())?;
    std::fs::write(&paths.1, cert.pem())?;
    std::fs::write(&paths.2, key.serialize_pem())?;
    Ok(paths)
}

impl Slapd {
    /// Applies `ldif` (changetype records) as the directory's
    /// administrator: a user leaves, a group loses a member…
    pub fn modify(&self, ldif: &str) -> anyhow::Result<()> {
        let file = self.dir.path().join("change.ldif");
        std::fs::write(&file, ldif)?;
        let out = Command::new("ldapmodify")
            .args([
                "-x",
                "-H",
                &self.ldap,
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
                "-f",
            ])
            .arg(&file)
            .output()
            .context("ldapmodify (apt-get install ldap-utils)")?;
        if !out.status.success() {
            bail!("ldapmodify: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

/// Starts slapd holding `seed` (LDIF, under [`BASE`]), or `None` (skip)
/// when it is not installed outside CI.
pub fn start(seed: &str) -> anyhow::Result<Option<Slapd>> {
    if !Path::new(SLAPD).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "slapd is missing: apt-get install slapd ldap-utils (.ci/run does)"
        );
        eprintln!("skipped: slapd is not installed (apt-get install slapd ldap-utils)");
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    std::fs::create_dir(d.join("db"))?;
    let (ca, cert, key) = certificates(d)?;
    let conf = d.join("slapd.conf");
    std::fs::write(
        &conf,
        format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             moduleload memberof\n\
             pidfile {d}/slapd.pid\n\
             argsfile {d}/slapd.args\n\
             TLSCertificateFile {cert}\n\
             TLSCertificateKeyFile {key}\n\
             TLSCACertificateFile {ca}\n\
             database mdb\n\
             maxsize 10485760\n\
             suffix \"{BASE}\"\n\
             rootdn \"{ROOT_DN}\"\n\
             rootpw \"{ROOT_PASSWORD}\"\n\
             directory {d}/db\n\
             overlay memberof\n",
            d = d.display(),
            cert = cert.display(),
            key = key.display(),
            ca = ca.display(),
        ),
    )?;
    let (p1, p2) = (free_port()?, free_port()?);
    let ldap = format!("ldap://127.0.0.1:{p1}");
    let ldaps = format!("ldaps://127.0.0.1:{p2}");
    let child = Command::new(SLAPD)
        .args([
            "-f",
            &conf.to_string_lossy(),
            "-h",
            &format!("{ldap}/ {ldaps}/"),
            "-d",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("start slapd")?;
    let mut s = Slapd {
        child,
        ldap,
        ldaps,
        ca,
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", p1)).is_ok() {
            break;
        }
        if let Some(status) = s.child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = s.child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err)?;
            }
            bail!("slapd exited ({status}): {err}");
        }
        if Instant::now() > deadline {
            bail!("slapd did not listen within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let seed_file = s.dir.path().join("seed.ldif");
    std::fs::write(&seed_file, seed)?;
    let out = Command::new("ldapadd")
        .args([
            "-x",
            "-H",
            &s.ldap,
            "-D",
            ROOT_DN,
            "-w",
            ROOT_PASSWORD,
            "-f",
        ])
        .arg(&seed_file)
        .output()
        .context("ldapadd (apt-get install ldap-utils)")?;
    if !out.status.success() {
        bail!("ldapadd: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(Some(s))
}
