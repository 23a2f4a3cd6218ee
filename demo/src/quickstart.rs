//! The demo's edge: the whole shape on one machine for a newcomer — the
//! internal node, an edge node started in-process on loopback with a freshly
//! generated PKI, a demo space shared to it and a demo contractor. In
//! production the edge is a separate `passerelle-edge` process on a DMZ host
//! (see deploy/); here it runs in the same process only for convenience.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use passerelle_core::model::Page;
use passerelle_core::role::Role;
use passerelle_core::service::NewContractor;
use passerelle_core::{Actor, InternalApp};
use passerelle_internal::config::{Config, EdgeConfig};
use passerelle_internal::demo::DEMO_PASSWORD;
use passerelle_pki::{NodeId, Pki};
use tokio::net::TcpListener;

/// The demo edge's id, addresses and contractor.
pub const EDGE_ID: &str = "edge-1";
pub const EDGE_PUBLIC: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443);
pub const EDGE_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7443);
pub const CONTRACTOR: &str = "jean.batisseur@btp-rhone.example";

/// Makes the PKI (once) and the edge's TLS files under `data_dir`.
fn pki(data_dir: &Path) -> anyhow::Result<()> {
    let dir = data_dir.join("pki");
    let pki = if dir.join("ca.pem").exists() {
        Pki::open(&dir)?
    } else {
        Pki::init(&dir, "Passerelle démo", passerelle_pki::CA_VALIDITY)?
    };
    let edge = NodeId::parse(EDGE_ID)?;
    let internal = NodeId::parse("internal")?;
    if !pki.bundle_dir(&edge).join("cert.pem").exists() {
        pki.issue_edge(
            &edge,
            &["localhost".into()],
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            passerelle_pki::NODE_VALIDITY,
        )?;
    }
    if !pki.bundle_dir(&internal).join("cert.pem").exists() {
        pki.issue_internal(&internal, passerelle_pki::NODE_VALIDITY)?;
    }
    let tls = data_dir.join("edge").join("tls");
    std::fs::create_dir_all(&tls)?;
    for f in ["cert.pem", "key.pem", "ca.pem"] {
        std::fs::copy(pki.bundle_dir(&edge).join(f), tls.join(f))?;
    }
    Ok(())
}

/// The demo edge, started in-process.
#[derive(Debug, Clone)]
pub struct DemoEdge {
    pub node: passerelle_edge::EdgeNode,
    pub public: SocketAddr,
    pub peer: SocketAddr,
}

/// Makes the PKI, starts the in-process edge (on 8443/7443, or on free
/// ports when the node itself listens on port 0, as tests do), and adds it
/// to `config` so the internal node replicates to it.
pub async fn start_edge(config: &mut Config) -> anyhow::Result<DemoEdge> {
    std::fs::create_dir_all(&config.data_dir)?;
    pki(&config.data_dir).context("cannot prepare the demo PKI")?;
    // Plain HTTP on loopback in the demo: cookies without the Secure flag.
    config.http.secure_cookies = false;
    let (public_addr, peer_addr) = if config.listen.port() == 0 {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        (any, any)
    } else {
        (EDGE_PUBLIC, EDGE_PEER)
    };
    let public = TcpListener::bind(public_addr)
        .await
        .with_context(|| format!("the demo edge needs {public_addr}"))?;
    let peer = TcpListener::bind(peer_addr)
        .await
        .with_context(|| format!("the demo edge needs {peer_addr}"))?;
    let (public_addr, peer_addr) = (public.local_addr()?, peer.local_addr()?);
    if config.replication.edges.is_empty() {
        config.replication.edges.push(EdgeConfig {
            id: NodeId::parse(EDGE_ID)?,
            endpoint: format!("https://{peer_addr}"),
            server_name: None,
            public_url: Some(edge_url(public_addr)),
        });
    }
    let edge_config = passerelle_edge::Config {
        node_id: NodeId::parse(EDGE_ID)?,
        data_dir: config.data_dir.join("edge"),
        listen: public_addr,
        peer_listen: peer_addr,
        http: passerelle_http::HttpConfig {
            secure_cookies: false,
            ..passerelle_http::HttpConfig::default()
        },
        ..passerelle_edge::Config::default()
    };
    let edge = passerelle_edge::EdgeNode::open(edge_config).await?;
    let serving = edge.clone();
    tokio::spawn(async move {
        if let Err(e) = serving
            .serve(public, peer, passerelle_internal::shutdown_signal())
            .await
        {
            tracing::error!(error = %e, "demo edge stopped");
        }
    });
    Ok(DemoEdge {
        node: edge,
        public: public_addr,
        peer: peer_addr,
    })
}

/// Shares the demo space with the edge and invites the demo contractor,
/// then accepts the invitation on the edge once it got there, so the
/// printed login works at once.
pub async fn share_and_invite(app: &InternalApp, edge: &DemoEdge) -> anyhow::Result<()> {
    let marie = Actor::Principal(
        app.principal_by_login(&Actor::System, "marie.dupont")
            .await?,
    );
    let spaces = app.my_spaces(&marie, Page::default()).await?;
    let space = spaces
        .items
        .iter()
        .find(|s| s.space.slug.as_str() == "construction-piscine-olympique")
        .context("demo space")?
        .space
        .id;
    app.share_space(&marie, space, EDGE_ID).await?;
    let invited = app
        .invite_contractor(
            &marie,
            space,
            NewContractor {
                email: CONTRACTOR.into(),
                display_name: "Jean Bâtisseur".into(),
                organisation: "BTP Rhône".into(),
                role: Role::Collaborator,
            },
        )
        .await?;
    for _ in 0..300 {
        match edge
            .node
            .app
            .accept_invitation(&invited.secret, DEMO_PASSWORD)
            .await
        {
            Ok(_) => return Ok(()),
            Err(passerelle_core::CoreError::NotFound(_)) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("the demo invitation did not reach the edge within 30 s")
}

/// The demo edge's address for browsers: `localhost`, not `127.0.0.1`.
/// Cookies are scoped by host, not port: with the same host name, logging
/// in on one node would replace the other node's session cookie.
fn edge_url(public: SocketAddr) -> String {
    format!("http://localhost:{}", public.port())
}

pub fn print_urls(internal: SocketAddr, edge: &DemoEdge) {
    println!("internal node (agents):      http://{internal}/   (web pages; API under /api/v1)");
    println!(
        "edge node (contractors):     {}/   replication (mTLS) on {}",
        edge_url(edge.public),
        edge.peer
    );
    println!(
        "demo contractor on the edge: {CONTRACTOR} / {DEMO_PASSWORD} (space « Construction piscine olympique »)"
    );
    println!(
        "  the edge asks contractors for a second factor: at the first login, scan the QR code with an authenticator app"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_edge_has_its_own_host_name_so_sessions_do_not_collide() {
        let internal_host = "127.0.0.1";
        let url = edge_url(EDGE_PUBLIC);
        assert_eq!(url, "http://localhost:8443");
        assert!(!url.contains(internal_host));
    }
}
