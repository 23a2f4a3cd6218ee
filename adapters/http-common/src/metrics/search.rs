//! The search families of `/metrics`: how far the index is behind each
//! space, and the contents by extraction status (ADR 0006 §2). Set from
//! scratch at each scrape, like the replication families, so that a space
//! gone from the node leaves no stale series.

use passerelle_core::service::SearchGauges;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SpaceLabels {
    space: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct SearchFamilies {
    lag_rows: Family<SpaceLabels, Gauge>,
    extractions: Family<StatusLabels, Gauge>,
}

impl SearchFamilies {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "search_index_lag_rows",
            "Rows of the space's change feed the search index has not taken yet",
            self.lag_rows.clone(),
        );
        registry.register(
            "search_extractions",
            "Contents by text extraction status (failed and timeout are retried)",
            self.extractions.clone(),
        );
    }

    /// `None`: the index or the database cannot be read; the families are
    /// left out rather than shown stale.
    pub(crate) fn set(&self, gauges: Option<&SearchGauges>) {
        self.lag_rows.clear();
        self.extractions.clear();
        let Some(g) = gauges else { return };
        for lag in &g.lags {
            self.lag_rows
                .get_or_create(&SpaceLabels {
                    space: lag.space.to_string(),
                })
                .set(i64::try_from(lag.rows).unwrap_or(i64::MAX));
        }
        for (status, n) in &g.extractions {
            self.extractions
                .get_or_create(&StatusLabels {
                    status: status.as_str(),
                })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }
}
