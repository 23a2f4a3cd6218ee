//! The replication link (core's `Link::run` over `GrpcEdgePeer`) against an edge whose disk is too
//! small for one shared space (issue 12): that space's failure is recorded
//! for it, with why, while the other spaces keep replicating, an un-shared
//! space is still purged, and the link stays up.
//!
//! Both nodes run in this process on in-memory stores; the edge's blob store
//! holds at most [`EDGE_DISK`] bytes, like a small disk. The link runs over
//! plain HTTP/2 on loopback: mutual TLS has its own tests (`mtls.rs`).

use std::sync::Arc;

use anyhow::{Context, ensure};
use bytes::Bytes;
use passerelle_core::blob::{BlobStore, ByteStream};
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository};
use passerelle_core::ids::SpaceId;
use passerelle_core::model::Visibility;
use passerelle_core::replication::EdgeStatus;
use passerelle_core::replication::NodeId;
use passerelle_core::replication::link::Link;
use passerelle_core::service::{NewAgent, NewDocument, NewSpace};
use passerelle_core::{Actor, ContentHash, CoreSettings, EdgeApp, InternalApp};
use passerelle_grpc::edge_service::EdgeReplication;
use passerelle_testing::eventually;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Server};

const EDGE: &str = "edge-1";
/// What the edge's blob store may hold: the small documents fit, the large
/// one never does.
const EDGE_DISK: u64 = 1 << 20;
const LARGE: usize = 2 << 20;

fn settings() -> CoreSettings {
    CoreSettings {
        edges: vec![EDGE.parse().expect("node id")],
        ..CoreSettings::default()
    }
}

fn internal_node() -> InternalApp {
    let blobs = Arc::new(MemBlobStore::new());
    let clock = Arc::new(passerelle_core::ports::SystemClock);
    let repo = Arc::new(MemRepository::new());
    InternalApp::new(repo, blobs, clock, Arc::new(FastPasswords), settings())
}

fn edge_node(blobs: Arc<MemBlobStore>) -> EdgeApp {
    let clock = Arc::new(passerelle_core::ports::SystemClock);
    let repo = Arc::new(MemRepository::new());
    EdgeApp::new(repo, blobs, clock, Arc::new(FastPasswords), settings())
}

/// Serves `edge` on a loopback port until `cancel`; returns its URL.
async fn serve(edge: EdgeApp, cancel: &CancellationToken) -> anyhow::Result<String> {
    let service = EdgeReplication::new(edge, EDGE.parse()?, cancel.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(service.into_server())
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                cancel.clone().cancelled_owned(),
            ),
    );
    Ok(format!("http://{addr}"))
}

fn content(bytes: Vec<u8>) -> ByteStream {
    Box::pin(futures::stream::once(async move { Ok(Bytes::from(bytes)) }))
}

async fn shared_space(
    app: &InternalApp,
    manager: &Actor,
    slug: &str,
    documents: &[(&str, usize)],
) -> anyhow::Result<SpaceId> {
    let space = app
        .create_space(
            manager,
            NewSpace {
                slug: slug.into(),
                title: slug.into(),
                description: String::new(),
                domain: "Travaux".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    for (name, len) in documents {
        upload(app, manager, space, name, *len).await?;
    }
    app.share_space(manager, space, EDGE).await?;
    Ok(space)
}

async fn upload(
    app: &InternalApp,
    by: &Actor,
    space: SpaceId,
    name: &str,
    len: usize,
) -> anyhow::Result<()> {
    app.upload(
        by,
        NewDocument {
            space,
            name: name.into(),
            ..NewDocument::default()
        },
        content(document(name, len)),
    )
    .await?;
    Ok(())
}

/// The content of the document `name`: its name over and over.
fn document(name: &str, len: usize) -> Vec<u8> {
    name.bytes().cycle().take(len).collect()
}

/// The edge holds `space` as the internal node has it.
async fn in_sync(internal: &InternalApp, edge: &EdgeApp, space: SpaceId) -> anyhow::Result<()> {
    ensure!(
        edge.space_digest(space).await? == internal.space_digest(space).await?,
        "space {space} differs on the edge"
    );
    Ok(())
}

async fn status(internal: &InternalApp) -> anyhow::Result<EdgeStatus> {
    internal
        .edge_status_of(&EDGE.parse().expect("node id"))
        .await?
        .context("no status yet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_too_large_for_the_edge_fails_alone_and_the_others_and_the_purges_go_on()
-> anyhow::Result<()> {
    let internal = internal_node();
    let edge_blobs = Arc::new(MemBlobStore::with_capacity(EDGE_DISK));
    let edge = edge_node(edge_blobs.clone());
    let manager = Actor::Principal(
        internal
            .create_agent(
                &Actor::System,
                NewAgent {
                    login: "marie".into(),
                    display_name: "Marie".into(),
                    email: String::new(),
                    is_admin: true,
                    password: None,
                },
            )
            .await?,
    );
    // Spaces are sent in the order of their ids (created first, sent
    // first): the one that cannot fit comes before the others.
    let large = shared_space(&internal, &manager, "gros", &[("carotte.bin", LARGE)]).await?;
    let leaving = shared_space(&internal, &manager, "parti", &[("plan.txt", 1000)]).await?;
    let small = shared_space(&internal, &manager, "petit", &[("devis.txt", 2000)]).await?;

    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let url = serve(edge.clone(), &cancel).await?;
    let link = Link::new(
        internal.clone(),
        NodeId::parse(EDGE)?,
        NodeId::parse("internal")?,
        Arc::new(passerelle_grpc::TokioTimer),
    );
    let dial = passerelle_grpc::Dial(move || {
        let url = url.clone();
        async move {
            let channel = Channel::from_shared(url)?.connect().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(channel)
        }
    });
    let stop = cancel.clone().cancelled_owned();
    tokio::spawn(async move { link.run(&dial, stop).await });

    eventually("the small spaces on the edge", || async {
        in_sync(&internal, &edge, small).await?;
        in_sync(&internal, &edge, leaving).await
    })
    .await?;
    let failing = eventually("the large space's failure recorded", || async {
        let s = status(&internal).await?;
        s.space_error(large)
            .map(str::to_owned)
            .with_context(|| format!("not yet: {s:?}"))
    })
    .await?;
    ensure!(
        failing.starts_with("edge-1: ") && failing.contains("full"),
        "{failing}"
    );

    // Still failing, the large space holds back neither a new document of
    // another space nor the purge of an un-shared one.
    upload(&internal, &manager, small, "avenant.txt", 3000).await?;
    internal.unshare_space(&manager, leaving).await?;
    eventually("the new document on the edge", || {
        in_sync(&internal, &edge, small)
    })
    .await?;
    eventually("the un-shared space purged from the edge", || async {
        let held: Vec<SpaceId> = edge.cursors().await?.into_iter().map(|(s, _)| s).collect();
        ensure!(!held.contains(&leaving), "still held: {held:?}");
        Ok(())
    })
    .await?;

    let s = status(&internal).await?;
    ensure!(s.last_error.is_none(), "the link went down: {s:?}");
    ensure!(
        s.space_errors.iter().map(|(id, _)| *id).collect::<Vec<_>>() == vec![large],
        "only the large space fails: {s:?}"
    );
    let large_blob = ContentHash::of(&document("carotte.bin", LARGE));
    ensure!(
        edge_blobs.partial_len(&large_blob).await? == 0,
        "nothing of the large blob on the edge"
    );
    Ok(())
}

/// The edge's activity report (ADR 0011 §5) crosses the wire as the edge
/// keeps it: a contractor who accepted their invitation on the edge is
/// reported active today, and the internal node takes the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edges_activity_report_crosses_the_wire() -> anyhow::Result<()> {
    let internal = internal_node();
    let edge = edge_node(Arc::new(MemBlobStore::new()));
    let manager = Actor::Principal(
        internal
            .create_agent(
                &Actor::System,
                NewAgent {
                    login: "marie".into(),
                    display_name: "Marie".into(),
                    email: String::new(),
                    is_admin: false,
                    password: None,
                },
            )
            .await?,
    );
    let space = shared_space(&internal, &manager, "piscine", &[]).await?;
    let invited = internal
        .invite_contractor(
            &manager,
            space,
            passerelle_core::service::NewContractor {
                email: "jean@btp-rhone.fr".into(),
                display_name: "Jean".into(),
                organisation: "BTP Rhône".into(),
                role: passerelle_core::role::Role::Collaborator,
            },
        )
        .await?;
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let url = serve(edge.clone(), &cancel).await?;
    let link = Link::new(
        internal.clone(),
        NodeId::parse(EDGE)?,
        NodeId::parse("internal")?,
        Arc::new(passerelle_grpc::TokioTimer),
    );
    let dial_url = url.clone();
    let dial = passerelle_grpc::Dial(move || {
        let url = dial_url.clone();
        async move {
            let channel = Channel::from_shared(url)?.connect().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(channel)
        }
    });
    let stop = cancel.clone().cancelled_owned();
    tokio::spawn(async move { link.run(&dial, stop).await });
    eventually("the invitation accepted on the edge", || async {
        edge.accept_invitation(&invited.secret, "un mot de passe sûr")
            .await?;
        Ok(())
    })
    .await?;

    let peer = passerelle_grpc::GrpcEdgePeer::new(Channel::from_shared(url)?.connect().await?);
    let report = passerelle_core::replication::peer::EdgePeer::activity_report(&peer).await?;
    let today = time::OffsetDateTime::now_utc().date();
    ensure!(
        report == vec![(invited.principal.id, today)],
        "reported: {report:?}"
    );
    ensure!(edge.activity_report().await? == report);
    let kept = internal
        .record_activity_report(&NodeId::parse(EDGE)?, &report)
        .await?;
    ensure!(kept <= 1, "one contractor at most: {kept}");
    Ok(())
}
