//! Table `subscriptions`: how often each person hears of a space, a
//! folder or a document (ADR 0013). The nil principal holds the space's
//! default; the nil target with kind 0 is the whole space.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::notify::{Followed, Frequency, Subscription};
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, parse};

pub(crate) const TABLE: &str = "subscriptions";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub space_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_kind: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_id: Uuid,
    /// `Frequency::as_str`.
    pub frequency: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `(target_kind, target_id)` columns of what is followed.
pub(crate) fn target(f: Followed) -> (i64, Uuid) {
    match f {
        Followed::Space => (0, Uuid::nil()),
        Followed::Folder(id) => (1, id.as_uuid()),
        Followed::Document(id) => (2, id.as_uuid()),
    }
}

impl Model {
    pub(crate) fn from_core(s: &Subscription) -> Self {
        let (target_kind, target_id) = target(s.followed);
        Self {
            principal_id: s.principal.as_uuid(),
            space_id: s.space.as_uuid(),
            target_kind,
            target_id,
            frequency: s.frequency.as_str().to_owned(),
        }
    }

    /// The space's default row.
    pub(crate) fn space_default(space: SpaceId, f: Frequency) -> Self {
        Self {
            principal_id: Uuid::nil(),
            space_id: space.as_uuid(),
            target_kind: 0,
            target_id: Uuid::nil(),
            frequency: f.as_str().to_owned(),
        }
    }

    pub(crate) fn frequency(&self) -> Result<Frequency, RepoError> {
        parse(TABLE, "frequency", &self.frequency)
    }

    pub(crate) fn into_core(self) -> Result<Subscription, RepoError> {
        let followed = match self.target_kind {
            0 => Followed::Space,
            1 => Followed::Folder(FolderId::from_uuid(self.target_id)),
            2 => Followed::Document(DocumentId::from_uuid(self.target_id)),
            k => return Err(corrupt(TABLE, format_args!("target kind {k}"))),
        };
        Ok(Subscription {
            principal: PrincipalId::from_uuid(self.principal_id),
            space: SpaceId::from_uuid(self.space_id),
            followed,
            frequency: self.frequency()?,
        })
    }
}
