//! Anti-entropy: every minute, and as soon as a space sent from scratch has
//! caught up, the link compares its digest of each caught-up space with the
//! edge's; a space that really diverged is sent again from revision 0.

use super::LinkError;
use super::down::{DIGEST_EVERY, Down};
use crate::ids::{Revision, SpaceId};
use crate::model::Space;

impl Down<'_> {
    /// Compares digests when the period has come (all shared spaces) or
    /// when spaces sent from scratch wait to be verified (those only).
    pub(super) async fn digests_if_due(&mut self, shared: &[Space]) -> Result<(), LinkError> {
        let now = self.app.now();
        let due = self.last_digest.is_none_or(|t| now - t >= DIGEST_EVERY);
        if due {
            self.last_digest = Some(now);
            self.check_digests(shared).await?;
        } else if !self.to_verify.is_empty() {
            let fresh: Vec<_> = shared
                .iter()
                .filter(|s| self.to_verify.contains(&s.id))
                .cloned()
                .collect();
            for checked in self.check_digests(&fresh).await? {
                self.to_verify.remove(&checked);
            }
            self.to_verify
                .retain(|id| shared.iter().any(|s| s.id == *id));
        }
        Ok(())
    }

    /// [`Down::anti_entropy`] on `spaces`, minus the failing ones; returns
    /// the spaces compared. A failure that is not the link's is logged and
    /// left to the next periodic check: digests only repair, and the sends
    /// go on without them.
    async fn check_digests(&mut self, spaces: &[Space]) -> Result<Vec<SpaceId>, LinkError> {
        let healthy: Vec<SpaceId> = spaces
            .iter()
            .map(|s| s.id)
            .filter(|s| !self.health.is_failing(*s))
            .collect();
        match self.anti_entropy(&healthy).await {
            Ok(checked) => Ok(checked),
            Err(e) if e.is_link_down() => Err(e),
            Err(e) => {
                tracing::warn!(edge = %self.edge, error = %e, "digests not compared; next try in a minute");
                Ok(healthy)
            }
        }
    }

    /// Whether the edge has applied everything of `space` this node has.
    async fn caught_up(&self, space: SpaceId) -> Result<bool, LinkError> {
        let cursor = self.cursors.get(&space).copied().unwrap_or_default();
        Ok(cursor > Revision::ZERO && self.app.feed(space, cursor, 1).await?.rows.is_empty())
    }

    /// Compares the digests of the spaces the edge has caught up with (a
    /// lagging one differs anyway); returns those.
    async fn anti_entropy(&mut self, spaces: &[SpaceId]) -> Result<Vec<SpaceId>, LinkError> {
        let mut caught_up = Vec::new();
        for &s in spaces {
            if self.caught_up(s).await? {
                caught_up.push(s);
            }
        }
        if caught_up.is_empty() {
            return Ok(caught_up);
        }
        let theirs = self.peer.space_digests(&caught_up).await?;
        for &space in &caught_up {
            let mine = self.app.space_digest(space).await?;
            if theirs.get(&space) == Some(&mine) {
                tracing::info!(%space, "edge in sync: digests agree");
                continue;
            }
            // A change made on this node since the edge was found caught up
            // also makes the digests differ: only a space still caught up
            // now has really diverged.
            if !self.caught_up(space).await? {
                continue;
            }
            tracing::warn!(%space, "edge diverged from the internal node: re-sending the space");
            self.cursors.insert(space, Revision::ZERO);
        }
        Ok(caught_up)
    }
}
