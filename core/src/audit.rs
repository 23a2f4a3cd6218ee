//! The audit log's hash chain: each entry commits to the previous one, so an
//! edited, removed or reordered entry breaks every hash after it.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::hash::ContentHash;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::AuditEntry;

/// The hash of "no previous entry".
pub const GENESIS: ContentHash = ContentHash::from_bytes([0; 32]);

/// What a new entry says, before it is chained.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub actor: Option<PrincipalId>,
    pub action: &'static str,
    pub space: Option<SpaceId>,
    pub target: Option<String>,
    pub detail: Value,
}

/// Computes the hash of an entry from its fields and its `prev_hash` (its
/// own `hash` field is ignored). The canonical form is a JSON array (fixed
/// field order, time as Unix nanoseconds), so the chain does not depend on the
/// database's formatting.
pub fn entry_hash(e: &AuditEntry) -> ContentHash {
    let canonical = json!([
        e.seq,
        e.at.unix_timestamp_nanos().to_string(),
        e.actor.map(|a| a.to_string()),
        e.action,
        e.space.map(|s| s.to_string()),
        e.target,
        e.detail,
    ]);
    let mut h = blake3::Hasher::new();
    h.update(e.prev_hash.as_bytes());
    h.update(canonical.to_string().as_bytes());
    h.finalize().into()
}

/// Builds the next entry of the chain.
pub fn chain(head: Option<(i64, ContentHash)>, at: OffsetDateTime, ev: AuditEvent) -> AuditEntry {
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS));
    // Microsecond precision: what both SQLite and PostgreSQL store exactly.
    let at = at
        .replace_nanosecond(at.nanosecond() / 1000 * 1000)
        .unwrap_or(at);
    let mut entry = AuditEntry {
        seq: prev_seq + 1,
        at,
        actor: ev.actor,
        action: ev.action.to_owned(),
        space: ev.space,
        target: ev.target,
        detail: ev.detail,
        prev_hash,
        hash: GENESIS,
    };
    entry.hash = entry_hash(&entry);
    entry
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {seq}: expected sequence number {expected}")]
    Gap { seq: i64, expected: i64 },
    #[error("entry {seq}: does not point to the previous entry's hash")]
    BrokenLink { seq: i64 },
    #[error("entry {seq}: content does not match its hash (altered)")]
    Altered { seq: i64 },
}

/// Incremental verifier: feed entries in `seq` order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: (i64, ContentHash),
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev: (0, GENESIS) }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainError> {
        let expected = self.prev.0 + 1;
        if e.seq != expected {
            return Err(ChainError::Gap {
                seq: e.seq,
                expected,
            });
        }
        if e.prev_hash != self.prev.1 {
            return Err(ChainError::BrokenLink { seq: e.seq });
        }
        if entry_hash(e) != e.hash {
            return Err(ChainError::Altered { seq: e.seq });
        }
        self.prev = (e.seq, e.hash);
        Ok(())
    }

    /// Number of entries verified so far.
    pub fn verified(&self) -> i64 {
        self.prev.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: &'static str) -> AuditEvent {
        AuditEvent {
            actor: None,
            action,
            space: None,
            target: Some("x".into()),
            detail: json!({"k": 1}),
        }
    }

    fn sample() -> Vec<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        let mut head = None;
        let mut out = Vec::new();
        for a in ["a", "b", "c"] {
            let e = chain(head, now, ev(a));
            head = Some((e.seq, e.hash));
            out.push(e);
        }
        out
    }

    #[test]
    fn verifies_an_intact_chain() {
        let mut v = ChainVerifier::default();
        for e in sample() {
            v.push(&e).expect("intact");
        }
        assert_eq!(v.verified(), 3);
    }

    #[test]
    fn detects_an_altered_entry() {
        let mut entries = sample();
        entries[1].detail = json!({"k": 2});
        let mut v = ChainVerifier::default();
        v.push(&entries[0]).expect("first intact");
        assert_eq!(v.push(&entries[1]), Err(ChainError::Altered { seq: 2 }));
    }

    #[test]
    fn detects_a_removed_entry() {
        let entries = sample();
        let mut v = ChainVerifier::default();
        v.push(&entries[0]).expect("first intact");
        assert_eq!(
            v.push(&entries[2]),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );
    }
}
