//! Replication storage: invitations, the exactly-once ledger and edge states
//! (internal node), cursors, the outbox and the un-share purge (edge).

use std::collections::{BTreeMap, HashSet};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{State, missing};
use crate::hash::ContentHash;
use crate::ids::{DocumentId, PrincipalId, Revision, SpaceId};
use crate::model::Space;
use crate::ports::{QuarantineCount, RepoError};
use crate::replication::NodeId;
use crate::replication::{AppliedOp, EdgeStatus, Invitation, OpOutcome, OutboxItem, OutboxOp};

impl State {
    pub(super) fn save_invitation(&mut self, i: &Invitation) -> Result<(), RepoError> {
        if !self.spaces.contains_key(&i.space) {
            return Err(missing("space", i.space));
        }
        if self
            .invitations
            .values()
            .any(|o| o.id != i.id && o.secret_hash == i.secret_hash)
        {
            return Err(RepoError::Conflict(
                "invitation secret hash is taken".into(),
            ));
        }
        self.invitations.insert(i.id, i.clone());
        Ok(())
    }

    pub(super) fn invitation_by_hash(&self, secret_hash: &ContentHash) -> Option<Invitation> {
        self.invitations
            .values()
            .find(|i| &i.secret_hash == secret_hash)
            .cloned()
    }

    /// Newest first: by creation time, then id, descending.
    pub(super) fn list_invitations(&self, space: SpaceId) -> Vec<Invitation> {
        let mut v: Vec<Invitation> = self
            .invitations
            .values()
            .filter(|i| i.space == space)
            .cloned()
            .collect();
        v.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
        v
    }

    /// By id.
    pub(super) fn spaces_shared_with(&self, edge: &NodeId) -> Vec<Space> {
        let mut v: Vec<Space> = self
            .spaces
            .values()
            .filter(|s| s.edge.as_ref() == Some(edge))
            .cloned()
            .collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// Rejected operations, newest first: by time, then op id, descending.
    pub(super) fn list_quarantine(&self, space: SpaceId) -> Vec<AppliedOp> {
        let mut v: Vec<AppliedOp> = self
            .applied_ops
            .values()
            .filter(|a| a.space == space && a.outcome == OpOutcome::Rejected)
            .cloned()
            .collect();
        v.sort_by_key(|a| std::cmp::Reverse((a.at, a.op_id)));
        v
    }

    /// Rejected operations per edge and space, by edge then space id.
    pub(super) fn count_quarantine(&self) -> Vec<QuarantineCount> {
        let mut counts: BTreeMap<(&NodeId, SpaceId), u64> = BTreeMap::new();
        for a in self.applied_ops.values() {
            if a.outcome == OpOutcome::Rejected {
                *counts.entry((&a.edge, a.space)).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|((edge, space), operations)| QuarantineCount {
                edge: edge.clone(),
                space,
                operations,
            })
            .collect()
    }

    /// By space id (the map's order).
    pub(super) fn cursors(&self) -> Vec<(SpaceId, Revision)> {
        self.cursors.iter().map(|(s, r)| (*s, *r)).collect()
    }

    /// Increasing `seq`, never handed out twice; `op_id` unique.
    pub(super) fn append_outbox(&mut self, item: &OutboxItem) -> Result<i64, RepoError> {
        if !self.spaces.contains_key(&item.space) {
            return Err(missing("space", item.space));
        }
        if self.outbox.values().any(|o| o.op_id == item.op_id) {
            return Err(RepoError::Conflict(format!(
                "operation {} is already in the outbox",
                item.op_id
            )));
        }
        self.outbox_seq += 1;
        let seq = self.outbox_seq;
        self.outbox.insert(
            seq,
            OutboxItem {
                seq,
                ..item.clone()
            },
        );
        Ok(seq)
    }

    pub(super) fn pending_outbox(&self, after_seq: i64, limit: u64) -> Vec<OutboxItem> {
        self.outbox
            .range(after_seq.saturating_add(1)..)
            .map(|(_, item)| item)
            .filter(|item| item.outcome.is_none())
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    pub(super) fn outbox_item(&self, op_id: Uuid) -> Option<OutboxItem> {
        self.outbox.values().find(|i| i.op_id == op_id).cloned()
    }

    /// Overwrites the verdict, keeps the time of the first one; an unknown
    /// `op_id` (purged meanwhile) changes nothing.
    pub(super) fn set_outbox_outcome(
        &mut self,
        op_id: Uuid,
        outcome: OpOutcome,
        detail: &str,
        at: OffsetDateTime,
    ) {
        if let Some(item) = self.outbox.values_mut().find(|i| i.op_id == op_id) {
            item.outcome = Some(outcome);
            detail.clone_into(&mut item.detail);
            self.outbox_decided.entry(item.seq).or_insert(at);
        }
    }

    /// Newest first; acceptances of invitations left out (not writes).
    pub(super) fn list_outbox_of(
        &self,
        space: SpaceId,
        contractor: PrincipalId,
    ) -> Vec<OutboxItem> {
        self.outbox
            .values()
            .rev()
            .filter(|i| i.space == space && i.contractor == contractor)
            .filter(|i| !matches!(i.op, OutboxOp::AcceptInvitation { .. }))
            .cloned()
            .collect()
    }

    pub(super) fn count_pending_outbox(&self) -> u64 {
        self.outbox.values().filter(|i| i.outcome.is_none()).count() as u64
    }

    /// Decided items whose first verdict is older than `decided_before`;
    /// also forgets the verdict times of items purged with their space.
    pub(super) fn prune_outbox(&mut self, decided_before: OffsetDateTime) -> u64 {
        let n = self.outbox.len();
        let decided = &self.outbox_decided;
        self.outbox.retain(|seq, item| {
            item.outcome.is_none() || decided.get(seq).is_none_or(|at| *at >= decided_before)
        });
        let outbox = &self.outbox;
        self.outbox_decided
            .retain(|seq, _| outbox.contains_key(seq));
        (n - self.outbox.len()) as u64
    }

    /// Newest first.
    pub(super) fn list_outbox(&self, space: SpaceId) -> Vec<OutboxItem> {
        self.outbox
            .values()
            .rev()
            .filter(|i| i.space == space)
            .cloned()
            .collect()
    }

    /// What versions reference, plus the content pending outbox operations
    /// bring.
    pub(super) fn referenced_hashes(&self) -> HashSet<ContentHash> {
        let pending = self
            .outbox
            .values()
            .filter(|i| i.outcome.is_none())
            .filter_map(|i| match &i.op {
                OutboxOp::NewDocument { hash, .. } | OutboxOp::NewVersion { hash, .. } => {
                    Some(*hash)
                }
                OutboxOp::Rename { .. }
                | OutboxOp::Move { .. }
                | OutboxOp::Delete { .. }
                | OutboxOp::SetMetadata { .. }
                | OutboxOp::NewFolder { .. }
                | OutboxOp::AcceptInvitation { .. } => None,
            });
        self.versions
            .values()
            .map(|v| v.hash)
            .chain(pending)
            .collect()
    }

    /// Every row of the space, then the principals that held a membership in
    /// it and hold none anywhere now, with their sessions and tokens (as the
    /// SQL adapter). Returns the number of rows deleted.
    pub(super) fn purge_space(&mut self, space: SpaceId) -> u64 {
        let mut deleted = self.purge_space_locks(space) + self.purge_lock_mirror(space);
        let mut count = |before: usize, after: usize| deleted += (before - after) as u64;

        let documents: HashSet<DocumentId> = self
            .documents
            .values()
            .filter(|d| d.space == space)
            .map(|d| d.id)
            .collect();
        let n = self.links.len();
        self.links.retain(|_, l| {
            l.space != space && !documents.contains(&l.from) && !documents.contains(&l.to)
        });
        count(n, self.links.len());
        let n = self.versions.len();
        self.versions.retain(|(d, _), _| !documents.contains(d));
        count(n, self.versions.len());
        let n = self.documents.len();
        self.documents.retain(|_, d| d.space != space);
        count(n, self.documents.len());
        let n = self.folders.len();
        self.folders.retain(|_, f| f.space != space);
        count(n, self.folders.len());
        let n = self.invitations.len();
        self.invitations.retain(|_, i| i.space != space);
        count(n, self.invitations.len());
        let members: Vec<PrincipalId> = self
            .memberships
            .keys()
            .filter(|(s, _)| *s == space)
            .map(|(_, p)| *p)
            .collect();
        let n = self.memberships.len();
        self.memberships.retain(|(s, _), _| *s != space);
        count(n, self.memberships.len());
        let n = self.outbox.len();
        self.outbox.retain(|_, i| i.space != space);
        count(n, self.outbox.len());
        let n = self.blob_claims.len();
        self.blob_claims.retain(|(s, _)| *s != space);
        count(n, self.blob_claims.len());
        let n = self.cursors.len();
        self.cursors.remove(&space);
        count(n, self.cursors.len());
        let n = self.spaces.len();
        self.spaces.remove(&space);
        count(n, self.spaces.len());

        let orphans: HashSet<PrincipalId> = members
            .into_iter()
            .filter(|p| !self.memberships.values().any(|m| m.principal == *p))
            .collect();
        let n = self.sessions.len();
        self.sessions.retain(|_, s| !orphans.contains(&s.principal));
        count(n, self.sessions.len());
        let n = self.tokens.len();
        self.tokens.retain(|_, t| !orphans.contains(&t.principal));
        count(n, self.tokens.len());
        let n = self.second_factors.len();
        self.second_factors.retain(|id, _| !orphans.contains(id));
        count(n, self.second_factors.len());
        let n = self.activity.len();
        self.activity.retain(|id, _| !orphans.contains(id));
        count(n, self.activity.len());
        let n = self.principals.len();
        self.principals.retain(|id, _| !orphans.contains(id));
        count(n, self.principals.len());
        deleted
    }

    pub(super) fn save_edge_status(&mut self, s: &EdgeStatus) {
        self.edge_status.insert(s.edge.clone(), s.clone());
    }

    /// By edge id (the map's order).
    pub(super) fn list_edge_status(&self) -> Vec<EdgeStatus> {
        self.edge_status.values().cloned().collect()
    }
}
