//! Two nodes in memory: an internal node and an edge, synchronised by the
//! real link loop's steps (core's `replication::link`) through an in-memory
//! `EdgePeer` that calls the edge's use cases, as the gRPC server does.
//! Here: the helpers the submodules share, and the round trip of a shared
//! space and a contractor's upload; each submodule holds one concern.

use std::sync::Arc;

use bytes::Bytes;
use futures::executor::block_on;

use super::super::*;
use crate::blob::{BlobStore, ByteStream};
use crate::fakes::{FakeClock, FakeTimer, FastPasswords, MemBlobStore, MemEdgePeer, MemRepository};
use crate::ids::{Revision, SpaceId};
use crate::model::{Page, Visibility};
use crate::replication::NodeId;
use crate::replication::link::Link;
use crate::replication::{ChangeRow, OpOutcome, OutboxOp};
use crate::role::Role;

/// A node of either role in memory, with its blob store in view.
struct NodeUnderTest<A> {
    app: A,
    blobs: Arc<MemBlobStore>,
}

type Internal = NodeUnderTest<InternalApp>;
type Edge = NodeUnderTest<EdgeApp>;

fn settings(edges: &[&str]) -> CoreSettings {
    CoreSettings {
        edges: edges.iter().map(|e| e.parse().expect("node id")).collect(),
        ..CoreSettings::default()
    }
}

/// The internal node, replicating to `edge-1`.
fn internal_node() -> Internal {
    internal_node_with(Arc::new(crate::ports::SystemClock))
}

/// As [`internal_node`], by `clock`.
fn internal_node_with(clock: Arc<dyn crate::ports::Clock>) -> Internal {
    let blobs = Arc::new(MemBlobStore::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock,
        Arc::new(FastPasswords),
        settings(&["edge-1"]),
    );
    NodeUnderTest { app, blobs }
}

/// An edge.
fn edge_node() -> Edge {
    edge_node_with(Arc::new(crate::ports::SystemClock))
}

/// As [`edge_node`], by `clock`.
fn edge_node_with(clock: Arc<dyn crate::ports::Clock>) -> Edge {
    let blobs = Arc::new(MemBlobStore::new());
    let app = EdgeApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock,
        Arc::new(FastPasswords),
        settings(&[]),
    );
    NodeUnderTest { app, blobs }
}

fn content(s: &str) -> ByteStream {
    let b = Bytes::from(s.to_owned());
    Box::pin(futures::stream::once(async move { Ok(b) }))
}

async fn copy_blob(from: &MemBlobStore, to: &MemBlobStore, hash: &crate::ContentHash) {
    if to.size(hash).await.expect("size").is_some() {
        return;
    }
    let stream = from.get(hash, None).await.expect("get");
    to.put(stream, None).await.expect("put");
}

/// The internal node's link to `edge` as `edge-1`, and the peer it talks
/// to: the real link loop's steps, over the edge's use cases in memory.
fn wire(internal: &Internal, edge: &Edge) -> (Link, MemEdgePeer) {
    let timer: Arc<dyn crate::ports::Timer> = Arc::new(FakeTimer::new(Arc::new(FakeClock::new(
        time::OffsetDateTime::UNIX_EPOCH,
    ))));
    let edge_id = NodeId::parse("edge-1").expect("edge id");
    let link = Link::new(
        internal.app.clone(),
        edge_id.clone(),
        NodeId::parse("internal").expect("node id"),
        timer.clone(),
    );
    (link, MemEdgePeer::new(edge.app.clone(), edge_id, timer))
}

/// Down passes of the real link until nothing moves: purges of un-shared
/// spaces, then each shared space's feed, blobs first, then the batch, and
/// digests. `_space` names the space the caller waits for.
async fn down(internal: &Internal, edge: &Edge, _space: SpaceId) {
    let (mut link, peer) = wire(internal, edge);
    let cursors = link.hello(&peer).await.expect("hello");
    let mut down = link.down(&peer, cursors);
    for _ in 0..100 {
        if !down.pass().await.expect("down pass") {
            return;
        }
    }
    panic!("the down passes did not settle");
}

/// The real link's up direction on demand: every pending outbox item
/// fetched, applied on the internal node in runs and acknowledged on the
/// edge. Returns the internal node's records of them.
async fn up(internal: &Internal, edge: &Edge) -> Vec<crate::replication::AppliedOp> {
    let items = edge.app.pending_operations(0, 1000).await.expect("pending");
    let (link, peer) = wire(internal, edge);
    let verdicts = link.drain_outbox(&peer).await.expect("drain");
    assert_eq!(verdicts.len(), items.len(), "every pending item decided");
    let mut done = Vec::new();
    for item in items {
        // Exactly once: applying again returns the record, changes nothing.
        let applied = internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &item)
            .await
            .expect("apply again");
        assert!(
            verdicts
                .iter()
                .any(|v| v.op_id == item.op_id && v.outcome == applied.outcome)
        );
        done.push(applied);
    }
    assert!(
        edge.app
            .pending_operations(0, 1000)
            .await
            .expect("pending")
            .is_empty(),
        "every verdict acknowledged"
    );
    done
}

async fn agent(app: &InternalApp, login: &str) -> Actor {
    Actor::Principal(
        app.create_agent(
            &Actor::System,
            NewAgent {
                login: login.into(),
                display_name: login.into(),
                email: String::new(),
                is_admin: false,
                password: Some("correct horse battery".into()),
            },
        )
        .await
        .expect("agent"),
    )
}

struct World {
    internal: Internal,
    edge: Edge,
    manager: Actor,
    space: SpaceId,
    contractor: Actor,
    doc: crate::ids::DocumentId,
}

/// A shared space with one document and a contractor invited; the
/// invitation is on the edge, not accepted yet.
struct Invited {
    internal: Internal,
    edge: Edge,
    manager: Actor,
    space: SpaceId,
    doc: crate::ids::DocumentId,
    invited: IssuedInvitation,
}

/// A private space of the Sports domain, shared with `edge-1`.
async fn shared_space(app: &InternalApp, manager: &Actor, slug: &str, title: &str) -> SpaceId {
    let space = app
        .create_space(
            manager,
            NewSpace {
                slug: slug.into(),
                title: title.into(),
                description: String::new(),
                domain: "Sports".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await
        .expect("space")
        .space
        .id;
    app.share_space(manager, space, "edge-1")
        .await
        .expect("share");
    space
}

/// The outcomes of one up pass.
async fn up_outcomes(internal: &Internal, edge: &Edge) -> Vec<OpOutcome> {
    up(internal, edge)
        .await
        .into_iter()
        .map(|a| a.outcome)
        .collect()
}

async fn invited() -> Invited {
    invited_on(edge_node()).await
}

/// As [`invited`], with this edge.
async fn invited_on(edge: Edge) -> Invited {
    invited_between(internal_node(), edge).await
}

/// As [`invited`], between these nodes.
async fn invited_between(internal: Internal, edge: Edge) -> Invited {
    let manager = agent(&internal.app, "marie").await;
    let space = shared_space(&internal.app, &manager, "piscine", "Piscine").await;
    let doc = internal
        .app
        .upload(
            &manager,
            NewDocument {
                space,
                name: "CCTP.txt".into(),
                ..NewDocument::default()
            },
            content("v1"),
        )
        .await
        .expect("doc")
        .document
        .id;
    let invited = internal
        .app
        .invite_contractor(
            &manager,
            space,
            NewContractor {
                email: "Jean@BTP-Rhone.fr".into(),
                display_name: "Jean Bâtisseur".into(),
                organisation: "BTP Rhône".into(),
                role: Role::Collaborator,
            },
        )
        .await
        .expect("invite");
    assert!(
        invited.principal.password_hash.is_none(),
        "no password on the internal node"
    );
    down(&internal, &edge, space).await;
    Invited {
        internal,
        edge,
        manager,
        space,
        doc,
        invited,
    }
}

/// A shared space with one document, a contractor invited, accepted (the
/// acceptance applied on the internal node and back down) and logged in on
/// the edge.
async fn world() -> World {
    world_on(edge_node()).await
}

/// As [`world`], with this edge.
async fn world_on(edge: Edge) -> World {
    world_between(internal_node(), edge).await
}

/// As [`world`], between these nodes.
async fn world_between(internal: Internal, edge: Edge) -> World {
    let Invited {
        internal,
        edge,
        manager,
        space,
        doc,
        invited,
    } = invited_between(internal, edge).await;
    edge.app
        .accept_invitation(&invited.secret, "un mot de passe sûr")
        .await
        .expect("accept");
    assert_eq!(
        up_outcomes(&internal, &edge).await,
        [OpOutcome::Applied],
        "the acceptance went up"
    );
    // Its new revision comes back down: both nodes hold the same rows.
    down(&internal, &edge, space).await;
    let login = edge
        .app
        .login("jean@btp-rhone.fr", "un mot de passe sûr", None)
        .await
        .expect("login on the edge");
    let contractor = Actor::Principal(login.principal);
    World {
        internal,
        edge,
        manager,
        space,
        contractor,
        doc,
    }
}

#[test]
fn a_shared_space_reaches_the_edge_and_a_contractor_upload_comes_back() {
    block_on(async {
        let w = world().await;
        // The edge holds the space, its document and identical content.
        let mine = w
            .edge
            .app
            .my_spaces(&w.contractor, Page::default())
            .await
            .expect("spaces");
        assert_eq!(mine.items.len(), 1);
        let on_edge = w
            .edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("doc on edge");
        let on_internal = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("doc");
        assert_eq!(on_edge.version.hash, on_internal.version.hash);
        assert_eq!(
            w.edge.app.space_digest(w.space).await.expect("digest"),
            w.internal.app.space_digest(w.space).await.expect("digest"),
            "both nodes agree"
        );

        // A contractor upload is pending on the edge…
        let item = w
            .edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await
            .expect("edge upload");
        assert_eq!(
            w.edge
                .app
                .my_operations(&w.contractor, w.space, Page::default())
                .await
                .expect("ops")
                .items[0]
                .outcome,
            None
        );
        // …applied on the internal node with the contractor as author…
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Applied);
        let created = w
            .internal
            .app
            .get_document(&w.manager, applied[0].document.expect("document"))
            .await
            .expect("on internal");
        assert_eq!(Some(created.document.created_by), w.contractor.id());
        assert_eq!(created.document.name.as_str(), "Plan.pdf");
        // …and comes back down as a real document.
        down(&w.internal, &w.edge, w.space).await;
        w.edge
            .app
            .get_document(&w.contractor, created.document.id)
            .await
            .expect("back on edge");
        assert_eq!(
            w.edge
                .app
                .my_operations(&w.contractor, w.space, Page::default())
                .await
                .expect("ops")
                .items[0]
                .outcome,
            Some(OpOutcome::Applied)
        );
        assert_eq!(item.contractor, w.contractor.id().expect("id"));
    });
}

mod acceptance;
mod access_ends;
mod antivirus;
mod blob_accounting;
mod edge_locks;
mod inactivity;
mod invitation_mail;
mod invitations;
mod link_state;
mod links;
mod live;
mod locks;
mod notices;
mod operations;
mod outbox;
mod runs;
mod second_factor;
mod seen;
mod sharing;
mod successive_saves;
mod writes;
