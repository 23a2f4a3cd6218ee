//! Internal-node side: a tonic [`Channel`] to an edge over mutual TLS, dialled
//! with our own connector (TCP with a timeout, then the rustls handshake with
//! the current client configuration), so tonic's own TLS stays unused.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{CONNECTION_WINDOW, MAX_FRAME, STREAM_WINDOW};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tonic::codegen::Service;
use tonic::transport::{Channel, Endpoint, Uri};
use tracing::{debug, warn};

use crate::tls::{ReloadingTls, TlsError, handshake_failure_reason};

/// Longest a connection (TCP then TLS) may take to establish. Short, because
/// during a silent drop every attempt waits this long: with the backoff cap
/// of the link it bounds the convergence after a long cut (~5 + 5 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// HTTP/2 keepalive pings from the client, idle or not: the replication
/// connection is long-lived and must notice a dead edge or a dropped NAT
/// entry within ~10 s (interval + timeout), not after minutes of silence.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);

/// How long a keepalive ping may stay unanswered before the connection is closed.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to an edge (`https://host:port`) and returns a channel for the
/// generated `ReplicationClient`.
///
/// The server's certificate must be valid for `server_name` (a DNS name or an
/// IP address; `None`: the endpoint's host) and name the edge the client
/// configuration was built for ([`ReloadingTls::client`]). When the channel
/// reconnects later, it takes `tls`'s configuration current at that time.
///
/// A server that refuses *us* (TLS 1.3: the server checks the client
/// certificate after the client finished its side) is not seen here: this
/// returns `Ok` and the first call fails (STACK.md, gotcha 3). A server that
/// *we* refuse fails here, logged at `warn` by the connector.
pub async fn connect(
    endpoint: &str,
    server_name: Option<&str>,
    tls: &ReloadingTls<ClientConfig>,
) -> Result<Channel, TlsError> {
    let invalid = |reason: &str| TlsError::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let target = Endpoint::from_shared(endpoint.to_owned()).map_err(|_| invalid("not a URI"))?;
    let uri = target.uri();
    if uri.scheme_str() != Some("https") {
        return Err(invalid("the scheme must be https"));
    }
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let name = server_name.unwrap_or_else(|| host.trim_start_matches('[').trim_end_matches(']'));
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| TlsError::InvalidServerName(name.to_owned()))?;
    let connector = EdgeConnector {
        tls: tls.clone(),
        server_name,
    };
    target
        .connect_timeout(CONNECT_TIMEOUT)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(MAX_FRAME)
        .connect_with_connector(connector)
        .await
        .map_err(|source| TlsError::Unreachable {
            endpoint: endpoint.to_owned(),
            source: Box::new(source),
        })
}

/// Why one dial failed; reaches callers as the source of
/// [`TlsError::Unreachable`].
#[derive(Debug, thiserror::Error)]
enum DialError {
    #[error("the endpoint has no host")]
    NoHost,
    #[error("TCP connection to {address} timed out")]
    TcpTimeout { address: String },
    #[error("TCP connection to {address} failed")]
    Tcp {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("TLS handshake with {peer} timed out")]
    HandshakeTimeout { peer: SocketAddr },
    #[error("TLS handshake with {peer} failed: {reason}")]
    Handshake {
        peer: SocketAddr,
        reason: String,
        #[source]
        source: io::Error,
    },
}

/// tower service tonic calls for each (re)connection.
#[derive(Clone)]
struct EdgeConnector {
    /// Read at each dial, so reconnections use renewed material.
    tls: ReloadingTls<ClientConfig>,
    /// The name the server certificate must be valid for.
    server_name: ServerName<'static>,
}

impl Service<Uri> for EdgeConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = DialError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DialError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(dial(uri, self.server_name.clone(), self.tls.current()))
    }
}

async fn dial(
    uri: Uri,
    server_name: ServerName<'static>,
    config: Arc<ClientConfig>,
) -> Result<TokioIo<TlsStream<TcpStream>>, DialError> {
    let host = uri.host().ok_or(DialError::NoHost)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(443);
    let address = format!("{host}:{port}");
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port))).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(source)) => return Err(DialError::Tcp { address, source }),
        Err(_) => return Err(DialError::TcpTimeout { address }),
    };
    let peer = tcp.peer_addr().map_err(|source| DialError::Tcp {
        address: address.clone(),
        source,
    })?;
    if let Err(err) = tcp.set_nodelay(true) {
        debug!(%peer, error = %err, "cannot set TCP_NODELAY");
    }
    let handshake = TlsConnector::from(config).connect(server_name.clone(), tcp);
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(Ok(stream)) => Ok(TokioIo::new(stream)),
        Ok(Err(source)) => {
            let reason = handshake_failure_reason(&source);
            warn!(%peer, server_name = %server_name.to_str(), %reason, "TLS handshake with the edge failed");
            Err(DialError::Handshake {
                peer,
                reason,
                source,
            })
        }
        Err(_) => {
            // Debug only: while an edge is unreachable this repeats at every
            // attempt, and the link already reports the outage once, with
            // this error, when its state changes (a refusal above, rare and
            // actionable, stays a warning).
            debug!(%peer, server_name = %server_name.to_str(), reason = "TLS handshake timed out", "TLS handshake with the edge failed");
            Err(DialError::HandshakeTimeout { peer })
        }
    }
}
