//! Table `locks`: locks by token (ADR 0007 §1), not revisioned.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::locks::{Lock, LockDepth, LockScope, LockToken};
use passerelle_core::model::Resource;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, nanos, time};

pub(crate) const TABLE: &str = "locks";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "locks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: Uuid,
    /// `space`, `folder` or `document` (see [`kind`]).
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub space_id: Uuid,
    pub owner_id: Uuid,
    pub owner_info: Option<String>,
    /// `LockScope::as_str`.
    pub scope: String,
    /// `LockDepth::as_str`.
    pub depth: String,
    pub created_at: i64,
    pub refreshed_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The two columns naming a resource.
pub(crate) fn kind(r: Resource) -> (&'static str, Uuid) {
    match r {
        Resource::Space(id) => ("space", id.as_uuid()),
        Resource::Folder(id) => ("folder", id.as_uuid()),
        Resource::Document(id) => ("document", id.as_uuid()),
    }
}

/// The resource the two columns name; an unknown kind is `table`'s
/// corruption.
pub(crate) fn resource(table: &'static str, raw: &str, id: Uuid) -> Result<Resource, RepoError> {
    Ok(match raw {
        "space" => Resource::Space(SpaceId::from_uuid(id)),
        "folder" => Resource::Folder(FolderId::from_uuid(id)),
        "document" => Resource::Document(DocumentId::from_uuid(id)),
        other => {
            return Err(corrupt(
                table,
                format_args!("unknown resource kind {other:?}"),
            ));
        }
    })
}

impl Model {
    pub(crate) fn from_core(l: &Lock) -> Result<Self, RepoError> {
        let (resource_kind, resource_id) = kind(l.resource);
        Ok(Self {
            token: l.token.as_uuid(),
            resource_kind: resource_kind.to_owned(),
            resource_id,
            space_id: l.space.as_uuid(),
            owner_id: l.owner.as_uuid(),
            owner_info: l.owner_info.clone(),
            scope: l.scope.as_str().to_owned(),
            depth: l.depth.as_str().to_owned(),
            created_at: nanos(l.created_at)?,
            refreshed_at: nanos(l.refreshed_at)?,
            expires_at: nanos(l.expires_at)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<Lock, RepoError> {
        Ok(Lock {
            token: LockToken::from_uuid(self.token),
            resource: resource(TABLE, &self.resource_kind, self.resource_id)?,
            space: SpaceId::from_uuid(self.space_id),
            owner: PrincipalId::from_uuid(self.owner_id),
            owner_info: self.owner_info,
            scope: LockScope::parse(&self.scope)
                .ok_or_else(|| corrupt(TABLE, format_args!("unknown scope {:?}", self.scope)))?,
            depth: LockDepth::parse(&self.depth)
                .ok_or_else(|| corrupt(TABLE, format_args!("unknown depth {:?}", self.depth)))?,
            created_at: time(TABLE, self.created_at)?,
            refreshed_at: time(TABLE, self.refreshed_at)?,
            expires_at: time(TABLE, self.expires_at)?,
        })
    }
}
