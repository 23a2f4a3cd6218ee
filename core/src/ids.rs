//! Identifiers: UUID newtypes, parsed at the boundary and typed inside.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct InvalidId;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new identifier, time-ordered (UUIDv7) so that rows insert in order.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

uuid_id!(
    /// An agent or a contractor.
    PrincipalId
);
uuid_id!(
    /// A collaborative space (Alfresco "site").
    SpaceId
);
uuid_id!(
    /// A folder inside a space.
    FolderId
);
uuid_id!(
    /// A document (its versions share this id).
    DocumentId
);
uuid_id!(
    /// An API token of a business application.
    TokenId
);
uuid_id!(
    /// A typed link between two documents.
    LinkId
);
uuid_id!(
    /// A notification in the outbox. Derived from what it tells
    /// ([`NoticeId::derived`]), so that planning the same notice twice
    /// (after a restart, or kill -9) finds the row already there.
    NoticeId
);

impl NoticeId {
    /// The id of the notice named by `parts` (recipient, kind, period or
    /// first event): the first 16 bytes of their BLAKE3 hash, with the
    /// UUID's version 8 ("custom") and variant bits set.
    pub fn derived(parts: &[&str]) -> Self {
        let mut h = blake3::Hasher::new();
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(Uuid::from_bytes(bytes))
    }
}

/// A per-node monotonic revision: every mutation of replicable state takes the
/// next one, and the replication change feed is "rows with revision > cursor".
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Revision(pub i64);

impl Revision {
    pub const ZERO: Revision = Revision(0);
    pub fn next(self) -> Revision {
        Revision(self.0 + 1)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}
