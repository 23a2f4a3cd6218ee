//! A mail relay in memory: keeps what it accepted, and can be told to be
//! down (a transient failure) or to refuse an address for good, so that
//! core's tests see delivery, retries and refusals without a network.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::notify::mail::{MailError, Mailer, OutgoingMail};

#[derive(Debug, Default)]
pub struct MemMailer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<OutgoingMail>,
    down: bool,
    refused: HashSet<String>,
}

impl MemMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// What the relay accepted, in order.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent
            .clone()
    }

    /// Takes the relay down (every send fails for now) or back up.
    pub fn set_down(&self, down: bool) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .down = down;
    }

    /// Refuses mail to `address` for good from now on.
    pub fn refuse(&self, address: &str) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refused
            .insert(address.to_owned());
    }
}

#[async_trait]
impl Mailer for MemMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.down {
            return Err(MailError::Transient("connection refused".into()));
        }
        if s.refused.contains(&mail.to) {
            return Err(MailError::Permanent(format!(
                "550 no such user: {}",
                mail.to
            )));
        }
        s.sent.push(mail.clone());
        Ok(())
    }
}
