//! The edge's report of its contractors' activity (ADR 0011 §5): asked at
//! the session's start, then every [`ACTIVITY_EVERY`], and kept by the
//! internal node for its inactivity sweep. A report is a contact: the
//! link's state is recorded with it, so a quiet but healthy link still
//! shows recent news of the edge (the sweep judges nobody without it).

use std::time::Duration;

use super::LinkError;
use super::down::Down;

/// How often the link asks: days are what the sweep counts, so a report
/// every few minutes is plenty.
pub(super) const ACTIVITY_EVERY: Duration = Duration::from_secs(600);

impl Down<'_> {
    /// Asks the edge for its activity report when due, and keeps it. A
    /// refusal (an edge older than the call) is logged and asked again at
    /// the next period; the link goes on.
    pub(super) async fn report_activity_if_due(&mut self) -> Result<(), LinkError> {
        let now = self.app.now();
        if self.activity_due.is_some_and(|t| now < t) {
            return Ok(());
        }
        self.activity_due = Some(now + ACTIVITY_EVERY);
        match self.peer.activity_report().await {
            Ok(report) => {
                self.app.record_activity_report(self.edge, &report).await?;
                self.record().await
            }
            Err(e) => {
                let e = LinkError::from(e);
                if e.is_link_down() {
                    return Err(e);
                }
                tracing::warn!(edge = %self.edge, error = %e, "the edge gave no activity report; its contractors are not judged inactive meanwhile");
                Ok(())
            }
        }
    }
}
