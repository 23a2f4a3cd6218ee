//! Mutual TLS transport, end to end on 127.0.0.1: a real edge server
//! (`serve_tls`) and real clients (`connect` or raw rustls), certificates made
//! by rcgen per test in a temp dir.
//!
//! Refusals are checked twice: the call fails, and the refusing side logged it
//! (a process-wide tracing subscriber captures into a buffer; each test looks
//! only for lines naming its own server's port).
//!
//! This file is the harness (clients, a Hello-only server, the PKI, the
//! captured logs); the tests are in `served`, `refusals` and `renewal`.

mod refusals;
mod renewal;
mod served;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use passerelle_grpc::server::{self as edge, ServeError};
use passerelle_grpc::tls::{client_config, server_config};
use passerelle_grpc::{
    NodeId, PeerInfo, PeerPolicy, ReloadingTls, TlsError, TlsFiles, connect, serve_tls,
};
use passerelle_proto::v1::replication_client::ReplicationClient;
use passerelle_proto::v1::replication_server::{Replication, ReplicationServer};
use passerelle_proto::v1::{
    AckRequest, AckResponse, ApplyAck, BlobChunk, ChangeBatch, DigestRequest, DigestResponse,
    FetchBlobRequest, HelloRequest, HelloResponse, MissingBlobsRequest, MissingBlobsResponse,
    OutboxItem, PurgeReceipt, PurgeRequest, PushBlobResponse, WatchOutboxRequest,
};
use passerelle_testing::eventually_within;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};
use x509_parser::prelude::{FromDer, X509Certificate};

const EDGE: &str = "edge-1";
const INTERNAL: &str = "internal";

// -------------------------------------------------------------- harness ----

fn node(id: &str) -> NodeId {
    NodeId::parse(id).expect("a valid node id")
}

fn policy(allowed: &[&str]) -> PeerPolicy {
    PeerPolicy {
        allowed: allowed.iter().map(|id| (*id).to_owned()).collect(),
    }
}

fn fixed_server(files: &TlsFiles) -> anyhow::Result<ReloadingTls<ServerConfig>> {
    Ok(ReloadingTls::fixed(server_config(
        files,
        &policy(&[INTERNAL]),
    )?))
}

/// The internal node's client as configured in production.
fn standard_client(pki: &Pki) -> anyhow::Result<ReloadingTls<ClientConfig>> {
    Ok(ReloadingTls::fixed(client_config(
        &pki.internal()?.files,
        &node(EDGE),
    )?))
}

/// A client built by hand, for what `client_config` would never build: other
/// protocol versions, no certificate, an expired certificate. It trusts the CA
/// (WebPKI, no node-id check).
fn raw_client(
    pki: &Pki,
    versions: &[&'static rustls::SupportedProtocolVersion],
    identity: Option<&Issued>,
) -> anyhow::Result<ReloadingTls<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.der().clone())?;
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)?
            .with_root_certificates(roots);
    let mut config = match identity {
        Some(issued) => builder.with_client_auth_cert(
            vec![issued.cert.clone()],
            PrivateKeyDer::Pkcs8(issued.key.clone_key()),
        )?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ReloadingTls::fixed(Arc::new(config)))
}

async fn hello(channel: Channel) -> Result<HelloResponse, Status> {
    let request = HelloRequest {
        internal_node_id: INTERNAL.to_owned(),
        protocol_version: passerelle_proto::PROTOCOL_VERSION,
    };
    Ok(ReplicationClient::new(channel)
        .hello(request)
        .await?
        .into_inner())
}

/// STACK.md gotcha 3: under TLS 1.3 a client the server refuses has finished
/// its own side of the handshake, so `connect` succeeds; the first call fails.
async fn refused_on_first_call(
    server: &Edge,
    client: &ReloadingTls<ClientConfig>,
) -> anyhow::Result<Status> {
    let channel = connect(&server.url(), Some("localhost"), client)
        .await
        .context("connect should succeed under TLS 1.3")?;
    match hello(channel).await {
        Ok(_) => bail!("the refused client was served"),
        Err(status) => Ok(status),
    }
}

/// What the internal node's link does: connect, then its first call. A
/// refusal may land on either (STACK.md, gotcha 3: under TLS 1.3 a client the
/// server refuses connects, and fails on its first call).
async fn first_call(
    server: &Edge,
    client: &ReloadingTls<ClientConfig>,
) -> anyhow::Result<HelloResponse> {
    let channel = connect(&server.url(), Some("localhost"), client).await?;
    Ok(hello(channel).await?)
}

/// The serial number of the certificate a fresh connection is served.
async fn served_serial(addr: SocketAddr, config: &Arc<ClientConfig>) -> anyhow::Result<Vec<u8>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost")?;
    let tls = tokio_rustls::TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await?;
    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .context("no server certificate")?;
    let (_, cert) = X509Certificate::from_der(leaf)?;
    Ok(cert.raw_serial().to_vec())
}

/// A running edge server with a Hello-only service.
struct Edge {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(String, SocketAddr)>>>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Edge {
    async fn start(tls: ReloadingTls<ServerConfig>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router = edge::builder().add_service(ReplicationServer::new(HelloOnly {
            seen: Arc::clone(&seen),
        }));
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve_tls(
            listener,
            tls,
            router,
            stop.clone().cancelled_owned(),
        ));
        Ok(Self {
            addr,
            seen,
            stop,
            task,
        })
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    fn seen(&self) -> Vec<(String, SocketAddr)> {
        self.seen.lock().expect("not poisoned").clone()
    }

    async fn shutdown(mut self) -> Result<Result<(), ServeError>, tokio::task::JoinError> {
        self.stop.cancel();
        (&mut self.task).await
    }

    /// The server logged a refused handshake whose reason contains `reason`.
    async fn logged_refusal(&self, reason: &str) -> anyhow::Result<()> {
        let local = format!("local={}", self.addr);
        eventually(&format!("a logged refusal ({reason})"), || {
            log_lines().iter().any(|line| {
                line.contains("TLS connection refused")
                    && line.contains(&local)
                    && line.contains(reason)
            })
        })
        .await
    }

    /// A client logged refusing this server for `reason`.
    async fn logged_client_refusal(&self, reason: &str) -> anyhow::Result<()> {
        let peer = format!("peer={}", self.addr);
        eventually(&format!("a logged client refusal ({reason})"), || {
            log_lines().iter().any(|line| {
                line.contains("TLS handshake with the edge failed")
                    && line.contains(&peer)
                    && line.contains(reason)
            })
        })
        .await
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Answers `Hello` with the caller's identity recorded; the rest is unimplemented.
struct HelloOnly {
    seen: Arc<Mutex<Vec<(String, SocketAddr)>>>,
}

type NoStream<T> = tokio_stream::Empty<Result<T, Status>>;

#[tonic::async_trait]
impl Replication for HelloOnly {
    async fn hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloResponse>, Status> {
        let peer = PeerInfo::of(&request).ok_or_else(|| Status::unauthenticated("no peer"))?;
        self.seen
            .lock()
            .map_err(|_| Status::internal("poisoned"))?
            .push((peer.node_id().to_string(), peer.remote_addr()));
        Ok(Response::new(HelloResponse {
            edge_node_id: EDGE.to_owned(),
            protocol_version: passerelle_proto::PROTOCOL_VERSION,
            ..HelloResponse::default()
        }))
    }

    async fn missing_blobs(
        &self,
        _: Request<MissingBlobsRequest>,
    ) -> Result<Response<MissingBlobsResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn push_blob(
        &self,
        _: Request<Streaming<BlobChunk>>,
    ) -> Result<Response<PushBlobResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn push_blobs(
        &self,
        _: Request<Streaming<BlobChunk>>,
    ) -> Result<Response<passerelle_proto::v1::PushBlobsResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn apply_changes(&self, _: Request<ChangeBatch>) -> Result<Response<ApplyAck>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn purge_space(
        &self,
        _: Request<PurgeRequest>,
    ) -> Result<Response<PurgeReceipt>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn space_digests(
        &self,
        _: Request<DigestRequest>,
    ) -> Result<Response<DigestResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }

    type WatchOutboxStream = NoStream<OutboxItem>;

    async fn watch_outbox(
        &self,
        _: Request<WatchOutboxRequest>,
    ) -> Result<Response<Self::WatchOutboxStream>, Status> {
        Err(Status::unimplemented("test server"))
    }

    type FetchBlobStream = NoStream<BlobChunk>;

    async fn fetch_blob(
        &self,
        _: Request<FetchBlobRequest>,
    ) -> Result<Response<Self::FetchBlobStream>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn ack_outbox(&self, _: Request<AckRequest>) -> Result<Response<AckResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn mirror_locks(
        &self,
        _: Request<passerelle_proto::v1::LockSnapshot>,
    ) -> Result<Response<passerelle_proto::v1::LockSnapshotAck>, Status> {
        Err(Status::unimplemented("test server"))
    }

    async fn activity_report(
        &self,
        _: Request<passerelle_proto::v1::ActivityRequest>,
    ) -> Result<Response<passerelle_proto::v1::ActivityResponse>, Status> {
        Err(Status::unimplemented("test server"))
    }
}

// ------------------------------------------------------------------ PKI ----

/// A private CA in a temp dir, issuing leaf certificates as files.
struct Pki {
    dir: TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_path: PathBuf,
}

/// A certificate and key as issued, and where they were written.
struct Issued {
    files: TlsFiles,
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

#[derive(Clone, Copy)]
struct Leaf<'a> {
    /// File stem in the PKI's directory: `<file>.crt`, `<file>.key`.
    file: &'a str,
    node: &'a str,
    dns: &'a [&'a str],
    ip: Option<IpAddr>,
    server: bool,
    serial: u64,
    expired: bool,
}

impl<'a> Leaf<'a> {
    fn server(file: &'a str, node: &'a str) -> Self {
        Self {
            file,
            node,
            dns: &["localhost"],
            ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            server: true,
            serial: 1,
            expired: false,
        }
    }

    fn client(file: &'a str, node: &'a str) -> Self {
        Self {
            dns: &[],
            ip: None,
            server: false,
            ..Self::server(file, node)
        }
    }
}

impl Pki {
    fn new() -> anyhow::Result<Self> {
        Self::named("Passerelle test CA")
    }

    /// A CA with its own name (two CAs with one name would make a foreign
    /// chain fail on its signature rather than on its unknown issuer).
    fn named(name: &str) -> anyhow::Result<Self> {
        captured();
        passerelle_grpc::tls::install_default_provider();
        let dir = tempfile::tempdir()?;
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let ca_path = dir.path().join("ca.crt");
        replace(&ca_path, ca.pem().as_bytes())?;
        Ok(Self { dir, ca, ca_path })
    }

    fn edge(&self) -> anyhow::Result<Issued> {
        self.issue(Leaf::server("edge", EDGE))
    }

    fn internal(&self) -> anyhow::Result<Issued> {
        self.issue(Leaf::client("internal", INTERNAL))
    }

    /// Issues `leaf` and writes it (key first, each file replaced by rename,
    /// as a renewal tool would).
    fn issue(&self, leaf: Leaf<'_>) -> anyhow::Result<Issued> {
        let mut params = CertificateParams::default();
        params.serial_number = Some(SerialNumber::from(leaf.serial));
        params.subject_alt_names = leaf
            .dns
            .iter()
            .map(|dns| Ok(SanType::DnsName((*dns).try_into()?)))
            .collect::<anyhow::Result<_>>()?;
        params
            .subject_alt_names
            .extend(leaf.ip.map(SanType::IpAddress));
        let uri = format!("passerelle://node/{}", leaf.node);
        params
            .subject_alt_names
            .push(SanType::URI(uri.as_str().try_into()?));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![if leaf.server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        if leaf.expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.ca)?;
        let files = TlsFiles {
            cert: self.dir.path().join(format!("{}.crt", leaf.file)),
            key: self.dir.path().join(format!("{}.key", leaf.file)),
            ca: self.ca_path.clone(),
        };
        replace(&files.key, key.serialize_pem().as_bytes())?;
        replace(&files.cert, cert.pem().as_bytes())?;
        Ok(Issued {
            files,
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// Writes `path` atomically: a sibling temp file, then rename over it.
fn replace(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

// ------------------------------------------------------------- waiting ----

/// Waits until `holds`; on timeout the error carries every line logged so
/// far, which says why the condition never held.
async fn eventually(what: &str, holds: impl Fn() -> bool) -> anyhow::Result<()> {
    eventually_within(
        what,
        Duration::from_secs(10),
        Duration::from_millis(25),
        || async {
            ensure!(holds(), "not yet");
            Ok(())
        },
    )
    .await
    .with_context(|| format!("logs:\n{}", log_lines().join("\n")))
}

// ----------------------------------------------------------------- logs ----

/// Everything logged so far by any test of this binary, one entry per line.
fn log_lines() -> Vec<String> {
    let bytes = captured().lock().expect("not poisoned").clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Capture(Arc::clone(&sink)))
            .try_init();
        logs
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
