//! Table `document_links`: typed links between documents (revisioned;
//! a removal is a tombstone).

use passerelle_core::ids::{DocumentId, LinkId, PrincipalId, Revision, SpaceId};
use passerelle_core::links::{DocumentLink, LinkKind};
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, nanos, time};

pub(crate) const TABLE: &str = "document_links";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub space_id: Uuid,
    pub from_id: Uuid,
    pub to_id: Uuid,
    /// `LinkKind::as_str`.
    pub kind: String,
    pub created_by: Uuid,
    pub created_at: i64,
    pub removed: bool,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(l: &DocumentLink) -> Result<Self, RepoError> {
        Ok(Self {
            id: l.id.as_uuid(),
            space_id: l.space.as_uuid(),
            from_id: l.from.as_uuid(),
            to_id: l.to.as_uuid(),
            kind: l.kind.as_str().to_owned(),
            created_by: l.created_by.as_uuid(),
            created_at: nanos(l.created_at)?,
            removed: l.removed,
            revision: l.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<DocumentLink, RepoError> {
        let kind: LinkKind = self
            .kind
            .parse()
            .map_err(|e| corrupt(TABLE, format_args!("{e}")))?;
        Ok(DocumentLink {
            id: LinkId::from_uuid(self.id),
            space: SpaceId::from_uuid(self.space_id),
            from: DocumentId::from_uuid(self.from_id),
            to: DocumentId::from_uuid(self.to_id),
            kind,
            created_by: PrincipalId::from_uuid(self.created_by),
            created_at: time(TABLE, self.created_at)?,
            removed: self.removed,
            revision: Revision(self.revision),
        })
    }
}
