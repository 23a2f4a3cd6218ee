//! Table `ingestions`: what each drop folder filed (internal node; not
//! revisioned, not replicated).

use passerelle_core::flows::{DropName, Ingestion};
use passerelle_core::ids::{DocumentId, PrincipalId, SpaceId};
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, hash, nanos, time};

pub(crate) const TABLE: &str = "ingestions";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ingestions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub file_name: String,
    pub space_id: Uuid,
    pub filed_by: Uuid,
    pub filed_at: i64,
    /// JSON array of document ids, in filing order.
    pub documents: String,
    pub reference: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(i: &Ingestion) -> Result<Self, RepoError> {
        let ids: Vec<Uuid> = i.documents.iter().map(|d| d.as_uuid()).collect();
        let documents = serde_json::to_string(&ids)
            .map_err(|e| corrupt(TABLE, format_args!("documents of {}: {e}", i.hash)))?;
        Ok(Self {
            source: i.source.as_str().to_owned(),
            hash: i.hash.to_hex(),
            file_name: i.file_name.clone(),
            space_id: i.space.as_uuid(),
            filed_by: i.filed_by.as_uuid(),
            filed_at: nanos(i.filed_at)?,
            documents,
            reference: i.reference.clone(),
        })
    }

    pub(crate) fn into_core(self) -> Result<Ingestion, RepoError> {
        let source =
            DropName::parse(&self.source).map_err(|e| corrupt(TABLE, format_args!("{e}")))?;
        let ids: Vec<Uuid> = serde_json::from_str(&self.documents)
            .map_err(|e| corrupt(TABLE, format_args!("documents {:?}: {e}", self.documents)))?;
        Ok(Ingestion {
            source,
            hash: hash(TABLE, &self.hash)?,
            file_name: self.file_name,
            space: SpaceId::from_uuid(self.space_id),
            filed_by: PrincipalId::from_uuid(self.filed_by),
            filed_at: time(TABLE, self.filed_at)?,
            documents: ids.into_iter().map(DocumentId::from_uuid).collect(),
            reference: self.reference,
        })
    }
}
