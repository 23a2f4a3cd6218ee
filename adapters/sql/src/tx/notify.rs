//! The `NotificationStore` part of the transaction: the feed's reading of
//! `audit_log`, and the tables `subscriptions`, `notify_state` and
//! `notices`.

use async_trait::async_trait;
use passerelle_core::ids::{NoticeId, PrincipalId, SpaceId};
use passerelle_core::model::{AuditEntry, Page, Paged};
use passerelle_core::notify::store::{ActivityQuery, NotificationStore};
use passerelle_core::notify::{Frequency, Notice, NoticeState, Subscription};
use passerelle_core::ports::RepoError;
use sea_orm::prelude::Uuid;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};

use super::{SqlTx, all_into, exec_guarded, paginate, upsert};
use crate::convert::nanos;
use crate::entity::{audit, notice, notify_state, subscription};
use crate::error::{db_error, write_error};

#[async_trait]
impl NotificationStore for SqlTx {
    async fn activity(&mut self, q: &ActivityQuery) -> Result<Vec<AuditEntry>, RepoError> {
        if q.spaces.as_ref().is_some_and(Vec::is_empty) || q.actions.is_empty() {
            return Ok(Vec::new());
        }
        let since = q.since.map(nanos).transpose()?;
        let until = q.until.map(nanos).transpose()?;
        let query = audit::Entity::find()
            .filter(audit::Column::Seq.gt(q.after_seq))
            .filter(audit::Column::Action.is_in(q.actions.iter().copied()))
            .apply_if(q.before_seq, |x, b| x.filter(audit::Column::Seq.lt(b)))
            .apply_if(q.actor, |x, a| {
                x.filter(audit::Column::ActorId.eq(a.as_uuid()))
            })
            .apply_if(since, |x, t| x.filter(audit::Column::At.gte(t)))
            .apply_if(until, |x, t| x.filter(audit::Column::At.lt(t)))
            .apply_if(q.spaces.as_ref(), |x, ss| {
                x.filter(audit::Column::SpaceId.is_in(ss.iter().map(|s| s.as_uuid())))
            });
        let query = if q.oldest_first {
            query.order_by_asc(audit::Column::Seq)
        } else {
            query.order_by_desc(audit::Column::Seq)
        };
        let rows = query
            .limit(q.limit.min(i64::MAX as u64))
            .all(&self.txn)
            .await
            .map_err(db_error)?;
        all_into(rows, audit::Model::into_core)
    }

    async fn subscriptions_of(
        &mut self,
        principal: PrincipalId,
    ) -> Result<Vec<Subscription>, RepoError> {
        let rows = subscription::Entity::find()
            .filter(subscription::Column::PrincipalId.eq(principal.as_uuid()))
            .order_by_asc(subscription::Column::SpaceId)
            .order_by_asc(subscription::Column::TargetKind)
            .order_by_asc(subscription::Column::TargetId)
            .all(&self.txn)
            .await
            .map_err(db_error)?;
        all_into(rows, subscription::Model::into_core)
    }

    async fn subscriptions_in(&mut self, space: SpaceId) -> Result<Vec<Subscription>, RepoError> {
        let rows = subscription::Entity::find()
            .filter(subscription::Column::SpaceId.eq(space.as_uuid()))
            .filter(subscription::Column::PrincipalId.ne(Uuid::nil()))
            .order_by_asc(subscription::Column::PrincipalId)
            .order_by_asc(subscription::Column::TargetKind)
            .order_by_asc(subscription::Column::TargetId)
            .all(&self.txn)
            .await
            .map_err(db_error)?;
        all_into(rows, subscription::Model::into_core)
    }

    async fn save_subscription(&mut self, s: &Subscription) -> Result<(), RepoError> {
        let c = self.writable()?;
        // The principal has no foreign key (the nil one holds the space's
        // default): checked here, as the fake does.
        if crate::entity::principal::Entity::find_by_id(s.principal.as_uuid())
            .one(c)
            .await
            .map_err(db_error)?
            .is_none()
        {
            return Err(RepoError::Storage(
                format!("foreign key violation: no principal {}", s.principal).into(),
            ));
        }
        let model = subscription::Model::from_core(s)
            .into_active_model()
            .reset_all();
        exec_guarded(c, upsert(model))
            .await
            .map_err(|e| write_error(e, || format!("subscription of {}", s.principal)))
    }

    async fn delete_subscription(&mut self, s: &Subscription) -> Result<(), RepoError> {
        let c = self.writable()?;
        let (kind, target) = subscription::target(s.followed);
        subscription::Entity::delete_many()
            .filter(subscription::Column::PrincipalId.eq(s.principal.as_uuid()))
            .filter(subscription::Column::SpaceId.eq(s.space.as_uuid()))
            .filter(subscription::Column::TargetKind.eq(kind))
            .filter(subscription::Column::TargetId.eq(target))
            .exec(c)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn space_frequency(&mut self, space: SpaceId) -> Result<Option<Frequency>, RepoError> {
        let row = subscription::Entity::find_by_id((Uuid::nil(), space.as_uuid(), 0, Uuid::nil()))
            .one(&self.txn)
            .await
            .map_err(db_error)?;
        row.map(|r| r.frequency()).transpose()
    }

    async fn set_space_frequency(
        &mut self,
        space: SpaceId,
        frequency: Frequency,
    ) -> Result<(), RepoError> {
        let c = self.writable()?;
        let model = subscription::Model::space_default(space, frequency)
            .into_active_model()
            .reset_all();
        exec_guarded(c, upsert(model))
            .await
            .map_err(|e| write_error(e, || format!("default of space {space}")))
    }

    async fn notify_state(&mut self, key: &str) -> Result<Option<String>, RepoError> {
        Ok(notify_state::Entity::find_by_id(key.to_owned())
            .one(&self.txn)
            .await
            .map_err(db_error)?
            .map(|r| r.value))
    }

    async fn set_notify_state(&mut self, key: &str, value: &str) -> Result<(), RepoError> {
        let c = self.writable()?;
        let model = notify_state::Model {
            name: key.to_owned(),
            value: value.to_owned(),
        }
        .into_active_model()
        .reset_all();
        exec_guarded(c, upsert(model))
            .await
            .map_err(|e| write_error(e, || format!("notification state {key}")))
    }

    async fn queue_notice(&mut self, n: &Notice) -> Result<bool, RepoError> {
        let c = self.writable()?;
        // Write transactions are serialised: nothing inserts between the
        // look and the insert.
        if notice::Entity::find_by_id(n.id.as_uuid())
            .one(c)
            .await
            .map_err(db_error)?
            .is_some()
        {
            return Ok(false);
        }
        let model = notice::Model::from_core(n)?.into_active_model().reset_all();
        exec_guarded(c, notice::Entity::insert(model))
            .await
            .map_err(|e| write_error(e, || format!("notice {} exists", n.id)))?;
        Ok(true)
    }

    async fn save_notice(&mut self, n: &Notice) -> Result<(), RepoError> {
        let c = self.writable()?;
        let model = notice::Model::from_core(n)?.into_active_model().reset_all();
        exec_guarded(c, upsert(model))
            .await
            .map_err(|e| write_error(e, || format!("notice {}", n.id)))
    }

    async fn notice(&mut self, id: NoticeId) -> Result<Option<Notice>, RepoError> {
        notice::Entity::find_by_id(id.as_uuid())
            .one(&self.txn)
            .await
            .map_err(db_error)?
            .map(notice::Model::into_core)
            .transpose()
    }

    async fn withdraw_notice(&mut self, id: NoticeId) -> Result<bool, RepoError> {
        let c = self.writable()?;
        let done = notice::Entity::delete_many()
            .filter(notice::Column::Id.eq(id.as_uuid()))
            .filter(notice::Column::State.eq(NoticeState::Pending.as_str()))
            .exec(c)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected > 0)
    }

    async fn due_notices(
        &mut self,
        now: time::OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Notice>, RepoError> {
        let rows = notice::Entity::find()
            .filter(notice::Column::State.eq(NoticeState::Pending.as_str()))
            .filter(notice::Column::NextAttemptAt.lte(nanos(now)?))
            .order_by_asc(notice::Column::NextAttemptAt)
            .order_by_asc(notice::Column::CreatedAt)
            .order_by_asc(notice::Column::Id)
            .limit(limit.min(i64::MAX as u64))
            .all(&self.txn)
            .await
            .map_err(db_error)?;
        all_into(rows, notice::Model::into_core)
    }

    async fn list_notices(
        &mut self,
        state: Option<NoticeState>,
        page: Page,
    ) -> Result<Paged<Notice>, RepoError> {
        let query = notice::Entity::find()
            .apply_if(state, |q, s| q.filter(notice::Column::State.eq(s.as_str())));
        let total = query.clone().count(&self.txn).await.map_err(db_error)?;
        let rows = paginate(
            query
                .order_by_desc(notice::Column::CreatedAt)
                .order_by_desc(notice::Column::Id),
            page,
        )
        .all(&self.txn)
        .await
        .map_err(db_error)?;
        Ok(Paged {
            items: all_into(rows, notice::Model::into_core)?,
            total,
        })
    }

    async fn count_sent_since(
        &mut self,
        recipient: PrincipalId,
        since: time::OffsetDateTime,
    ) -> Result<u64, RepoError> {
        notice::Entity::find()
            .filter(notice::Column::RecipientId.eq(recipient.as_uuid()))
            .filter(notice::Column::SentAt.gte(nanos(since)?))
            .count(&self.txn)
            .await
            .map_err(db_error)
    }
}
