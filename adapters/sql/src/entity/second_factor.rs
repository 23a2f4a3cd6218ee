//! Table `second_factors`: a person's TOTP secret (hex), when its
//! enrolment was confirmed, the last time step accepted, and the hashes
//! of unused recovery codes (a JSON array), the account's reset marker
//! it was made under. Node-local (ADR 0012).

use passerelle_core::ids::PrincipalId;
use passerelle_core::ports::RepoError;
use passerelle_core::second_factor::SecondFactor;
use sea_orm::entity::prelude::*;

use crate::convert::{corrupt, opt_nanos, opt_time, unstorable};

const TABLE: &str = "second_factors";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: Uuid,
    pub secret: String,
    pub confirmed_at: Option<i64>,
    pub last_step: Option<i64>,
    pub recovery: String,
    pub reset: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(f: &SecondFactor) -> Result<Self, RepoError> {
        let last_step = f
            .last_step
            .map(i64::try_from)
            .transpose()
            .map_err(|_| unstorable("time step"))?;
        Ok(Self {
            principal_id: f.principal.as_uuid(),
            secret: hex::encode(&f.secret),
            confirmed_at: opt_nanos(f.confirmed_at)?,
            last_step,
            recovery: serde_json::to_string(&f.recovery).map_err(unstorable)?,
            reset: opt_nanos(f.reset)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<SecondFactor, RepoError> {
        let secret =
            hex::decode(&self.secret).map_err(|e| corrupt(TABLE, format_args!("secret: {e}")))?;
        let last_step = self
            .last_step
            .map(u64::try_from)
            .transpose()
            .map_err(|_| corrupt(TABLE, "negative time step"))?;
        let recovery: Vec<String> = serde_json::from_str(&self.recovery)
            .map_err(|e| corrupt(TABLE, format_args!("recovery: {e}")))?;
        Ok(SecondFactor {
            principal: PrincipalId::from_uuid(self.principal_id),
            secret,
            confirmed_at: opt_time(TABLE, self.confirmed_at)?,
            last_step,
            recovery,
            reset: opt_time(TABLE, self.reset)?,
        })
    }
}
