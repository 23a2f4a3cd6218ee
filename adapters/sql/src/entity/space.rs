//! Table `spaces`. `title_key` (the lowercased title) orders listings
//! case-insensitively the same way on every engine.

use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::{Space, Visibility};
use passerelle_core::names::Slug;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, nanos, node_id, time, validated};

const TABLE: &str = "spaces";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "spaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub title_key: String,
    pub description: String,
    pub domain: String,
    pub visibility: String,
    pub edge: Option<String>,
    pub archived: bool,
    pub created_by: Uuid,
    pub created_at: i64,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(s: &Space) -> Result<Self, RepoError> {
        Ok(Self {
            id: s.id.as_uuid(),
            slug: s.slug.as_str().to_owned(),
            title: s.title.clone(),
            title_key: s.title.to_lowercase(),
            description: s.description.clone(),
            domain: s.domain.clone(),
            visibility: match s.visibility {
                Visibility::Private => "private",
                Visibility::Public => "public",
            }
            .to_owned(),
            edge: s.edge.as_ref().map(ToString::to_string),
            archived: s.archived,
            created_by: s.created_by.as_uuid(),
            created_at: nanos(s.created_at)?,
            revision: s.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Space, RepoError> {
        let visibility = match self.visibility.as_str() {
            "private" => Visibility::Private,
            "public" => Visibility::Public,
            other => return Err(corrupt(TABLE, format_args!("unknown visibility {other:?}"))),
        };
        Ok(Space {
            id: SpaceId::from_uuid(self.id),
            slug: validated(TABLE, "slug", &self.slug, Slug::parse)?,
            title: self.title,
            description: self.description,
            domain: self.domain,
            visibility,
            edge: self
                .edge
                .as_deref()
                .map(|e| node_id(TABLE, e))
                .transpose()?,
            archived: self.archived,
            created_by: PrincipalId::from_uuid(self.created_by),
            created_at: time(TABLE, self.created_at)?,
            revision: Revision(self.revision),
        })
    }
}
