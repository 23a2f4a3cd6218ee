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
//! `ldap://` with StartTLS, checked against the CA file given. An agent's
//! groups are read from their entry (`memberOf`) and, when a group base
//! is set, searched among the groups naming them as a member.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use passerelle_core::directory::{
    Directory, DirectoryEntry, DirectoryError, DirectoryStatus, GroupDn,
};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Where the login goes in [`LdapSettings::user_filter`].
pub const LOGIN_PLACEHOLDER: &str = "{login}";
/// Where the agent's entry goes in [`LdapSettings::group_filter`].
pub const DN_PLACEHOLDER: &str = "{dn}";

/// LDAP result codes this adapter reads (RFC 4511 §4.1.9).
const SUCCESS: u32 = 0;
const INVALID_CREDENTIALS: u32 = 49;
/// What Active Directory answers a bind of a disabled or locked account
/// with, besides 49 (its sub-codes say which).
const UNWILLING_TO_PERFORM: u32 = 53;

/// Active Directory's account flags, and the one that says "disabled".
const USER_ACCOUNT_CONTROL: &str = "userAccountControl";
const ACCOUNTDISABLE: u64 = 0x2;

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
    /// The attribute of an agent's entry that lists their groups
    /// (`memberOf` in Active Directory, and in OpenLDAP with the memberof
    /// overlay); empty: not read.
    pub group_attribute: String,
    /// Where groups naming the agent are searched, for directories that
    /// list members on the group only (`groupOfNames`); `None`: not
    /// searched.
    pub group_base: Option<String>,
    /// With [`DN_PLACEHOLDER`]: `(|(member={dn})(uniqueMember={dn}))`, or
    /// Active Directory's `(member:1.2.840.113556.1.4.1941:={dn})` for
    /// nested groups.
    pub group_filter: String,
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
    #[error("[ldap] group_filter must contain {DN_PLACEHOLDER}, where the agent's entry goes")]
    GroupFilter,
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
        if settings.group_base.is_some() && !settings.group_filter.contains(DN_PLACEHOLDER) {
            return Err(LdapSettingsError::GroupFilter);
        }
        let tls = match &settings.ca_file {
            None => None,
            Some(path) => Some(Arc::new(client_config(path)?)),
        };
        Ok(Self { settings, tls })
    }

    /// A connection to `url`, bound as the node's service account.
    async fn session(&self, url: &str) -> Result<Ldap, Attempt> {
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
        Ok(ldap)
    }

    /// The entries answering to `login` under the user base.
    async fn find(
        &self,
        ldap: &mut Ldap,
        url: &str,
        login: &str,
    ) -> Result<Vec<SearchEntry>, Attempt> {
        let s = &self.settings;
        let filter = s
            .user_filter
            .replace(LOGIN_PLACEHOLDER, &ldap_escape(login));
        let mut attrs = vec![
            s.login_attribute.as_str(),
            s.name_attribute.as_str(),
            s.mail_attribute.as_str(),
            USER_ACCOUNT_CONTROL,
        ];
        if !s.group_attribute.is_empty() {
            attrs.push(s.group_attribute.as_str());
        }
        let found = ldap
            .with_timeout(s.timeout)
            .search(&s.user_base, Scope::Subtree, &filter, attrs)
            .await
            .map_err(unreachable(url))?;
        let (entries, result) = (found.0, found.1);
        if result.rc != SUCCESS {
            return Err(Attempt::Refused(format!(
                "{url}: the search under {} was refused: {result}",
                s.user_base
            )));
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// The groups of the agent at `dn` that name them as a member, under
    /// the group base when one is set (none otherwise).
    async fn groups_naming(
        &self,
        ldap: &mut Ldap,
        url: &str,
        dn: &str,
    ) -> Result<Vec<GroupDn>, Attempt> {
        let s = &self.settings;
        let Some(base) = &s.group_base else {
            return Ok(Vec::new());
        };
        let filter = s.group_filter.replace(DN_PLACEHOLDER, &ldap_escape(dn));
        // "1.1": no attributes, the entries' names are the answer.
        let found = ldap
            .with_timeout(s.timeout)
            .search(base, Scope::Subtree, &filter, ["1.1"])
            .await
            .map_err(unreachable(url))?;
        let (entries, result) = (found.0, found.1);
        if result.rc != SUCCESS {
            return Err(Attempt::Refused(format!(
                "{url}: the group search under {base} was refused: {result}"
            )));
        }
        Ok(entries
            .into_iter()
            .filter_map(|e| GroupDn::parse(&SearchEntry::construct(e).dn).ok())
            .collect())
    }

    /// The entry as core sees it, with the groups both ways find.
    async fn described(
        &self,
        ldap: &mut Ldap,
        url: &str,
        e: SearchEntry,
    ) -> Result<DirectoryEntry, Attempt> {
        let mut more = self.groups_naming(ldap, url, &e.dn).await?;
        let mut entry = self.entry(e);
        entry.groups.append(&mut more);
        entry.groups.sort();
        entry.groups.dedup();
        Ok(entry)
    }

    /// One server's verdict on a password.
    async fn verify_at(
        &self,
        url: &str,
        login: &str,
        password: &str,
    ) -> Result<Option<DirectoryEntry>, Attempt> {
        let mut ldap = self.session(url).await?;
        let mut entries = self.find(&mut ldap, url, login).await?;
        // None, or several (a filter too loose): no one to bind as.
        if entries.len() != 1 {
            let _ = ldap.unbind().await;
            return Ok(None);
        }
        let entry = entries.remove(0);
        // Groups are read as the service account, before the bind as the
        // agent (who may not read them).
        let described = self.described(&mut ldap, url, entry.clone()).await?;
        let bound = ldap
            .with_timeout(self.settings.timeout)
            .simple_bind(&entry.dn, password)
            .await
            .map_err(unreachable(url))?;
        let _ = ldap.unbind().await;
        match bound.rc {
            SUCCESS => Ok(Some(described)),
            INVALID_CREDENTIALS | UNWILLING_TO_PERFORM => Ok(None),
            _ => Err(Attempt::Unreachable(format!("{url}: bind: {bound}"))),
        }
    }

    /// One server's word on each of `logins`, over one connection.
    async fn statuses_at(
        &self,
        url: &str,
        logins: &[String],
    ) -> Result<Vec<DirectoryStatus>, Attempt> {
        let mut ldap = self.session(url).await?;
        let mut out = Vec::with_capacity(logins.len());
        for login in logins {
            let mut entries = self.find(&mut ldap, url, login).await?;
            out.push(match entries.len() {
                0 => DirectoryStatus::Absent,
                1 => {
                    let entry = entries.remove(0);
                    if disabled(&entry) {
                        DirectoryStatus::Disabled
                    } else {
                        DirectoryStatus::Active(self.described(&mut ldap, url, entry).await?)
                    }
                }
                _ => DirectoryStatus::Ambiguous,
            });
        }
        let _ = ldap.unbind().await;
        Ok(out)
    }

    /// The first server's answer, in the configured order: one that does
    /// not answer passes to the next; one that refuses the node's settings
    /// ends the attempt (another would refuse them too).
    async fn first_answer<'a, T, F, Fut>(&'a self, attempt: F) -> Result<T, DirectoryError>
    where
        F: Fn(&'a str) -> Fut,
        Fut: Future<Output = Result<T, Attempt>>,
    {
        let mut last = String::new();
        for url in &self.settings.urls {
            match attempt(url).await {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Refused(why)) => return Err(DirectoryError::Misconfigured(why)),
                Err(Attempt::Unreachable(why)) => {
                    tracing::warn!(%why, "ldap: server unreachable, trying the next");
                    last = why;
                }
            }
        }
        Err(DirectoryError::Unavailable(last))
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
        let groups = if s.group_attribute.is_empty() {
            Vec::new()
        } else {
            e.attrs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(&s.group_attribute))
                .flat_map(|(_, v)| v.iter())
                .filter_map(|g| GroupDn::parse(g).ok())
                .collect()
        };
        DirectoryEntry {
            login: first(&s.login_attribute),
            display_name: first(&s.name_attribute),
            email: first(&s.mail_attribute),
            groups,
        }
    }
}

/// Whether Active Directory flags the entry as disabled
/// (`userAccountControl` with `ACCOUNTDISABLE`); other directories have no
/// such attribute, and their entries are not.
fn disabled(entry: &SearchEntry) -> bool {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(USER_ACCOUNT_CONTROL))
        .and_then(|(_, v)| v.first())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|flags| flags & ACCOUNTDISABLE != 0)
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
        self.first_answer(|url| self.verify_at(url, login, password))
            .await
    }

    async fn statuses(&self, logins: &[String]) -> Result<Vec<DirectoryStatus>, DirectoryError> {
        self.first_answer(|url| self.statuses_at(url, logins)).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn entry(uac: Option<&str>) -> SearchEntry {
        let mut attrs = HashMap::new();
        if let Some(v) = uac {
            attrs.insert("userAccountControl".to_owned(), vec![v.to_owned()]);
        }
        SearchEntry {
            dn: "CN=x".into(),
            attrs,
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn active_directory_s_disabled_flag_is_read_and_its_absence_is_enabled() {
        // 512 NORMAL_ACCOUNT, 514 = 512 | ACCOUNTDISABLE, 66050 with
        // DONT_EXPIRE_PASSWORD too.
        assert!(!disabled(&entry(Some("512"))));
        assert!(disabled(&entry(Some("514"))));
        assert!(disabled(&entry(Some("66050"))));
        assert!(!disabled(&entry(None)));
        assert!(!disabled(&entry(Some("not a number"))));
    }
}
