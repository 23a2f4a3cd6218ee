//! Replication domain: invitations of contractors, the change feed rows,
//! the edge's outbox of contractor operations, and what the internal node
//! records when it applies them (exactly once, quarantine). See ADR 0003.
//! [`NodeId`] (in `node_id`) names the nodes.

pub mod link;
mod node_id;
pub mod peer;

pub use node_id::{InvalidNodeId, NODE_URI_PREFIX, NodeId};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::doctype::DocumentType;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use crate::links::DocumentLink;
use crate::model::{Document, Folder, Membership, Principal, Space, Version};

/// An invitation of a contractor into a shared space. Only the BLAKE3 hash of
/// the secret is stored (internal node) and replicated (edge).
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub id: Uuid,
    pub principal: PrincipalId,
    pub space: SpaceId,
    pub secret_hash: ContentHash,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When the contractor accepted (chose a password on the edge). The
    /// edge sets it and reports it in its outbox (`AcceptInvitation`); the
    /// internal node records it when it applies that operation. An edge
    /// keeps its own value: there it means "a password was chosen here".
    pub accepted_at: Option<OffsetDateTime>,
    pub revoked: bool,
    pub revision: Revision,
}

/// The link a contractor opens to accept an invitation on the edge whose
/// public address is `base`: `<base>/invitation#<secret>`. The secret
/// sits in the fragment, which browsers never send to a server, so it
/// stays out of access logs and `Referer` headers; the edge's page posts
/// it to `/api/v1/invitations/accept`. `None` for an empty address.
pub fn invitation_link(base: &str, secret: &str) -> Option<String> {
    let base = base.trim().trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/invitation#{secret}"))
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl Invitation {
    /// The state at `now`: a revocation outweighs an acceptance, and an
    /// accepted invitation never expires.
    pub fn state(&self, now: OffsetDateTime) -> InvitationState {
        if self.revoked {
            InvitationState::Revoked
        } else if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// One row of the change feed of a shared space.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeRow {
    Space(Space),
    /// Never carries a password hash (agents' and contractors' credentials
    /// never travel; contractors set theirs on the edge).
    Principal(Principal),
    Membership(Membership),
    Invitation(Invitation),
    Folder(Folder),
    Document(Document),
    Version(Version),
    DocumentType(DocumentType),
    /// A link between two documents of the space (ADR 0008 §4): a space's
    /// feed carries the links whose both ends are in it, so that an edge
    /// holds both ends of every link it holds; a link across two spaces
    /// stays on the internal node.
    Link(DocumentLink),
}

impl ChangeRow {
    pub fn revision(&self) -> Revision {
        match self {
            ChangeRow::Space(x) => x.revision,
            ChangeRow::Principal(x) => x.revision,
            ChangeRow::Membership(x) => x.revision,
            ChangeRow::Invitation(x) => x.revision,
            ChangeRow::Folder(x) => x.revision,
            ChangeRow::Document(x) => x.revision,
            ChangeRow::Version(x) => x.revision,
            ChangeRow::DocumentType(x) => x.revision,
            ChangeRow::Link(x) => x.revision,
        }
    }
}

/// Where a row stands in the change feed; see [`ChangeRow::feed_key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedKey(Revision, u8, Uuid, u32);

impl ChangeRow {
    /// The feed's order, which every repository (SQL, the in-memory fake)
    /// sorts its feed by: revision first; within a revision, parents before
    /// children (space, principals, memberships, invitations, folders,
    /// documents, versions, links), so an edge applying rows in order never meets
    /// a child before its parent; then by id (versions: by document, then
    /// number), so that the order is total and both repositories agree.
    pub fn feed_key(&self) -> FeedKey {
        match self {
            ChangeRow::Space(s) => FeedKey(s.revision, 0, s.id.as_uuid(), 0),
            ChangeRow::Principal(p) => FeedKey(p.revision, 1, p.id.as_uuid(), 0),
            ChangeRow::Membership(m) => FeedKey(m.revision, 2, m.principal.as_uuid(), 0),
            ChangeRow::Invitation(i) => FeedKey(i.revision, 3, i.id, 0),
            ChangeRow::Folder(f) => FeedKey(f.revision, 4, f.id.as_uuid(), 0),
            ChangeRow::Document(d) => FeedKey(d.revision, 5, d.id.as_uuid(), 0),
            ChangeRow::Version(v) => FeedKey(v.revision, 6, v.document.as_uuid(), v.number),
            // After both its ends.
            ChangeRow::Link(l) => FeedKey(l.revision, 7, l.id.as_uuid(), 0),
            // Not part of a space's feed.
            ChangeRow::DocumentType(t) => FeedKey(t.revision, 8, Uuid::nil(), 0),
        }
    }
}

/// A batch of the change feed and the cursor it brings the edge to.
#[derive(Clone, Debug, PartialEq)]
pub struct Feed {
    pub rows: Vec<ChangeRow>,
    /// Every row of the space up to this revision is in `rows` (or was in
    /// an earlier batch).
    pub through: Revision,
}

/// A contractor's action on the edge, waiting to be applied by the internal
/// node. Ids of new things (folders) are chosen by the edge and kept.
/// Stored as JSON (`kind` tag) in the edge's outbox and the internal node's
/// ledger: variants and fields are only ever added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxOp {
    NewDocument {
        folder: Option<FolderId>,
        name: String,
        hash: ContentHash,
        size: u64,
        media_type: String,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
        comment: String,
    },
    NewVersion {
        document: DocumentId,
        /// The version the contractor edited.
        base_version: u32,
        hash: ContentHash,
        size: u64,
        media_type: String,
        comment: String,
        /// The contractor's own earlier new version of this document that
        /// this one follows, set by the edge when that one was not yet
        /// back down (pending, or applied but not yet replicated);
        /// `base_version` is then that one's plus one. The internal node
        /// judges this one against where that one landed, not against
        /// the head the edge saw (ADR 0003, "Successive saves").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_op: Option<Uuid>,
    },
    Rename {
        document: DocumentId,
        name: String,
    },
    Move {
        document: DocumentId,
        folder: Option<FolderId>,
    },
    Delete {
        document: DocumentId,
        base_version: u32,
    },
    SetMetadata {
        document: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    },
    NewFolder {
        folder: FolderId,
        parent: Option<FolderId>,
        name: String,
    },
    /// The contractor accepted this invitation on the edge (chose a
    /// password there). The acceptance time is the item's `created_at`.
    /// No content; not a change to the space's documents.
    AcceptInvitation {
        invitation: Uuid,
    },
}

impl OutboxOp {
    /// The content an operation carries (new document or new version).
    pub fn blob(&self) -> Option<crate::blob::BlobInfo> {
        match self {
            OutboxOp::NewDocument { hash, size, .. } | OutboxOp::NewVersion { hash, size, .. } => {
                Some(crate::blob::BlobInfo {
                    hash: *hash,
                    size: *size,
                })
            }
            _ => None,
        }
    }
}

/// How the internal node dealt with an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpOutcome {
    Applied,
    /// Applied as a conflict copy beside the original.
    Conflict,
    /// Refused (rights revoked, invalid): kept in quarantine.
    Rejected,
}

impl OpOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OpOutcome::Applied => "applied",
            OpOutcome::Conflict => "conflict",
            OpOutcome::Rejected => "rejected",
        }
    }
}

/// An entry of the edge's outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    /// Assigned by the repository on append, increasing.
    pub seq: i64,
    /// Unique: the internal node applies each operation once.
    pub op_id: Uuid,
    pub space: SpaceId,
    pub contractor: PrincipalId,
    pub created_at: OffsetDateTime,
    pub op: OutboxOp,
    /// `None` while pending; set when the internal node acknowledged.
    pub outcome: Option<OpOutcome>,
    pub detail: String,
}

/// What the internal node recorded when it applied (or refused) an edge
/// operation: the exactly-once ledger and the quarantine.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedOp {
    pub op_id: Uuid,
    pub edge: NodeId,
    pub space: SpaceId,
    pub contractor: PrincipalId,
    pub at: OffsetDateTime,
    pub outcome: OpOutcome,
    pub detail: String,
    /// The document produced or changed, when any.
    pub document: Option<DocumentId>,
    /// The operation itself, kept for quarantined ones (managers review them).
    pub op: OutboxOp,
}

/// Replication state of one edge as the internal node sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeStatus {
    pub edge: NodeId,
    pub last_contact: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// Cursor per shared space (last revision the edge acknowledged).
    pub cursors: Vec<(SpaceId, Revision)>,
    /// Spaces whose replication fails while the link is up, each with why,
    /// in words ops can act on ("edge-1: disk full (ENOSPC) on
    /// /var/lib/passerelle/edge"); the other spaces go on. By space id.
    pub space_errors: Vec<(SpaceId, String)>,
    pub updated_at: OffsetDateTime,
}

impl EdgeStatus {
    /// Why the replication of `space` fails now, if it does.
    pub fn space_error(&self, space: SpaceId) -> Option<&str> {
        self.space_errors
            .iter()
            .find(|(s, _)| *s == space)
            .map(|(_, e)| e.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn membership(revision: i64, principal: u128) -> ChangeRow {
        ChangeRow::Membership(Membership::granted(
            SpaceId::from_uuid(Uuid::from_u128(1)),
            PrincipalId::from_uuid(Uuid::from_u128(principal)),
            Role::Reader,
            Revision(revision),
        ))
    }

    fn document_type(revision: i64) -> ChangeRow {
        ChangeRow::DocumentType(DocumentType {
            key: "facture".into(),
            label: "Facture".into(),
            domain: "Finances".into(),
            description: String::new(),
            retention_years: 10,
            fields: Vec::new(),
            revision: Revision(revision),
        })
    }

    #[test]
    fn the_feed_orders_by_revision_then_parents_first_then_by_id() {
        let mut rows = vec![
            document_type(2),
            membership(2, 9),
            membership(3, 1),
            membership(2, 4),
            document_type(1),
        ];
        rows.sort_by_key(ChangeRow::feed_key);
        assert_eq!(
            rows,
            vec![
                document_type(1),
                membership(2, 4),
                membership(2, 9),
                document_type(2),
                membership(3, 1),
            ]
        );
    }
}
