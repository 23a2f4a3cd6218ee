//! The `passerelle-internal` command line.

mod admin;
mod password;
mod pki;
mod service;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::{Node, demo};

/// Passerelle internal node: the authoritative document repository of the LAN.
#[derive(Debug, Parser)]
#[command(name = "passerelle-internal", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command takes; they override the file and environment.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (optional: the defaults run with none).
    #[arg(long, short = 'c', global = true, env = "PASSERELLE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, blobs). Default: ./passerelle-data
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH?mode=rwc or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the node: HTTP API on --listen (default 127.0.0.1:8080).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Moved out of the production binary: refused with a pointer to
        /// `passerelle-demo`, so an old habit gets an answer, not a clap
        /// "unexpected argument".
        #[arg(long, hide = true)]
        demo: bool,
    },
    /// The running node's background workers and their health, asked over
    /// loopback (its /readyz); exits non-zero when it does not answer or is
    /// not ready. The edges' links: `replication status`.
    Status {
        /// Where the running node's API listens, when not at `listen` of
        /// the configuration (a `serve --listen` given on its command line).
        #[arg(long)]
        address: Option<SocketAddr>,
    },
    /// Create the data directory, the database and the first administrator.
    Init(admin::InitArgs),
    /// Manage agent accounts.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage spaces.
    #[command(subcommand)]
    Space(admin::SpaceCommand),
    /// Replication to edge nodes.
    #[command(subcommand)]
    Replication(admin::ReplicationCommand),
    /// Service accounts of business applications (drop folders, API).
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Manage API tokens of business applications.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Check and clean the blob store.
    #[command(subcommand)]
    Blobs(admin::BlobsCommand),
    /// Manage document types.
    #[command(subcommand)]
    Types(admin::TypesCommand),
    /// Seed the sample data into this node (an empty one) and print the logins.
    Demo,
    /// Private CA of the mTLS link to the edge nodes: init, issue, list, renew.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// The full-text search index.
    #[command(subcommand)]
    Search(SearchCommand),
}

/// `search …`: the index is derived data, rebuilt from the database and
/// the blobs.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Delete the search index (with the node stopped); the node rebuilds
    /// it in the background at its next start, searches meanwhile finding
    /// what is indexed so far.
    Reindex,
}

/// The configuration: defaults, then the file and environment, then these
/// flags. (`passerelle-demo` loads its node's the same way.)
pub fn load_config(g: &GlobalArgs) -> anyhow::Result<Config> {
    let mut c = Config::load(g.config.as_deref())?;
    if let Some(d) = &g.data_dir {
        c.data_dir = d.clone();
    }
    if let Some(u) = &g.database_url {
        c.database_url = Some(u.clone());
    }
    Ok(c)
}

/// Logs to stderr per `[log]`, as the edge does; warnings only unless
/// `serving`.
pub fn init_tracing(c: &Config, serving: bool) {
    passerelle_node::init_tracing(&c.log, serving, passerelle_sql::QUIET_LOG_DIRECTIVES);
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Before the configuration is read: the answer does not depend on it.
    if matches!(cli.command, Command::Serve { demo: true, .. }) {
        anyhow::bail!("{DEMO_MOVED}");
    }
    let mut config = load_config(&cli.global)?;
    init_tracing(&config, matches!(cli.command, Command::Serve { .. }));
    match cli.command {
        Command::Serve { listen, .. } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            serve(config).await
        }
        Command::Status { address } => {
            status(address.unwrap_or(passerelle_node::status::loopback(config.listen))).await
        }
        Command::Init(args) => admin::init(Node::open(config).await?, args).await,
        Command::User(c) => admin::user(Node::open(config).await?, c).await,
        Command::Space(c) => admin::space(Node::open(config).await?, c).await,
        Command::Service(c) => service::service(Node::open(config).await?, c).await,
        Command::Token(c) => admin::token(Node::open(config).await?, c).await,
        Command::Replication(c) => admin::replication(Node::open(config).await?, c).await,
        Command::Audit(c) => admin::audit(Node::open(config).await?, c).await,
        Command::Blobs(c) => admin::blobs(Node::open(config).await?, c).await,
        Command::Types(c) => admin::types(Node::open(config).await?, c).await,
        Command::Pki(c) => pki::pki(&config, c).await,
        Command::Search(SearchCommand::Reindex) => {
            let said = passerelle_search::reindex(&config.search_dir(), "passerelle-internal")
                .map_err(anyhow::Error::msg)?;
            println!("{said}");
            Ok(())
        }
        Command::Demo => {
            let node = Node::open(config).await?;
            let logins = demo::seed(&node.app).await?;
            demo::print_logins(&logins);
            Ok(())
        }
    }
}

/// The answer to `serve --demo`, which the production binary no longer has.
pub const DEMO_MOVED: &str = "`serve --demo` moved out of the production binary: run `passerelle-demo` instead (from the sources: cargo run --release -p passerelle-demo)";

/// Needs no database: the running node answers for itself.
async fn status(address: SocketAddr) -> anyhow::Result<()> {
    use passerelle_node::status::{Readiness, readiness};
    match readiness(address).await? {
        Readiness::Ready(workers) => {
            println!("running at {address}, ready; {} worker(s):", workers.len());
            for w in workers {
                println!("  {w}");
            }
            Ok(())
        }
        Readiness::NotReady { code, detail } => {
            println!("running at {address}, NOT READY ({code}): {detail}");
            anyhow::bail!("the node at {address} is not ready: {detail}")
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    tracing::info!(config = ?config, "starting");
    let node = Node::open(config).await?;
    if node.app.count_principals().await? == 0 {
        println!(
            "no account yet: create the first administrator with `passerelle-internal init`, or run `passerelle-demo` for sample data"
        );
    }
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!(
            "cannot listen on {listen}: is another process using it? choose another with --listen"
        )
    })?;
    node.serve(listener, crate::shutdown_signal()).await
}
