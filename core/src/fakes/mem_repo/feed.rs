//! `changes`: the change feed of one space, as the port describes it and
//! the SQL adapter computes it (same rows, same order).

use std::collections::HashSet;

use super::State;
use crate::ids::{DocumentId, PrincipalId, Revision, SpaceId};
use crate::model::Principal;
use crate::ports::FeedBacklog;
use crate::replication::{ChangeRow, Feed};

impl State {
    pub(super) fn changes(&self, space: SpaceId, after: Revision, limit: u64) -> Feed {
        let mut rows = self.rows_of(space, after);
        rows.sort_by_key(ChangeRow::revision);
        let Some(through) =
            last_whole_revision(&rows, limit).or_else(|| rows.first().map(ChangeRow::revision))
        else {
            return Feed {
                rows,
                through: after,
            };
        };
        rows.retain(|row| row.revision() <= through);

        let present: HashSet<PrincipalId> = rows
            .iter()
            .filter_map(|row| match row {
                ChangeRow::Principal(p) => Some(p.id),
                _ => None,
            })
            .collect();
        let extra: Vec<ChangeRow> = rows
            .iter()
            .filter_map(|row| match row {
                ChangeRow::Membership(m) if !present.contains(&m.principal) => self
                    .principals
                    .get(&m.principal)
                    .cloned()
                    .map(feed_principal),
                _ => None,
            })
            .collect();
        rows.extend(extra);
        // Parents whatever their revision: the space, versions' documents.
        if !rows.iter().any(|r| matches!(r, ChangeRow::Space(_)))
            && let Some(s) = self.spaces.get(&space)
        {
            rows.push(ChangeRow::Space(s.clone()));
        }
        let present: HashSet<DocumentId> = rows
            .iter()
            .filter_map(|r| match r {
                ChangeRow::Document(d) => Some(d.id),
                _ => None,
            })
            .collect();
        let mut wanted: Vec<DocumentId> = rows
            .iter()
            .filter_map(|r| match r {
                ChangeRow::Version(v) if !present.contains(&v.document) => Some(v.document),
                _ => None,
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        for d in wanted {
            if let Some(doc) = self.documents.get(&d) {
                rows.push(ChangeRow::Document(doc.clone()));
            }
        }
        rows.sort_by_key(ChangeRow::feed_key);
        Feed { rows, through }
    }

    /// The rows `changes` has past `after`, counted, and the newest of
    /// their revisions.
    pub(super) fn feed_backlog(&self, space: SpaceId, after: Revision) -> FeedBacklog {
        let rows = self.rows_of(space, after);
        FeedBacklog {
            rows: rows.len() as u64,
            newest: rows.iter().map(ChangeRow::revision).max().unwrap_or(after),
        }
    }

    /// Every row of the space with a revision above `after`; principals:
    /// those holding a membership (removed or not) in it.
    fn rows_of(&self, space: SpaceId, after: Revision) -> Vec<ChangeRow> {
        let newer = |r: Revision| r > after;
        let members: HashSet<PrincipalId> = self
            .memberships
            .values()
            .filter(|m| m.space == space)
            .map(|m| m.principal)
            .collect();
        let documents: HashSet<DocumentId> = self
            .documents
            .values()
            .filter(|d| d.space == space)
            .map(|d| d.id)
            .collect();
        let spaces = self
            .spaces
            .get(&space)
            .filter(|s| newer(s.revision))
            .cloned()
            .map(ChangeRow::Space);
        let principals = self
            .principals
            .values()
            .filter(|p| members.contains(&p.id) && newer(p.revision))
            .cloned()
            .map(feed_principal);
        let memberships = self
            .memberships
            .values()
            .filter(|m| m.space == space && newer(m.revision))
            .cloned()
            .map(ChangeRow::Membership);
        let invitations = self
            .invitations
            .values()
            .filter(|i| i.space == space && newer(i.revision))
            .cloned()
            .map(ChangeRow::Invitation);
        let folders = self
            .folders
            .values()
            .filter(|f| f.space == space && newer(f.revision))
            .cloned()
            .map(ChangeRow::Folder);
        let docs = self
            .documents
            .values()
            .filter(|d| d.space == space && newer(d.revision))
            .cloned()
            .map(ChangeRow::Document);
        let versions = self
            .versions
            .values()
            .filter(|v| documents.contains(&v.document) && newer(v.revision))
            .cloned()
            .map(ChangeRow::Version);
        let links = self
            .links
            .values()
            .filter(|l| {
                l.space == space
                    && documents.contains(&l.from)
                    && documents.contains(&l.to)
                    && newer(l.revision)
            })
            .cloned()
            .map(ChangeRow::Link);
        spaces
            .into_iter()
            .chain(principals)
            .chain(memberships)
            .chain(invitations)
            .chain(folders)
            .chain(docs)
            .chain(versions)
            .chain(links)
            .collect()
    }
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

/// Credentials never travel.
fn feed_principal(p: Principal) -> ChangeRow {
    ChangeRow::Principal(Principal {
        password_hash: None,
        ..p
    })
}
