//! The identity of a node: `passerelle://node/<id>` in a URI SAN.
//!
//! The grpc adapter keeps its own copy of [`node_id_of`] (the edge cannot link
//! this crate); both must follow the same rule: the only URI SAN starting with
//! [`NODE_URI_PREFIX`], and the rest a valid [`NodeId`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;

use crate::PkiError;

/// What every node URI SAN starts with; the node id follows.
pub const NODE_URI_PREFIX: &str = "passerelle://node/";

/// Longest node id: a DNS label, so an id can also name a host if ops wish.
const MAX_LEN: usize = 63;

/// A node's name, e.g. `edge-1`: 1 to 63 characters among `a-z`, `0-9` and `-`.
///
/// It names a directory (`issued/<id>/`) and goes into a URI, hence the small
/// alphabet: no dots, slashes or upper case to escape or confuse.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

impl NodeId {
    pub fn new(id: impl Into<String>) -> Result<Self, PkiError> {
        let id = id.into();
        let valid = (1..=MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(id))
        } else {
            Err(PkiError::BadNodeId { id })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URI SAN naming this node: `passerelle://node/<id>`.
    pub fn uri(&self) -> String {
        format!("{NODE_URI_PREFIX}{}", self.0)
    }

    /// The node named by `uri`: `Ok(None)` when it is not a node URI at all,
    /// an error when it is one with an invalid id.
    pub fn from_uri(uri: &str) -> Result<Option<Self>, PkiError> {
        uri.strip_prefix(NODE_URI_PREFIX).map(Self::new).transpose()
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NodeId {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for NodeId {
    type Error = PkiError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
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

/// The node a DER certificate names in its URI SAN.
///
/// `Ok(None)`: no `passerelle://node/` URI (other URIs are ignored). Errors: the
/// certificate does not parse, the id is invalid, or it names several nodes
/// (never guess which one is meant).
pub fn node_id_of(cert_der: &[u8]) -> Result<Option<NodeId>, PkiError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| PkiError::certificate("cannot parse the certificate", e))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| PkiError::certificate("cannot read the subject alternative names", e))?;
    let node_uris: Vec<&str> = san
        .iter()
        .flat_map(|ext| ext.value.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::URI(uri) if uri.starts_with(NODE_URI_PREFIX) => Some(*uri),
            _ => None,
        })
        .collect();
    match node_uris.as_slice() {
        [] => Ok(None),
        [uri] => NodeId::from_uri(uri),
        many => Err(PkiError::AmbiguousNodeId {
            ids: many.iter().map(|u| (*u).to_owned()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_digits_and_dashes() {
        for id in ["edge-1", "internal", "a", "0", "-", &"a".repeat(63)] {
            let parsed = NodeId::new(id).expect(id);
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
            "é",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(NodeId::new(id), Err(PkiError::BadNodeId { .. })),
                "{id:?} accepted"
            );
        }
    }

    #[test]
    fn uri_puts_the_id_after_the_prefix() {
        let id = NodeId::new("edge-1").expect("valid");
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
        let ok: NodeId = serde_json_like("edge-2").expect("valid");
        assert_eq!(ok.as_str(), "edge-2");
        assert!(serde_json_like("../x").is_err());
    }

    /// Deserialises through serde's `String` path without a JSON dependency.
    fn serde_json_like(s: &str) -> Result<NodeId, serde::de::value::Error> {
        use serde::de::IntoDeserializer;
        NodeId::deserialize(s.to_owned().into_deserializer())
    }

    #[test]
    fn node_id_of_refuses_garbage() {
        assert!(matches!(
            node_id_of(b"not a certificate"),
            Err(PkiError::Certificate { .. })
        ));
    }
}
