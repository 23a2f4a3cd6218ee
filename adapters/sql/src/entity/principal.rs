//! Table `principals`.

use passerelle_core::ids::{PrincipalId, Revision};
use passerelle_core::model::{AccountSource, Principal, PrincipalKind};
use passerelle_core::names::Login;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, nanos, opt_nanos, opt_time, time, validated};

const TABLE: &str = "principals";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "principals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub kind: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub password_hash: Option<String>,
    pub source: String,
    pub second_factor_reset: Option<i64>,
    pub organisation: Option<String>,
    pub created_at: i64,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn kind_str(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::Agent => "agent",
        PrincipalKind::Contractor => "contractor",
        PrincipalKind::Service => "service",
    }
}

impl Model {
    pub(crate) fn from_core(p: &Principal) -> Result<Self, RepoError> {
        Ok(Self {
            id: p.id.as_uuid(),
            login: p.login.as_str().to_owned(),
            display_name: p.display_name.clone(),
            email: p.email.clone(),
            kind: kind_str(p.kind).to_owned(),
            is_admin: p.is_admin,
            disabled: p.disabled,
            password_hash: p.password_hash.clone(),
            source: p.source.as_str().to_owned(),
            second_factor_reset: opt_nanos(p.second_factor_reset)?,
            organisation: p.organisation.clone(),
            created_at: nanos(p.created_at)?,
            revision: p.revision.0,
        })
    }

    pub(crate) fn into_core(self) -> Result<Principal, RepoError> {
        let kind = match self.kind.as_str() {
            "agent" => PrincipalKind::Agent,
            "contractor" => PrincipalKind::Contractor,
            "service" => PrincipalKind::Service,
            other => {
                return Err(corrupt(
                    TABLE,
                    format_args!("unknown principal kind {other:?}"),
                ));
            }
        };
        let source = AccountSource::parse(&self.source).ok_or_else(|| {
            corrupt(
                TABLE,
                format_args!("unknown account source {:?}", self.source),
            )
        })?;
        Ok(Principal {
            id: PrincipalId::from_uuid(self.id),
            login: validated(TABLE, "login", &self.login, Login::parse)?,
            display_name: self.display_name,
            email: self.email,
            kind,
            is_admin: self.is_admin,
            disabled: self.disabled,
            password_hash: self.password_hash,
            source,
            second_factor_reset: opt_time(TABLE, self.second_factor_reset)?,
            organisation: self.organisation,
            created_at: time(TABLE, self.created_at)?,
            revision: Revision(self.revision),
        })
    }
}
