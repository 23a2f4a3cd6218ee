//! The mail relay, as core sees it: a message handed over is either
//! accepted, or refused for now (try again later), or refused for good.

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
