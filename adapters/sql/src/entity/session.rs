//! Table `sessions`: only the hash of a session token is stored.

use passerelle_core::ids::PrincipalId;
use passerelle_core::model::Session;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{hash, nanos, time};

const TABLE: &str = "sessions";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub principal_id: Uuid,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(s: &Session) -> Result<Self, RepoError> {
        Ok(Self {
            token_hash: s.token_hash.to_hex(),
            principal_id: s.principal.as_uuid(),
            csrf: s.csrf.clone(),
            created_at: nanos(s.created_at)?,
            expires_at: nanos(s.expires_at)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<Session, RepoError> {
        Ok(Session {
            token_hash: hash(TABLE, &self.token_hash)?,
            principal: PrincipalId::from_uuid(self.principal_id),
            csrf: self.csrf,
            created_at: time(TABLE, self.created_at)?,
            expires_at: time(TABLE, self.expires_at)?,
        })
    }
}
