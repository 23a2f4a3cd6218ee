//! # passerelle-internal
//!
//! The internal node's composition root: it reads the configuration, wires
//! the adapters (sea-orm storage, filesystem blobs, axum API, WebDAV) around the core
//! use cases, and runs them. `main.rs` only parses the command line and calls
//! [`cli::run`]; tests start a node in-process through [`Node`].
//!
//! Modules: [`config`] (layered settings), [`cli`] (commands), [`demo`]
//! (sample data for newcomers; `passerelle-demo` adds an edge beside the
//! node, in its own crate so that this one links no edge code).

pub mod antivirus;
pub mod cli;
pub mod config;
pub mod demo;
pub mod ldap;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use passerelle_blobs::FsBlobStore;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::flows::DropName;
use passerelle_core::ports::{PasswordHasher, SystemClock};
use passerelle_core::replication::link::{Link, LinkEvent};
use passerelle_core::service::{CoreSettings, Indexer, Properties, Search};
use passerelle_core::{Actor, InternalApp};
use passerelle_dav::{DavService, PasserelleFs};
use passerelle_extract::Extractor;
use passerelle_grpc::ReloadingTls;
use passerelle_http::AppState;
use passerelle_passwords::Argon2Passwords;
use passerelle_search::{Opened, node_search};
use passerelle_sql::SqlRepository;
use passerelle_watch::filing::{DropTarget, Filer, FlowKind};
use passerelle_watch::{DropFolder, WatchMode};
use passerelle_workers::{Workers, jobs};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// An opened node: storage connected and migrated, use cases ready.
#[derive(Debug, Clone)]
pub struct Node {
    pub config: Config,
    pub app: InternalApp,
    /// Kept concrete for maintenance commands that are filesystem-specific.
    pub blobs: Arc<FsBlobStore>,
    /// The database, also the log of text extractions.
    pub repo: Arc<SqlRepository>,
}

impl Node {
    /// Connects the database (running migrations), opens the blob store,
    /// removes temporaries left by a crash, and seeds the document types on
    /// a new database.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        Self::open_with(config, Arc::new(Argon2Passwords::default())).await
    }

    /// As [`Node::open`], with another password hasher (cheap ones in tests).
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
            .with_context(|| {
                format!(
                    "cannot open the database {}",
                    config::redact_url(&config.database_url())
                )
            })?;
        let blobs = Arc::new(FsBlobStore::open(config.blob_dir()).with_context(|| {
            format!(
                "cannot open the blob store in {}",
                config.blob_dir().display()
            )
        })?);
        let settings = CoreSettings {
            edges: config
                .replication
                .edges
                .iter()
                .map(|e| e.id.clone())
                .collect(),
            edge_urls: config
                .replication
                .edges
                .iter()
                .filter_map(|e| Some((e.id.clone(), e.public_url.clone()?)))
                .collect(),
            max_upload_bytes: config.max_upload_bytes,
            session_ttl: time::Duration::hours(i64::from(config.session_hours)),
            scan_agent_uploads: config
                .antivirus
                .as_ref()
                .is_some_and(|a| a.scan_agent_uploads),
            // Agents with a local account may enrol a second factor from
            // their account page (ADR 0012 §7); nobody is made to.
            second_factor: passerelle_core::second_factor::SecondFactorPolicy::Optional,
            contractor_inactivity: config.access.contractor_inactivity(),
            notifications: config.notifications.settings()?,
            ..CoreSettings::default()
        };
        let repo = Arc::new(repo);
        let mut app = InternalApp::new(
            repo.clone(),
            blobs.clone(),
            Arc::new(SystemClock),
            passwords,
            settings,
        );
        // Agents' passwords checked by the authority's directory (ADR 0009).
        if let Some(ldap) = &config.ldap {
            app = app
                .with_directory(Arc::new(ldap.directory()?))
                .with_group_mapping(ldap.group_mapping()?);
        }
        // Contractors' uploads scanned before they are applied (ADR 0010).
        match &config.antivirus {
            Some(av) => app = app.with_antivirus(Arc::new(av.antivirus()?)),
            None if !config.replication.edges.is_empty() => {
                tracing::warn!("no [antivirus]: contractors' uploads are applied unscanned");
            }
            None => {}
        }
        // Agents' notices through the node's relay (ADR 0013).
        if let Some(mail) = &config.mail {
            app = app.with_mailer(Arc::new(mail.mailer(&config.notifications.host_name())?));
            if let Some(bounces) = mail.bounces()? {
                app = app.with_bounces(Arc::new(bounces));
            }
        }
        let node = Self {
            config,
            app,
            blobs,
            repo,
        };
        node.seed_document_types().await?;
        Ok(node)
    }

    /// Seeds the authority's document types: a type of the release that
    /// the node lacks is added, and a type it has gains the release's new
    /// optional fields (`DocumentType::add_missing_fields`); nothing an
    /// administrator changed is undone.
    async fn seed_document_types(&self) -> anyhow::Result<()> {
        let mine = self.app.list_document_types().await?;
        for t in default_catalogue() {
            let key = t.key.clone();
            match mine.iter().find(|m| m.key == t.key) {
                None => {
                    self.app.save_document_type(&Actor::System, t).await?;
                    tracing::info!(doctype = %key, "document type added");
                }
                Some(m) => {
                    let mut m = m.clone();
                    let added = m.add_missing_fields(&t);
                    if !added.is_empty() {
                        self.app.save_document_type(&Actor::System, m).await?;
                        tracing::info!(doctype = %key, fields = ?added, "document type gained fields");
                    }
                }
            }
        }
        Ok(())
    }

    /// Serves the HTTP API on an already bound listener, and replicates to
    /// the configured edges, until `shutdown` completes; then drains.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        // Only a serving node sweeps: a CLI command run beside it would
        // delete the temporaries of uploads in flight.
        let swept =
            passerelle_core::blob::BlobStore::sweep_temporaries(self.blobs.as_ref()).await?;
        if swept > 0 {
            tracing::warn!(swept, "removed temporary files left by interrupted uploads");
        }
        let cancel = CancellationToken::new();
        // Background work, ended by the node's token (a run under way
        // finishes before `serve` returns): the replication links and the
        // periodic jobs.
        let workers = Workers::new(Arc::new(SystemClock), cancel.clone());
        self.start_replication(&workers, &cancel)?;
        jobs::sweep_sessions(&workers, &self.app, jobs::SWEEP_SESSIONS_EVERY);
        jobs::sweep_locks(&workers, &self.app.locks(), jobs::SWEEP_LOCKS_EVERY);
        jobs::end_memberships(&workers, &self.app, jobs::END_ACCESS_EVERY);
        jobs::notify(&workers, &self.app);
        if let Some(ldap) = &self.config.ldap {
            jobs::sync_directory(&workers, &self.app, ldap.sync_period());
        }
        let (search, indexer) = self.open_search()?;
        jobs::index_search(&workers, indexer, &self.app);
        self.start_drops(&workers)?;
        let mut http_config = self.config.http.clone();
        for e in &self.config.replication.edges {
            if let Some(url) = &e.public_url {
                http_config
                    .edge_public_urls
                    .insert(e.id.to_string(), url.clone());
            }
        }
        // The authoritative node applies every write at once.
        let writes = Arc::new(self.app.writes());
        let state = AppState::new(self.app.shared().clone(), writes, search, http_config)
            .with_workers(workers.board());
        let dav = self.dav_router(&state);
        let cmis = self.cmis_router(&state);
        let router = passerelle_http::router(state.clone(), self.app.clone())
            .merge(passerelle_web::router(state, self.app.clone()))
            .merge(dav)
            .merge(cmis);
        // The ready line that scripts and the test harness wait for.
        println!("passerelle-internal listening on http://{addr}");
        tracing::info!(%addr, edges = self.config.replication.edges.len(), "passerelle-internal ready");
        let stop = cancel.clone();
        let served = passerelle_http::serve(listener, router, async move {
            shutdown.await;
            stop.cancel();
        })
        .await;
        cancel.cancel();
        workers.stop().await;
        served?;
        tracing::info!("passerelle-internal stopped");
        Ok(())
    }

    /// WebDAV under `/dav` (ADR 0007 §2), with its own request log: the
    /// API's layers (JSON time limit, CSRF, body limits) stay on the API's
    /// routes.
    fn dav_router(&self, state: &AppState) -> axum::Router {
        let properties = Properties::new(self.app.shared(), self.repo.clone());
        let fs = PasserelleFs::new(self.app.shared().clone(), self.app.writes(), properties);
        // WebDAV's locks are core's: the check-outs the API and the pages
        // show, respected by every write path.
        let locks = Some(self.app.locks());
        let dav = DavService::new(fs, self.config.http.trusted_proxies.clone(), locks);
        passerelle_http_common::with_request_log(passerelle_dav::router(dav), state.metrics.clone())
    }

    /// CMIS's Browser binding under `/cmis/browser` (ADR 0008 §6), for
    /// business applications, with its own request log as WebDAV.
    fn cmis_router(&self, state: &AppState) -> axum::Router {
        let cmis = passerelle_cmis::Cmis::new(
            self.app.clone(),
            state.search.clone(),
            self.config.http.trusted_proxies.clone(),
        );
        passerelle_http_common::with_request_log(
            passerelle_cmis::router(cmis),
            state.metrics.clone(),
        )
    }

    /// The search index in the data directory (created, or rebuilt when
    /// its schema changed), searched through core's rights, and the indexer
    /// that keeps it up to date. Only a serving node opens it: the index
    /// has one writer, which a CLI command beside the node must not take.
    fn open_search(&self) -> anyhow::Result<(Search, Indexer)> {
        let dir = self.config.search_dir();
        let extractor = Arc::new(Extractor::new(self.config.extract.clone()));
        let (search, indexer, opened) =
            node_search(&self.app, &dir, extractor.clone(), self.repo.clone()).with_context(|| {
                format!(
                    "cannot open the search index in {}: `passerelle-internal search reindex` rebuilds it",
                    dir.display()
                )
            })?;
        if opened == Opened::Rebuilt {
            tracing::info!(dir = %dir.display(), "new search index: the documents are indexed in the background");
        }
        // How PDFs are read here (pdftotext installed? confined?), for the
        // operator reading the start-up log.
        tokio::spawn(async move {
            let how = extractor.sandbox().await.describe();
            tracing::info!(parsers = %how, "text extraction ready");
        });
        Ok((search, indexer))
    }

    /// One worker per drop folder (`watch:<name>`), filing what business
    /// applications drop there as their service account (ADR 0008 §2).
    /// The staging directory is emptied first: what a killed run decoded
    /// there is decoded again from the file, still in `en-cours/`.
    fn start_drops(&self, workers: &Workers) -> anyhow::Result<()> {
        if self.config.drops.is_empty() {
            return Ok(());
        }
        let staging = self.config.staging_dir();
        if staging.exists() {
            std::fs::remove_dir_all(&staging).with_context(|| {
                format!("cannot empty the staging directory {}", staging.display())
            })?;
        }
        for d in &self.config.drops {
            let limits = passerelle_flux::Limits {
                max_attachment_bytes: self.config.max_upload_bytes,
                ..passerelle_flux::Limits::default()
            };
            let target = DropTarget {
                // Checked when the configuration was read.
                source: DropName::parse(&d.name)?,
                kind: match d.kind {
                    config::DropKind::Pes => FlowKind::Pes,
                    config::DropKind::Actes => FlowKind::Actes,
                    config::DropKind::Generic => FlowKind::Generic,
                },
                service: d.service.clone(),
                space: d.space.clone(),
                folder: d.folder_names(),
                limits,
            };
            let folder = DropFolder {
                name: d.name.clone(),
                path: d.path.clone(),
                mode: match d.mode {
                    config::DropMode::Inotify => WatchMode::Inotify,
                    config::DropMode::Poll => WatchMode::Poll {
                        interval: Duration::from_secs(d.poll_secs),
                    },
                },
                rescan: Duration::from_secs(d.rescan_secs),
                stable_for: Duration::from_secs(d.stable_secs),
                max_bytes: d.max_bytes,
                in_flight: d.concurrency,
            };
            let filer = Filer::new(self.app.clone(), target, staging.clone());
            passerelle_watch::spawn(workers, folder, Arc::new(filer));
            tracing::info!(drop = %d.name, path = %d.path.display(), "drop folder watched");
        }
        Ok(())
    }

    /// One replication link per configured edge, each a worker of the
    /// registry (`replication:<edge>`): up, or retrying with why.
    fn start_replication(
        &self,
        workers: &Workers,
        cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        let edges = &self.config.replication.edges;
        if edges.is_empty() {
            return Ok(());
        }
        passerelle_grpc::tls::install_default_provider();
        let files = self.config.tls_files();
        for e in edges.clone() {
            // Validated when the configuration was read.
            let edge = e.id.clone();
            // One configuration per link, accepting this edge's certificate
            // only: with one accepting every configured edge, a host holding
            // edge-1's certificate could answer at edge-2's address and
            // receive edge-2's spaces.
            let tls = ReloadingTls::client(files.clone(), edge, cancel.clone()).with_context(|| {
                format!(
                    "cannot load this node's replication certificate ({}): run `passerelle-internal pki issue-internal --id {}`",
                    files.cert.display(),
                    self.config.node_id
                )
            })?;
            let link = Link::new(
                self.app.clone(),
                e.id.clone(),
                self.config.node_id.clone(),
                Arc::new(passerelle_grpc::TokioTimer),
            );
            let dial = passerelle_grpc::Dial(move || {
                let (tls, endpoint, name) =
                    (tls.clone(), e.endpoint.clone(), e.server_name.clone());
                async move {
                    passerelle_grpc::connect(&endpoint, name.as_deref(), &tls)
                        .await
                        .map_err(|err| Box::new(err) as Box<dyn std::error::Error + Send + Sync>)
                }
            });
            workers.spawn(
                &format!("replication:{}", e.id),
                |report, cancel| async move {
                    let link = link.observed(move |event| match event {
                        LinkEvent::Up { spaces } => {
                            report.ok(format!("connected, {spaces} spaces held"))
                        }
                        LinkEvent::Down { error } => report.retrying(error),
                    });
                    link.run(&dial, cancel.cancelled_owned()).await;
                },
            );
        }
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
