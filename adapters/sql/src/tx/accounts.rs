//! Principals, sessions and API tokens.

use passerelle_core::ContentHash;
use passerelle_core::ids::{PrincipalId, TokenId};
use passerelle_core::model::{ApiToken, Language, Page, Paged, Principal, Session};
use passerelle_core::names::Login;
use passerelle_core::ports::RepoError;
use passerelle_core::second_factor::SecondFactor;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QueryTrait,
};
use time::OffsetDateTime;

use super::{all_into, exec_guarded, paginate, upsert};
use crate::convert::nanos;
use crate::entity::{activity, api_token, principal, principal_setting, second_factor, session};
use crate::error::{db_error, write_error};

pub(super) async fn principal(
    c: &DatabaseTransaction,
    id: PrincipalId,
) -> Result<Option<Principal>, RepoError> {
    let row = principal::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(principal::Model::into_core).transpose()
}

pub(super) async fn principal_by_login(
    c: &DatabaseTransaction,
    login: &Login,
) -> Result<Option<Principal>, RepoError> {
    let row = principal::Entity::find()
        .filter(principal::Column::Login.eq(login.as_str()))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(principal::Model::into_core).transpose()
}

/// By login.
pub(super) async fn list_principals(
    c: &DatabaseTransaction,
    page: Page,
) -> Result<Paged<Principal>, RepoError> {
    let query = principal::Entity::find();
    let total = query.clone().count(c).await.map_err(db_error)?;
    let rows = paginate(query.order_by_asc(principal::Column::Login), page)
        .all(c)
        .await
        .map_err(db_error)?;
    Ok(Paged {
        items: all_into(rows, principal::Model::into_core)?,
        total,
    })
}

pub(super) async fn save_principal(
    c: &DatabaseTransaction,
    p: &Principal,
) -> Result<(), RepoError> {
    let model = principal::Model::from_core(p)?
        .into_active_model()
        .reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || format!("login {} is taken", p.login)))
}

pub(super) async fn count_principals(c: &DatabaseTransaction) -> Result<u64, RepoError> {
    principal::Entity::find().count(c).await.map_err(db_error)
}

pub(super) async fn preferred_language(
    c: &DatabaseTransaction,
    principal: PrincipalId,
) -> Result<Option<Language>, RepoError> {
    let row = principal_setting::Entity::find_by_id(principal.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    Ok(row.map(|r| r.language()).transpose()?.flatten())
}

pub(super) async fn set_preferred_language(
    c: &DatabaseTransaction,
    principal: PrincipalId,
    language: Option<Language>,
) -> Result<(), RepoError> {
    let model = principal_setting::Model::from_core(principal, language)
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn save_session(c: &DatabaseTransaction, s: &Session) -> Result<(), RepoError> {
    let model = session::Model::from_core(s)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn session(
    c: &DatabaseTransaction,
    token_hash: &ContentHash,
) -> Result<Option<Session>, RepoError> {
    let row = session::Entity::find_by_id(token_hash.to_hex())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(session::Model::into_core).transpose()
}

pub(super) async fn delete_session(
    c: &DatabaseTransaction,
    token_hash: &ContentHash,
) -> Result<(), RepoError> {
    session::Entity::delete_by_id(token_hash.to_hex())
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn delete_sessions_of(
    c: &DatabaseTransaction,
    principal: PrincipalId,
) -> Result<(), RepoError> {
    session::Entity::delete_many()
        .filter(session::Column::PrincipalId.eq(principal.as_uuid()))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A session expires at `expires_at`: deleted when `expires_at <= now`.
pub(super) async fn delete_expired_sessions(
    c: &DatabaseTransaction,
    now: OffsetDateTime,
) -> Result<u64, RepoError> {
    let done = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(nanos(now)?))
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected)
}

pub(super) async fn save_token(c: &DatabaseTransaction, t: &ApiToken) -> Result<(), RepoError> {
    let model = api_token::Model::from_core(t)?
        .into_active_model()
        .reset_all();
    exec_guarded(c, upsert(model))
        .await
        .map_err(|e| write_error(e, || "token hash is taken".to_owned()))
}

pub(super) async fn token_by_hash(
    c: &DatabaseTransaction,
    token_hash: &ContentHash,
) -> Result<Option<ApiToken>, RepoError> {
    let row = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash.to_hex()))
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(api_token::Model::into_core).transpose()
}

pub(super) async fn token(
    c: &DatabaseTransaction,
    id: TokenId,
) -> Result<Option<ApiToken>, RepoError> {
    let row = api_token::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(api_token::Model::into_core).transpose()
}

/// By creation time, then id.
pub(super) async fn list_tokens(
    c: &DatabaseTransaction,
    principal: Option<PrincipalId>,
) -> Result<Vec<ApiToken>, RepoError> {
    let rows = api_token::Entity::find()
        .apply_if(principal, |q, p| {
            q.filter(api_token::Column::PrincipalId.eq(p.as_uuid()))
        })
        .order_by_asc(api_token::Column::CreatedAt)
        .order_by_asc(api_token::Column::Id)
        .all(c)
        .await
        .map_err(db_error)?;
    all_into(rows, api_token::Model::into_core)
}

pub(super) async fn second_factor(
    c: &DatabaseTransaction,
    principal: PrincipalId,
) -> Result<Option<SecondFactor>, RepoError> {
    let row = second_factor::Entity::find_by_id(principal.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    row.map(second_factor::Model::into_core).transpose()
}

pub(super) async fn save_second_factor(
    c: &DatabaseTransaction,
    f: &SecondFactor,
) -> Result<(), RepoError> {
    let model = second_factor::Model::from_core(f)?
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn delete_second_factor(
    c: &DatabaseTransaction,
    principal: PrincipalId,
) -> Result<(), RepoError> {
    second_factor::Entity::delete_by_id(principal.as_uuid())
        .exec(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn last_active(
    c: &DatabaseTransaction,
    principal: PrincipalId,
) -> Result<Option<time::Date>, RepoError> {
    let row = activity::Entity::find_by_id(principal.as_uuid())
        .one(c)
        .await
        .map_err(db_error)?;
    Ok(row
        .map(activity::Model::into_core)
        .transpose()?
        .map(|(_, d)| d))
}

/// Keeps the later day: read, then written only when it moves forward
/// (the transaction serialises writers).
pub(super) async fn record_active(
    c: &DatabaseTransaction,
    principal: PrincipalId,
    day: time::Date,
) -> Result<(), RepoError> {
    if last_active(c, principal).await?.is_some_and(|d| d >= day) {
        return Ok(());
    }
    let model = activity::Model::new(principal, day)
        .into_active_model()
        .reset_all();
    upsert(model)
        .exec_without_returning(c)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn list_active(
    c: &DatabaseTransaction,
) -> Result<Vec<(PrincipalId, time::Date)>, RepoError> {
    let rows = activity::Entity::find()
        .order_by_asc(activity::Column::PrincipalId)
        .all(c)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(activity::Model::into_core).collect()
}
