//! Table `notices`: the notification outbox (ADR 0013), one row per
//! message, its id derived from what it tells.

use passerelle_core::ids::{NoticeId, PrincipalId};
use passerelle_core::notify::Notice;
use passerelle_core::ports::RepoError;
use sea_orm::entity::prelude::*;

use crate::convert::{nanos, opt_nanos, opt_time, parse, time, to_u32};

pub(crate) const TABLE: &str = "notices";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub address: String,
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub unsubscribe: Option<String>,
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn from_core(n: &Notice) -> Result<Self, RepoError> {
        Ok(Self {
            id: n.id.as_uuid(),
            recipient_id: n.recipient.as_uuid(),
            address: n.address.clone(),
            kind: n.kind.as_str().to_owned(),
            subject: n.subject.clone(),
            body_text: n.text.clone(),
            body_html: n.html.clone(),
            unsubscribe: n.unsubscribe.clone(),
            created_at: nanos(n.created_at)?,
            state: n.state.as_str().to_owned(),
            attempts: i64::from(n.attempts),
            next_attempt_at: nanos(n.next_attempt_at)?,
            last_error: n.last_error.clone(),
            sent_at: opt_nanos(n.sent_at)?,
        })
    }

    pub(crate) fn into_core(self) -> Result<Notice, RepoError> {
        Ok(Notice {
            id: NoticeId::from_uuid(self.id),
            recipient: PrincipalId::from_uuid(self.recipient_id),
            address: self.address,
            kind: parse(TABLE, "kind", &self.kind)?,
            subject: self.subject,
            text: self.body_text,
            html: self.body_html,
            unsubscribe: self.unsubscribe,
            created_at: time(TABLE, self.created_at)?,
            state: parse(TABLE, "state", &self.state)?,
            attempts: to_u32(TABLE, "attempts", self.attempts)?,
            next_attempt_at: time(TABLE, self.next_attempt_at)?,
            last_error: self.last_error,
            sent_at: opt_time(TABLE, self.sent_at)?,
        })
    }
}
