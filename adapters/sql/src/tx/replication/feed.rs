//! `changes`: the change feed of one space (see the port's contract).
//!
//! Each table is read for its first `limit + 1` rows past the cursor, in
//! revision order, and the lists are merged; the feed stops at the largest
//! revision that keeps the merged rows within `limit`. That is exact: rows
//! a table did not return lie at or after the last revision it returned,
//! and a table that was cut returned `limit + 1` rows up to that revision,
//! already too many, so the cut never reaches a revision with rows left
//! out. When not even the first revision fits, all of it is read again
//! without a limit.

use std::collections::HashSet;

use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::Principal;
use passerelle_core::ports::RepoError;
use passerelle_core::replication::{ChangeRow, Feed};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};
use uuid::Uuid;

use super::super::{IN_CHUNK, all_into};
use crate::entity::{
    document, document_link, folder, invitation, membership, principal, space, version,
};
use crate::error::db_error;

/// Which rows of each table to read.
#[derive(Clone, Copy)]
struct Window {
    /// Revisions strictly above this one.
    after: Revision,
    /// Revisions up to this one included, if set.
    through: Option<Revision>,
    /// The first rows in revision order only, if set.
    limit: Option<u64>,
}

impl Window {
    fn apply<E: EntityTrait>(self, query: Select<E>, revision: E::Column) -> Select<E> {
        query
            .filter(revision.gt(self.after.0))
            .apply_if(self.through, |q, r| q.filter(revision.lte(r.0)))
            .order_by_asc(revision)
            .apply_if(self.limit, |q, n| q.limit(n.min(i64::MAX as u64)))
    }
}

pub(in crate::tx) async fn changes(
    c: &DatabaseTransaction,
    space: SpaceId,
    after: Revision,
    limit: u64,
) -> Result<Feed, RepoError> {
    let probe = limit.saturating_add(1);
    let window = Window {
        after,
        through: None,
        limit: Some(probe),
    };
    let mut rows: Vec<ChangeRow> = tables(c, space, window)
        .await?
        .into_iter()
        .flatten()
        .collect();
    rows.sort_by_key(ChangeRow::revision);
    let through = match last_whole_revision(&rows, limit) {
        Some(through) => through,
        None => {
            let Some(first) = rows.first().map(ChangeRow::revision) else {
                return Ok(Feed {
                    rows,
                    through: after,
                });
            };
            let window = Window {
                after,
                through: Some(first),
                limit: None,
            };
            rows = tables(c, space, window)
                .await?
                .into_iter()
                .flatten()
                .collect();
            first
        }
    };
    rows.retain(|row| row.revision() <= through);
    add_member_principals(c, &mut rows).await?;
    add_parents(c, space, &mut rows).await?;
    rows.sort_by_key(ChangeRow::feed_key);
    Ok(Feed { rows, through })
}

/// Adds the space row and the document of every version, whatever their
/// revision, so that the batch applies on its own.
async fn add_parents(
    c: &DatabaseTransaction,
    space: SpaceId,
    rows: &mut Vec<ChangeRow>,
) -> Result<(), RepoError> {
    if !rows.iter().any(|r| matches!(r, ChangeRow::Space(_)))
        && let Some(s) = space::Entity::find_by_id(space.as_uuid())
            .one(c)
            .await
            .map_err(db_error)?
    {
        rows.push(ChangeRow::Space(s.into_core()?));
    }
    let present: HashSet<Uuid> = rows
        .iter()
        .filter_map(|r| match r {
            ChangeRow::Document(d) => Some(d.id.as_uuid()),
            _ => None,
        })
        .collect();
    let mut wanted: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| match r {
            ChangeRow::Version(v) if !present.contains(&v.document.as_uuid()) => {
                Some(v.document.as_uuid())
            }
            _ => None,
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    for chunk in wanted.chunks(IN_CHUNK) {
        let found = document::Entity::find()
            .filter(document::Column::Id.is_in(chunk.iter().copied()))
            .all(c)
            .await
            .map_err(db_error)?;
        for d in found {
            rows.push(ChangeRow::Document(d.into_core()?));
        }
    }
    Ok(())
}

/// The largest revision `R` such that the rows up to `R` number at most
/// `limit`; `None` when the first revision alone has more. `sorted` is in
/// revision order.
fn last_whole_revision(sorted: &[ChangeRow], limit: u64) -> Option<Revision> {
    let mut through = None;
    let mut count = 0u64;
    for group in sorted.chunk_by(|a, b| a.revision() == b.revision()) {
        count = count.saturating_add(group.len() as u64);
        if count > limit {
            break;
        }
        through = group.first().map(ChangeRow::revision);
    }
    through
}

/// The rows of the space in `window`, one list per table, each in revision
/// order. Principals: those holding a membership (removed or not) in it.
async fn tables(
    c: &DatabaseTransaction,
    space: SpaceId,
    window: Window,
) -> Result<Vec<Vec<ChangeRow>>, RepoError> {
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

    let spaces = space::Entity::find().filter(space::Column::Id.eq(id));
    let spaces = window.apply(spaces, space::Column::Revision);
    let principals = principal::Entity::find().filter(principal::Column::Id.in_subquery(members));
    let principals = window.apply(principals, principal::Column::Revision);
    let memberships = membership::Entity::find().filter(membership::Column::SpaceId.eq(id));
    let memberships = window.apply(memberships, membership::Column::Revision);
    let invitations = invitation::Entity::find().filter(invitation::Column::SpaceId.eq(id));
    let invitations = window.apply(invitations, invitation::Column::Revision);
    let folders = folder::Entity::find().filter(folder::Column::SpaceId.eq(id));
    let folders = window.apply(folders, folder::Column::Revision);
    let docs = document::Entity::find().filter(document::Column::SpaceId.eq(id));
    let docs = window.apply(docs, document::Column::Revision);
    let versions =
        version::Entity::find().filter(version::Column::DocumentId.in_subquery(documents.clone()));
    let versions = window.apply(versions, version::Column::Revision);
    // The links whose both ends are in the space (see `ChangeRow::Link`).
    let links = document_link::Entity::find()
        .filter(document_link::Column::SpaceId.eq(id))
        .filter(document_link::Column::ToId.in_subquery(documents));
    let links = window.apply(links, document_link::Column::Revision);

    Ok(vec![
        all_into(spaces.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Space)
        })?,
        all_into(principals.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(feed_principal)
        })?,
        all_into(memberships.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Membership)
        })?,
        all_into(invitations.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Invitation)
        })?,
        all_into(folders.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Folder)
        })?,
        all_into(docs.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Document)
        })?,
        all_into(versions.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Version)
        })?,
        all_into(links.all(c).await.map_err(db_error)?, |m| {
            m.into_core().map(ChangeRow::Link)
        })?,
    ])
}

/// Adds the principal of every membership row, whatever its revision,
/// unless it is already there.
async fn add_member_principals(
    c: &DatabaseTransaction,
    rows: &mut Vec<ChangeRow>,
) -> Result<(), RepoError> {
    let present: HashSet<PrincipalId> = rows
        .iter()
        .filter_map(|row| match row {
            ChangeRow::Principal(p) => Some(p.id),
            _ => None,
        })
        .collect();
    let wanted: Vec<Uuid> = rows
        .iter()
        .filter_map(|row| match row {
            ChangeRow::Membership(m) if !present.contains(&m.principal) => {
                Some(m.principal.as_uuid())
            }
            _ => None,
        })
        .collect();
    for chunk in wanted.chunks(IN_CHUNK) {
        let found = principal::Entity::find()
            .filter(principal::Column::Id.is_in(chunk.iter().copied()))
            .all(c)
            .await
            .map_err(db_error)?;
        for p in found {
            rows.push(feed_principal(p.into_core()?));
        }
    }
    Ok(())
}

/// Credentials never travel.
fn feed_principal(p: Principal) -> ChangeRow {
    ChangeRow::Principal(Principal {
        password_hash: None,
        ..p
    })
}
