//! Table `document_types`: the field definitions are JSON text.

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::Revision;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{from_json, to_json, to_u32};

const TABLE: &str = "document_types";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub type_key: String,
    pub label: String,
    pub domain: String,
    pub description: String,
    pub retention_years: i64,
    pub fields: String,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(t: &DocumentType) -> Result<Self, RepoError> {
        Ok(Self {
            type_key: t.key.clone(),
            label: t.label.clone(),
            domain: t.domain.clone(),
            description: t.description.clone(),
            retention_years: i64::from(t.retention_years),
            fields: to_json("fields", &t.fields)?,
            revision: t.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<DocumentType, RepoError> {
        Ok(DocumentType {
            key: self.type_key,
            label: self.label,
            domain: self.domain,
            description: self.description,
            retention_years: to_u32(TABLE, "retention_years", self.retention_years)?,
            fields: from_json(TABLE, "fields", &self.fields)?,
            revision: Revision(self.revision),
        })
    }
}
