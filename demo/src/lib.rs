//! # passerelle-demo
//!
//! The whole shape of Passerelle on one machine for a newcomer: an internal
//! node seeded with sample data, an edge node started in the same process
//! beside it, a demo space shared to the edge and a demo contractor invited
//! into it. It is its own crate so that the production `passerelle-internal`
//! binary links no edge code (`.ci/run` checks it): in production the edge
//! is a separate `passerelle-edge` process on a DMZ host (see deploy/).
//!
//! It composes the two node libraries and adds nothing a deployment needs;
//! nothing may depend on it.
//!
//! Modules: [`quickstart`] (the edge beside the node, PKI, share and invite).

pub mod quickstart;

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use passerelle_internal::cli::GlobalArgs;
use passerelle_internal::{Config, Node, demo};
use tokio::net::TcpListener;

/// Passerelle demo: an internal node and an edge beside it, with sample
/// spaces, people and documents (password `passerelle-demo` for all).
#[derive(Debug, Parser)]
#[command(name = "passerelle-demo", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Address of the internal node (port 0 picks free ports for both nodes).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Runs the demo until SIGINT or SIGTERM.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = passerelle_internal::cli::load_config(&cli.global)?;
    if let Some(l) = cli.listen {
        config.listen = l;
    }
    passerelle_internal::cli::init_tracing(&config, true);
    serve(config).await
}

/// Seeds an empty node, starts the edge beside it, serves both; on a node
/// that already has accounts, serves what is there without seeding again.
async fn serve(mut config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let empty = {
        let probe = Node::open(config.clone()).await?;
        probe.app.count_principals().await? == 0
    };
    let edge = quickstart::start_edge(&mut config).await?;
    tracing::info!(config = ?config, "starting");
    let node = Node::open(config).await?;
    if empty {
        let logins = demo::seed(&node.app).await?;
        demo::print_logins(&logins);
    } else {
        println!("demo: this node already has accounts; sample data not added again");
    }
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!(
            "cannot listen on {listen}: is another process using it? choose another with --listen"
        )
    })?;
    let addr = listener.local_addr()?;
    let app = node.app.clone();
    let mut serving = tokio::spawn(node.serve(listener, passerelle_internal::shutdown_signal()));
    if empty {
        // A stop requested meanwhile wins over finishing the demo setup.
        tokio::select! {
            done = quickstart::share_and_invite(&app, &edge) => done?,
            stopped = &mut serving => return stopped.context("the node task failed")?,
        }
    }
    quickstart::print_urls(addr, &edge);
    serving.await.context("the node task failed")?
}
