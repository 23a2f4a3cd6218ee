//! Spaces, memberships and document types.

use std::collections::HashMap;

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::{Membership, Page, Paged, Space};
use passerelle_core::ports::{RepoError, SpaceWithRole};
use passerelle_core::role::Role;
use time::OffsetDateTime;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use super::{all_into, exec_guarded, paginate, upsert};
use crate::convert::{corrupt, nanos, parse};
use crate::entity::{document_type, membership, space};
use crate::error::{db_error, write_error};

pub(super) async fn space(
    c: &DatabaseTransaction,
    id: SpaceId,
) -> Result<Option<Space>, RepoError> {
    let row = space::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(space::Model::into_core).transpose()
}

pub(super) async fn space_by_slug(
    c: &DatabaseTransaction,
    slug: &str,
) -> Result<Option<Space>, RepoError> {
    let row = space::Entity::find()
        .filter(space::Column::Slug.eq(slug))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(space::Model::into_core).transpose()
}

pub(super) async fn save_space(c: &DatabaseTransaction, s: &Space) -> Result<(), RepoError> {
    let model = space::Model::from_core(s)?.into_active_model().reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || format!("slug {} is taken", s.slug)))
}

/// By title case-insensitively, then exactly, then by id.
fn by_title(query: Select<space::Entity>) -> Select<space::Entity> {
    query
        .order_by_asc(space::Column::TitleKey)
        .order_by_asc(space::Column::Title)
        .order_by_asc(space::Column::Id)
}

pub(super) async fn list_spaces(
    c: &DatabaseTransaction,
    page: Page,
) -> Result<Paged<Space>, RepoError> {
    let query = space::Entity::find();
    let total = query.clone().count(c).await.map_err(db_error)?;
    let rows = paginate(by_title(query), page)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, space::Model::into_core)?,
        total,
    })
}

/// A page of the spaces, then the roles of that page: two queries in one
/// transaction, so they agree.
pub(super) async fn list_spaces_of(
    c: &DatabaseTransaction,
    principal: PrincipalId,
    at: OffsetDateTime,
    page: Page,
) -> Result<Paged<SpaceWithRole>, RepoError> {
    let at = nanos(at)?;
    let memberships = || {
        membership::Entity::find()
            .filter(membership::Column::PrincipalId.eq(principal.as_uuid()))
            .filter(membership::Column::Removed.eq(false))
            .filter(
                Condition::any()
                    .add(membership::Column::EndsAt.is_null())
                    .add(membership::Column::EndsAt.gt(at)),
            )
    };
    let member_of = memberships()
        .select_only()
        .column(membership::Column::SpaceId)
        .into_query();
    let query = space::Entity::find().filter(space::Column::Id.in_subquery(member_of));
    let total = query.clone().count(c).await.map_err(db_error)?;
    let rows = paginate(by_title(query), page)
        .all(c)
        .await
        .map_err(db_error)?;

    let ids: Vec<_> = rows.iter().map(|s| s.id).collect();
    let roles: HashMap<_, _> = memberships()
        .filter(membership::Column::SpaceId.is_in(ids))
        .all(c)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|m| (m.space_id, m.role))
        .collect();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let role = roles.get(&row.id).ok_or_else(|| {
            corrupt(
                "memberships",
                format_args!("membership of space {} vanished", row.id),
            )
        })?;
        let role: Role = parse("memberships", "role", role)?;
        items.push(SpaceWithRole {
            space: row.into_core()?,
            role,
        });
    }
    Ok(Paged { items, total })
}

pub(super) async fn membership(
    c: &DatabaseTransaction,
    space: SpaceId,
    principal: PrincipalId,
) -> Result<Option<Membership>, RepoError> {
    let row = membership::Entity::find_by_id((space.as_uuid(), principal.as_uuid()))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(membership::Model::into_core).transpose()
}

pub(super) async fn save_membership(
    c: &DatabaseTransaction,
    m: &Membership,
) -> Result<(), RepoError> {
    let model = membership::Model::from_core(m)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Non-removed memberships, by principal id.
pub(super) async fn list_members(
    c: &DatabaseTransaction,
    space: SpaceId,
) -> Result<Vec<Membership>, RepoError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::SpaceId.eq(space.as_uuid()))
        .filter(membership::Column::Removed.eq(false))
        .order_by_asc(membership::Column::PrincipalId)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, membership::Model::into_core)
}

/// Non-removed memberships ended at `at`, by space then principal.
pub(super) async fn memberships_ended(
    c: &DatabaseTransaction,
    at: OffsetDateTime,
) -> Result<Vec<Membership>, RepoError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::Removed.eq(false))
        .filter(membership::Column::EndsAt.lte(nanos(at)?))
        .order_by_asc(membership::Column::SpaceId)
        .order_by_asc(membership::Column::PrincipalId)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, membership::Model::into_core)
}

pub(super) async fn document_type(
    c: &DatabaseTransaction,
    key: &str,
) -> Result<Option<DocumentType>, RepoError> {
    let row = document_type::Entity::find_by_id(key.to_owned())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(document_type::Model::into_core).transpose()
}

pub(super) async fn save_document_type(
    c: &DatabaseTransaction,
    t: &DocumentType,
) -> Result<(), RepoError> {
    let model = document_type::Model::from_core(t)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// By key.
pub(super) async fn list_document_types(
    c: &DatabaseTransaction,
) -> Result<Vec<DocumentType>, RepoError> {
    let rows = document_type::Entity::find()
        .order_by_asc(document_type::Column::TypeKey)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, document_type::Model::into_core)
}
