//! One session of a link: hello, then the two directions side by side in
//! one task (the down feed and the outbox watcher), until either fails, the
//! edge closes its outbox, or the node shuts down.

use std::collections::HashMap;

use futures::FutureExt;

use super::down::Down;
use super::{Link, LinkError, Shutdown};
use crate::ids::{Revision, SpaceId};
use crate::replication::peer::{EdgePeer, PeerError};

/// How far the edge has applied each space it holds, as this session knows.
pub(super) type Cursors = HashMap<SpaceId, Revision>;

impl Link {
    pub(super) async fn session(
        &mut self,
        peer: &dyn EdgePeer,
        shutdown: &Shutdown,
    ) -> Result<(), LinkError> {
        let cursors = self.hello(peer).await?;
        // If either direction fails the session ends and reconnects (with
        // the error recorded): a silently dead watcher would leave
        // contractors' operations pending forever while the link looks
        // healthy.
        let up = Self::watch_outbox(&self.app, &self.edge, peer, self.timer.as_ref());
        let mut down = Down::of(
            &self.app,
            &self.edge,
            self.timer.as_ref(),
            &mut self.health,
            peer,
            cursors,
        );
        futures::select_biased! {
            () = shutdown.clone().fuse() => Ok(()),
            up = up.fuse() => match up {
                Ok(()) => Err(PeerError::Down("the edge closed its outbox stream".into()).into()),
                Err(e) => Err(e),
            },
            down = down.run().fuse() => down,
        }
    }

    /// Opens the session: checks the edge is who the link expects, and
    /// returns its cursors (recorded with the contact).
    pub(crate) async fn hello(&mut self, peer: &dyn EdgePeer) -> Result<Cursors, LinkError> {
        let hello = peer.hello(&self.me).await?;
        if hello.edge != self.edge {
            return Err(PeerError::Invalid(format!("the edge says it is {:?}", hello.edge)).into());
        }
        let mut cursors: Cursors = hello.cursors.into_iter().collect();
        self.awaiting_purge(&mut cursors).await?;
        tracing::info!(edge = %self.edge, spaces = cursors.len(), "replication link up");
        self.health.down = None;
        self.record(recorded(&cursors), None, true).await?;
        self.tell(super::LinkEvent::Up {
            spaces: cursors.len(),
        });
        Ok(cursors)
    }
}

impl Link {
    /// Adds to `cursors` the spaces this link last knew the edge to hold
    /// that are no longer shared with it and that the edge no longer names:
    /// a purge whose answer was lost (a timeout, a cut after the edge
    /// committed it). The next pass asks again; the edge purges nothing
    /// more and answers with a receipt, which ends the contractors' access
    /// here (ADR 0002, invariant 6). Without it, the receipt would never
    /// be recorded.
    async fn awaiting_purge(&self, cursors: &mut Cursors) -> Result<(), LinkError> {
        let Some(known) = self.app.edge_status_of(&self.edge).await? else {
            return Ok(());
        };
        let shared = self.app.spaces_shared_with(&self.edge).await?;
        for (space, revision) in known.cursors {
            if !shared.iter().any(|s| s.id == space) {
                cursors.entry(space).or_insert(revision);
            }
        }
        Ok(())
    }
}

/// The cursors as `record_link_state` takes them.
pub(super) fn recorded(cursors: &Cursors) -> Vec<(SpaceId, Revision)> {
    cursors.iter().map(|(s, r)| (*s, *r)).collect()
}
