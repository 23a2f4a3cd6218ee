//! Table `principal_settings`: a user's settings on this node (not
//! replicated), today the interface language.

use passerelle_core::ids::PrincipalId;
use passerelle_core::model::Language;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::corrupt;

const TABLE: &str = "principal_settings";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "principal_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: Uuid,
    /// `Language::code`, or NULL: no choice made.
    pub language: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(principal: PrincipalId, language: Option<Language>) -> Self {
        Self {
            principal_id: principal.as_uuid(),
            language: language.map(|l| l.code().to_owned()),
        }
    }

    pub(crate) fn language(&self) -> Result<Option<Language>, RepoError> {
        self.language
            .as_deref()
            .map(|raw| {
                Language::parse(raw)
                    .ok_or_else(|| corrupt(TABLE, format_args!("unknown language {raw:?}")))
            })
            .transpose()
    }
}
