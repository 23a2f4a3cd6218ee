//! # passerelle-edge
//!
//! The edge node's composition root (DMZ or cloud). It holds only the spaces
//! shared with it, serves outside contractors (HTTP API on `listen`), and
//! answers the internal node's replication calls (gRPC with mutual TLS on
//! `peer_listen`). It never opens a connection towards the LAN, holds no CA
//! key and links no certificate-signing code (no rcgen, no passerelle-pki:
//! `cargo tree -p passerelle-edge` shows it).
//!
//! Modules: [`config`] (layered settings), [`cli`] (commands).

pub mod cli;
pub mod config;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use passerelle_blobs::FsBlobStore;
use passerelle_core::EdgeApp;
use passerelle_core::ports::{PasswordHasher, SystemClock};
use passerelle_core::service::{CoreSettings, Indexer, Properties, Search};
use passerelle_dav::{DavService, PasserelleFs};
use passerelle_extract::Extractor;
use passerelle_grpc::edge_service::EdgeReplication;
use passerelle_grpc::{PeerPolicy, ReloadingTls, TlsError};
use passerelle_http::AppState;
use passerelle_passwords::Argon2Passwords;
use passerelle_search::{Opened, node_search};
use passerelle_sql::SqlRepository;
use passerelle_workers::{Workers, jobs};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// An opened edge node.
#[derive(Debug, Clone)]
pub struct EdgeNode {
    pub config: Config,
    pub app: EdgeApp,
    pub blobs: Arc<FsBlobStore>,
    /// The database, also the log of text extractions.
    pub repo: Arc<SqlRepository>,
}

impl EdgeNode {
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        Self::open_with(config, Arc::new(Argon2Passwords::default())).await
    }

    /// As [`EdgeNode::open`], with another password hasher (cheap in tests).
    pub async fn open_with(
        config: Config,
        passwords: Arc<dyn PasswordHasher>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let repo = SqlRepository::connect(&config.database_url())
            .await
            .context("cannot open the edge database")?;
        let blobs = Arc::new(
            FsBlobStore::open(config.data_dir.clone())
                .with_context(|| {
                    format!(
                        "cannot open the blob store in {}",
                        config.data_dir.display()
                    )
                })?
                .with_min_free(config.min_free_bytes),
        );
        let settings = CoreSettings {
            max_upload_bytes: config.max_upload_bytes,
            session_ttl: time::Duration::hours(i64::from(config.session_hours)),
            outbox_retention: config.outbox.retention(),
            max_pending_operations: config.outbox.max_pending,
            second_factor: config.auth.second_factor,
            site_name: config.auth.site_name.clone(),
            notifications: config.notifications.settings()?,
            ..CoreSettings::default()
        };
        let repo = Arc::new(repo);
        let mut app = EdgeApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(SystemClock),
            passwords,
            settings,
        );
        // Contractors' notices through the edge's own relay (ADR 0013).
        if let Some(mail) = &config.mail {
            app = app.with_mailer(Arc::new(mail.mailer(&config.notifications.host_name())?));
            if let Some(bounces) = mail.bounces()? {
                app = app.with_bounces(Arc::new(bounces));
            }
        }
        Ok(Self {
            config,
            app,
            blobs,
            repo,
        })
    }

    /// Serves the contractors' API on `public` and replication on `peer`
    /// until `shutdown`, then drains both.
    pub async fn serve(
        self,
        public: TcpListener,
        peer: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        passerelle_grpc::tls::install_default_provider();
        check_identity(&self.config)?;
        // Only a serving node sweeps (a CLI command beside it must not).
        passerelle_core::blob::BlobStore::sweep_temporaries(self.blobs.as_ref()).await?;
        let cancel = CancellationToken::new();
        let tls = ReloadingTls::server(
            self.config.tls_files(),
            PeerPolicy {
                allowed: self.config.allowed_peers.clone(),
            },
            cancel.clone(),
        )
        .context(
            "cannot load the edge's TLS certificate (passerelle-internal pki issue-edge makes it)",
        )?;
        let public_addr = public.local_addr()?;
        let peer_addr = peer.local_addr()?;
        let service = EdgeReplication::new(
            self.app.clone(),
            self.config.node_id.clone(),
            cancel.clone(),
        );
        let grpc = passerelle_grpc::server::builder().add_service(service.into_server());
        // Background work, ended by the node's token, awaited before
        // returning (a run under way finishes).
        let workers = Workers::new(Arc::new(SystemClock), cancel.clone());
        jobs::sweep_sessions(&workers, &self.app, jobs::SWEEP_SESSIONS_EVERY);
        jobs::end_access_on_edge(&workers, &self.app, jobs::END_ACCESS_EVERY);
        jobs::prune_outbox(&workers, &self.app);
        jobs::collect_blobs(&workers, &self.app);
        jobs::notify(&workers, &self.app);
        let (search, indexer) = self.open_search()?;
        jobs::index_search(&workers, indexer, &self.app);
        // Created before the state, which shows them on `/readyz`. An
        // edge queues contractors' writes for the internal node.
        let writes = Arc::new(self.app.writes());
        let state = AppState::new(
            self.app.shared().clone(),
            writes,
            search,
            self.config.http.clone(),
        )
        .with_workers(workers.board());
        let dav = self.dav_router(&state);
        let http = passerelle_http::edge_router(state.clone(), self.app.clone())
            .merge(passerelle_web::edge_router(state, self.app.clone()))
            .merge(dav);
        println!("passerelle-edge listening on http://{public_addr}");
        println!("passerelle-edge replication on {peer_addr}");
        tracing::info!(%public_addr, %peer_addr, node = %self.config.node_id, "passerelle-edge ready");
        let stop = cancel.clone();
        let watcher = tokio::spawn(async move {
            shutdown.await;
            stop.cancel();
        });
        let (a, b) = tokio::join!(
            passerelle_http::serve(public, http, cancel.clone().cancelled_owned()),
            passerelle_grpc::serve_tls(peer, tls, grpc, cancel.clone().cancelled_owned()),
        );
        watcher.abort();
        workers.stop().await;
        a?;
        b?;
        tracing::info!("passerelle-edge stopped");
        Ok(())
    }
}

impl EdgeNode {
    /// WebDAV under `/dav` for contractors (ADR 0007 §4): the shared
    /// spaces they are members of, read at once; their writes queued in
    /// the outbox as every contractor write, through the edge's writes.
    /// No lock system: a lock taken here could not exclude the agents
    /// until the internal node decided it (ADR 0007, "WebDAV on the
    /// edge"), so none is offered rather than one that excludes nothing.
    fn dav_router(&self, state: &AppState) -> axum::Router {
        let properties = Properties::new(self.app.shared(), self.repo.clone());
        let fs = PasserelleFs::new(self.app.shared().clone(), self.app.writes(), properties);
        let dav = DavService::new(fs, self.config.http.trusted_proxies.clone(), None);
        passerelle_http_common::with_request_log(passerelle_dav::router(dav), state.metrics.clone())
    }

    /// The search index of the shared spaces this edge holds, searched
    /// through core's rights (contractors see their spaces only), and its
    /// indexer; a space purged from the edge leaves the index too. Only a
    /// serving node opens it (one writer).
    fn open_search(&self) -> anyhow::Result<(Search, Indexer)> {
        let dir = self.config.search_dir();
        let extractor = Arc::new(Extractor::new(self.config.extract.clone()));
        let (search, indexer, opened) = node_search(
            &self.app,
            &dir,
            extractor.clone(),
            self.repo.clone(),
        )
        .with_context(|| {
            format!(
                "cannot open the search index in {}: `passerelle-edge search reindex` rebuilds it",
                dir.display()
            )
        })?;
        if opened == Opened::Rebuilt {
            tracing::info!(dir = %dir.display(), "new search index: the shared spaces are indexed in the background");
        }
        // How PDFs are read here (pdftotext installed? confined?), for the
        // operator reading the start-up log.
        tokio::spawn(async move {
            let how = extractor.sandbox().await.describe();
            tracing::info!(parsers = %how, "text extraction ready");
        });
        Ok((search, indexer))
    }
}

/// Refuses a certificate that names another node than `node_id`: the
/// internal node's link to this edge expects `node_id` and would refuse it at
/// every connection, so the edge would run without ever replicating. The
/// error says both ways out. Reads the certificate file (small, once).
pub fn check_identity(config: &Config) -> anyhow::Result<()> {
    let files = config.tls_files();
    // Validated when the configuration was read.
    let own = config.node_id.clone();
    match passerelle_grpc::tls::check_own_identity(&files, &own) {
        Ok(()) => Ok(()),
        Err(TlsError::OwnIdentityMismatch { path, expected, found }) => Err(anyhow::anyhow!(
            "the certificate {} is node {found}'s, but this edge's node_id is {expected}: the internal node would refuse it. \
             Either copy here the bundle issued for {expected} (`passerelle-internal pki issue-edge --id {expected} --dns <name the edge is dialled by>` on the internal node), \
             or set node_id = \"{found}\" if this host is {found}",
            path.display()
        )),
        Err(err) => Err(anyhow::Error::new(err).context(format!(
            "unusable TLS certificate: copy the bundle made by `passerelle-internal pki issue-edge --id {own}`"
        ))),
    }
}
