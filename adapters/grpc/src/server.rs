//! Edge side: serves a tonic router over mutual TLS on an already bound
//! listener, and tells handlers which node is calling ([`PeerInfo`]).
//!
//! Shape: one accept loop; each TLS handshake runs in its own task (owned by a
//! `JoinSet`, bounded in number, with a timeout) so a slow or hostile client
//! never stalls accepting; finished TLS streams go through a bounded channel to
//! tonic's `serve_with_incoming_shutdown`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{CONNECTION_WINDOW, MAX_FRAME, STREAM_WINDOW};
use bytes::Bytes;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::codegen::{Service, http};
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::{Connected, Router};
use tower::Layer;
use tracing::{debug, error, info, warn};

use crate::tls::{
    NodeId, ReloadingTls, aborted_by_peer, handshake_failure_reason, node_id_from_der,
};

/// Longest a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After shutdown, how long open connections (long streams such as
/// `WatchOutbox` included) get to finish before [`serve_tls`] returns anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/2 keepalive pings from the server (a dead internal node is noticed).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// How long a keepalive ping may stay unanswered before the connection is closed.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; beyond it, accepting waits for one to end.
const MAX_PENDING_HANDSHAKES: usize = 64;

/// Authenticated connections waiting for tonic to take them.
const READY_QUEUE: usize = 16;

/// Pause after a failed `accept` (out of file descriptors…), not to spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Who is on the other end of a connection, set by [`serve_tls`] after the
/// handshake verified the chain and the allow-list. Every request of the
/// connection carries it in its extensions: see [`PeerInfo::of`].
///
/// Note: `tonic::Request::remote_addr()` returns `None` here (tonic only knows
/// its own connection info types); use [`PeerInfo::remote_addr`].
#[derive(Debug, Clone)]
pub struct PeerInfo {
    remote_addr: SocketAddr,
    node_id: NodeId,
    certificates: Arc<[CertificateDer<'static>]>,
}

impl PeerInfo {
    /// The peer of the connection a request arrived on; `None` only for a
    /// request that did not come through [`serve_tls`] (a test calling a
    /// handler directly).
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&PeerInfo> {
        request.extensions().get::<PeerInfo>()
    }

    /// The peer's address and port.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The peer's node id, from its verified certificate, in the allow-list.
    pub fn node_id(&self) -> &NodeId {
        &self.node_id
    }

    /// The peer's certificate chain as presented, leaf first.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

/// Why [`serve_tls`] stopped other than by shutdown.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listener has no local address (it is not bound).
    #[error("the listener is not bound")]
    Unbound(#[source] io::Error),
    /// tonic's server failed.
    #[error("the gRPC server failed")]
    Transport(#[source] tonic::transport::Error),
}

/// A tonic server builder with the settings replication expects: HTTP/2
/// keepalive ([`KEEPALIVE_INTERVAL`], [`KEEPALIVE_TIMEOUT`]). Add services to
/// it, then hand the router to [`serve_tls`].
pub fn builder() -> Server {
    Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(MAX_FRAME)
}

/// Serves `router` over mutual TLS on `listener` until `shutdown` completes.
///
/// Each connection takes the configuration `tls` holds when it is accepted, so
/// a reloaded certificate applies to new connections. Refused handshakes (no
/// client certificate, foreign CA, expired, node not allowed, not TLS 1.3,
/// timeout) are logged at `warn` with the peer address and the reason.
///
/// On shutdown: stops accepting, aborts handshakes in progress, asks open
/// connections to finish (HTTP/2 GOAWAY) and waits for them up to
/// [`DRAIN_TIMEOUT`]; connections still open then are left to the runtime's
/// shutdown (tonic owns their tasks), so streaming handlers should also watch
/// the node's cancellation token.
pub async fn serve_tls<L, ResBody>(
    listener: TcpListener,
    tls: ReloadingTls<ServerConfig>,
    router: Router<L>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    L: Layer<Routes>,
    L::Service: Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    <L::Service as Service<http::Request<tonic::body::Body>>>::Future: Send,
    <L::Service as Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let local = listener.local_addr().map_err(ServeError::Unbound)?;
    let cancel = CancellationToken::new();
    let (ready, incoming) = mpsc::channel(READY_QUEUE);
    let incoming = ReceiverStream::new(incoming).map(Ok::<_, Infallible>);
    info!(%local, "replication server listening");

    let accepting = accept_loop(listener, local, tls, ready, cancel.clone());
    let serving = async {
        let mut serving = pin!(router.serve_with_incoming_shutdown(incoming, cancel.cancelled()));
        let served = tokio::select! {
            served = &mut serving => Some(served),
            () = cancel.cancelled() => None,
        };
        // If tonic returned on its own (an error), the accept loop stops too.
        cancel.cancel();
        let served = match served {
            Some(served) => served,
            None => match tokio::time::timeout(DRAIN_TIMEOUT, serving).await {
                Ok(served) => served,
                Err(_) => {
                    warn!(%local, "connections still open after the drain timeout; leaving them");
                    Ok(())
                }
            },
        };
        served.map_err(ServeError::Transport)
    };
    let stopping = async {
        tokio::select! {
            () = shutdown => cancel.cancel(),
            () = cancel.cancelled() => {}
        }
    };
    let ((), served, ()) = tokio::join!(accepting, serving, stopping);
    info!(%local, "replication server stopped");
    served
}

/// Accepts TCP connections and starts a handshake task for each, until
/// cancelled; then aborts the handshakes still running.
async fn accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    tls: ReloadingTls<ServerConfig>,
    ready: mpsc::Sender<TlsConnection>,
    cancel: CancellationToken,
) {
    let mut handshakes = JoinSet::new();
    loop {
        // All branches are cancel-safe: `accept` and `join_next` lose nothing.
        tokio::select! {
            () = cancel.cancelled() => break,
            Some(joined) = handshakes.join_next(), if !handshakes.is_empty() => {
                if let Err(err) = joined {
                    error!(%local, error = %err, "TLS handshake task failed");
                }
            }
            accepted = listener.accept(), if handshakes.len() < MAX_PENDING_HANDSHAKES => {
                match accepted {
                    Ok((tcp, peer)) => {
                        handshakes.spawn(handshake(tcp, peer, local, tls.current(), ready.clone()));
                    }
                    Err(err) => {
                        warn!(%local, error = %err, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                }
            }
        }
    }
    handshakes.shutdown().await;
}

/// Runs one server handshake (the verifier checks chain and identity during
/// it), then hands the authenticated stream to tonic.
async fn handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    config: Arc<ServerConfig>,
    ready: mpsc::Sender<TlsConnection>,
) {
    // gRPC messages are small and latency matters more than packet count.
    if let Err(err) = tcp.set_nodelay(true) {
        debug!(%peer, error = %err, "cannot set TCP_NODELAY");
    }
    let stream = match tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        TlsAcceptor::from(config).accept(tcp),
    )
    .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) if aborted_by_peer(&err) => {
            let reason = handshake_failure_reason(&err);
            warn!(%peer, %local, %reason, "TLS handshake aborted by the client");
            return;
        }
        Ok(Err(err)) => {
            let reason = handshake_failure_reason(&err);
            warn!(%peer, %local, %reason, "TLS connection refused");
            return;
        }
        Err(_) => {
            warn!(%peer, %local, reason = "TLS handshake timed out", "TLS connection refused");
            return;
        }
    };
    let Some(info) = peer_info(&stream, peer) else {
        // Unreachable with our verifier; kept so no connection is ever
        // served without a known identity.
        warn!(%peer, %local, reason = "no node identity after the handshake", "TLS connection refused");
        return;
    };
    info!(%peer, node = %info.node_id, "replication peer connected");
    let connection = TlsConnection { stream, info };
    if ready.send(connection).await.is_err() {
        debug!(%peer, "server shutting down; connection dropped");
    }
}

fn peer_info(stream: &TlsStream<TcpStream>, remote_addr: SocketAddr) -> Option<PeerInfo> {
    let certificates: Arc<[CertificateDer<'static>]> =
        stream.get_ref().1.peer_certificates()?.into();
    let node_id = node_id_from_der(certificates.first()?).ok()?;
    Some(PeerInfo {
        remote_addr,
        node_id,
        certificates,
    })
}

/// An authenticated TLS stream, as tonic takes it: `Connected` makes tonic put
/// its [`PeerInfo`] in every request's extensions.
struct TlsConnection {
    stream: TlsStream<TcpStream>,
    info: PeerInfo,
}

impl Connected for TlsConnection {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
