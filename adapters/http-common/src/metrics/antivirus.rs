//! The antivirus families of `/metrics` (ADR 0010), present on an internal
//! node that scans contractors' uploads: whether clamd answers, what waits
//! for it, and totals since the node started (counters that follow core's
//! own counts).

use passerelle_core::service::AntivirusStatus;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// One unlabelled series, present only where the node scans.
type Unlabelled = Vec<(&'static str, String)>;

/// See the module documentation.
#[derive(Default)]
pub(crate) struct AntivirusFamilies {
    up: Family<Unlabelled, Gauge>,
    waiting: Family<Unlabelled, Gauge>,
    scanned: Family<Unlabelled, Counter>,
    infected: Family<Unlabelled, Counter>,
    unavailable: Family<Unlabelled, Counter>,
}

impl AntivirusFamilies {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "antivirus_up",
            "Internal node: 1 when the antivirus answered the last scan asked, 0 when it did not",
            self.up.clone(),
        );
        registry.register(
            "antivirus_waiting_operations",
            "Internal node: contractors' operations that wait for the antivirus to answer",
            self.waiting.clone(),
        );
        registry.register(
            "antivirus_scanned",
            "Internal node: contents the antivirus judged since the node started",
            self.scanned.clone(),
        );
        registry.register(
            "antivirus_infected",
            "Internal node: contents found infected (and refused) since the node started",
            self.infected.clone(),
        );
        registry.register(
            "antivirus_unavailable",
            "Internal node: scans that got no verdict (antivirus unreachable or failing) since the node started",
            self.unavailable.clone(),
        );
    }

    /// `None`: the node scans nothing (or its state could not be read);
    /// the gauges are left out. Counters are kept: they only grow.
    pub(crate) fn set(&self, status: Option<&AntivirusStatus>) {
        self.up.clear();
        self.waiting.clear();
        let Some(a) = status else { return };
        let none = Vec::new();
        self.up.get_or_create(&none).set(i64::from(a.reachable));
        self.waiting
            .get_or_create(&none)
            .set(i64::try_from(a.waiting_operations).unwrap_or(i64::MAX));
        for (family, total) in [
            (&self.scanned, a.scanned_total),
            (&self.infected, a.infected_total),
            (&self.unavailable, a.unavailable_total),
        ] {
            let counter = family.get_or_create(&none);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }
}
