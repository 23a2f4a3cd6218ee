//! A mail relay in memory: keeps what it accepted, and can be told to be
//! down (a transient failure) or to refuse an address for good, so that
//! core's tests see delivery, retries and refusals without a network.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::notify::mail::{Bounce, BounceBox, MailError, Mailer, OutgoingMail, Report};

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

/// A bounce mailbox in memory: reports dropped in by the test, read and
/// set aside by the node as from a real one.
#[derive(Debug, Default)]
pub struct MemBounces {
    state: Mutex<Vec<(Report, bool)>>,
}

impl MemBounces {
    pub fn new() -> Self {
        Self::default()
    }

    /// A report arrives (`bounce: None`: a message that is not one).
    pub fn arrive(&self, bounce: Option<Bounce>) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let handle = format!("report-{}", s.len());
        s.push((Report { handle, bounce }, false));
    }

    /// How many reports wait, not set aside.
    pub fn waiting_count(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, done)| !done)
            .count()
    }
}

#[async_trait]
impl BounceBox for MemBounces {
    async fn waiting(&self, limit: usize) -> Result<Vec<Report>, MailError> {
        Ok(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, done)| !done)
            .take(limit)
            .map(|(r, _)| r.clone())
            .collect())
    }

    async fn done(&self, handle: &str) -> Result<(), MailError> {
        for (r, done) in self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_mut()
        {
            if r.handle == handle {
                *done = true;
            }
        }
        Ok(())
    }
}
