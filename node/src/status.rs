//! What `passerelle-internal status` and `passerelle-edge status` say of a
//! running node's background workers. The worker registry lives in the
//! serving process's memory, so a `status` process asks that node: it reads
//! `/readyz` (which lists the workers, ADR 0005 §4) over loopback, with a
//! timeout, rather than keeping a second copy of the board on disk.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

/// How long `status` waits for the node: a node that takes longer to say
/// whether it is ready is not healthy either.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// One background worker as `/readyz` lists it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct WorkerLine {
    pub name: String,
    /// `starting`, `running`, `idle`, `failing` or `stopped`.
    pub state: String,
    /// RFC 3339, when its last run ended.
    pub last_run: Option<String>,
    /// Its last failure, kept after a later success.
    pub last_error: Option<String>,
    /// RFC 3339, when it runs next (periodic workers).
    pub next_wake: Option<String>,
}

impl fmt::Display for WorkerLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<24} {:<9}", self.name, self.state)?;
        if let Some(at) = &self.last_run {
            write!(f, " last run {at}")?;
        }
        if let Some(at) = &self.next_wake {
            write!(f, ", next {at}")?;
        }
        if let Some(e) = &self.last_error {
            write!(f, "\n{:<34} last error: {e}", "")?;
        }
        Ok(())
    }
}

/// What the running node answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Ready: every worker is healthy; here they are.
    Ready(Vec<WorkerLine>),
    /// Not ready (a worker failing or stopped, the database or the disk):
    /// the problem's code and detail, which name the worker when it is one.
    NotReady { code: String, detail: String },
}

/// Why the node could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Nothing answered in time at that address: the node is not running,
    /// or listens elsewhere.
    #[error(
        "no node answers at http://{addr}/readyz (not running, or listening elsewhere: --address)"
    )]
    Unreachable {
        addr: SocketAddr,
        #[source]
        source: reqwest::Error,
    },
    /// Something answered, but not as a Passerelle node does.
    #[error("http://{addr}/readyz answered {status}, not a node's readiness")]
    Unexpected { addr: SocketAddr, status: u16 },
}

/// Where a local `status` reaches the node listening on `listen`: the same
/// port on loopback when it listens on every address (`0.0.0.0`, `::`).
pub fn loopback(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[derive(Deserialize)]
struct Ready {
    workers: Vec<WorkerLine>,
}

#[derive(Deserialize)]
struct Problem {
    code: String,
    detail: String,
}

/// Asks the node at `addr` (see [`loopback`]) for its readiness and
/// workers, waiting at most [`STATUS_TIMEOUT`].
pub async fn readiness(addr: SocketAddr) -> Result<Readiness, StatusError> {
    let unreachable = |source| StatusError::Unreachable { addr, source };
    let client = reqwest::Client::builder()
        .timeout(STATUS_TIMEOUT)
        // Loopback: a proxy from the environment has no business here.
        .no_proxy()
        .build()
        .map_err(unreachable)?;
    let res = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .map_err(unreachable)?;
    let status = res.status().as_u16();
    let unexpected = |_| StatusError::Unexpected { addr, status };
    match status {
        200 => Ok(Readiness::Ready(
            res.json::<Ready>().await.map_err(unexpected)?.workers,
        )),
        503 => {
            let p: Problem = res.json().await.map_err(unexpected)?;
            Ok(Readiness::NotReady {
                code: p.code,
                detail: p.detail,
            })
        }
        _ => Err(StatusError::Unexpected { addr, status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_on_every_address_is_asked_on_loopback() {
        let on = |s: &str| loopback(s.parse().expect("an address")).to_string();
        assert_eq!(on("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(on("[::]:8443"), "[::1]:8443");
        assert_eq!(on("10.0.10.7:8080"), "10.0.10.7:8080");
    }

    #[test]
    fn a_worker_line_says_its_state_and_last_error() {
        let w = WorkerLine {
            name: "link:edge-1".into(),
            state: "failing".into(),
            last_run: Some("2026-12-06T10:00:00Z".into()),
            last_error: Some("edge-1: connection refused".into()),
            next_wake: None,
        };
        let text = w.to_string();
        assert!(text.starts_with("link:edge-1"), "{text}");
        assert!(
            text.contains("failing") && text.contains("connection refused"),
            "{text}"
        );
    }
}
