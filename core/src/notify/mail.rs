//! The mail relay, as core sees it: a message handed over is either
//! accepted, or refused for now (try again later), or refused for good;
//! and the mailbox its later delivery reports (bounces) come back to.

use async_trait::async_trait;

use crate::ids::NoticeId;

/// A message for the relay. The adapter adds the sender, the date and
/// the `Message-ID`, made from `id` so that a message sent twice (the
/// node killed between the relay's acceptance and the mark) is one
/// message to every mail reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: NoticeId,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe address (`List-Unsubscribe`), if any.
    pub unsubscribe: Option<String>,
}

/// Why the relay did not take a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Down, unreachable, or a 4xx answer: the message waits and is tried
    /// again.
    #[error("mail relay unavailable: {0}")]
    Transient(String),
    /// A 5xx answer, or an address that cannot be one: never retried.
    #[error("mail refused: {0}")]
    Permanent(String),
}

/// The node's SMTP relay.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

/// A delivery report that says a message the relay had accepted could
/// not be delivered (RFC 3464 `Action: failed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounce {
    /// The failed message's `Message-ID`, without its angle brackets.
    pub message_id: String,
    /// The address that failed (`Final-Recipient`), if the report says.
    pub recipient: Option<String>,
    /// The status code (`5.1.1`).
    pub status: String,
    /// What the receiving server said (`Diagnostic-Code`), if anything.
    pub diagnostic: Option<String>,
}

/// One message of the bounce mailbox: a failure report, or anything else
/// that lands there (a delay warning, a "delivered" report, spam), which
/// is only set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What [`BounceBox::done`] takes to set it aside.
    pub handle: String,
    pub bounce: Option<Bounce>,
}

/// The mailbox the relay's delivery reports are delivered to (the
/// envelope sender of the node's e-mails).
#[async_trait]
pub trait BounceBox: Send + Sync + std::fmt::Debug {
    /// Reports not yet set aside, oldest first, at most `limit`.
    async fn waiting(&self, limit: usize) -> Result<Vec<Report>, MailError>;
    /// Sets a report aside: it is not read again.
    async fn done(&self, handle: &str) -> Result<(), MailError>;
}
