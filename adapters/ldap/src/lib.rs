//! # passerelle-ldap
//!
//! A driven adapter: core's `Directory` port (ADR 0009) over LDAP, for
//! agents of an authority whose accounts live in Active Directory or
//! OpenLDAP. A check is a service bind, a search for the agent's entry
//! (the login escaped into the configured filter, RFC 4515), then a bind
//! as that entry with the password. The servers are tried in order: one
//! that does not answer passes to the next; a refusal of the node's own
//! settings (its service bind, its base) stops there, for an
//! administrator to fix. ldap3 over rustls with ring: `ldaps://`, or
//! `ldap://` with StartTLS, checked against the CA file given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use passerelle_core::directory::{Directory, DirectoryEntry, DirectoryError};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Where the login goes in [`LdapSettings::user_filter`].
pub const LOGIN_PLACEHOLDER: &str = "{login}";

/// LDAP result codes this adapter reads (RFC 4511 §4.1.9).
const SUCCESS: u32 = 0;
const INVALID_CREDENTIALS: u32 = 49;
/// What Active Directory answers a bind of a disabled or locked account
/// with, besides 49 (its sub-codes say which).
const UNWILLING_TO_PERFORM: u32 = 53;

/// How to reach and read the directory.
#[derive(Clone, Debug)]
pub struct LdapSettings {
    /// Tried in order: `ldaps://ad1.example.fr`, `ldap://ad2…` (StartTLS
    /// when `starttls`).
    pub urls: Vec<String>,
    pub starttls: bool,
    /// PEM certificates the servers' chains must end at; `None`: the
    /// system's roots.
    pub ca_file: Option<PathBuf>,
    /// The node's own account, which may search the user base.
    pub bind_dn: String,
    pub bind_password: String,
    pub user_base: String,
    /// With [`LOGIN_PLACEHOLDER`]: `(&(objectClass=user)(sAMAccountName={login}))`.
    pub user_filter: String,
    pub login_attribute: String,
    pub name_attribute: String,
    pub mail_attribute: String,
    /// For connecting, and for each operation.
    pub timeout: Duration,
}

/// Settings that cannot work, found when the node starts.
#[derive(Debug, thiserror::Error)]
pub enum LdapSettingsError {
    #[error("[ldap] urls is empty: give at least one ldaps:// or ldap:// URL")]
    NoUrl,
    #[error(
        "[ldap] url {0} is neither ldaps:// nor ldap://: passwords must not travel in clear, use ldaps:// or ldap:// with starttls = true"
    )]
    Url(String),
    #[error("[ldap] user_filter must contain {LOGIN_PLACEHOLDER}, where the login goes")]
    Filter,
    #[error("[ldap] ca_file {path}: {why}")]
    CaFile { path: PathBuf, why: String },
}

/// See the crate documentation.
#[derive(Clone)]
pub struct LdapDirectory {
    settings: LdapSettings,
    tls: Option<Arc<ClientConfig>>,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The service account's password stays out of logs.
        f.debug_struct("LdapDirectory")
            .field("urls", &self.settings.urls)
            .field("user_base", &self.settings.user_base)
            .finish_non_exhaustive()
    }
}

/// Why one server gave no verdict.
enum Attempt {
    /// Not reached, TLS refused, timed out: the next server may answer.
    Unreachable(String),
    /// The node's settings refused: no other server will think otherwise.
    Refused(String),
}

fn unreachable(url: &str) -> impl Fn(ldap3::LdapError) -> Attempt + '_ {
    move |e| Attempt::Unreachable(format!("{url}: {e}"))
}

impl LdapDirectory {
    /// Checks the settings and reads the CA file.
    pub fn new(settings: LdapSettings) -> Result<Self, LdapSettingsError> {
        if settings.urls.is_empty() {
            return Err(LdapSettingsError::NoUrl);
        }
        for url in &settings.urls {
            let secure =
                url.starts_with("ldaps://") || (url.starts_with("ldap://") && settings.starttls);
            if !secure {
                return Err(LdapSettingsError::Url(url.clone()));
            }
        }
        if !settings.user_filter.contains(LOGIN_PLACEHOLDER) {
            return Err(LdapSettingsError::Filter);
        }
        let tls = match &settings.ca_file {
            None => None,
            Some(path) => Some(Arc::new(client_config(path)?)),
        };
        Ok(Self { settings, tls })
    }

    /// One server's verdict.
    async fn verify_at(
        &self,
        url: &str,
        filter: &str,
        password: &str,
    ) -> Result<Option<DirectoryEntry>, Attempt> {
        let s = &self.settings;
        let mut conn = LdapConnSettings::new()
            .set_conn_timeout(s.timeout)
            .set_starttls(s.starttls && url.starts_with("ldap://"));
        if let Some(tls) = &self.tls {
            conn = conn.set_config(tls.clone());
        }
        let (driver, mut ldap) = LdapConnAsync::with_settings(conn, url)
            .await
            .map_err(unreachable(url))?;
        ldap3::drive!(driver);
        let service = ldap
            .with_timeout(s.timeout)
            .simple_bind(&s.bind_dn, &s.bind_password)
            .await
            .map_err(unreachable(url))?;
        if service.rc != SUCCESS {
            return Err(Attempt::Refused(format!(
                "{url}: the service account's bind ({}) was refused: {service}",
                s.bind_dn
            )));
        }
        let attrs = [&s.login_attribute, &s.name_attribute, &s.mail_attribute];
        let found = ldap
            .with_timeout(s.timeout)
            .search(&s.user_base, Scope::Subtree, filter, attrs)
            .await
            .map_err(unreachable(url))?;
        let (mut entries, result) = (found.0, found.1);
        if result.rc != SUCCESS {
            return Err(Attempt::Refused(format!(
                "{url}: the search under {} was refused: {result}",
                s.user_base
            )));
        }
        // None, or several (a filter too loose): no one to bind as.
        if entries.len() != 1 {
            let _ = ldap.unbind().await;
            return Ok(None);
        }
        let entry = SearchEntry::construct(entries.remove(0));
        let bound = ldap
            .with_timeout(s.timeout)
            .simple_bind(&entry.dn, password)
            .await
            .map_err(unreachable(url))?;
        let _ = ldap.unbind().await;
        match bound.rc {
            SUCCESS => Ok(Some(self.entry(entry))),
            INVALID_CREDENTIALS | UNWILLING_TO_PERFORM => Ok(None),
            _ => Err(Attempt::Unreachable(format!("{url}: bind: {bound}"))),
        }
    }

    fn entry(&self, e: SearchEntry) -> DirectoryEntry {
        let first = |attr: &str| {
            e.attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(attr))
                .and_then(|(_, v)| v.first().cloned())
                .unwrap_or_default()
        };
        let s = &self.settings;
        DirectoryEntry {
            login: first(&s.login_attribute),
            display_name: first(&s.name_attribute),
            email: first(&s.mail_attribute),
        }
    }
}

/// A rustls client configuration trusting the certificates of `path`.
fn client_config(path: &PathBuf) -> Result<ClientConfig, LdapSettingsError> {
    let bad = |why: String| LdapSettingsError::CaFile {
        path: path.clone(),
        why,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn verify(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Option<DirectoryEntry>, DirectoryError> {
        // Core never asks with an empty password; this adapter never binds
        // with one either (an anonymous success on many servers).
        if password.is_empty() || login.is_empty() {
            return Ok(None);
        }
        let filter = self
            .settings
            .user_filter
            .replace(LOGIN_PLACEHOLDER, &ldap_escape(login));
        let mut last = String::new();
        for url in &self.settings.urls {
            match self.verify_at(url, &filter, password).await {
                Ok(verdict) => return Ok(verdict),
                Err(Attempt::Refused(why)) => return Err(DirectoryError::Misconfigured(why)),
                Err(Attempt::Unreachable(why)) => {
                    tracing::warn!(%why, "ldap: server unreachable, trying the next");
                    last = why;
                }
            }
        }
        Err(DirectoryError::Unavailable(last))
    }
}
