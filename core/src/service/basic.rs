//! HTTP Basic authentication for WebDAV and other clients that resend a
//! login and secret with every request (office suites, rclone, davfs2).
//!
//! A password checked with argon2id costs tens of milliseconds on purpose;
//! a client sending it with each of a thousand PUTs would pay that a
//! thousand times. So a successful check is remembered for a few minutes,
//! keyed by a BLAKE3 keyed hash of login and secret under a key drawn at
//! start (never the secret itself), and bound to the account's current
//! password hash: a changed password, a disabled account or a principal
//! that may not act on this node ends the remembered check at once.
//!
//! The secret may also be an app password (`app_passwords`), recognised by
//! its prefix, checked by hash and tied to its owner's login.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::PrincipalId;
use crate::model::Principal;

use super::accounts::may_authenticate;
use super::app_passwords::APP_PASSWORD_PREFIX;
use super::{Actor, Passerelle};

/// How long a checked secret is trusted without argon2id again.
const REMEMBERED_FOR: Duration = Duration::minutes(5);
/// Most remembered checks (one per login and secret in use).
const MAX_REMEMBERED: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Checked {
    principal: PrincipalId,
    /// What the account was bound to when it was checked (`credential`).
    password: ContentHash,
    at: OffsetDateTime,
}

/// Checks of Basic credentials that succeeded recently.
#[derive(Debug)]
pub(crate) struct BasicChecks {
    key: [u8; 32],
    by_credentials: Mutex<HashMap<[u8; 32], Checked>>,
}

impl Default for BasicChecks {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self {
            key,
            by_credentials: Mutex::new(HashMap::new()),
        }
    }
}

fn fingerprint(phc: &str) -> ContentHash {
    ContentHash::of(phc.as_bytes())
}

/// What a remembered check is bound to: the account's password hash, or
/// for a directory account (no hash on the node, ADR 0009) its source. A
/// password changed in the directory is then honoured within
/// [`REMEMBERED_FOR`]; a changed local password, or a disabled account,
/// at once.
fn credential(p: &Principal) -> Option<ContentHash> {
    match (p.source, &p.password_hash) {
        (crate::model::AccountSource::Directory, _) => Some(ContentHash::of(b"directory")),
        (crate::model::AccountSource::Local, Some(phc)) => Some(fingerprint(phc)),
        (crate::model::AccountSource::Local, None) => None,
    }
}

impl BasicChecks {
    fn slot(&self, login: &str, secret: &str) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        // Lengths first, so ("ab", "c") and ("a", "bc") never collide.
        h.update(&(login.len() as u64).to_le_bytes());
        h.update(login.as_bytes());
        h.update(&(secret.len() as u64).to_le_bytes());
        h.update(secret.as_bytes());
        *h.finalize().as_bytes()
    }

    fn recall(&self, slot: &[u8; 32], now: OffsetDateTime) -> Option<Checked> {
        let map = self
            .by_credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.get(slot)
            .copied()
            .filter(|c| now - c.at < REMEMBERED_FOR)
    }

    fn remember(&self, slot: [u8; 32], p: &Principal, now: OffsetDateTime) {
        let Some(password) = credential(p) else {
            return;
        };
        let mut map = self
            .by_credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_REMEMBERED {
            map.retain(|_, c| now - c.at < REMEMBERED_FOR);
            if map.len() >= MAX_REMEMBERED {
                map.clear();
            }
        }
        map.insert(
            slot,
            Checked {
                principal: p.id,
                password,
                at: now,
            },
        );
    }

    fn forget(&self, slot: &[u8; 32]) {
        let mut map = self
            .by_credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.remove(slot);
    }
}

impl Passerelle {
    /// Resolves HTTP Basic credentials to the principal they belong to.
    ///
    /// Failures answer `Unauthenticated` whatever the cause, are throttled
    /// with the same counters as the login page (a client looping on a wrong
    /// password locks itself out, not the account's other clients for
    /// longer than the page would) and are recorded in the audit log.
    /// Successes are not audited one by one: a WebDAV client authenticates
    /// every request.
    pub async fn authenticate_basic(
        &self,
        login: &str,
        secret: &str,
        address: Option<&str>,
    ) -> Result<Actor, CoreError> {
        let now = self.clock.now();
        let key = login.trim().to_lowercase();
        if let Some(retry_after_secs) = self.throttle.check(&key, address, now) {
            return Err(CoreError::Throttled { retry_after_secs });
        }
        let slot = self.basic.slot(&key, secret);
        if let Some(checked) = self.basic.recall(&slot, now) {
            if let Some(p) = self.still_valid(&checked).await? {
                self.note_active(&p).await?;
                return Ok(Actor::Principal(p));
            }
            self.basic.forget(&slot);
        }
        // An empty secret is refused before any check: some directories
        // answer an empty bind as an anonymous success.
        let (ok, found) = if secret.is_empty() {
            (false, None)
        } else if secret.starts_with(APP_PASSWORD_PREFIX) {
            // 256 random bits hashed with BLAKE3: as cheap to check again
            // as to recall, so never remembered.
            match self.check_app_password(login, secret).await? {
                Some(p) => {
                    self.throttle.record_success(&key);
                    self.note_active(&p).await?;
                    return Ok(Actor::Principal(p));
                }
                None => (false, None),
            }
        } else {
            self.check_password(login, secret).await?
        };
        // An account that logs in with a second factor takes app passwords
        // here: its password alone must not open what the pages guard
        // with a code.
        let second = match (&ok, &found) {
            (true, Some(p)) => self.needs_second_step(p).await?,
            _ => false,
        };
        match (ok && !second, found) {
            (true, Some(p)) => {
                self.throttle.record_success(&key);
                self.basic.remember(slot, &p, now);
                self.note_active(&p).await?;
                Ok(Actor::Principal(p))
            }
            (_, found) => {
                self.throttle.record_failure(&key, address, now);
                let target: String = key.chars().take(64).collect();
                let mut tx = self.write().await?;
                self.audit(
                    &mut tx,
                    &Actor::System,
                    "login.failed",
                    None,
                    Some(target),
                    json!({
                        "address": address,
                        "known": found.is_some(),
                        "via": "basic",
                        "second_factor": second,
                    }),
                )
                .await?;
                self.commit(tx).await?;
                Err(CoreError::Unauthenticated)
            }
        }
    }

    /// The principal of a remembered check, if it still may act with the
    /// same password.
    async fn still_valid(&self, checked: &Checked) -> Result<Option<Principal>, CoreError> {
        let p = self.read().await?.principal(checked.principal).await?;
        Ok(p.filter(|p| may_authenticate(self.role, p) && credential(p) == Some(checked.password)))
    }
}
