//! Serving the router on a listener the node has bound.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting and waits for the requests in flight (graceful). Taking a bound
/// listener lets the node (and tests) bind port 0 and read the real port.
///
/// Connections carry the peer address ([`axum::extract::ConnectInfo`]) for
/// per-address login throttling. In-flight downloads may be long: a node
/// that needs a bounded drain wraps this future in its own timeout.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "HTTP API listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    tracing::info!(%addr, "HTTP API stopped");
    Ok(())
}
