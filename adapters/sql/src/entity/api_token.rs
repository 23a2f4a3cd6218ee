//! Table `api_tokens`: bearer tokens of business applications (hash only).

use passerelle_core::ids::{PrincipalId, TokenId};
use passerelle_core::model::{ApiToken, TokenKind};
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, hash, nanos, opt_nanos, opt_time, time};

const TABLE: &str = "api_tokens";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub principal_id: Uuid,
    /// `api` or `app_password` ([`TokenKind::as_str`]).
    pub kind: String,
    pub name: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(t: &ApiToken) -> Result<Self, RepoError> {
        Ok(Self {
            id: t.id.as_uuid(),
            principal_id: t.principal.as_uuid(),
            kind: t.kind.as_str().to_owned(),
            name: t.name.clone(),
            token_hash: t.token_hash.to_hex(),
            created_at: nanos(t.created_at)?,
            expires_at: opt_nanos(t.expires_at)?,
            revoked: t.revoked,
        })
    }

    pub(crate) fn into_core(self) -> Result<ApiToken, RepoError> {
        Ok(ApiToken {
            id: TokenId::from_uuid(self.id),
            principal: PrincipalId::from_uuid(self.principal_id),
            kind: TokenKind::parse(&self.kind)
                .ok_or_else(|| corrupt(TABLE, format!("unknown token kind {:?}", self.kind)))?,
            name: self.name,
            token_hash: hash(TABLE, &self.token_hash)?,
            created_at: time(TABLE, self.created_at)?,
            expires_at: opt_time(TABLE, self.expires_at)?,
            revoked: self.revoked,
        })
    }
}
