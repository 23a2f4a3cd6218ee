//! Two nodes in memory: an internal node and an edge, synchronised by the
//! real link loop's steps (core's `replication::link`) through an in-memory
//! `EdgePeer` that calls the edge's use cases, as the gRPC server does.

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

struct NodeUnderTest {
    app: Passerelle,
    blobs: Arc<MemBlobStore>,
}

fn node(edges: &[&str]) -> NodeUnderTest {
    let blobs = Arc::new(MemBlobStore::new());
    let app = Passerelle::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        Arc::new(crate::ports::SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            // A node with no edge to replicate to is the edge itself here.
            node: if edges.is_empty() {
                NodeRole::Edge
            } else {
                NodeRole::Internal
            },
            edges: edges.iter().map(|e| (*e).to_owned()).collect(),
            ..CoreSettings::default()
        },
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
fn wire(internal: &NodeUnderTest, edge: &NodeUnderTest) -> (Link, MemEdgePeer) {
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
async fn down(internal: &NodeUnderTest, edge: &NodeUnderTest, _space: SpaceId) {
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
async fn up(internal: &NodeUnderTest, edge: &NodeUnderTest) -> Vec<crate::replication::AppliedOp> {
    let items = edge.app.pending_operations(0, 1000).await.expect("pending");
    let (link, peer) = wire(internal, edge);
    let verdicts = link.drain_outbox(&peer).await.expect("drain");
    assert_eq!(verdicts.len(), items.len(), "every pending item decided");
    let mut done = Vec::new();
    for item in items {
        // Exactly once: applying again returns the record, changes nothing.
        let applied = internal
            .app
            .apply_edge_op("edge-1", &item)
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

async fn agent(app: &Passerelle, login: &str) -> Actor {
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
    internal: NodeUnderTest,
    edge: NodeUnderTest,
    manager: Actor,
    space: SpaceId,
    contractor: Actor,
    doc: crate::ids::DocumentId,
}

/// A shared space with one document and a contractor invited; the
/// invitation is on the edge, not accepted yet.
struct Invited {
    internal: NodeUnderTest,
    edge: NodeUnderTest,
    manager: Actor,
    space: SpaceId,
    doc: crate::ids::DocumentId,
    invited: IssuedInvitation,
}

/// A private space of the Sports domain, shared with `edge-1`.
async fn shared_space(app: &Passerelle, manager: &Actor, slug: &str, title: &str) -> SpaceId {
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
async fn up_outcomes(internal: &NodeUnderTest, edge: &NodeUnderTest) -> Vec<OpOutcome> {
    up(internal, edge)
        .await
        .into_iter()
        .map(|a| a.outcome)
        .collect()
}

async fn invited() -> Invited {
    invited_on(node(&[])).await
}

/// As [`invited`], with this edge.
async fn invited_on(edge: NodeUnderTest) -> Invited {
    let internal = node(&["edge-1"]);
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
    world_on(node(&[])).await
}

/// As [`world`], with this edge.
async fn world_on(edge: NodeUnderTest) -> World {
    let Invited {
        internal,
        edge,
        manager,
        space,
        doc,
        invited,
    } = invited_on(edge).await;
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

#[test]
fn concurrent_edits_become_a_conflict_copy_and_every_version_is_kept() {
    block_on(async {
        let w = world().await;
        // The contractor edits version 1 on the edge while the agent adds version 2.
        w.edge
            .app
            .edge_new_version(&w.contractor, w.doc, None, "", content("contractor"))
            .await
            .expect("edge version");
        w.internal
            .app
            .new_version(&w.manager, w.doc, NewVersion::default(), content("agent"))
            .await
            .expect("v2");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Conflict);
        let copy = w
            .internal
            .app
            .get_document(&w.manager, applied[0].document.expect("copy"))
            .await
            .expect("copy");
        assert!(
            copy.document
                .name
                .as_str()
                .starts_with("CCTP (conflit jean@btp-rhone.fr "),
            "{}",
            copy.document.name
        );
        assert_eq!(
            w.internal
                .app
                .list_versions(&w.manager, w.doc)
                .await
                .expect("versions")
                .len(),
            2
        );
        down(&w.internal, &w.edge, w.space).await;
        w.edge
            .app
            .get_document(&w.contractor, copy.document.id)
            .await
            .expect("copy on the edge too");
    });
}

#[test]
fn an_operation_of_a_contractor_whose_rights_were_revoked_is_quarantined() {
    block_on(async {
        let w = world().await;
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::Rename {
                    document: w.doc,
                    name: "Renommé.txt".into(),
                },
            )
            .await
            .expect("rename queued");
        let cid = w.contractor.id().expect("id");
        w.internal
            .app
            .remove_member(&w.manager, w.space, cid)
            .await
            .expect("revoke");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Rejected);
        assert_eq!(
            w.internal
                .app
                .get_document(&w.manager, w.doc)
                .await
                .expect("doc")
                .document
                .name
                .as_str(),
            "CCTP.txt"
        );
        let status = w
            .internal
            .app
            .space_replication(&w.manager, w.space)
            .await
            .expect("status");
        assert_eq!(status.quarantine.len(), 1, "reported to the managers");
        // The revocation reaches the edge: the contractor no longer sees the space.
        down(&w.internal, &w.edge, w.space).await;
        assert!(matches!(
            w.edge.app.get_space(&w.contractor, w.space).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn operations_naming_another_spaces_document_are_rejected() {
    block_on(async {
        let w = world().await;
        let other = w
            .internal
            .app
            .create_space(
                &w.manager,
                NewSpace {
                    slug: "secret".into(),
                    title: "Secret".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        let secret = w
            .internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: other,
                    name: "s.txt".into(),
                    ..NewDocument::default()
                },
                content("s"),
            )
            .await
            .expect("doc")
            .document
            .id;
        // A hostile edge forges an item against the secret document.
        let forged = crate::replication::OutboxItem {
            seq: 1,
            op_id: uuid::Uuid::now_v7(),
            space: w.space,
            contractor: w.contractor.id().expect("id"),
            created_at: time::OffsetDateTime::now_utc(),
            op: OutboxOp::Rename {
                document: secret,
                name: "pwned.txt".into(),
            },
            outcome: None,
            detail: String::new(),
        };
        let r = w
            .internal
            .app
            .apply_edge_op("edge-1", &forged)
            .await
            .expect("recorded");
        assert_eq!(r.outcome, OpOutcome::Rejected);
        assert_eq!(
            w.internal
                .app
                .get_document(&w.manager, secret)
                .await
                .expect("doc")
                .document
                .name
                .as_str(),
            "s.txt"
        );
        // And from an edge the space is not shared with.
        let forged2 = crate::replication::OutboxItem {
            op_id: uuid::Uuid::now_v7(),
            op: OutboxOp::Rename {
                document: w.doc,
                name: "x.txt".into(),
            },
            ..forged
        };
        assert_eq!(
            w.internal
                .app
                .apply_edge_op("edge-2", &forged2)
                .await
                .expect("recorded")
                .outcome,
            OpOutcome::Rejected
        );
    });
}

#[test]
fn content_over_the_internal_limit_is_refused_without_being_fetched() {
    block_on(async {
        let w = world().await;
        let limit = w.internal.app.settings().max_upload_bytes;
        let item = crate::replication::OutboxItem {
            seq: 1,
            op_id: uuid::Uuid::now_v7(),
            space: w.space,
            contractor: w.contractor.id().expect("id"),
            created_at: time::OffsetDateTime::now_utc(),
            op: OutboxOp::NewDocument {
                folder: None,
                name: "enorme.iso".into(),
                hash: crate::ContentHash::of(b"never sent"),
                size: limit + 1,
                media_type: "application/octet-stream".into(),
                doc_type: None,
                metadata: serde_json::Map::new(),
                comment: String::new(),
            },
            outcome: None,
            detail: String::new(),
        };
        let r = w
            .internal
            .app
            .apply_edge_op("edge-1", &item)
            .await
            .expect("recorded, not retried");
        assert_eq!(r.outcome, OpOutcome::Rejected);
        assert!(r.detail.contains(&limit.to_string()), "{}", r.detail);
        let listed = w
            .internal
            .app
            .list_folder(&w.manager, w.space, None, Page::default())
            .await
            .expect("list");
        assert!(
            !listed
                .documents
                .items
                .iter()
                .any(|d| d.name.as_str() == "enorme.iso")
        );
    });
}

#[test]
fn unsharing_purges_every_row_and_blob_of_the_space_from_the_edge() {
    block_on(async {
        let w = world().await;
        // A transfer cut before its batch: a partial blob no row names.
        let cut: crate::blob::ByteStream = Box::pin(futures::stream::iter([Ok(
            bytes::Bytes::from_static(b"half of a plan"),
        )]));
        let planned = crate::ContentHash::of(b"half of a plan, and the rest");
        w.edge
            .blobs
            .put_resumable(&planned, 28, 0, cut)
            .await
            .expect("partial kept");
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        let report = w.edge.app.purge_shared_space(w.space).await.expect("purge");
        assert!(report.rows > 0);
        assert_eq!(report.blobs, 2, "the blob and the partial one");
        assert!(w.edge.blobs.partials().await.expect("partials").is_empty());
        assert!(w.edge.app.cursors().await.expect("cursors").is_empty());
        assert!(w.edge.blobs.is_empty(), "no blob of the space is left");
        assert!(
            w.edge
                .app
                .feed(w.space, Revision::ZERO, 1000)
                .await
                .expect("rows")
                .rows
                .is_empty()
        );
        assert!(
            w.edge
                .app
                .login("jean@btp-rhone.fr", "un mot de passe sûr", None)
                .await
                .is_err(),
            "the contractor is gone"
        );
    });
}

#[test]
fn an_invitation_works_once_and_not_when_revoked() {
    block_on(async {
        let internal = node(&["edge-1"]);
        let edge = node(&[]);
        let m = agent(&internal.app, "marie").await;
        let s = internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "s1".into(),
                    title: "S".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        let refused = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await;
        assert!(matches!(
            refused,
            Err(CoreError::Conflict {
                code: "not_shared",
                ..
            })
        ));
        internal
            .app
            .share_space(&m, s, "edge-1")
            .await
            .expect("share");
        assert!(matches!(
            internal.app.share_space(&m, s, "edge-9").await,
            Err(CoreError::Invalid {
                code: "unknown_edge",
                ..
            })
        ));
        let one = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite");
        let two = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "c@d.fr".into(),
                    display_name: "C".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite");
        internal
            .app
            .revoke_invitation(&m, two.invitation.id)
            .await
            .expect("revoke");
        down(&internal, &edge, s).await;
        edge.app
            .accept_invitation(&one.secret, "un mot de passe sûr")
            .await
            .expect("accept");
        assert!(matches!(
            edge.app
                .accept_invitation(&one.secret, "un autre mot de passe")
                .await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            edge.app
                .accept_invitation(&two.secret, "un mot de passe sûr")
                .await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            edge.app
                .accept_invitation("forged", "un mot de passe sûr")
                .await,
            Err(CoreError::NotFound(_))
        ));
        // A later batch does not wipe the password chosen on the edge.
        internal
            .app
            .set_member(&m, s, "a@b.fr", Role::Contributor)
            .await
            .expect("role");
        down(&internal, &edge, s).await;
        edge.app
            .login("a@b.fr", "un mot de passe sûr", None)
            .await
            .expect("still logs in");
    });
}

#[test]
fn a_space_never_shared_never_reaches_the_feed_of_an_edge() {
    block_on(async {
        let internal = node(&["edge-1"]);
        let m = agent(&internal.app, "marie").await;
        internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "interne".into(),
                    title: "Interne".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space");
        assert!(
            internal
                .app
                .spaces_shared_with("edge-1")
                .await
                .expect("shared")
                .is_empty()
        );
    });
}

#[test]
fn a_contractor_is_never_invited_as_a_manager() {
    block_on(async {
        let internal = node(&["edge-1"]);
        let m = agent(&internal.app, "marie").await;
        let s = internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "s1".into(),
                    title: "S".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        internal
            .app
            .share_space(&m, s, "edge-1")
            .await
            .expect("share");
        let r = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Manager,
                },
            )
            .await;
        assert!(matches!(
            r,
            Err(CoreError::Invalid {
                code: "contractor_role",
                ..
            })
        ));
    });
}

#[test]
fn the_edge_refuses_a_batch_whose_blobs_it_does_not_hold_whole() {
    block_on(async {
        let internal = node(&["edge-1"]);
        let edge = node(&[]);
        let manager = agent(&internal.app, "marie").await;
        let space = internal
            .app
            .create_space(
                &manager,
                NewSpace {
                    slug: "voirie".into(),
                    title: "Voirie".into(),
                    description: String::new(),
                    domain: "Voirie".into(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        for name in ["plan.txt", "devis.txt"] {
            internal
                .app
                .upload(
                    &manager,
                    NewDocument {
                        space,
                        name: name.into(),
                        ..NewDocument::default()
                    },
                    content(name),
                )
                .await
                .expect("doc");
        }
        internal
            .app
            .share_space(&manager, space, "edge-1")
            .await
            .expect("share");
        // Started: held at cursor 0 before any batch, once however often.
        edge.app.begin_space(space).await.expect("begin");
        edge.app.begin_space(space).await.expect("begin again");
        assert_eq!(
            edge.app.cursors().await.expect("cursors"),
            vec![(space, Revision::ZERO)]
        );
        let feed = internal
            .app
            .feed(space, Revision::ZERO, 1000)
            .await
            .expect("feed");
        let hashes: Vec<_> = feed
            .rows
            .iter()
            .filter_map(|r| match r {
                ChangeRow::Version(v) => Some(v.hash),
                _ => None,
            })
            .collect();
        assert_eq!(hashes.len(), 2);
        // One blob whole, the other only begun: refused, nothing applied.
        copy_blob(&internal.blobs, &edge.blobs, &hashes[0]).await;
        let half: ByteStream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"dev"))]));
        let size = internal
            .blobs
            .size(&hashes[1])
            .await
            .expect("size")
            .expect("stored");
        edge.blobs
            .put_resumable(&hashes[1], size, 0, half)
            .await
            .expect("partial");
        let refused = edge
            .app
            .apply_changes(space, Revision::ZERO, feed.through, feed.rows.clone())
            .await
            .expect_err("a blob is missing");
        assert!(
            matches!(&refused, CoreError::Conflict { code, .. } if *code == "blob_missing"),
            "{refused:?}"
        );
        assert_eq!(
            edge.app.cursors().await.expect("cursors"),
            vec![(space, Revision::ZERO)]
        );
        edge.blobs
            .discard_partial(&hashes[1])
            .await
            .expect("discard");
        copy_blob(&internal.blobs, &edge.blobs, &hashes[1]).await;
        let cursor = edge
            .app
            .apply_changes(space, Revision::ZERO, feed.through, feed.rows)
            .await
            .expect("applied");
        assert_eq!(cursor, feed.through);
    });
}

mod acceptance;
mod blob_accounting;
mod link_state;
mod live;
mod outbox;
mod runs;
mod successive_saves;
mod writes;

#[test]
fn a_contractors_new_folder_move_and_metadata_are_applied_as_the_contractor() {
    block_on(async {
        let w = world().await;
        for t in crate::doctype::default_catalogue() {
            w.internal
                .app
                .save_document_type(&Actor::System, t)
                .await
                .expect("type");
        }
        down(&w.internal, &w.edge, w.space).await;
        let cid = w.contractor.id().expect("id");
        let folder = w.edge.app.new_folder_id();
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::NewFolder {
                    folder,
                    parent: None,
                    name: "Lot 1".into(),
                },
            )
            .await
            .expect("folder queued");
        // Not on the edge until the internal node applied it: a move into
        // it is refused there, so nothing waits on a folder that may never be.
        assert!(
            w.edge
                .app
                .edge_operation(
                    &w.contractor,
                    w.space,
                    OutboxOp::Move {
                        document: w.doc,
                        folder: Some(folder),
                    },
                )
                .await
                .is_err()
        );
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        down(&w.internal, &w.edge, w.space).await;

        let facture = serde_json::json!({"numero": "F-2026-0042", "fournisseur": "BTP Rhône",
            "montant_ttc": "12480.50", "date_emission": "2026-10-02"});
        let serde_json::Value::Object(metadata) = facture else {
            unreachable!("an object")
        };
        for op in [
            OutboxOp::Move {
                document: w.doc,
                folder: Some(folder),
            },
            OutboxOp::SetMetadata {
                document: w.doc,
                doc_type: Some("facture".into()),
                metadata,
            },
        ] {
            w.edge
                .app
                .edge_operation(&w.contractor, w.space, op)
                .await
                .expect("queued");
        }
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied, OpOutcome::Applied]
        );

        let d = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("doc")
            .document;
        assert_eq!(d.folder, Some(folder));
        assert_eq!(d.doc_type.as_deref(), Some("facture"));
        assert_eq!(d.metadata["fournisseur"], "BTP Rhône");
        let listed = w
            .internal
            .app
            .list_folder(&w.manager, w.space, None, Page::new(0, 10))
            .await
            .expect("root");
        let f = listed
            .folders
            .iter()
            .find(|f| f.id == folder)
            .expect("the edge's folder id is kept");
        assert_eq!((f.name.as_str(), f.created_by), ("Lot 1", cid));
        // And back down: the edge shows what the internal node decided.
        down(&w.internal, &w.edge, w.space).await;
        let e = w
            .edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("doc on the edge")
            .document;
        assert_eq!(
            (e.folder, e.doc_type, e.metadata),
            (d.folder, d.doc_type, d.metadata)
        );
    })
}

/// ADR 0002, invariant 7: the edge checks "nothing pending" and purges in
/// one write transaction, so an operation the contractor was told is
/// accepted is never deleted unapplied.
#[test]
fn an_edge_purge_is_refused_while_an_operation_of_the_space_is_pending() {
    block_on(async {
        let w = world().await;
        let pending = w
            .edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "plans-v2.txt".into(),
                    ..NewDocument::default()
                },
                content("plans"),
            )
            .await
            .expect("accepted on the edge");
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        match w.edge.app.purge_shared_space(w.space).await {
            Err(CoreError::Conflict { code, .. }) => assert_eq!(code, "pending_operations"),
            other => panic!("purge with a pending operation: {other:?}"),
        }
        assert!(
            w.edge
                .app
                .pending_operations(0, 100)
                .await
                .expect("pending")
                .iter()
                .any(|i| i.op_id == pending.op_id),
            "the operation is still there"
        );
        // Drained (applied on the internal node, acknowledged), the purge goes.
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        let report = w.edge.app.purge_shared_space(w.space).await.expect("purge");
        assert!(report.rows > 0);
    });
}
