//! The `passerelle-edge` command line: `serve`, and `status`/`check`/`blobs`
//! for ops. Nothing else: accounts, spaces and sharing are administered on
//! the internal node.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{Config, EdgeNode};

/// Passerelle edge node: serves outside contractors the spaces shared with it.
#[derive(Debug, Parser)]
#[command(name = "passerelle-edge", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (optional).
    #[arg(long, short = 'c', global = true, env = "PASSERELLE_EDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory. Default: ./passerelle-edge-data
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the edge: contractors' API on --listen, replication on --peer-listen.
    Serve {
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[arg(long)]
        peer_listen: Option<SocketAddr>,
    },
    /// What this edge holds: spaces and their replication cursors, pending
    /// contractor operations, free space; and the running edge's background
    /// workers, asked over loopback. Exits non-zero under disk pressure or
    /// when the running edge is not ready.
    Status {
        /// Where the running edge's API listens, when not at `listen` of
        /// the configuration (a `serve --listen` given on its command line).
        #[arg(long)]
        address: Option<SocketAddr>,
    },
    /// Checks the configuration, the TLS material, the database and the blob
    /// store; exits non-zero with the fix when something is wrong.
    Check,
    /// The blobs this edge holds against what its shared spaces need.
    #[command(subcommand)]
    Blobs(BlobsCommand),
    /// The full-text search index of the shared spaces.
    #[command(subcommand)]
    Search(SearchCommand),
}

/// `search …`: the index is derived data, rebuilt from the database and
/// the blobs.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Delete the search index (with the edge stopped); the edge rebuilds
    /// it in the background at its next start.
    Reindex,
}

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Check that every blob a shared space needs is here and re-hash it;
    /// count the blobs no shared space needs (collectable with `blobs gc`).
    Verify {
        /// Only check presence, do not re-read content.
        #[arg(long)]
        quick: bool,
    },
    /// Delete the blobs no shared space needs (neither a row nor a transfer
    /// in progress), and the idle partial ones. Safe beside a running edge:
    /// blobs stored within --min-age-minutes are spared (a contractor's
    /// upload has a blob no operation names for a moment). The running
    /// edge also does this hourly.
    Gc {
        #[arg(long, default_value_t = 60)]
        min_age_minutes: u64,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.global.config.as_deref())?;
    if let Some(d) = cli.global.data_dir {
        config.data_dir = d;
    }
    passerelle_node::init_tracing(
        &config.log,
        matches!(cli.command, Command::Serve { .. }),
        passerelle_sql::QUIET_LOG_DIRECTIVES,
    );
    match cli.command {
        Command::Serve {
            listen,
            peer_listen,
        } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(p) = peer_listen {
                config.peer_listen = p;
            }
            tracing::info!(config = ?config, "starting");
            let (l, p) = (config.listen, config.peer_listen);
            let node = EdgeNode::open(config).await?;
            let public = TcpListener::bind(l)
                .await
                .with_context(|| format!("cannot listen on {l}"))?;
            let peer = TcpListener::bind(p)
                .await
                .with_context(|| format!("cannot listen on {p}"))?;
            node.serve(public, peer, shutdown_signal()).await
        }
        Command::Status { address } => {
            let address = address.unwrap_or(passerelle_node::status::loopback(config.listen));
            let node = EdgeNode::open(config).await?;
            let cursors = node.app.cursors().await?;
            println!(
                "edge {} holds {} shared space(s)",
                node.config.node_id,
                cursors.len()
            );
            for (space, rev) in cursors {
                println!("  {space}  at {rev}");
            }
            let pending = node.app.count_pending_operations().await?;
            println!("{pending} contractor operation(s) waiting for the internal node");
            match node.app.storage_room().await? {
                // Not healthy: the exit status says so to monitoring scripts.
                Some(room) if room.is_short() => {
                    println!(
                        "DISK PRESSURE on {}: {room} (min_free_bytes): contractors' uploads and \
                         replicated blobs are refused; free room (un-share a space on the internal \
                         node, remove other files, grow the disk)",
                        room.place
                    );
                    anyhow::bail!("disk pressure on {}: {room}", room.place)
                }
                Some(room) => println!("disk of {}: {room} (min_free_bytes)", room.place),
                None => println!("disk: free space unknown on this platform"),
            }
            workers(address).await
        }
        Command::Blobs(cmd) => blobs(EdgeNode::open(config).await?, cmd).await,
        Command::Search(SearchCommand::Reindex) => {
            let said = passerelle_search::reindex(&config.search_dir(), "passerelle-edge")
                .map_err(anyhow::Error::msg)?;
            println!("{said}");
            Ok(())
        }
        Command::Check => {
            passerelle_grpc::tls::install_default_provider();
            let files = config.tls_files();
            passerelle_grpc::tls::server_config(&files, &passerelle_grpc::PeerPolicy { allowed: config.allowed_peers.clone() })
                .with_context(|| {
                    format!(
                        "TLS material unusable ({}, {}, {}): copy the bundle made by `passerelle-internal pki issue-edge --id {}`",
                        files.cert.display(),
                        files.key.display(),
                        files.ca.display(),
                        config.node_id
                    )
                })?;
            crate::check_identity(&config)?;
            let node = EdgeNode::open(config).await?;
            node.app.cursors().await?;
            println!(
                "ok: configuration, TLS material, database and blob store of edge {} are usable",
                node.config.node_id
            );
            Ok(())
        }
    }
}

/// The running edge's workers. An edge that does not answer is not an
/// error here: what it holds was read from its database above, which
/// `status` may do with the edge stopped; one that answers not ready is.
async fn workers(address: SocketAddr) -> anyhow::Result<()> {
    use passerelle_node::status::{Readiness, readiness};
    match readiness(address).await {
        Ok(Readiness::Ready(workers)) => {
            println!("running at {address}, ready; {} worker(s):", workers.len());
            for w in workers {
                println!("  {w}");
            }
            Ok(())
        }
        Ok(Readiness::NotReady { code, detail }) => {
            println!("running at {address}, NOT READY ({code}): {detail}");
            anyhow::bail!("the edge at {address} is not ready: {detail}")
        }
        Err(e) => {
            println!("workers unknown: {e}");
            Ok(())
        }
    }
}

async fn blobs(node: EdgeNode, cmd: BlobsCommand) -> anyhow::Result<()> {
    match cmd {
        BlobsCommand::Verify { quick } => {
            let report = node.app.check_edge_blobs(!quick).await?;
            println!(
                "{} needed by the shared spaces, {} stored, {} needed by none (collectable with `blobs gc`)",
                report.referenced, report.stored, report.unreferenced
            );
            for h in &report.missing {
                println!("MISSING {h}");
            }
            for h in &report.corrupt {
                println!("CORRUPT {h}");
            }
            if !report.is_clean() {
                anyhow::bail!(
                    "{} missing and {} corrupt blobs: rebuild the edge (deploy/TWO-HOSTS.md, section 7): the internal node then sends every shared space again",
                    report.missing.len(),
                    report.corrupt.len()
                );
            }
            println!("blobs ok");
        }
        BlobsCommand::Gc { min_age_minutes } => {
            let grace = std::time::Duration::from_secs(min_age_minutes.saturating_mul(60));
            let r = node.app.collect_blobs(grace).await?;
            println!(
                "{} blobs scanned, {} deleted and {} partial ones discarded ({} bytes freed), {} recent ones spared",
                r.scanned, r.deleted, r.partials, r.bytes_freed, r.recent
            );
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}
