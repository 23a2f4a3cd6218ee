//! Locks (ADR 0007 §1): one model for the API's check-out, the web pages,
//! WebDAV LOCK and later CMIS checkOut. A lock is attached to a
//! [`Resource`] by identity (it follows renames and moves), is local to
//! the node that took it (not revisioned, not in the change feed), and
//! expires by itself: its `expires_at` is compared with the clock at every
//! check, so an expired lock excludes nothing even before a sweep deletes
//! its row.
//!
//! `store`: the [`LockStore`] part of the repository's transaction, so a
//! write use case checks the locks and writes in one transaction.
//! `mirror`: [`LockSummary`], what an edge is told of the internal node's
//! locks, and the [`LockMirror`] part of the transaction that keeps them
//! there (ADR 0007, "Locks seen on the edge").

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::ids::{PrincipalId, SpaceId};
use crate::model::Resource;

mod mirror;
mod store;
pub use mirror::{LockMirror, LockSummary};
pub use store::LockStore;

/// The `opaquelocktoken:` URI scheme of RFC 4918 §20.
const SCHEME: &str = "opaquelocktoken:";

/// Names one lock. Shown and parsed as `opaquelocktoken:<uuid>` (RFC 4918
/// §6.5), the form WebDAV clients send back in `If:` and `Lock-Token:`.
/// Not a secret: anyone who may read the resource may see it; only its
/// holder may refresh or release the lock with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockToken(Uuid);

impl LockToken {
    /// A fresh random token (v4: tokens must not be guessable from one
    /// another, unlike the time-ordered ids of rows).
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn from_uuid(u: Uuid) -> Self {
        Self(u)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for LockToken {
    fn default() -> Self {
        Self::new()
    }
}

/// A string that is not `opaquelocktoken:<uuid>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a lock token (expected opaquelocktoken:<uuid>)")]
pub struct InvalidLockToken;

impl FromStr for LockToken {
    type Err = InvalidLockToken;

    /// `opaquelocktoken:<uuid>`, the scheme case-insensitive (URI schemes
    /// are); the angle brackets of `If:` headers are the caller's to strip.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let head = s.get(..SCHEME.len()).ok_or(InvalidLockToken)?;
        if !head.eq_ignore_ascii_case(SCHEME) {
            return Err(InvalidLockToken);
        }
        Uuid::parse_str(&s[SCHEME.len()..])
            .map(Self)
            .map_err(|_| InvalidLockToken)
    }
}

impl fmt::Display for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.0)
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LockToken({})", self.0)
    }
}

/// Whether others may hold a lock on the same resource at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockScope {
    /// Nobody else: every other lock covering or below conflicts.
    Exclusive,
    /// Other shared locks may coexist; an exclusive one may not.
    Shared,
}

impl LockScope {
    /// Stable name (database, API).
    pub fn as_str(self) -> &'static str {
        match self {
            LockScope::Exclusive => "exclusive",
            LockScope::Shared => "shared",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [LockScope::Exclusive, LockScope::Shared]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What a lock on a folder or space covers besides itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockDepth {
    /// The resource only (a folder's content stays writable).
    Zero,
    /// The resource and everything below it.
    Infinity,
}

impl LockDepth {
    /// Whether a lock with this depth on `on` covers `target`, where `on`
    /// is `target` itself or one of its folders or its space (the chain
    /// the stores were asked about): the lock on the resource always,
    /// one above it only with depth infinity. The one rule, for the
    /// internal node's locks and the edge's mirror alike.
    pub fn covers(self, on: Resource, target: Resource) -> bool {
        on == target || self == LockDepth::Infinity
    }

    /// Stable name (database, API).
    pub fn as_str(self) -> &'static str {
        match self {
            LockDepth::Zero => "0",
            LockDepth::Infinity => "infinity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [LockDepth::Zero, LockDepth::Infinity]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A lock as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub token: LockToken,
    pub resource: Resource,
    /// The resource's space, kept on the row so a space's locks are one
    /// lookup (covering checks, purges).
    pub space: SpaceId,
    /// The holder: the only principal whose writes the lock lets through.
    pub owner: PrincipalId,
    /// What the client said of itself (the WebDAV `<owner>` text,
    /// "LibreOffice", a note typed at check-out), shown to others.
    pub owner_info: Option<String>,
    pub scope: LockScope,
    pub depth: LockDepth,
    pub created_at: OffsetDateTime,
    pub refreshed_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl Lock {
    /// Whether the lock still holds at `now` (it ends at `expires_at`).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }

    /// What anyone who may read the resource may know of this lock, with
    /// its holder's display name: what an edge mirrors.
    pub fn summary(&self, holder_name: String) -> LockSummary {
        LockSummary {
            resource: self.resource,
            space: self.space,
            holder: self.owner,
            holder_name,
            scope: self.scope,
            depth: self.depth,
            since: self.created_at,
            until: self.expires_at,
        }
    }
}

/// Shortest lock: a client asking for less gets this (RFC 4918 lets the
/// server choose), so a lock cannot lapse between two saves of an editor.
pub const MIN_TIMEOUT: Duration = Duration::minutes(1);
/// Longest lock: a day, so a forgotten check-out frees itself overnight
/// instead of sticking for ever (what users of other GEDs complain of).
pub const MAX_TIMEOUT: Duration = Duration::days(1);
/// A check-out without a timeout (or WebDAV's `Infinite`) lasts a working
/// day; the holder refreshes it or checks in earlier.
pub const DEFAULT_TIMEOUT: Duration = Duration::hours(8);
/// Longest `owner_info` kept, in characters (a WebDAV `<owner>` is a name
/// or a URL; this is far beyond either).
pub const MAX_OWNER_INFO: usize = 1024;

/// The timeout granted for one asked: the default when none, else
/// clamped to [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`].
pub fn granted_timeout(asked: Option<Duration>) -> Duration {
    asked
        .unwrap_or(DEFAULT_TIMEOUT)
        .clamp(MIN_TIMEOUT, MAX_TIMEOUT)
}

/// What a caller asks for when locking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockRequest {
    pub scope: LockScope,
    pub depth: LockDepth,
    /// `None`: [`DEFAULT_TIMEOUT`]; bounded by [`granted_timeout`].
    pub timeout: Option<Duration>,
    pub owner_info: Option<String>,
}

impl LockRequest {
    /// The API's check-out: an exclusive lock on one document.
    pub fn check_out(timeout: Option<Duration>, note: Option<String>) -> Self {
        Self {
            scope: LockScope::Exclusive,
            depth: LockDepth::Zero,
            timeout,
            owner_info: note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_covers_its_resource_and_below_only_with_depth_infinity() {
        let doc = Resource::Document(crate::ids::DocumentId::new());
        let folder = Resource::Folder(crate::ids::FolderId::new());
        assert!(LockDepth::Zero.covers(doc, doc));
        assert!(LockDepth::Infinity.covers(doc, doc));
        assert!(!LockDepth::Zero.covers(folder, doc));
        assert!(LockDepth::Infinity.covers(folder, doc));
    }

    #[test]
    fn a_token_reads_back_from_its_display_form() {
        let t = LockToken::new();
        let shown = t.to_string();
        assert!(shown.starts_with("opaquelocktoken:"), "{shown}");
        assert_eq!(shown.parse::<LockToken>(), Ok(t));
        assert_eq!(shown.to_uppercase().parse::<LockToken>(), Ok(t));
    }

    #[test]
    fn rejects_a_bare_uuid_or_another_scheme() {
        let u = Uuid::new_v4();
        assert_eq!(u.to_string().parse::<LockToken>(), Err(InvalidLockToken));
        assert_eq!(
            format!("urn:uuid:{u}").parse::<LockToken>(),
            Err(InvalidLockToken)
        );
        assert_eq!(
            "opaquelocktoken:".parse::<LockToken>(),
            Err(InvalidLockToken)
        );
        assert_eq!("é".parse::<LockToken>(), Err(InvalidLockToken));
    }

    #[test]
    fn timeouts_are_bounded_and_default_to_a_working_day() {
        assert_eq!(granted_timeout(None), Duration::hours(8));
        assert_eq!(granted_timeout(Some(Duration::seconds(5))), MIN_TIMEOUT);
        assert_eq!(granted_timeout(Some(Duration::days(30))), MAX_TIMEOUT);
        assert_eq!(
            granted_timeout(Some(Duration::minutes(30))),
            Duration::minutes(30)
        );
    }

    #[test]
    fn scope_and_depth_names_read_back() {
        for s in [LockScope::Exclusive, LockScope::Shared] {
            assert_eq!(LockScope::parse(s.as_str()), Some(s));
        }
        for d in [LockDepth::Zero, LockDepth::Infinity] {
            assert_eq!(LockDepth::parse(d.as_str()), Some(d));
        }
    }
}
