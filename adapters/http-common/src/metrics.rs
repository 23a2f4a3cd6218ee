//! `/metrics`: the node's families in Prometheus/OpenMetrics text
//! (`prometheus-client`, ADR 0005 §5), the layer that records each request,
//! and who may scrape (loopback and `[http] metrics_allow`).
//!
//! Requests are counted by route template (axum's `MatchedPath`, never the
//! raw path: ids would make a series per document), method and status.
//! Upload and download bytes are the `Content-Length` of the request (an
//! upload) or the response (a download) on the content routes: a streamed
//! body without the header, or cut short, is not counted, which is why the
//! help text says "declared". What the node's state says (workers, free
//! space, replication lag, outbox depth, quarantine) is read when scraped,
//! with no background thread: a scrape comes every 15 to 60 s, the reads
//! are counts the repository answers without loading rows, and the figures
//! are as fresh as the scrape; a worker refreshing them would add a write
//! path and a staleness of its own for nothing.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use passerelle_core::service::{ReplicationGauges, SearchGauges};
use passerelle_workers::{Board, WorkerState};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

mod antivirus;
mod search;

/// Routes whose request body is an upload (API and pages).
const UPLOAD_ROUTES: &[&str] = &[
    "/api/v1/spaces/{id}/documents",
    "/api/v1/documents/{id}/versions",
    "/spaces/{id}/upload",
    "/documents/{id}/versions/upload",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerStateLabels {
    worker: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabels {
    edge: String,
    space: String,
}

/// The label set of a family with one unlabelled series, present only on
/// the node role it applies to.
type Unlabelled = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s: JSON calls, and the head of long streams.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The node's metrics; one per node, shared by its routers (in
/// [`crate::AppState`]).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    upload_bytes: Counter,
    download_bytes: Counter,
    worker_healthy: Family<WorkerLabels, Gauge>,
    worker_state: Family<WorkerStateLabels, Gauge>,
    worker_runs: Family<WorkerLabels, Counter>,
    blob_free: Gauge,
    blob_floor: Gauge,
    outbox_pending: Family<Unlabelled, Gauge>,
    quarantined: Family<LinkLabels, Gauge>,
    lag_revisions: Family<LinkLabels, Gauge>,
    lag_seconds: Family<LinkLabels, Gauge<f64, AtomicU64>>,
    backlog_rows: Family<LinkLabels, Gauge>,
    antivirus: antivirus::AntivirusFamilies,
    search: search::SearchFamilies,
    /// Held while a scrape clears, sets and encodes the replication
    /// families, so that two scrapes at once cannot show each other's
    /// half-set series.
    scraping: Mutex<()>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The families, registered under `passerelle_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("passerelle");
        let m = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            upload_bytes: Counter::default(),
            download_bytes: Counter::default(),
            worker_healthy: Family::default(),
            worker_state: Family::default(),
            worker_runs: Family::default(),
            blob_free: Gauge::default(),
            blob_floor: Gauge::default(),
            outbox_pending: Family::default(),
            quarantined: Family::default(),
            lag_revisions: Family::default(),
            lag_seconds: Family::default(),
            backlog_rows: Family::default(),
            antivirus: antivirus::AntivirusFamilies::default(),
            search: search::SearchFamilies::default(),
            scraping: Mutex::new(()),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the response's head, by route template and method",
            m.latency.clone(),
        );
        registry.register(
            "upload_bytes",
            "Bytes of uploads, as declared by their Content-Length",
            m.upload_bytes.clone(),
        );
        registry.register(
            "download_bytes",
            "Bytes of downloads, as declared by their Content-Length",
            m.download_bytes.clone(),
        );
        registry.register(
            "worker_healthy",
            "1 when the background worker is neither failing nor stopped",
            m.worker_healthy.clone(),
        );
        registry.register(
            "worker_state",
            "1 for the background worker's current state, 0 for the others",
            m.worker_state.clone(),
        );
        registry.register(
            "worker_runs",
            "Runs of the background worker, successful or not",
            m.worker_runs.clone(),
        );
        registry.register(
            "blob_store_free_bytes",
            "Free bytes on the blob store's disk",
            m.blob_free.clone(),
        );
        registry.register(
            "blob_store_floor_bytes",
            "Free bytes the blob store keeps (min_free_bytes): below, uploads are refused",
            m.blob_floor.clone(),
        );
        m.register_replication(&mut registry);
        m.search.register(&mut registry);
        Self { registry, ..m }
    }

    fn register_replication(&self, registry: &mut Registry) {
        registry.register(
            "outbox_pending_operations",
            "Edge: contractors' operations waiting for the internal node",
            self.outbox_pending.clone(),
        );
        registry.register(
            "quarantined_operations",
            "Internal node: operations from an edge refused and kept for the managers, by edge and space",
            self.quarantined.clone(),
        );
        registry.register(
            "replication_lag_revisions",
            "Internal node: the space's newest revision minus the cursor its edge acknowledged",
            self.lag_revisions.clone(),
        );
        registry.register(
            "replication_lag_seconds",
            "Internal node: 0 when the edge holds all of the space, else seconds since the edge was last heard from",
            self.lag_seconds.clone(),
        );
        registry.register(
            "replication_backlog_rows",
            "Internal node: rows of the space's change feed its edge still lacks",
            self.backlog_rows.clone(),
        );
        self.antivirus.register(registry);
    }

    /// Records one answered request.
    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let method = method.as_str().to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .observe(seconds);
    }

    /// The text a scrape gets: the scrape-time families are set from
    /// `workers`, `room` (free, floor; `None` when the store cannot say),
    /// `replication` and `search` (`None` when they cannot be read: their
    /// families are then left out rather than shown stale), then
    /// everything is encoded.
    pub fn render(
        &self,
        workers: &Board,
        room: Option<(u64, u64)>,
        replication: Option<&ReplicationGauges>,
        search: Option<&SearchGauges>,
    ) -> Result<String, fmt::Error> {
        // A panic elsewhere while holding it leaves nothing half-done that
        // matters: the families are cleared and set again below.
        let _scraping = self.scraping.lock().unwrap_or_else(PoisonError::into_inner);
        for w in workers.statuses() {
            let worker = WorkerLabels {
                worker: w.name.clone(),
            };
            self.worker_healthy
                .get_or_create(&worker)
                .set(i64::from(w.is_healthy()));
            let runs = self.worker_runs.get_or_create(&worker);
            runs.inc_by(w.runs.saturating_sub(runs.get()));
            for state in WorkerState::ALL {
                self.worker_state
                    .get_or_create(&WorkerStateLabels {
                        worker: w.name.clone(),
                        state: state.as_str(),
                    })
                    .set(i64::from(state == w.state));
            }
        }
        if let Some((free, floor)) = room {
            self.blob_free.set(i64::try_from(free).unwrap_or(i64::MAX));
            self.blob_floor
                .set(i64::try_from(floor).unwrap_or(i64::MAX));
        }
        self.set_replication(replication);
        self.search.set(search);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Sets the replication families from scratch: a space un-shared, or
    /// an edge removed from the configuration, leaves no stale series.
    fn set_replication(&self, replication: Option<&ReplicationGauges>) {
        self.outbox_pending.clear();
        self.quarantined.clear();
        self.lag_revisions.clear();
        self.lag_seconds.clear();
        self.backlog_rows.clear();
        self.antivirus
            .set(replication.and_then(|r| r.antivirus.as_ref()));
        let Some(r) = replication else { return };
        if let Some(n) = r.outbox_pending {
            self.outbox_pending
                .get_or_create(&Vec::new())
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        for q in &r.quarantined {
            self.quarantined
                .get_or_create(&LinkLabels {
                    edge: q.edge.to_string(),
                    space: q.space.to_string(),
                })
                .set(i64::try_from(q.operations).unwrap_or(i64::MAX));
        }
        for l in &r.lags {
            let labels = LinkLabels {
                edge: l.edge.to_string(),
                space: l.space.to_string(),
            };
            self.lag_revisions.get_or_create(&labels).set(l.revisions);
            self.backlog_rows
                .get_or_create(&labels)
                .set(i64::try_from(l.rows).unwrap_or(i64::MAX));
            // Never heard from: no figure rather than a made-up one; the
            // revisions say it is behind.
            if let Some(s) = l.seconds {
                self.lag_seconds.get_or_create(&labels).set(s);
            }
        }
    }
}

/// The layer of [`crate::with_request_log`] that records each request of
/// the routes it wraps.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let declared = content_length(req.headers());
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status();
    metrics.record(
        &route,
        &method,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    if status.is_success() {
        if method == Method::POST && UPLOAD_ROUTES.contains(&route.as_str()) {
            metrics.upload_bytes.inc_by(declared.unwrap_or(0));
        } else if method == Method::GET && route.ends_with("/content") {
            metrics
                .download_bytes
                .inc_by(content_length(res.headers()).unwrap_or(0));
        }
    }
    res
}

fn content_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// An address or a network (`10.0.10.0/24`, `2001:db8::/32`, `10.0.10.7`)
/// in `[http] metrics_allow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network (an IPv4 client seen as an
    /// IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|e| format!("{s:?} is not an address or network: {e}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl TryFrom<String> for IpNet {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<IpNet> for String {
    fn from(n: IpNet) -> Self {
        format!("{}/{}", n.addr, n.prefix)
    }
}

/// Whether `client` may read `/metrics`: loopback always, or an address in
/// `allowed`. No address (a request built in-process, without connection
/// info) may not: the metrics reveal the node's internals.
pub fn may_scrape(client: Option<&str>, allowed: &[IpNet]) -> bool {
    let Some(ip) = client.and_then(|c| c.parse::<IpAddr>().ok()) else {
        return false;
    };
    let mapped = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    mapped.is_loopback() || allowed.iter().any(|n| n.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().expect("network")).collect()
    }

    #[test]
    fn loopback_and_the_listed_networks_may_scrape_and_no_one_else() {
        assert!(may_scrape(Some("127.0.0.1"), &[]));
        assert!(may_scrape(Some("::1"), &[]));
        assert!(may_scrape(Some("::ffff:127.0.0.1"), &[]));
        assert!(!may_scrape(Some("10.0.10.7"), &[]));
        assert!(!may_scrape(None, &[]));
        let allowed = nets(&["10.0.10.0/24", "192.0.2.9", "2001:db8::/32"]);
        assert!(may_scrape(Some("10.0.10.7"), &allowed));
        assert!(may_scrape(Some("::ffff:10.0.10.7"), &allowed));
        assert!(!may_scrape(Some("10.0.11.7"), &allowed));
        assert!(may_scrape(Some("192.0.2.9"), &allowed));
        assert!(!may_scrape(Some("192.0.2.10"), &allowed));
        assert!(may_scrape(Some("2001:db8:1::5"), &allowed));
        assert!(!may_scrape(Some("2001:db9::5"), &allowed));
        assert!(may_scrape(Some("203.0.113.1"), &nets(&["0.0.0.0/0"])));
    }

    #[test]
    fn replication_series_follow_each_scrape_and_leave_none_stale() {
        use passerelle_core::ids::SpaceId;
        use passerelle_core::ports::QuarantineCount;
        use passerelle_core::service::{AntivirusStatus, SpaceLag};

        let m = Metrics::new();
        let space = SpaceId::new();
        let labels = format!(r#"{{edge="edge-1",space="{space}"}}"#);
        let lagging = ReplicationGauges {
            outbox_pending: None,
            lags: vec![SpaceLag {
                edge: "edge-1".parse().expect("node id"),
                space,
                revisions: 4,
                rows: 2,
                seconds: Some(90.5),
            }],
            quarantined: vec![QuarantineCount {
                edge: "edge-1".parse().expect("node id"),
                space,
                operations: 3,
            }],
            antivirus: Some(AntivirusStatus {
                reachable: false,
                outage: None,
                waiting_operations: 5,
                scanned_total: 9,
                infected_total: 1,
                unavailable_total: 2,
            }),
        };
        let text = m
            .render(&Board::default(), None, Some(&lagging), None)
            .expect("encoded");
        for line in [
            format!("passerelle_replication_lag_revisions{labels} 4"),
            format!("passerelle_replication_backlog_rows{labels} 2"),
            format!("passerelle_replication_lag_seconds{labels} 90.5"),
            format!("passerelle_quarantined_operations{labels} 3"),
            "passerelle_antivirus_up 0".to_owned(),
            "passerelle_antivirus_waiting_operations 5".to_owned(),
            "passerelle_antivirus_infected_total 1".to_owned(),
            "passerelle_antivirus_unavailable_total 2".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            !text.contains("passerelle_outbox_pending_operations "),
            "{text}"
        );

        // The space is un-shared: its series go. An edge shows its outbox.
        let edge = ReplicationGauges {
            outbox_pending: Some(7),
            ..ReplicationGauges::default()
        };
        let text = m
            .render(&Board::default(), None, Some(&edge), None)
            .expect("encoded");
        assert!(!text.contains(&labels), "{text}");
        assert!(!text.contains("passerelle_antivirus_up "), "{text}");
        assert!(
            text.lines()
                .any(|l| l == "passerelle_outbox_pending_operations 7"),
            "{text}"
        );
        let text = m
            .render(&Board::default(), None, None, None)
            .expect("encoded");
        assert!(
            !text.contains("passerelle_outbox_pending_operations "),
            "unknown: left out"
        );
    }

    #[test]
    fn networks_parse_strictly() {
        for bad in ["10.0.10.0/33", "10.0.10/24", "::/129", "host", "10.0.0.1/x"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        let n: IpNet = "10.0.10.0/24".parse().expect("network");
        assert_eq!(String::from(n), "10.0.10.0/24");
        assert_eq!(
            String::from("192.0.2.9".parse::<IpNet>().expect("ip")),
            "192.0.2.9/32"
        );
    }
}
