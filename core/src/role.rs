//! Roles in a space and the rights each grants: exactly the table of DESIGN §2.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A member's role in a space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Contributor,
    Collaborator,
    Manager,
}

/// What a principal tries to do in a space. "Own" means the principal created
/// the document or folder.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Action {
    Read,
    Create,
    Edit {
        own: bool,
    },
    Delete {
        own: bool,
    },
    /// Members, sharing, trash restore and purge, space settings.
    Manage,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Manager,
        Role::Collaborator,
        Role::Contributor,
        Role::Reader,
    ];

    /// The rights table of DESIGN §2, and nothing else.
    pub fn allows(self, action: Action) -> bool {
        use Role::*;
        match action {
            Action::Read => true,
            Action::Create => self != Reader,
            Action::Edit { own: true } => self != Reader,
            Action::Edit { own: false } => matches!(self, Manager | Collaborator),
            Action::Delete { own: true } => self != Reader,
            Action::Delete { own: false } => self == Manager,
            Action::Manage => self == Manager,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Contributor => "contributor",
            Role::Collaborator => "collaborator",
            Role::Manager => "manager",
        }
    }
}

/// A string that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected manager, collaborator, contributor or reader")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Role::Reader),
            "contributor" => Ok(Role::Contributor),
            "collaborator" => Ok(Role::Collaborator),
            "manager" => Ok(Role::Manager),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of DESIGN §2, row by row:
    /// read, create, edit own, edit any, delete own, delete any, manage.
    #[test]
    fn rights_are_exactly_the_design_table() {
        let table = [
            (Role::Manager, [true, true, true, true, true, true, true]),
            (
                Role::Collaborator,
                [true, true, true, true, true, false, false],
            ),
            (
                Role::Contributor,
                [true, true, true, false, true, false, false],
            ),
            (
                Role::Reader,
                [true, false, false, false, false, false, false],
            ),
        ];
        let actions = [
            Action::Read,
            Action::Create,
            Action::Edit { own: true },
            Action::Edit { own: false },
            Action::Delete { own: true },
            Action::Delete { own: false },
            Action::Manage,
        ];
        for (role, expected) in table {
            for (action, want) in actions.iter().zip(expected) {
                assert_eq!(role.allows(*action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn parses_and_prints_roles() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
