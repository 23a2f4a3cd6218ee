//! `[ldap]`: the authority's directory, which checks agents' passwords
//! (ADR 0009). Absent: every account is local. The service account's
//! password is read from a file (kept out of the configuration, which is
//! logged and often world-readable), when the node starts.

use std::path::PathBuf;
use std::time::Duration;

use passerelle_core::directory::{GroupDn, GroupMapping, GroupRole};
use passerelle_core::names::Slug;
use passerelle_core::role::Role;
use passerelle_ldap::{LdapDirectory, LdapSettings};
use serde::{Deserialize, Serialize};

/// The `[ldap]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// Tried in order: `["ldaps://ad1.metropole.local", "ldaps://ad2…"]`.
    pub urls: Vec<String>,
    /// StartTLS on `ldap://` URLs (required for them).
    #[serde(default)]
    pub starttls: bool,
    /// PEM certificates of the CA that signed the servers' certificates;
    /// absent: the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The node's own account, which searches the user base.
    pub bind_dn: String,
    /// A file holding that account's password (first line).
    pub bind_password_file: PathBuf,
    /// Where agents are searched: `OU=Agents,DC=metropole,DC=local`.
    pub user_base: String,
    /// With `{login}`: `(&(objectClass=user)(sAMAccountName={login}))` for
    /// Active Directory.
    #[serde(default = "default_filter")]
    pub user_filter: String,
    #[serde(default = "default_login")]
    pub login_attribute: String,
    #[serde(default = "default_name")]
    pub name_attribute: String,
    #[serde(default = "default_mail")]
    pub mail_attribute: String,
    /// For connecting and for each operation.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// How often every directory account is checked: who left the
    /// directory or is disabled there is disabled here.
    #[serde(default = "default_sync")]
    pub sync_minutes: u64,
    /// The attribute of an agent's entry listing their groups; `""`: not
    /// read.
    #[serde(default = "default_group_attribute")]
    pub group_attribute: String,
    /// Where groups listing their members (`groupOfNames`) are searched;
    /// absent: only `group_attribute` is read.
    #[serde(default)]
    pub group_base: Option<String>,
    /// With `{dn}`, the agent's entry.
    #[serde(default = "default_group_filter")]
    pub group_filter: String,
    /// Its members administer the node (the other directory accounts do
    /// not); absent: administrators are named by hand.
    #[serde(default)]
    pub admin_group: Option<String>,
    /// `[[ldap.group_roles]]`: a group's members are members of a space.
    #[serde(default)]
    pub group_roles: Vec<GroupRoleConfig>,
}

/// `[[ldap.group_roles]]`: `group = "cn=finances,ou=groupes,…"`,
/// `space = "finances"` (its slug), `role = "collaborator"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRoleConfig {
    pub group: String,
    pub space: Slug,
    pub role: Role,
}

fn default_filter() -> String {
    "(&(objectClass=inetOrgPerson)(uid={login}))".into()
}
fn default_login() -> String {
    "uid".into()
}
fn default_name() -> String {
    "cn".into()
}
fn default_mail() -> String {
    "mail".into()
}
fn default_timeout() -> u64 {
    5
}
fn default_sync() -> u64 {
    15
}
fn default_group_attribute() -> String {
    "memberOf".into()
}
fn default_group_filter() -> String {
    "(|(member={dn})(uniqueMember={dn}))".into()
}

impl LdapConfig {
    /// How often the directory sync runs.
    pub fn sync_period(&self) -> Duration {
        Duration::from_secs(self.sync_minutes.saturating_mul(60))
    }

    /// What the directory's groups grant on the node.
    pub fn group_mapping(&self) -> anyhow::Result<GroupMapping> {
        let dn = |what: &str, raw: &str| {
            GroupDn::parse(raw).map_err(|e| {
                anyhow::anyhow!("[ldap] {what}: {e}: give the group's full distinguished name")
            })
        };
        let admins = self
            .admin_group
            .as_deref()
            .map(|g| dn("admin_group", g))
            .transpose()?;
        let spaces = self
            .group_roles
            .iter()
            .map(|g| {
                Ok(GroupRole {
                    group: dn("group_roles.group", &g.group)?,
                    space: g.space.clone(),
                    role: g.role,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(GroupMapping { admins, spaces })
    }

    /// The directory these settings describe, its password file read.
    pub fn directory(&self) -> anyhow::Result<LdapDirectory> {
        let read = std::fs::read_to_string(&self.bind_password_file).map_err(|e| {
            anyhow::anyhow!(
                "[ldap] bind_password_file {}: {e}: write the service account's password in it \
                 (readable by the node's user only)",
                self.bind_password_file.display()
            )
        })?;
        let password = read.lines().next().unwrap_or_default().to_owned();
        if password.is_empty() {
            anyhow::bail!(
                "[ldap] bind_password_file {} is empty: an empty bind is anonymous",
                self.bind_password_file.display()
            );
        }
        if self.timeout_secs == 0 || self.timeout_secs > 120 {
            anyhow::bail!("[ldap] timeout_secs must be between 1 and 120");
        }
        if self.sync_minutes == 0 || self.sync_minutes > 24 * 60 {
            anyhow::bail!(
                "[ldap] sync_minutes must be between 1 and 1440: who leaves the directory must lose access"
            );
        }
        Ok(LdapDirectory::new(LdapSettings {
            urls: self.urls.clone(),
            starttls: self.starttls,
            ca_file: self.ca_file.clone(),
            bind_dn: self.bind_dn.clone(),
            bind_password: password,
            user_base: self.user_base.clone(),
            user_filter: self.user_filter.clone(),
            login_attribute: self.login_attribute.clone(),
            name_attribute: self.name_attribute.clone(),
            mail_attribute: self.mail_attribute.clone(),
            group_attribute: self.group_attribute.clone(),
            group_base: self.group_base.clone(),
            group_filter: self.group_filter.clone(),
            timeout: Duration::from_secs(self.timeout_secs),
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(password_file: PathBuf) -> LdapConfig {
        LdapConfig {
            urls: vec!["ldaps://ad1.metropole.local".into()],
            starttls: false,
            ca_file: None,
            bind_dn: "CN=passerelle,OU=Services,DC=metropole,DC=local".into(),
            bind_password_file: password_file,
            user_base: "OU=Agents,DC=metropole,DC=local".into(),
            user_filter: default_filter(),
            login_attribute: default_login(),
            name_attribute: default_name(),
            mail_attribute: default_mail(),
            timeout_secs: 5,
            sync_minutes: 15,
            group_attribute: default_group_attribute(),
            group_base: None,
            group_filter: default_group_filter(),
            admin_group: None,
            group_roles: Vec::new(),
        }
    }

    #[test]
    fn settings_that_cannot_work_stop_the_node_with_the_fix() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let missing = config(dir.path().join("absent"));
        let e = missing.directory().expect_err("missing file");
        assert!(e.to_string().contains("bind_password_file"), "{e}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n")?;
        assert!(config(empty).directory().is_err());
        let file = dir.path().join("password");
        std::fs::write(&file, "le secret du compte de service\n")?;
        config(file.clone()).directory()?;
        let mut never = config(file.clone());
        never.sync_minutes = 0;
        assert!(never.directory().is_err());
        let mut clear = config(file);
        clear.urls = vec!["ldap://ad1.metropole.local".into()];
        let e = clear.directory().expect_err("clear text");
        assert!(e.to_string().contains("starttls"), "{e}");
        Ok(())
    }

    #[test]
    fn group_mapping_is_read_and_a_bad_group_name_says_what_to_write() -> anyhow::Result<()> {
        let parsed: LdapConfig = toml::from_str(
            r#"
            urls = ["ldaps://ad1.metropole.local"]
            bind_dn = "CN=passerelle,OU=Services,DC=metropole,DC=local"
            bind_password_file = "/etc/passerelle/ldap-password"
            user_base = "OU=Agents,DC=metropole,DC=local"
            admin_group = "CN=GED-Admins, OU=Groupes,DC=metropole,DC=local"
            [[group_roles]]
            group = "CN=Finances,OU=Groupes,DC=metropole,DC=local"
            space = "finances"
            role = "collaborator"
            "#,
        )?;
        let mapping = parsed.group_mapping()?;
        assert_eq!(
            mapping.admins.as_ref().map(|g| g.as_str()),
            Some("cn=ged-admins,ou=groupes,dc=metropole,dc=local")
        );
        assert_eq!(mapping.spaces.len(), 1);
        assert_eq!(mapping.spaces[0].role, Role::Collaborator);
        let mut bad = parsed.clone();
        bad.admin_group = Some("GED-Admins".into());
        let e = bad.group_mapping().expect_err("not a dn");
        assert!(e.to_string().contains("admin_group"), "{e}");
        let unknown_role = toml::from_str::<LdapConfig>(
            r#"
            urls = ["ldaps://x"]
            bind_dn = "cn=x"
            bind_password_file = "/x"
            user_base = "dc=x"
            [[group_roles]]
            group = "cn=g,dc=x"
            space = "finances"
            role = "owner"
            "#,
        );
        assert!(unknown_role.is_err());
        Ok(())
    }
}
