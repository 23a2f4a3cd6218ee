//! The authority's directory (LDAP, Active Directory) as core sees it
//! (ADR 0009): a port that checks an agent's login and password and says
//! who they are there, and what it says of accounts now (the sync that
//! disables those who left). Core decides what a directory answer means for an
//! account (`service::accounts`); the adapter (`adapters/ldap`) speaks
//! LDAP. Only the internal node has one.

use std::fmt;

use async_trait::async_trait;

/// An agent as the directory describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The login as the directory spells it (`uid`, `sAMAccountName`…).
    pub login: String,
    pub display_name: String,
    /// Empty when the directory has none.
    pub email: String,
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
    /// The entry of `login` when `password` is theirs and the account is
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
