//! Table `activity`: the last day a person was seen active on this node
//! (a Julian day number), node-local (ADR 0011 §5).

use passerelle_core::ids::PrincipalId;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::corrupt;

const TABLE: &str = "activity";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: Uuid,
    pub last_active_day: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn new(principal: PrincipalId, day: time::Date) -> Self {
        Self {
            principal_id: principal.as_uuid(),
            last_active_day: i64::from(day.to_julian_day()),
        }
    }

    pub(crate) fn into_core(self) -> Result<(PrincipalId, time::Date), RepoError> {
        let day = i32::try_from(self.last_active_day)
            .ok()
            .and_then(|d| time::Date::from_julian_day(d).ok())
            .ok_or_else(|| corrupt(TABLE, "last_active_day out of range"))?;
        Ok((PrincipalId::from_uuid(self.principal_id), day))
    }
}
