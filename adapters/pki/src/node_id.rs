//! The identity of a node: `passerelle://node/<id>` in a URI SAN.
//!
//! [`NodeId`] itself is core's (one type for the workspace). The grpc
//! adapter keeps its own copy of [`node_id_of`] (the edge cannot link this
//! crate); both must follow the same rule: the only URI SAN starting with
//! [`NODE_URI_PREFIX`], and the rest a valid [`NodeId`].

use x509_parser::extensions::GeneralName;

use crate::PkiError;

pub use passerelle_core::replication::{NODE_URI_PREFIX, NodeId};

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
        [uri] => Ok(NodeId::from_uri(uri)?),
        many => Err(PkiError::AmbiguousNodeId {
            ids: many.iter().map(|u| (*u).to_owned()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_id_in_a_node_uri_is_a_bad_node_id() {
        let err = PkiError::from(NodeId::from_uri("passerelle://node/Edge").expect_err("bad"));
        assert!(matches!(err, PkiError::BadNodeId { id } if id == "Edge"));
    }

    #[test]
    fn node_id_of_refuses_garbage() {
        assert!(matches!(
            node_id_of(b"not a certificate"),
            Err(PkiError::Certificate { .. })
        ));
    }
}
