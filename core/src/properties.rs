//! Dead properties (ADR 0007 §2): what WebDAV clients attach to a file or
//! a collection and read back (Windows' timestamps and attributes, macOS'
//! tags, litmus' `props` suite), kept per [`Resource`] so that they follow
//! renames and moves. Passerelle does not interpret them; it bounds them,
//! since every name and value comes from a client.
//!
//! The port is its own, beside the repository (as the `ExtractionLog`):
//! these rows are local client state, outside the revisioned history (no
//! revision, not replicated to edges). The rights are the resource's, in
//! the `Properties` use cases.

use std::fmt;

use async_trait::async_trait;

use crate::error::CoreError;
use crate::ids::{FolderId, SpaceId};
use crate::model::Resource;
use crate::ports::RepoError;

/// Longest namespace URI kept, in bytes.
pub const MAX_NAMESPACE_BYTES: usize = 512;
/// Longest local name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Largest value (the property's whole XML element), in bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Most dead properties on one resource.
pub const MAX_PER_RESOURCE: usize = 128;

/// A property's qualified name: its XML namespace (empty for none) and
/// its local name, both checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropertyName {
    namespace: String,
    name: String,
}

impl PropertyName {
    /// Refuses an empty or overlong name, an overlong namespace, and
    /// control characters in either.
    pub fn parse(namespace: &str, name: &str) -> Result<Self, CoreError> {
        let bad = |s: &str| s.chars().any(char::is_control);
        if name.is_empty()
            || name.len() > MAX_NAME_BYTES
            || namespace.len() > MAX_NAMESPACE_BYTES
            || bad(name)
            || bad(namespace)
        {
            return Err(CoreError::invalid(
                "invalid_property_name",
                format!(
                    "a property name has 1 to {MAX_NAME_BYTES} bytes and a namespace at most \
                     {MAX_NAMESPACE_BYTES}, without control characters"
                ),
            ));
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for PropertyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.namespace, self.name)
    }
}

/// A dead property: its name and its value, the whole XML element as the
/// client sent it (WebDAV values are XML fragments, not strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadProperty {
    pub name: PropertyName,
    pub xml: String,
}

impl DeadProperty {
    /// Refuses a value past [`MAX_VALUE_BYTES`].
    pub fn new(name: PropertyName, xml: String) -> Result<Self, CoreError> {
        if xml.len() > MAX_VALUE_BYTES {
            return Err(CoreError::invalid(
                "property_too_large",
                format!("a property value has at most {MAX_VALUE_BYTES} bytes"),
            ));
        }
        Ok(Self { name, xml })
    }
}

/// One change of a PROPPATCH; a request's changes apply in order (a set
/// then a removal of the same name removes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyChange {
    Set(DeadProperty),
    Remove(PropertyName),
}

/// Where dead properties are kept.
///
/// Contract (checked against the fake, SQLite and PostgreSQL by the SQL
/// adapter's suite): `properties` lists a resource's properties by
/// namespace then name (code-point order); `patch` applies its removals
/// then its sets in one transaction, all or nothing; setting a name
/// already there replaces its value; removing an absent name is not an
/// error (idempotent); resources are independent (a document and a folder
/// with the same uuid do not share properties); `children_properties`
/// gives the properties of the live children of one collection and of
/// nothing else. No method checks limits or rights: the use cases do.
#[async_trait]
pub trait PropertyStore: Send + Sync + fmt::Debug {
    /// Every dead property of `resource`.
    async fn properties(&self, resource: Resource) -> Result<Vec<DeadProperty>, RepoError>;

    /// Every dead property of the live (neither trashed nor purged)
    /// folders and documents directly inside `folder` of `space` (its root
    /// when `None`), in one read: a listing's, so that a PROPFIND of a
    /// large folder does not read each child's one by one. Each
    /// resource's properties come together, in `properties`' order (the
    /// order between resources is the store's); a child without any is
    /// absent.
    async fn children_properties(
        &self,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<Vec<(Resource, DeadProperty)>, RepoError>;

    /// Removes `remove`, then sets `set`, atomically.
    async fn patch(
        &self,
        resource: Resource,
        set: &[DeadProperty],
        remove: &[PropertyName],
    ) -> Result<(), RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_overlong_and_control_names() {
        assert!(PropertyName::parse("", "").is_err());
        assert!(PropertyName::parse("", &"a".repeat(MAX_NAME_BYTES + 1)).is_err());
        assert!(PropertyName::parse(&"n".repeat(MAX_NAMESPACE_BYTES + 1), "a").is_err());
        assert!(PropertyName::parse("urn:x", "a\u{0}b").is_err());
        assert!(PropertyName::parse("urn:x\n", "a").is_err());
        assert!(PropertyName::parse("", "a").is_ok());
        assert!(PropertyName::parse("http://example.com/neon/litmus/", "prop0").is_ok());
    }

    #[test]
    fn refuses_an_overlong_value() {
        let n = PropertyName::parse("urn:x", "a").expect("name");
        assert!(DeadProperty::new(n.clone(), "v".repeat(MAX_VALUE_BYTES + 1)).is_err());
        assert!(DeadProperty::new(n, "v".repeat(MAX_VALUE_BYTES)).is_ok());
    }
}
