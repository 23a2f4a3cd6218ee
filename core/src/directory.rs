//! The authority's directory (LDAP, Active Directory) as core sees it
//! (ADR 0009): a port that checks an agent's login and password and says
//! who they are there, and what it says of accounts now (the sync that
//! disables those who left). Core decides what a directory answer means for an
//! account (`service::accounts`); the adapter (`adapters/ldap`) speaks
//! LDAP. Only the internal node has one.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::names::Slug;
use crate::role::Role;

/// An agent as the directory describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The login as the directory spells it (`uid`, `sAMAccountName`…).
    pub login: String,
    pub display_name: String,
    /// Empty when the directory has none.
    pub email: String,
    /// The groups the agent belongs to, as the directory lists them
    /// (`memberOf`, or the groups naming them as `member`).
    pub groups: Vec<GroupDn>,
}

/// A directory group, by its distinguished name, compared as directories
/// compare the usual ones: case, and spaces around `,` and `=`, do not
/// count (`CN=Finances, OU=Groupes,DC=metropole` is
/// `cn=finances,ou=groupes,dc=metropole`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupDn(String);

/// A string that is no distinguished name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a group's distinguished name (expected cn=…,ou=…,dc=…)")]
pub struct BadGroupDn(pub String);

impl GroupDn {
    /// The normal form of `dn`: each `attribute=value` part trimmed and
    /// lower-cased, escaped separators (`\,`) kept inside their value.
    pub fn parse(dn: &str) -> Result<Self, BadGroupDn> {
        let bad = || BadGroupDn(dn.to_owned());
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut escaped = false;
        for c in dn.chars() {
            if c.is_control() {
                return Err(bad());
            }
            match c {
                _ if escaped => {
                    current.push(c);
                    escaped = false;
                }
                '\\' => {
                    current.push(c);
                    escaped = true;
                }
                ',' => parts.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        parts.push(current);
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let (attr, value) = part.split_once('=').ok_or_else(bad)?;
            let (attr, value) = (attr.trim(), value.trim());
            if attr.is_empty() || value.is_empty() {
                return Err(bad());
            }
            out.push(format!("{}={}", attr.to_lowercase(), value.to_lowercase()));
        }
        Ok(Self(out.join(",")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupDn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What directory groups grant on the node (ADR 0009 §6): the group whose
/// members administer it, and the groups whose members are members of a
/// space with a role. Empty: groups grant nothing, and the directory
/// sync touches no administrator flag and no membership.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupMapping {
    /// Its members are the node's administrators; the others among
    /// directory accounts are not.
    pub admins: Option<GroupDn>,
    pub spaces: Vec<GroupRole>,
}

/// A group's members are members of `space` with `role`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRole {
    pub group: GroupDn,
    pub space: Slug,
    pub role: Role,
}

impl GroupMapping {
    pub fn is_empty(&self) -> bool {
        self.admins.is_none() && self.spaces.is_empty()
    }

    /// Whether members of `groups` administer the node, when a group says
    /// so; `None` when no group is mapped to administrators.
    pub fn admin(&self, groups: &[GroupDn]) -> Option<bool> {
        self.admins.as_ref().map(|a| groups.contains(a))
    }

    /// For each space a group is mapped to, the role `groups` grant there
    /// (the strongest when several do), or `None` when they grant none.
    pub fn roles(&self, groups: &[GroupDn]) -> BTreeMap<&Slug, Option<Role>> {
        let mut out: BTreeMap<&Slug, Option<Role>> = BTreeMap::new();
        for g in &self.spaces {
            let granted = groups.contains(&g.group).then_some(g.role);
            let best = out.entry(&g.space).or_default();
            *best = (*best).max(granted);
        }
        out
    }

    /// Whether groups decide memberships of the space `slug`.
    pub fn covers(&self, slug: &Slug) -> bool {
        self.spaces.iter().any(|g| &g.space == slug)
    }

    /// The groups mapped to `slug`, for messages.
    pub fn groups_of(&self, slug: &Slug) -> Vec<&GroupDn> {
        self.spaces
            .iter()
            .filter(|g| &g.space == slug)
            .map(|g| &g.group)
            .collect()
    }
}

/// What the directory says of an account now (the directory sync).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryStatus {
    /// There and enabled, as described.
    Active(DirectoryEntry),
    /// There, disabled (Active Directory's `userAccountControl`).
    Disabled,
    /// Not there: the agent left.
    Absent,
    /// Several entries answer to the login (a filter too loose): nothing
    /// can be concluded, the account is left as it is.
    Ambiguous,
}

/// Why the directory gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// No server answered (down, unreachable, TLS refused, timed out): the
    /// password was not judged.
    #[error("the directory cannot be reached: {0}")]
    Unavailable(String),
    /// The node's own settings are wrong (the service account's bind
    /// refused, a bad base or filter): for an administrator to fix.
    #[error("the directory refused the node's settings: {0}")]
    Misconfigured(String),
}

/// Checks an agent's credentials against the directory.
#[async_trait]
pub trait Directory: Send + Sync + fmt::Debug {
    /// The entry of `login` (with its groups) when `password` is theirs and the account is
    /// enabled there; `None` for an unknown login, a wrong password or a
    /// disabled account (the same answer, so nothing tells them apart).
    /// Callers never pass an empty password.
    async fn verify(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Option<DirectoryEntry>, DirectoryError>;

    /// What the directory says now of each of `logins`, in order, without
    /// their passwords (the node's service account reads them).
    async fn statuses(&self, logins: &[String]) -> Result<Vec<DirectoryStatus>, DirectoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> GroupDn {
        GroupDn::parse(s).expect("a dn")
    }

    #[test]
    fn group_names_compare_without_case_or_spaces_around_separators() {
        assert_eq!(
            dn("CN=Finances, OU=Groupes ,DC=metropole"),
            dn("cn=finances,ou=groupes,dc=metropole")
        );
        // An escaped comma stays inside its value.
        assert_eq!(
            dn(r"cn=Dupont\, Jean,dc=x").as_str(),
            r"cn=dupont\, jean,dc=x"
        );
        assert_ne!(dn(r"cn=a\,b=c,dc=x"), dn("cn=a,b=c,dc=x"));
        for bad in [
            "",
            "finances",
            "cn=,dc=x",
            "=x",
            "cn=a,,dc=x",
            "cn=a\0,dc=x",
        ] {
            assert!(GroupDn::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_strongest_role_of_the_groups_wins_and_a_mapped_space_without_one_is_none() {
        let slug = |s: &str| Slug::parse(s).expect("a slug");
        let mapping = GroupMapping {
            admins: Some(dn("cn=admins,dc=x")),
            spaces: vec![
                GroupRole {
                    group: dn("cn=lecteurs,dc=x"),
                    space: slug("finances"),
                    role: Role::Reader,
                },
                GroupRole {
                    group: dn("cn=comptables,dc=x"),
                    space: slug("finances"),
                    role: Role::Collaborator,
                },
                GroupRole {
                    group: dn("cn=juristes,dc=x"),
                    space: slug("actes"),
                    role: Role::Contributor,
                },
            ],
        };
        let groups = [dn("cn=lecteurs,dc=x"), dn("CN=Comptables,DC=x")];
        let roles = mapping.roles(&groups);
        assert_eq!(
            roles.get(&slug("finances")),
            Some(&Some(Role::Collaborator))
        );
        assert_eq!(roles.get(&slug("actes")), Some(&None));
        assert_eq!(roles.len(), 2);
        assert_eq!(mapping.admin(&groups), Some(false));
        assert_eq!(mapping.admin(&[dn("cn=admins,dc=x")]), Some(true));
        assert_eq!(GroupMapping::default().admin(&groups), None);
        assert!(mapping.covers(&slug("actes")) && !mapping.covers(&slug("rh")));
    }
}
