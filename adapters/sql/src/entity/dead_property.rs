//! Table `dead_properties`: WebDAV dead properties per resource (not
//! revisioned, not replicated).

use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use passerelle_core::properties::{DeadProperty, PropertyName};
use sea_orm::entity::prelude::*;

use crate::convert::corrupt;

pub(crate) const TABLE: &str = "dead_properties";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_properties")]
pub struct Model {
    /// `space`, `folder` or `document`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: Uuid,
    /// Empty for no namespace.
    #[sea_orm(primary_key, auto_increment = false)]
    pub namespace: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The whole XML element, as the client sent it.
    pub xml: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `resource_kind` of a space's root, a folder, a document.
pub(crate) const SPACE: &str = "space";
pub(crate) const FOLDER: &str = "folder";
pub(crate) const DOCUMENT: &str = "document";

/// The key columns of a resource.
pub(crate) fn key(r: Resource) -> (&'static str, Uuid) {
    match r {
        Resource::Space(id) => (SPACE, id.as_uuid()),
        Resource::Folder(id) => (FOLDER, id.as_uuid()),
        Resource::Document(id) => (DOCUMENT, id.as_uuid()),
    }
}

impl Model {
    pub(crate) fn from_core(r: Resource, p: &DeadProperty) -> Self {
        let (kind, id) = key(r);
        Self {
            resource_kind: kind.to_owned(),
            resource_id: id,
            namespace: p.name.namespace().to_owned(),
            name: p.name.name().to_owned(),
            xml: p.xml.clone(),
        }
    }

    /// The resource the row belongs to.
    pub(crate) fn resource(&self) -> Result<Resource, RepoError> {
        let id = self.resource_id;
        match self.resource_kind.as_str() {
            SPACE => Ok(Resource::Space(SpaceId::from_uuid(id))),
            FOLDER => Ok(Resource::Folder(FolderId::from_uuid(id))),
            DOCUMENT => Ok(Resource::Document(DocumentId::from_uuid(id))),
            other => Err(corrupt(
                TABLE,
                format_args!("unknown resource kind {other:?}"),
            )),
        }
    }

    pub(crate) fn into_core(self) -> Result<DeadProperty, RepoError> {
        let name = PropertyName::parse(&self.namespace, &self.name)
            .map_err(|e| corrupt(TABLE, format_args!("{e}")))?;
        Ok(DeadProperty {
            name,
            xml: self.xml,
        })
    }
}
