//! The in-memory tables behind [`super::MemRepository`]: one field per
//! SQL table, read and written by the sibling modules' `impl State`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::OffsetDateTime;

use crate::doctype::DocumentType;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::model::{
    ApiToken, AuditEntry, Document, Folder, Language, Membership, Principal, Session, Space,
    Version,
};
use crate::replication::NodeId;
use crate::replication::{AppliedOp, EdgeStatus, Invitation, OutboxItem};
use crate::search::ExtractionRecord;
use crate::second_factor::SecondFactor;

/// A [`crate::model::Resource`] as an ordered key (kind, then uuid), as
/// the SQL table's primary key orders it.
pub(super) type ResourceKey = (u8, uuid::Uuid);

/// Every table, as the SQL schema has them.
#[derive(Clone, Debug, Default)]
pub(super) struct State {
    pub(super) revision: i64,
    pub(super) audit: BTreeMap<i64, AuditEntry>,
    pub(super) principals: HashMap<PrincipalId, Principal>,
    pub(super) sessions: HashMap<ContentHash, Session>,
    pub(super) tokens: HashMap<TokenId, ApiToken>,
    /// Languages chosen by principals (table `principal_settings`).
    pub(super) languages: HashMap<PrincipalId, Language>,
    /// Second factors (table `second_factors`), node-local.
    pub(super) second_factors: HashMap<PrincipalId, SecondFactor>,
    /// Last active days (table `activity`), node-local.
    pub(super) activity: BTreeMap<PrincipalId, time::Date>,
    pub(super) spaces: HashMap<SpaceId, Space>,
    pub(super) memberships: BTreeMap<(SpaceId, PrincipalId), Membership>,
    pub(super) folders: HashMap<FolderId, Folder>,
    pub(super) documents: HashMap<DocumentId, Document>,
    pub(super) versions: BTreeMap<(DocumentId, u32), Version>,
    pub(super) document_types: BTreeMap<String, DocumentType>,
    pub(super) invitations: HashMap<uuid::Uuid, Invitation>,
    /// Edge outbox, by `seq`.
    pub(super) outbox: BTreeMap<i64, OutboxItem>,
    /// Last `seq` handed out: never goes back, even when the items with the
    /// highest ones are purged (as SQL's `AUTOINCREMENT` and sequences).
    pub(super) outbox_seq: i64,
    /// When each decided item's first verdict arrived, by `seq` (column
    /// `outbox.decided_at`): the retention counts from it.
    pub(super) outbox_decided: BTreeMap<i64, OffsetDateTime>,
    pub(super) applied_ops: HashMap<uuid::Uuid, AppliedOp>,
    pub(super) edge_status: BTreeMap<NodeId, EdgeStatus>,
    pub(super) cursors: BTreeMap<SpaceId, Revision>,
    /// Edge: blobs sent for a space and not yet named by its applied rows
    /// (table `blob_claims`).
    pub(super) blob_claims: BTreeSet<(SpaceId, ContentHash)>,
    /// Extraction statuses per content hash (table `extractions`): written
    /// outside transactions, see `extractions`.
    pub(super) extractions: BTreeMap<ContentHash, ExtractionRecord>,
    /// Locks by token (table `locks`): not revisioned, see `locks`.
    pub(super) locks: BTreeMap<crate::locks::LockToken, crate::locks::Lock>,
    /// Edge: the internal node's locks per space (table `lock_mirror`), in
    /// the order the last snapshot gave them; see `lock_mirror`.
    pub(super) lock_mirror: BTreeMap<SpaceId, Vec<crate::locks::LockSummary>>,
    /// Dead properties per resource (table `dead_properties`): written
    /// outside transactions, see `properties`.
    pub(super) properties: BTreeMap<(ResourceKey, crate::properties::PropertyName), String>,
    /// What each drop folder filed (table `ingestions`), see `flows`.
    pub(super) ingestions: BTreeMap<(crate::flows::DropName, ContentHash), crate::flows::Ingestion>,
    /// Links between documents (table `document_links`), see `links`.
    pub(super) links: BTreeMap<crate::ids::LinkId, crate::links::DocumentLink>,
    /// People's choices (table `subscriptions`), see `notify`.
    pub(super) subscriptions:
        BTreeMap<(PrincipalId, SpaceId, super::notify::FollowKey), crate::notify::Frequency>,
    /// Spaces' defaults (rows of `subscriptions` with no principal).
    pub(super) space_frequencies: HashMap<SpaceId, crate::notify::Frequency>,
    /// The planner's cursors and key (table `notify_state`).
    pub(super) notify_state: BTreeMap<String, String>,
    /// The notification outbox (table `notices`).
    pub(super) notices: BTreeMap<crate::ids::NoticeId, crate::notify::Notice>,
}
