//! The change feed of a space (`Tx::changes`): the checks every contract
//! test of it shares (batches compared by identity, paging against one big
//! batch, rows at a revision), kept here so that `rows` (what a batch
//! carries), `paging` (where it stops) and the engines' comparison on
//! random data judge a batch alike.

mod paging;
mod rows;

pub use paging::*;
pub use rows::*;

use std::collections::BTreeMap;
use std::ops::Bound;

use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::model::{Document, Folder, Membership, Principal, Space, Version};
use passerelle_core::ports::Tx;
use passerelle_core::replication::{ChangeRow, Feed, Invitation};
use uuid::Uuid;

/// What a stored value looks like in the feed.
trait AsRow {
    fn row(&self) -> ChangeRow;
}

impl AsRow for Space {
    fn row(&self) -> ChangeRow {
        ChangeRow::Space(self.clone())
    }
}

impl AsRow for Principal {
    /// Without its password hash, always.
    fn row(&self) -> ChangeRow {
        ChangeRow::Principal(Principal {
            password_hash: None,
            ..self.clone()
        })
    }
}

impl AsRow for Membership {
    fn row(&self) -> ChangeRow {
        ChangeRow::Membership(self.clone())
    }
}

impl AsRow for Invitation {
    fn row(&self) -> ChangeRow {
        ChangeRow::Invitation(self.clone())
    }
}

impl AsRow for Folder {
    fn row(&self) -> ChangeRow {
        ChangeRow::Folder(self.clone())
    }
}

impl AsRow for Document {
    fn row(&self) -> ChangeRow {
        ChangeRow::Document(self.clone())
    }
}

impl AsRow for Version {
    fn row(&self) -> ChangeRow {
        ChangeRow::Version(self.clone())
    }
}

/// Which stored thing a row is (kind, ids, version number): applying a row
/// on the edge overwrites the thing with the same identity.
type Identity = (u8, Uuid, Uuid, u32);

fn identity(row: &ChangeRow) -> Identity {
    let nil = Uuid::nil();
    match row {
        ChangeRow::Space(s) => (0, s.id.as_uuid(), nil, 0),
        ChangeRow::Principal(p) => (1, p.id.as_uuid(), nil, 0),
        ChangeRow::Membership(m) => (2, m.space.as_uuid(), m.principal.as_uuid(), 0),
        ChangeRow::Invitation(i) => (3, i.id, nil, 0),
        ChangeRow::Folder(f) => (4, f.id.as_uuid(), nil, 0),
        ChangeRow::Document(d) => (5, d.id.as_uuid(), nil, 0),
        ChangeRow::Version(v) => (6, v.document.as_uuid(), nil, v.number),
        ChangeRow::Link(l) => (7, l.id.as_uuid(), nil, 0),
        ChangeRow::DocumentType(t) => panic!("a document type in a space's feed: {t:?}"),
    }
}

/// The rows by identity; each thing at most once.
fn by_identity(rows: &[ChangeRow], what: &str) -> BTreeMap<Identity, ChangeRow> {
    let mut state = BTreeMap::new();
    for row in rows {
        if let Some(twice) = state.insert(identity(row), row.clone()) {
            panic!("{what}: twice in one batch: {twice:?} and {row:?}");
        }
    }
    state
}

/// The batch's cursor and rows. The order of the rows is not part of the
/// contract (the edge sorts parents first itself): both sides are compared
/// by identity.
fn assert_feed(actual: Feed, expected: Vec<ChangeRow>, through: i64, what: &str) {
    assert_eq!(actual.through, Revision(through), "{what}: through");
    assert_eq!(
        by_identity(&actual.rows, what),
        by_identity(&expected, "expected"),
        "{what}: rows"
    );
}

/// Pages through the feed of `space` with `limit`, each batch applied in
/// order (rows upserted by identity, the cursor moved to `through`), and
/// checks every batch against one big batch of everything:
/// - the rows of `(cursor, through]` are exactly those of the big batch
///   (no row lost, no cursor jump), at most `limit` of them unless they
///   all share one revision, and the next revision would not have fitted;
/// - `through` is a revision of the space's rows, above the cursor;
/// - the other rows are parents brought along (the space, the principal of
///   a membership, the document of a version of the range), at their
///   current value, and every such parent is there (the space always);
/// - the empty batch at the end keeps the cursor, which is then the big
///   batch's `through`, and what was applied is the big batch.
///
/// Returns the successive `through`s.
pub async fn assert_batches_cover_the_space(
    tx: &mut dyn Tx,
    space: SpaceId,
    limit: u64,
) -> anyhow::Result<Vec<Revision>> {
    let whole = tx.changes(space, Revision::ZERO, u64::MAX).await?;
    let newest = whole.rows.iter().map(ChangeRow::revision).max();
    assert_eq!(
        whole.through,
        newest.unwrap_or(Revision::ZERO),
        "one big batch ends at its newest row"
    );
    let everything = by_identity(&whole.rows, "one big batch");
    let mut per_revision: BTreeMap<Revision, u64> = BTreeMap::new();
    for row in &whole.rows {
        *per_revision.entry(row.revision()).or_default() += 1;
    }

    let mut applied = BTreeMap::new();
    let mut cursor = Revision::ZERO;
    let mut throughs = Vec::new();
    loop {
        let what = format!("space {space:?}, limit {limit}, after {cursor}");
        let feed = tx.changes(space, cursor, limit).await?;
        if feed.rows.is_empty() {
            assert_eq!(feed.through, cursor, "{what}: an empty range keeps it");
            break;
        }
        let through = feed.through;
        assert!(through > cursor, "{what}: through {through} does not move");
        assert!(
            per_revision.contains_key(&through),
            "{what}: through {through} is no revision of the space's rows"
        );
        let in_range = |r: &ChangeRow| r.revision() > cursor && r.revision() <= through;
        let batch = by_identity(&feed.rows, &what);
        let range = |state: &BTreeMap<Identity, ChangeRow>| {
            state
                .iter()
                .filter(|(_, r)| in_range(r))
                .map(|(k, r)| (*k, r.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        let expected = range(&everything);
        assert_eq!(range(&batch), expected, "{what}: the rows of the range");

        let count = expected.len() as u64;
        let revisions = per_revision
            .range((Bound::Excluded(cursor), Bound::Included(through)))
            .count();
        assert!(
            count <= limit || revisions == 1,
            "{what}: {count} rows over {revisions} revisions"
        );
        if let Some((next, n)) = per_revision
            .range((Bound::Excluded(through), Bound::Unbounded))
            .next()
        {
            assert!(
                count + n > limit,
                "{what}: stopped at {through}, but the {n} rows of {next} fit"
            );
        }

        let in_batch = |r: &ChangeRow| batch.contains_key(&identity(r));
        assert!(
            batch.contains_key(&(0, space.as_uuid(), Uuid::nil(), 0)),
            "{what}: no space row"
        );
        for (key, row) in &batch {
            if !in_range(row) {
                let parent = match row {
                    ChangeRow::Space(s) => s.id == space,
                    ChangeRow::Principal(p) => expected
                        .values()
                        .any(|r| matches!(r, ChangeRow::Membership(m) if m.principal == p.id)),
                    ChangeRow::Document(d) => expected
                        .values()
                        .any(|r| matches!(r, ChangeRow::Version(v) if v.document == d.id)),
                    _ => false,
                };
                assert!(parent, "{what}: {row:?} is out of range and no parent");
                assert_eq!(
                    everything.get(key),
                    Some(row),
                    "{what}: a parent brought along is at its current value"
                );
            }
            let child_of = match row {
                ChangeRow::Membership(m) => everything
                    .values()
                    .find(|r| matches!(r, ChangeRow::Principal(p) if p.id == m.principal)),
                ChangeRow::Version(v) => everything
                    .values()
                    .find(|r| matches!(r, ChangeRow::Document(d) if d.id == v.document)),
                _ => None,
            };
            if let Some(parent) = child_of {
                assert!(in_batch(parent), "{what}: {row:?} without {parent:?}");
            }
        }

        applied.extend(batch);
        cursor = through;
        throughs.push(through);
        assert!(
            throughs.len() <= everything.len(),
            "limit {limit}: more batches than rows"
        );
    }
    assert_eq!(
        cursor, whole.through,
        "limit {limit}: the cursor at the end"
    );
    assert_eq!(
        applied, everything,
        "limit {limit}: the batches applied in order"
    );
    Ok(throughs)
}

fn at_revision<T: Clone>(value: &T, revision: i64, set: fn(&mut T, Revision)) -> T {
    let mut v = value.clone();
    set(&mut v, Revision(revision));
    v
}

fn principal_at(p: Principal, r: i64) -> Principal {
    at_revision(&p, r, |p, r| p.revision = r)
}
fn space_at(s: Space, r: i64) -> Space {
    at_revision(&s, r, |s, r| s.revision = r)
}
fn member_at(m: Membership, r: i64) -> Membership {
    at_revision(&m, r, |m, r| m.revision = r)
}
fn folder_at(f: Folder, r: i64) -> Folder {
    at_revision(&f, r, |f, r| f.revision = r)
}
fn document_at(d: Document, r: i64) -> Document {
    at_revision(&d, r, |d, r| d.revision = r)
}
fn version_at(v: Version, r: i64) -> Version {
    at_revision(&v, r, |v, r| v.revision = r)
}
fn invitation_at(i: Invitation, r: i64) -> Invitation {
    at_revision(&i, r, |i, r| i.revision = r)
}
