//! An in-memory directory for core's tests (ADR 0009): entries with their
//! passwords and groups, a switch that makes it unreachable, and a count of the
//! questions asked (a test that a password never reached it can fail).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::directory::{Directory, DirectoryEntry, DirectoryError, DirectoryStatus, GroupDn};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct MemDirectory {
    entries: Mutex<HashMap<String, (String, DirectoryEntry)>>,
    disabled: Mutex<HashSet<String>>,
    down: AtomicBool,
    asked: AtomicU64,
}

impl MemDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `login` with `password`.
    pub fn add(&self, login: &str, password: &str, display_name: &str, email: &str) {
        let entry = DirectoryEntry {
            login: login.to_owned(),
            display_name: display_name.to_owned(),
            email: email.to_owned(),
            groups: Vec::new(),
        };
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(login.to_lowercase(), (password.to_owned(), entry));
    }

    /// Puts `login` in exactly `groups` (distinguished names).
    pub fn set_groups(&self, login: &str, groups: &[&str]) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, e)) = entries.get_mut(&login.to_lowercase()) {
            e.groups = groups
                .iter()
                .filter_map(|g| GroupDn::parse(g).ok())
                .collect();
        }
    }

    /// Takes `login` out, as an agent who left.
    pub fn remove(&self, login: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&login.to_lowercase());
    }

    /// Disables `login` there (its password no longer works either).
    pub fn disable(&self, login: &str) {
        self.disabled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(login.to_lowercase());
    }

    /// Makes every question fail as an unreachable server does.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many checks were asked.
    pub fn asked(&self) -> u64 {
        self.asked.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Directory for MemDirectory {
    async fn verify(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Option<DirectoryEntry>, DirectoryError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("connection refused".into()));
        }
        let key = login.to_lowercase();
        if self
            .disabled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&key)
        {
            return Ok(None);
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(entries
            .get(&key)
            .filter(|(p, _)| p == password)
            .map(|(_, e)| e.clone()))
    }

    async fn statuses(&self, logins: &[String]) -> Result<Vec<DirectoryStatus>, DirectoryError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("connection refused".into()));
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let disabled = self.disabled.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(logins
            .iter()
            .map(|l| {
                let key = l.to_lowercase();
                match entries.get(&key) {
                    None => DirectoryStatus::Absent,
                    Some(_) if disabled.contains(&key) => DirectoryStatus::Disabled,
                    Some((_, e)) => DirectoryStatus::Active(e.clone()),
                }
            })
            .collect())
    }
}
