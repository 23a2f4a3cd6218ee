//! Node identities: the `passerelle://node/<id>` URI SAN every Passerelle
//! certificate carries, the allow-list an edge checks its clients against,
//! and the single node a link of the internal node expects at its end.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

pub use passerelle_core::replication::{InvalidNodeId, NODE_URI_PREFIX, NodeId};

/// Why a certificate does not name an acceptable node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The bytes are not a DER X.509 certificate, or its SAN extension is malformed.
    #[error("certificate cannot be parsed: {0}")]
    Unparsable(String),
    /// No `passerelle://node/<id>` URI SAN.
    #[error("certificate names no node (no {NODE_URI_PREFIX}<id> URI SAN)")]
    NoNodeId,
    /// Several different node URIs: which node this is cannot be decided.
    #[error("certificate names several nodes: {0} and {1}")]
    Ambiguous(NodeId, NodeId),
    /// A node URI (or a configured id) outside `[a-z0-9-]{1,63}`.
    #[error("invalid node id {0:?}: expected 1 to 63 of [a-z0-9-]")]
    InvalidNodeId(String),
    /// A well-formed identity that the configured allow-list does not contain.
    #[error("node {0} is not in the allow-list")]
    NotAllowed(NodeId),
    /// A valid node, but not the one this link dials: another edge's
    /// certificate presented at this edge's address.
    #[error("certificate names node {found}, but this link is for node {expected}")]
    UnexpectedNode { expected: NodeId, found: NodeId },
    /// A peer policy with an empty allow-list would refuse every peer.
    #[error("the peer allow-list is empty: no node could ever connect")]
    EmptyAllowList,
}

impl From<InvalidNodeId> for IdentityError {
    fn from(e: InvalidNodeId) -> Self {
        IdentityError::InvalidNodeId(e.id)
    }
}

/// Reads the node id from the `passerelle://node/<id>` URI SAN of a DER
/// certificate. Other SANs (DNS names, IP addresses, other URIs) are ignored;
/// the same node URI repeated is accepted, two different ones are not.
pub fn node_id_from_der(der: &[u8]) -> Result<NodeId, IdentityError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|err| IdentityError::Unparsable(err.to_string()))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|err| IdentityError::Unparsable(err.to_string()))?
        .ok_or(IdentityError::NoNodeId)?;
    let mut found: Option<NodeId> = None;
    for name in &san.value.general_names {
        let GeneralName::URI(uri) = name else {
            continue;
        };
        let Some(id) = uri.strip_prefix(NODE_URI_PREFIX) else {
            continue;
        };
        let id = NodeId::parse(id)?;
        match &found {
            Some(first) if *first != id => {
                return Err(IdentityError::Ambiguous(first.clone(), id));
            }
            _ => found = Some(id),
        }
    }
    found.ok_or(IdentityError::NoNodeId)
}

/// The node ids a side accepts as its peer, validated.
#[derive(Debug, Clone)]
pub(crate) struct AllowList(Vec<NodeId>);

impl AllowList {
    /// Validates every configured id; an empty list is a configuration error.
    pub(crate) fn parse(ids: &[String]) -> Result<Self, IdentityError> {
        if ids.is_empty() {
            return Err(IdentityError::EmptyAllowList);
        }
        ids.iter()
            .map(|id| NodeId::parse(id).map_err(IdentityError::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The node the certificate names, if this list allows it.
    pub(crate) fn check(&self, der: &[u8]) -> Result<NodeId, IdentityError> {
        let id = node_id_from_der(der)?;
        if self.0.contains(&id) {
            Ok(id)
        } else {
            Err(IdentityError::NotAllowed(id))
        }
    }
}

/// The node the certificate names, if it is `expected`. A link checks its
/// peer against its own edge's id only: checking against every configured
/// edge would let one edge's certificate answer for another.
pub(crate) fn expect_node(der: &[u8], expected: &NodeId) -> Result<NodeId, IdentityError> {
    let found = node_id_from_der(der)?;
    if found == *expected {
        Ok(found)
    } else {
        Err(IdentityError::UnexpectedNode {
            expected: expected.clone(),
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with_sans(sans: &[rcgen::SanType]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::default();
        params.subject_alt_names = sans.to_vec();
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    fn uri(s: &str) -> rcgen::SanType {
        rcgen::SanType::URI(s.try_into().expect("ia5"))
    }

    #[test]
    fn reads_the_node_id_among_other_sans() {
        let der = cert_with_sans(&[
            rcgen::SanType::DnsName("localhost".try_into().expect("dns")),
            uri("https://example.org/"),
            uri("passerelle://node/edge-1"),
        ]);
        assert_eq!(
            node_id_from_der(&der),
            Ok(NodeId::parse("edge-1").expect("id"))
        );
    }

    #[test]
    fn refuses_a_certificate_without_node_uri() {
        let der = cert_with_sans(&[rcgen::SanType::DnsName(
            "localhost".try_into().expect("dns"),
        )]);
        assert_eq!(node_id_from_der(&der), Err(IdentityError::NoNodeId));
    }

    #[test]
    fn refuses_a_certificate_naming_two_nodes() {
        let der = cert_with_sans(&[uri("passerelle://node/a"), uri("passerelle://node/b")]);
        assert!(matches!(
            node_id_from_der(&der),
            Err(IdentityError::Ambiguous(..))
        ));
    }

    #[test]
    fn refuses_an_invalid_id_in_the_uri() {
        let der = cert_with_sans(&[uri("passerelle://node/Edge_1")]);
        assert!(matches!(
            node_id_from_der(&der),
            Err(IdentityError::InvalidNodeId(_))
        ));
    }

    #[test]
    fn refuses_garbage_instead_of_a_certificate() {
        assert!(matches!(
            node_id_from_der(b"nope"),
            Err(IdentityError::Unparsable(_))
        ));
    }

    #[test]
    fn allow_list_refuses_a_node_it_does_not_name() {
        let list = AllowList::parse(&["edge-1".to_owned()]).expect("list");
        let der = cert_with_sans(&[uri("passerelle://node/edge-2")]);
        assert!(
            matches!(list.check(&der), Err(IdentityError::NotAllowed(id)) if id.as_str() == "edge-2")
        );
        assert_eq!(
            AllowList::parse(&[]).err(),
            Some(IdentityError::EmptyAllowList)
        );
    }

    #[test]
    fn a_link_refuses_another_valid_node_than_its_own() {
        let edge_2 = NodeId::parse("edge-2").expect("id");
        let der = cert_with_sans(&[uri("passerelle://node/edge-1")]);
        assert!(matches!(
            expect_node(&der, &edge_2),
            Err(IdentityError::UnexpectedNode { expected, found })
                if expected == edge_2 && found.as_str() == "edge-1"
        ));
        let der = cert_with_sans(&[uri("passerelle://node/edge-2")]);
        assert_eq!(expect_node(&der, &edge_2), Ok(edge_2));
    }
}
