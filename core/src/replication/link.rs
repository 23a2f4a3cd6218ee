//! The internal node's replication link to one edge (ADR 0005 §2): it dials
//! the edge (never the reverse) through an [`EdgeConnector`], purges
//! un-shared spaces, sends the change feed of the spaces shared with it
//! (blobs first), pulls contractors' operations from the edge's outbox and
//! applies them, compares digests, mirrors the spaces' locks on the edge,
//! and records the link's status. Every
//! step resumes from cursors; time goes through the `Clock` and `Timer`
//! ports, so the whole loop runs in core's tests against an in-memory edge.
//!
//! A space whose send or purge fails (a full edge disk, a refused batch) is
//! recorded as failing with why and retried on its own backoff
//! ([`health`]); the other spaces and the purges go on, and the link stays
//! up. Only a failure of the link itself (the edge unreachable, the
//! connection gone) ends the session and reconnects.

mod activity;
mod digests;
mod down;
mod health;
mod locks;
mod send;
mod session;
mod up;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::NodeId;
use super::peer::{EdgeConnector, PeerError};
use crate::blob::BlobError;
use crate::error::CoreError;
use crate::ports::Timer;
use crate::service::InternalApp;
use health::Health;

/// Longest wait between two connection attempts. Kept short: an edge is
/// one peer, not a crowd (no thundering herd to spread), and after a long
/// cut the link must converge within ~15 s of the network coming back.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// A future that completes when the node shuts down; cloned into every
/// wait of the link.
type Shutdown = Shared<BoxFuture<'static, ()>>;

/// One edge's link, kept across sessions: a reconnection neither retries a
/// failing space before its time nor logs its failure again.
pub struct Link {
    app: InternalApp,
    /// The edge's node id (its certificate's URI SAN).
    edge: NodeId,
    /// This node's id, sent in `Hello`.
    me: NodeId,
    timer: Arc<dyn Timer>,
    health: Health,
    /// Told when a session comes up or ends (a worker registry's report).
    observer: Option<Observer>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("edge", &self.edge)
            .field("me", &self.me)
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

/// What a link tells its observer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// A session is up; the edge holds `spaces` spaces.
    Up { spaces: usize },
    /// The session ended or could not start; the link retries on its own.
    Down { error: String },
}

type Observer = Arc<dyn Fn(LinkEvent) + Send + Sync>;

impl Link {
    pub fn new(app: InternalApp, edge: NodeId, me: NodeId, timer: Arc<dyn Timer>) -> Self {
        Self {
            app,
            edge,
            me,
            timer,
            health: Health::default(),
            observer: None,
        }
    }

    /// Calls `observer` when a session comes up or ends.
    pub fn observed(mut self, observer: impl Fn(LinkEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    fn tell(&self, event: LinkEvent) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }

    /// Runs the link until `shutdown`, reconnecting with backoff (1 s → 5 s).
    pub async fn run(
        mut self,
        connector: &dyn EdgeConnector,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let shutdown: Shutdown = shutdown.boxed().shared();
        let mut backoff = FIRST_BACKOFF;
        while shutdown.peek().is_none() {
            let connected = futures::select_biased! {
                () = shutdown.clone().fuse() => break,
                c = connector.connect().fuse() => c,
            };
            let result = match connected {
                Ok(peer) => {
                    backoff = FIRST_BACKOFF;
                    self.session(peer.as_ref(), &shutdown).await
                }
                Err(e) => Err(LinkError::Peer(e)),
            };
            if let Err(e) = result {
                self.went_down(&e, backoff).await;
                futures::select_biased! {
                    () = shutdown.clone().fuse() => break,
                    () = self.timer.sleep(backoff).fuse() => {},
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }

    /// The down direction over `peer`, from `cursors` (what `hello` said):
    /// one `pass` at a time, for tests that step it.
    #[cfg(test)]
    pub(crate) fn down<'a>(
        &'a mut self,
        peer: &'a dyn super::peer::EdgePeer,
        cursors: session::Cursors,
    ) -> down::Down<'a> {
        down::Down::of(
            &self.app,
            &self.edge,
            self.timer.as_ref(),
            &mut self.health,
            peer,
            cursors,
        )
    }

    /// Logs and records why the session ended, once per state change: an
    /// edge down for an hour is one line, not one every 5 s.
    async fn went_down(&mut self, e: &LinkError, retry_in: Duration) {
        let error = e.to_string();
        if self.health.down.as_deref() == Some(error.as_str()) {
            tracing::debug!(edge = %self.edge, error = %e, ?retry_in, "replication link still down");
        } else {
            tracing::warn!(edge = %self.edge, error = %e, ?retry_in, "replication link down");
        }
        self.health.down = Some(error.clone());
        self.tell(LinkEvent::Down {
            error: error.clone(),
        });
        if let Err(e) = self.record(Vec::new(), Some(error), false).await {
            tracing::warn!(edge = %self.edge, error = %e, "cannot record the link's state");
        }
    }

    /// Records what the link knows of its edge now (core's clock stamps it).
    async fn record(
        &self,
        cursors: Vec<(crate::ids::SpaceId, crate::ids::Revision)>,
        error: Option<String>,
        contact: bool,
    ) -> Result<(), CoreError> {
        self.app
            .record_link_state(&self.edge, cursors, self.health.errors(), error, contact)
            .await
    }
}

/// Why a session, or a space's pass, failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Peer(#[from] PeerError),
    #[error("local failure: {0}")]
    Local(#[from] CoreError),
    #[error("blob storage failure: {0}")]
    Blob(#[from] BlobError),
}

impl LinkError {
    /// Whether the link itself failed (the edge unreachable, the connection
    /// gone or cut): the session ends and reconnects. Any other failure met
    /// while sending or purging a space is that space's: the edge answered,
    /// and the other spaces may well go through.
    fn is_link_down(&self) -> bool {
        matches!(self, LinkError::Peer(PeerError::Down(_)))
    }

    /// What kind of failure this is, to tell a new failure from the same
    /// one again with other figures.
    fn kind(&self) -> &str {
        match self {
            LinkError::Peer(PeerError::Refused { kind, .. }) => kind,
            LinkError::Peer(PeerError::Down(_)) => "down",
            LinkError::Peer(PeerError::Invalid(_)) => "invalid",
            LinkError::Local(_) => "local",
            LinkError::Blob(_) => "blob",
        }
    }

    /// A space's failure in words ops can act on: what the edge said, after
    /// its name ("edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge").
    fn about_space(&self, edge: &NodeId) -> String {
        match self {
            LinkError::Peer(PeerError::Refused { message, .. }) => format!("{edge}: {message}"),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_edge_disk_is_the_spaces_failure_named_by_the_edge_not_a_link_failure() {
        let e = LinkError::Peer(PeerError::Refused {
            kind: "ResourceExhausted".into(),
            message: "disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
        });
        assert!(!e.is_link_down());
        let edge = NodeId::parse("edge-1").expect("id");
        assert_eq!(
            e.about_space(&edge),
            "edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge"
        );
        assert!(e.to_string().contains("ResourceExhausted"), "{e}");
        assert!(LinkError::Peer(PeerError::Down("cut".into())).is_link_down());
        assert!(!LinkError::Peer(PeerError::Invalid("bad row".into())).is_link_down());
    }
}
