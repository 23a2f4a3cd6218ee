//! The relay's delivery reports read back (ADR 0013 §7): a failure
//! report about a notice this node sent marks it refused, for
//! administrators; anything else is only set aside.

use crate::error::CoreError;
use crate::ids::NoticeId;
use crate::notify::NoticeState;
use crate::notify::mail::Bounce;

use super::super::Actor;
use super::super::activity::Notifications;
use super::DELIVERY_BATCH;

/// What a reading of the bounce mailbox did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BounceRun {
    /// Reports read (and set aside).
    pub read: u64,
    /// Notices they marked as bounced.
    pub bounced: u64,
}

/// The notice a `Message-ID` names: the adapter makes them
/// `<notice-id@host>` ([`crate::notify::mail::OutgoingMail`]).
fn notice_of_message_id(id: &str) -> Option<NoticeId> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _host) = id.split_once('@')?;
    local.parse().ok()
}

impl Notifications {
    /// Reads the relay's delivery reports (ADR 0013 §7): a failure report
    /// about a notice this node sent, to the address it went to, marks it
    /// refused with what the receiving server said (audited, shown to
    /// administrators); every report read is set aside, those about
    /// nothing of ours included (a forged or foreign report changes
    /// nothing). Without a bounce mailbox nothing happens.
    pub async fn read_bounces(&self) -> Result<BounceRun, CoreError> {
        let app = &self.app;
        let Some(bounces) = app.bounces.clone() else {
            return Ok(BounceRun::default());
        };
        let mut run = BounceRun::default();
        let reports = bounces
            .waiting(DELIVERY_BATCH as usize)
            .await
            .map_err(|e| CoreError::Internal(Box::new(e)))?;
        for r in reports {
            run.read += 1;
            if let Some(b) = &r.bounce
                && self.record_bounce(b).await?
            {
                run.bounced += 1;
            }
            bounces
                .done(&r.handle)
                .await
                .map_err(|e| CoreError::Internal(Box::new(e)))?;
        }
        Ok(run)
    }

    /// Marks the notice `b` is about as bounced; whether it was one of
    /// ours, sent, to that address.
    async fn record_bounce(&self, b: &Bounce) -> Result<bool, CoreError> {
        let app = &self.app;
        let Some(id) = notice_of_message_id(&b.message_id) else {
            return Ok(false);
        };
        let mut tx = app.write().await?;
        let Some(mut n) = tx.notice(id).await? else {
            return Ok(false);
        };
        let same_address = b
            .recipient
            .as_deref()
            .is_none_or(|r| r.trim().eq_ignore_ascii_case(n.address.trim()));
        if n.state != NoticeState::Sent || !same_address {
            return Ok(false);
        }
        let why = match &b.diagnostic {
            Some(d) => format!("bounced ({}): {d}", b.status),
            None => format!("bounced ({})", b.status),
        };
        n.state = NoticeState::Refused;
        n.last_error = Some(why.clone());
        tx.save_notice(&n).await?;
        app.audit(
            &mut tx,
            &Actor::System,
            "notification.bounced",
            None,
            Some(n.recipient.to_string()),
            serde_json::json!({ "notice": n.id.to_string(), "status": b.status, "error": why }),
        )
        .await?;
        app.commit(tx).await?;
        Ok(true)
    }
}
