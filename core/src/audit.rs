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
/// field order, time as Unix nanoseconds, object keys sorted at every
/// depth), so the chain depends neither on the database's formatting (a
/// PostgreSQL `jsonb` reorders keys) nor on how the build orders JSON
/// objects (serde_json's `preserve_order`, which a dependency may switch on).
pub fn entry_hash(e: &AuditEntry) -> ContentHash {
    let fields = json!([
        e.seq,
        e.at.unix_timestamp_nanos().to_string(),
        e.actor.map(|a| a.to_string()),
        e.action,
        e.space.map(|s| s.to_string()),
        e.target,
        e.detail,
    ]);
    let mut canonical = String::new();
    write_canonical(&fields, &mut canonical);
    let mut h = blake3::Hasher::new();
    h.update(e.prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    h.finalize().into()
}

/// Compact JSON with the keys of every object in byte order: what
/// serde_json prints for a `BTreeMap`-backed `Value`, whatever the build.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
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
    fn the_hash_ignores_the_order_of_object_keys() {
        // Keys inserted out of order, nested: a build where serde_json keeps
        // insertion order must hash like one that sorts.
        let mut inner = serde_json::Map::new();
        inner.insert("zulu".into(), json!(1));
        inner.insert("alpha".into(), json!([{"y": 2, "b": "é\"\n"}]));
        let mut detail = serde_json::Map::new();
        detail.insert("rows".into(), json!(12));
        detail.insert("edge".into(), Value::Object(inner));
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let e = chain(
            None,
            at,
            AuditEvent {
                actor: None,
                action: "replication.purge",
                space: None,
                target: None,
                detail: Value::Object(detail),
            },
        );
        let mut expected = String::new();
        write_canonical(
            &json!([1, "1800000000000000000", null, "replication.purge", null, null,
                {"edge": {"alpha": [{"b": "é\"\n", "y": 2}], "zulu": 1}, "rows": 12}]),
            &mut expected,
        );
        assert_eq!(
            expected,
            r#"[1,"1800000000000000000",null,"replication.purge",null,null,{"edge":{"alpha":[{"b":"é\"\n","y":2}],"zulu":1},"rows":12}]"#
        );
        let mut h = blake3::Hasher::new();
        h.update(GENESIS.as_bytes());
        h.update(expected.as_bytes());
        assert_eq!(e.hash, ContentHash::from(h.finalize()));
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
