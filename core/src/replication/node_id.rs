//! The name of a node (`edge-1`, `internal`): one type for the whole
//! workspace, so an edge is never a bare string and every id, whether read
//! from a configuration, a certificate or the database, is checked by the
//! same rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What the URI naming a node starts with (`passerelle://node/<id>`); a
/// node's certificate carries it as a URI SAN.
pub const NODE_URI_PREFIX: &str = "passerelle://node/";

/// A node's name, e.g. `edge-1`: 1 to 63 characters among `a-z`, `0-9` and
/// `-`.
///
/// It names a directory (`issued/<id>/`), goes into a URI and may name a
/// host, hence a DNS label's small alphabet: no dots, slashes, spaces, NUL
/// or upper case to escape or confuse.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

/// A node id outside `[a-z0-9-]{1,63}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid node id {id:?}: expected 1 to 63 of [a-z0-9-]")]
pub struct InvalidNodeId {
    /// The refused text, escaped so that control characters stay visible
    /// in messages and logs.
    pub id: String,
}

impl NodeId {
    /// Longest accepted id: a DNS label's.
    pub const MAX_LEN: usize = 63;

    /// Parses an id, refusing anything outside `[a-z0-9-]{1,63}`.
    pub fn parse(id: &str) -> Result<Self, InvalidNodeId> {
        let valid = (1..=Self::MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidNodeId {
                id: id.escape_debug().to_string(),
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URI naming this node: `passerelle://node/<id>`.
    pub fn uri(&self) -> String {
        format!("{NODE_URI_PREFIX}{}", self.0)
    }

    /// The node named by `uri`: `Ok(None)` when it is not a node URI at all,
    /// an error when it is one with an invalid id.
    pub fn from_uri(uri: &str) -> Result<Option<Self>, InvalidNodeId> {
        uri.strip_prefix(NODE_URI_PREFIX)
            .map(Self::parse)
            .transpose()
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NodeId {
    type Err = InvalidNodeId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for NodeId {
    type Error = InvalidNodeId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NodeId> for String {
    fn from(id: NodeId) -> Self {
        id.0
    }
}

impl AsRef<str> for NodeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for NodeId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for NodeId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_digits_and_dashes() {
        for id in ["edge-1", "internal", "a", "0", "-", &"a".repeat(63)] {
            let parsed = NodeId::parse(id).expect(id);
            assert_eq!(parsed.as_str(), id);
            assert_eq!(parsed.to_string(), id);
        }
    }

    #[test]
    fn bad_node_ids_are_refused() {
        for id in [
            "",
            "..",
            ".",
            "Edge-1",
            "EDGE",
            "edge_1",
            "edge.example.fr",
            "edge/1",
            "../etc",
            "edge 1",
            " edge",
            "edge\0",
            "edge\n",
            "é",
            &"a".repeat(64),
        ] {
            let refused = NodeId::parse(id).expect_err(id);
            assert_eq!(refused.id, id.escape_debug().to_string());
        }
    }

    #[test]
    fn the_error_shows_control_characters_escaped() {
        let refused = NodeId::parse("edge\0\n").expect_err("NUL refused");
        assert_eq!(
            refused.to_string(),
            r#"invalid node id "edge\\0\\n": expected 1 to 63 of [a-z0-9-]"#
        );
    }

    #[test]
    fn uri_puts_the_id_after_the_prefix() {
        let id = NodeId::parse("edge-1").expect("valid");
        assert_eq!(id.uri(), "passerelle://node/edge-1");
        assert_eq!(NodeId::from_uri(&id.uri()).expect("valid"), Some(id));
    }

    #[test]
    fn from_uri_ignores_other_uris_and_refuses_bad_ids() {
        assert_eq!(
            NodeId::from_uri("https://edge.example.fr/").expect("ignored"),
            None
        );
        assert_eq!(
            NodeId::from_uri("passerelle://nodes/x").expect("ignored"),
            None
        );
        assert!(NodeId::from_uri("passerelle://node/").is_err());
        assert!(NodeId::from_uri("passerelle://node/Edge").is_err());
        assert!(NodeId::from_uri("passerelle://node/a/b").is_err());
    }

    #[test]
    fn deserialising_validates() {
        let ok: NodeId = serde_json::from_str(r#""edge-2""#).expect("valid");
        assert_eq!(ok, "edge-2");
        assert_eq!(
            serde_json::to_string(&ok).expect("serialises"),
            r#""edge-2""#
        );
        assert!(serde_json::from_str::<NodeId>(r#""../x""#).is_err());
    }
}
