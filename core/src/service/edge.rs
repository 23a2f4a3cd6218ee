//! Use cases of an edge node: contractors accept invitations and act on the
//! replicated spaces (their writes go to the outbox, pending until the
//! internal node applies them); the replication applies batches, purges
//! un-shared spaces and computes digests.
//!
//! Here: the acceptance of an invitation. `writes`: contractors' writes
//! queued in the outbox. `feed`: batches applied, purge, digest and cursors.
//! `outbox`: the outbox as the internal node reads it. `blobs`: the edge's
//! account of its blobs. `locks`: the mirror of the internal node's locks,
//! and the refusals it gives.

use serde_json::json;

use crate::error::CoreError;
use crate::model::Principal;
use crate::replication::OutboxOp;

use super::access::Fail;
use super::sharing::invitation_hash;
use super::{Actor, EdgeApp};

mod blobs;
mod events;
mod feed;
mod locks;
mod outbox;
mod writes;

pub use blobs::{BlobCollection, ReceiveError};
pub use feed::PurgeReport;

impl EdgeApp {
    /// A contractor accepts an invitation by choosing a password (edge). The
    /// password hash stays on the edge; the acceptance goes to the outbox in
    /// the same transaction, so the internal node learns it (ADR 0003).
    /// Unknown, used, revoked and expired invitations, and one into a space
    /// the contractor is no longer a member of, are all `NotFound`.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        password: &str,
    ) -> Result<Principal, CoreError> {
        let hash = invitation_hash(secret.trim());
        let now = self.clock.now();
        let usable = |i: &crate::replication::Invitation| {
            !i.revoked && i.expires_at > now && i.accepted_at.is_none()
        };
        let invitee = {
            let mut tx = self.read().await?;
            match tx.invitation_by_hash(&hash).await? {
                Some(i) if usable(&i) => tx.principal(i.principal).await?,
                _ => None,
            }
        };
        let Some(invitee) = invitee else {
            return Err(CoreError::NotFound("invitation"));
        };
        self.check_password_policy(password)?;
        let phc = self.passwords.hash(password).await?;
        self.guarded(&Actor::Principal(invitee), async {
            let mut tx = self.write().await?;
            let mut inv = match tx.invitation_by_hash(&hash).await? {
                Some(i) if usable(&i) => i,
                _ => return Err(CoreError::NotFound("invitation").into()),
            };
            let mut p = tx
                .principal(inv.principal)
                .await?
                .ok_or(CoreError::NotFound("invitation"))?;
            // Edge-local changes keep the replicated revision: the next batch
            // from the internal node must not undo them (see `apply_changes`).
            p.password_hash = Some(phc);
            inv.accepted_at = Some(now);
            tx.save_principal(&p).await?;
            tx.save_invitation(&inv).await?;
            // Accepting is activity: the inactivity period starts here
            // (ADR 0011 §5).
            tx.record_active(p.id, now.to_offset(time::UtcOffset::UTC).date())
                .await?;
            let actor = Actor::Principal(p.clone());
            self.audit(
                &mut tx,
                &actor,
                "contractor.accept",
                Some(inv.space),
                Some(p.login.to_string()),
                json!({}),
            )
            .await?;
            let op = OutboxOp::AcceptInvitation { invitation: inv.id };
            self.append_op_in(&mut tx, &actor, inv.space, op, now)
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(p)
        })
        .await
    }
}
