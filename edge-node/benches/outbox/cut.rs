//! Part 3, convergence after a silent cut: the internal node dials the
//! edge through the bench's own TCP proxy, which can drop the network as
//! TCP sees it (nothing arrives, nothing is refused); timed from the
//! restore until each side lists the document the other made meanwhile.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::api::{contractor, edge_names, internal_names, small_doc, upload_edge, upload_internal};
use super::cluster::{Cluster, Contractor};
use super::nodes;
use super::processes::{keep_logs, with_log_tails};
use super::support::{create_space, loadavg, replication, wait_for};

/// A TCP relay that can be cut silently: while cut it forwards no byte in
/// either direction and closes nothing, and the connections it accepts wait.
struct CutProxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
    /// Connections accepted while cut, and how many of them were given up
    /// by their client before the restore (dropped then, never forwarded).
    held: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
    /// The accept loop; it owns the connections' tasks, so aborting it
    /// (on drop) closes every relayed connection.
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CutProxy {
    async fn start(upstream: String) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, rx) = watch::channel(false);
        let held = Arc::new(AtomicUsize::new(0));
        let abandoned = Arc::new(AtomicUsize::new(0));
        let (h, a) = (held.clone(), abandoned.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let (rx, upstream, h, a) = (rx.clone(), upstream.clone(), h.clone(), a.clone());
                        conns.spawn(async move {
                            // A relay error only ends that connection, as a
                            // network error would.
                            let _ = relay(client, upstream, rx, h, a).await;
                        });
                    }
                    // Reap finished connections so the set stays small.
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self {
            addr,
            cut,
            held,
            abandoned,
            task,
        })
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: String,
    mut cut: watch::Receiver<bool>,
    held: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut first = Vec::new();
    if *cut.borrow() {
        held.fetch_add(1, Ordering::Relaxed);
        cut.wait_for(|c| !*c).await?;
        // On a dropped network a client that gave up (its connect or
        // handshake timed out) never reaches the server: what it sent and
        // its close are all in the socket by now. Forward the connection
        // only if it is still open.
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match tokio::time::timeout(Duration::from_millis(20), client.read(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    abandoned.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(Ok(n)) => first.extend_from_slice(&buf[..n]),
            }
        }
    }
    let mut server = TcpStream::connect(&upstream).await?;
    server.write_all(&first).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Either direction failing drops both (the connection resets); an end
    // of stream is passed on and the other direction goes on.
    tokio::try_join!(pipe(cr, sw, cut.clone()), pipe(sr, cw, cut))?;
    Ok(())
}

/// Copies `from` to `to`, holding every byte (and the end of stream) while
/// the proxy is cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        cut.wait_for(|c| !*c).await?;
        let n = from.read(&mut buf).await?;
        // Read just as the cut came: held too.
        cut.wait_for(|c| !*c).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
    }
}

pub(crate) struct Convergence {
    pub(crate) cut: Duration,
    pub(crate) healthy_inside: Duration,
    pub(crate) healthy_outside: Duration,
    pub(crate) noticed_down: Option<Duration>,
    pub(crate) inside: Duration,
    pub(crate) outside: Duration,
    pub(crate) held: usize,
    pub(crate) abandoned: usize,
    pub(crate) warnings: Vec<String>,
}

pub(crate) async fn convergence(log_dir: &Path, cut: Duration) -> anyhow::Result<Convergence> {
    let mut c = Cluster::start().await?;
    match convergence_on(&mut c, cut).await {
        Ok(mut v) => {
            v.warnings.extend(keep_logs(&c, log_dir, "3-cut")?);
            Ok(v)
        }
        Err(e) => Err(with_log_tails(e, &c)),
    }
}

/// Uploads one document on the internal node, then one as the contractor
/// on the edge; returns their names (internal's, edge's). `what` names them.
async fn cross_uploads(
    c: &Cluster,
    http: &reqwest::Client,
    who: &Contractor,
    space: &str,
    what: &str,
) -> anyhow::Result<(String, String)> {
    let (inside, outside) = (format!("{what}-interne.txt"), format!("{what}-edge.txt"));
    upload_internal(c, http, space, &inside, small_doc(&inside, 0)).await?;
    upload_edge(who, http, space, &outside, small_doc(&outside, 0)).await?;
    Ok((inside, outside))
}

/// Polls both sides every 20 ms until each lists the other's document;
/// returns how long each took from `from`.
async fn both_see(
    c: &Cluster,
    http: &reqwest::Client,
    who: &Contractor,
    space: &str,
    docs: &(String, String),
    from: Instant,
    timeout: Duration,
) -> anyhow::Result<(Duration, Duration)> {
    // Each side is timed on its own: the first poll that lists the document.
    let (inside, outside) = (std::cell::Cell::new(None), std::cell::Cell::new(None));
    wait_for(
        "each side to list the other's document",
        timeout,
        Duration::from_millis(20),
        || async {
            if inside.get().is_none() && internal_names(c, http, space).await?.contains(&docs.1) {
                inside.set(Some(from.elapsed()));
            }
            if outside.get().is_none() && edge_names(who, http, space).await?.contains(&docs.0) {
                outside.set(Some(from.elapsed()));
            }
            Ok(inside.get().zip(outside.get()))
        },
    )
    .await
    .with_context(|| {
        format!(
            "internal node saw the edge's document: {}; edge saw the internal node's: {}",
            inside.get().is_some(),
            outside.get().is_some()
        )
    })
}

async fn convergence_on(c: &mut Cluster, cut: Duration) -> anyhow::Result<Convergence> {
    let http = reqwest::Client::new();
    let proxy = CutProxy::start(c.edge_peer.clone()).await?;
    c.config = nodes::write_internal_config(&c.idir, &proxy.addr.to_string(), &c.edge_http)?;
    // SIGTERM right after the harness started it kills the internal node
    // by the default disposition ("exited with signal 15": its handler is
    // not installed yet), which `stop_internal` takes for a failure. It
    // holds nothing yet: kill -9 and start it on the proxy.
    c.kill_internal()?;
    c.start_internal()?;
    let space = create_space(c, &http, "coupure").await?;
    let who = contractor(c, &http, &space).await?;

    println!("two uploads on the healthy link… (load {})", loadavg());
    let t = Instant::now();
    let docs = cross_uploads(c, &http, &who, &space, "sain").await?;
    let (healthy_inside, healthy_outside) =
        both_see(c, &http, &who, &space, &docs, t, Duration::from_secs(60)).await?;

    println!(
        "cutting the link for {} s (uploads on both sides)… (load {})",
        cut.as_secs(),
        loadavg()
    );
    proxy.set_cut(true);
    let t = Instant::now();
    let docs = cross_uploads(c, &http, &who, &space, "coupe").await?;
    let mut noticed_down = None;
    while t.elapsed() < cut {
        if noticed_down.is_none() {
            let v = replication(c, &http, &space).await?;
            if !v["last_error"].is_null() {
                noticed_down = Some(t.elapsed());
            }
        }
        // The cut must hold: neither side may see the other's document.
        ensure!(
            !internal_names(c, &http, &space).await?.contains(&docs.1),
            "the edge's document reached the internal node during the cut: the proxy leaks"
        );
        ensure!(
            !edge_names(&who, &http, &space).await?.contains(&docs.0),
            "the internal node's document reached the edge during the cut: the proxy leaks"
        );
        tokio::time::sleep(Duration::from_millis(500).min(cut.saturating_sub(t.elapsed()))).await;
    }
    proxy.set_cut(false);
    let t = Instant::now();
    println!("link restored… (load {})", loadavg());
    let (inside, outside) =
        both_see(c, &http, &who, &space, &docs, t, Duration::from_secs(180)).await?;
    Ok(Convergence {
        cut,
        healthy_inside,
        healthy_outside,
        noticed_down,
        inside,
        outside,
        held: proxy.held.load(Ordering::Relaxed),
        abandoned: proxy.abandoned.load(Ordering::Relaxed),
        warnings: Vec::new(),
    })
}
