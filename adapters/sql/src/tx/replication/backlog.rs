//! `feed_backlog`: how far the change feed of a space runs past a cursor,
//! counted in the database (one aggregate per table the feed reads), so
//! that the metrics can read every shared space's lag at each scrape
//! without loading its rows.

use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::ports::{FeedBacklog, RepoError};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
};

use crate::entity::{
    document, document_link, folder, invitation, membership, principal, space, version,
};
use crate::error::db_error;

/// The same tables and filters as the feed's (`feed::tables`), counted.
pub(in crate::tx) async fn feed_backlog(
    c: &DatabaseTransaction,
    space: SpaceId,
    after: Revision,
) -> Result<FeedBacklog, RepoError> {
    let id = space.as_uuid();
    let members = membership::Entity::find()
        .select_only()
        .column(membership::Column::PrincipalId)
        .filter(membership::Column::SpaceId.eq(id))
        .into_query();
    let documents = document::Entity::find()
        .select_only()
        .column(document::Column::Id)
        .filter(document::Column::SpaceId.eq(id))
        .into_query();
    let tallies = [
        tally(
            c,
            space::Entity::find().filter(space::Column::Id.eq(id)),
            space::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            principal::Entity::find().filter(principal::Column::Id.in_subquery(members)),
            principal::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            membership::Entity::find().filter(membership::Column::SpaceId.eq(id)),
            membership::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            invitation::Entity::find().filter(invitation::Column::SpaceId.eq(id)),
            invitation::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            folder::Entity::find().filter(folder::Column::SpaceId.eq(id)),
            folder::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            document::Entity::find().filter(document::Column::SpaceId.eq(id)),
            document::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            document_link::Entity::find()
                .filter(document_link::Column::SpaceId.eq(id))
                .filter(document_link::Column::ToId.in_subquery(documents.clone())),
            document_link::Column::Revision,
            after,
        )
        .await?,
        tally(
            c,
            version::Entity::find().filter(version::Column::DocumentId.in_subquery(documents)),
            version::Column::Revision,
            after,
        )
        .await?,
    ];
    Ok(tallies.into_iter().fold(
        FeedBacklog {
            rows: 0,
            newest: after,
        },
        |acc, t| FeedBacklog {
            rows: acc.rows.saturating_add(t.rows),
            newest: acc.newest.max(t.newest),
        },
    ))
}

/// Rows of `query` with a revision above `after`: how many, and the newest.
async fn tally<E: EntityTrait>(
    c: &DatabaseTransaction,
    query: Select<E>,
    revision: E::Column,
    after: Revision,
) -> Result<FeedBacklog, RepoError> {
    let (rows, newest): (i64, Option<i64>) = query
        .filter(revision.gt(after.0))
        .select_only()
        .column_as(Expr::from(Func::count(Expr::col(revision))), "rows")
        .column_as(Expr::from(Func::max(Expr::col(revision))), "newest")
        .into_tuple()
        .one(c)
        .await
        .map_err(db_error)?
        .unwrap_or((0, None));
    Ok(FeedBacklog {
        // A count is never negative.
        rows: u64::try_from(rows).unwrap_or(0),
        newest: newest.map_or(after, Revision),
    })
}
