//! Domain entities: what the repository stores and the use cases change.
//!
//! Every replicable entity carries the `revision` of its last change; deletions
//! are tombstones (a `deleted_at`, a `purged` flag or a `removed` flag), never a
//! vanished row, so the replication change feed can carry them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::names::{DocumentName, Login, Slug};
use crate::replication::NodeId;
use crate::role::Role;

/// Internal agent, outside contractor, or a business application's
/// service account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    Agent,
    Contractor,
    /// An integration account (ADR 0008 §3): files flows from a drop
    /// folder, or calls the API with a token. No password, no session,
    /// no web login; a member of spaces like anyone, named in the audit
    /// log. Acts on the internal node only.
    Service,
}

/// An account.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub id: PrincipalId,
    pub login: Login,
    pub display_name: String,
    pub email: String,
    pub kind: PrincipalKind,
    /// Node administrator: manages accounts, document types, every space.
    pub is_admin: bool,
    /// A disabled account cannot log in and its sessions and tokens stop working.
    pub disabled: bool,
    /// argon2id PHC string; `None` until a password is set (and always
    /// for a directory account).
    pub password_hash: Option<String>,
    /// Where the account's password is checked (ADR 0009).
    pub source: AccountSource,
    /// When a manager last reset the person's second factor (ADR 0012):
    /// an enrolment older than this no longer counts, and the person
    /// enrols again at their next login. Replicated to the edge.
    pub second_factor_reset: Option<OffsetDateTime>,
    pub organisation: Option<String>,
    pub created_at: OffsetDateTime,
    pub revision: Revision,
}

/// Where an account comes from, and so where its password is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountSource {
    /// Made on the node; its password hash is the node's.
    #[default]
    Local,
    /// Made at its first login through the authority's directory, which
    /// checks its password; it has none on the node.
    Directory,
}

impl AccountSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountSource::Local => "local",
            AccountSource::Directory => "directory",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(AccountSource::Local),
            "directory" => Some(AccountSource::Directory),
            _ => None,
        }
    }
}

/// Who sees a space without being a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Members only; everyone else gets "not found".
    Private,
    /// Every agent may read it (as a reader); writing needs a membership.
    Public,
}

/// A collaborative space.
#[derive(Clone, Debug, PartialEq)]
pub struct Space {
    pub id: SpaceId,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    /// Business domain ("périmètre métier").
    pub domain: String,
    pub visibility: Visibility,
    /// The edge node (its node id) this space is shared with, replicated to
    /// it for outside contractors; `None`: internal only.
    pub edge: Option<NodeId>,
    /// Read-only for everyone; listed apart.
    pub archived: bool,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    pub revision: Revision,
}

impl Space {
    /// Whether the space is replicated to an edge.
    pub fn shared(&self) -> bool {
        self.edge.is_some()
    }
}

/// A principal's role in a space. `removed` is the tombstone of a membership.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub space: SpaceId,
    pub principal: PrincipalId,
    pub role: Role,
    pub removed: bool,
    /// Who decides this membership: a manager, or a directory group
    /// mapped to the space (ADR 0009 §6), which the directory sync keeps
    /// in step and a manager cannot change by hand.
    pub granted_by: GrantedBy,
    /// When the access ends by itself ("accès jusqu'au 31/03/2027"): from
    /// that instant the member has no access on either node.
    pub ends_at: Option<OffsetDateTime>,
    pub revision: Revision,
}

impl Membership {
    /// A membership a manager grants, without an end date.
    pub fn granted(space: SpaceId, principal: PrincipalId, role: Role, revision: Revision) -> Self {
        Self {
            space,
            principal,
            role,
            removed: false,
            granted_by: GrantedBy::Manager,
            ends_at: None,
            revision,
        }
    }

    /// Whether the membership gives access at `now`: not removed, not
    /// ended.
    pub fn active_at(&self, now: OffsetDateTime) -> bool {
        !self.removed && self.ends_at.is_none_or(|end| now < end)
    }
}

/// Who decides a membership.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GrantedBy {
    /// A manager of the space (or an administrator), by hand.
    #[default]
    Manager,
    /// A directory group mapped to the space (the node's `[ldap]`
    /// settings): joining or leaving the group grants or removes it.
    Directory,
}

impl GrantedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantedBy::Manager => "manager",
            GrantedBy::Directory => "directory",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manager" => Some(GrantedBy::Manager),
            "directory" => Some(GrantedBy::Directory),
            _ => None,
        }
    }
}

/// Trash state shared by folders and documents.
#[derive(Clone, Debug, PartialEq)]
pub struct Trashed {
    pub at: OffsetDateTime,
    pub by: PrincipalId,
    /// Set when the item went to the trash because its ancestor folder did:
    /// restoring that folder restores it.
    pub with_folder: Option<FolderId>,
}

/// A folder in a space; `parent: None` is the space's root.
#[derive(Clone, Debug, PartialEq)]
pub struct Folder {
    pub id: FolderId,
    pub space: SpaceId,
    pub parent: Option<FolderId>,
    pub name: DocumentName,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    pub trashed: Option<Trashed>,
    /// Removed from the trash for good (tombstone).
    pub purged: bool,
    pub revision: Revision,
}

/// A document: a name in a folder, a type, metadata and a current version.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub space: SpaceId,
    pub folder: Option<FolderId>,
    pub name: DocumentName,
    /// Key of its [`crate::doctype::DocumentType`], if typed.
    pub doc_type: Option<String>,
    pub metadata: Map<String, Value>,
    /// Number of the current version (1-based).
    pub current_version: u32,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub trashed: Option<Trashed>,
    pub purged: bool,
    pub revision: Revision,
}

/// Something in a space a lock or a property is attached to, by identity:
/// it follows the item through renames and moves (WebDAV paths do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// The space's root collection.
    Space(SpaceId),
    Folder(FolderId),
    Document(DocumentId),
}

/// An immutable version of a document's content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Version {
    pub document: DocumentId,
    pub number: u32,
    pub hash: ContentHash,
    pub size: u64,
    pub media_type: String,
    pub author: PrincipalId,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip)]
    pub revision: Revision,
}

/// A login session. Only the hash of the token is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub token_hash: ContentHash,
    pub principal: PrincipalId,
    /// Anti-CSRF token bound to this session (double submit).
    pub csrf: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a stored secret of an account opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for the API (business applications, scripts).
    Api,
    /// An app password: the secret a WebDAV client (office suite, rclone,
    /// a phone) sends with the account's login over HTTP Basic, one per
    /// device, so the account password stays out of client settings and
    /// one device's access ends without changing it.
    AppPassword,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::AppPassword => "app_password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(TokenKind::Api),
            "app_password" => Some(TokenKind::AppPassword),
            _ => None,
        }
    }
}

/// A secret acting as its principal: a bearer token for a business
/// application, or an app password for a WebDAV client ([`TokenKind`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    pub id: TokenId,
    pub principal: PrincipalId,
    pub kind: TokenKind,
    pub name: String,
    pub token_hash: ContentHash,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// One entry of the hash-chained audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Option<PrincipalId>,
    /// Stable action code ("document.upload", "login.failed"…).
    pub action: String,
    pub space: Option<SpaceId>,
    /// What was acted upon (an id or a login).
    pub target: Option<String>,
    pub detail: Value,
    /// Hash of the previous entry (all zeros for the first).
    pub prev_hash: ContentHash,
    /// BLAKE3 over `prev_hash` and this entry's canonical fields.
    pub hash: ContentHash,
}

/// An offset/limit page of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

impl Page {
    pub const MAX_LIMIT: u64 = 500;
    pub fn new(offset: u64, limit: u64) -> Self {
        Self {
            offset,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }
    pub fn all() -> Self {
        Self {
            offset: 0,
            limit: u64::MAX / 2,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(0, 100)
    }
}

/// A page of results and the total count.
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// A language of the interface, as a user's setting ("fr", "en").
///
/// Not part of [`Principal`]: accounts are replicated to edges, a setting is
/// local to the node where the user chose it (each node keeps its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    /// The ISO 639-1 code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    /// `"fr"` or `"en"` exactly; anything else is `None`.
    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
