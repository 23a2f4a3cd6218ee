//! The change feed of a space (`Tx::changes`).

use std::collections::BTreeMap;
use std::ops::Bound;

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::model::{Document, Folder, Membership, Principal, Space, Version};
use passerelle_core::ports::{Repository, Tx};
use passerelle_core::replication::{ChangeRow, Feed, Invitation};
use passerelle_core::role::Role;
use uuid::Uuid;

use super::super::{
    Outcome, Row, agent, document, folder, member, name, read, save, space, trashed, version, write,
};
use super::{contractor, invitation};

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

pub async fn changes_carry_every_row_of_the_space_with_tombstones(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let q = principal_at(agent("q.parti"), 1);
    let c = principal_at(contractor("c.dupont"), 6);
    let r = principal_at(agent("r.ailleurs"), 10);
    let mut s = space_at(space("partage", "Partagé", p.id), 2);
    s.edge = Some("edge-1".parse().expect("node id"));
    let o = space_at(space("autre", "Autre", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let f = folder_at(folder(&s, None, "Plans"), 4);
    let d = document_at(document(&s, Some(&f), "plan.pdf"), 5);
    let v = version_at(version(&d, 1, "plan"), 5);
    let m_c = member_at(member(&s, &c, Role::Contributor), 6);
    let inv = invitation_at(invitation(&s, &c, "secret"), 6);
    let mut t = document_at(document(&s, None, "corbeille.pdf"), 7);
    t.trashed = trashed(p.id, None);
    let mut gone = document_at(document(&s, None, "purgé.pdf"), 8);
    gone.trashed = trashed(p.id, None);
    gone.purged = true;
    let mut m_q = member_at(member(&s, &q, Role::Reader), 9);
    m_q.removed = true;
    // The other space: the same kinds of rows, none in the feed of `s`.
    let o_rows = [
        Row::from(&member_at(member(&o, &p, Role::Manager), 3)),
        Row::from(&member_at(member(&o, &r, Role::Reader), 3)),
        Row::from(&folder_at(folder(&o, None, "Plans"), 4)),
        Row::from(&document_at(document(&o, None, "plan.pdf"), 5)),
        Row::from(&invitation_at(invitation(&o, &r, "autre"), 6)),
    ];
    let o_doc = document_at(document(&o, None, "o.pdf"), 5);
    let rows = [&p, &q, &c, &r].into_iter().map(Row::from).chain([
        Row::from(&s),
        Row::from(&o),
        Row::from(&m_p),
        Row::from(&f),
        Row::from(&d),
        Row::from(&v),
        Row::from(&m_c),
        Row::from(&inv),
        Row::from(&t),
        Row::from(&gone),
        Row::from(&m_q),
        Row::from(&o_doc),
        Row::from(&version_at(version(&o_doc, 1, "o"), 5)),
    ]);
    save(repo, rows.chain(o_rows)).await?;
    let mut tx = write(repo).await?;
    tx.save_document_type(&DocumentType {
        key: "facture".into(),
        label: "Facture".into(),
        domain: "Finances".into(),
        description: String::new(),
        retention_years: 10,
        fields: vec![],
        revision: Revision(11),
    })
    .await?;
    tx.commit().await?;

    let mut tx = read(repo).await?;
    let everything = vec![
        p.row(),
        q.row(),
        s.row(),
        m_p.row(),
        f.row(),
        d.row(),
        v.row(),
        c.row(),
        m_c.row(),
        inv.row(),
        t.row(),
        gone.row(),
        m_q.row(),
    ];
    assert_feed(
        tx.changes(s.id, Revision(0), 1000).await?,
        everything,
        9,
        "from the start",
    );
    assert_feed(
        tx.changes(s.id, Revision(6), 1000).await?,
        vec![t.row(), gone.row(), m_q.row(), q.row(), s.row()],
        9,
        "after r6: tombstones, the principal of the removed membership, the space",
    );
    assert_feed(
        tx.changes(s.id, Revision(9), 1000).await?,
        vec![],
        9,
        "r10 is a principal of another space, r11 a document type",
    );
    let of_o = tx.changes(o.id, Revision(0), 1000).await?;
    assert_eq!(of_o.rows.len(), 10, "{of_o:#?}");
    assert_eq!(of_o.through, Revision(10), "{of_o:#?}");
    assert!(
        !of_o.rows.contains(&s.row())
            && !of_o.rows.contains(&f.row())
            && !of_o.rows.contains(&q.row()),
        "{of_o:#?}"
    );
    Ok(())
}

pub async fn changes_stop_at_the_last_whole_revision_within_the_limit(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let s = space_at(space("partage", "Partagé", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let f: Vec<Folder> = ["a", "b", "c"]
        .into_iter()
        .map(|n| folder_at(folder(&s, None, n), 4))
        .collect();
    let d1 = document_at(document(&s, None, "d1"), 5);
    let v1 = version_at(version(&d1, 1, "d1"), 5);
    let d: Vec<Document> = ["d2", "d3", "d4", "d5"]
        .into_iter()
        .map(|n| document_at(document(&s, None, n), 6))
        .collect();
    let f4 = folder_at(folder(&s, None, "f4"), 7);
    let g1 = folder_at(folder(&s, None, "g1"), 8);
    let g2 = folder_at(folder(&s, None, "g2"), 9);
    let e1 = document_at(document(&s, None, "e1"), 10);
    let rows = [Row::from(&p), Row::from(&s), Row::from(&m_p)]
        .into_iter()
        .chain(f.iter().map(Row::from))
        .chain([Row::from(&d1), Row::from(&v1)])
        .chain(d.iter().map(Row::from))
        .chain([&f4, &g1, &g2].map(Row::from))
        .chain([Row::from(&e1)]);
    save(repo, rows).await?;

    let head = vec![p.row(), s.row(), m_p.row()];
    let r4: Vec<ChangeRow> = f.iter().map(AsRow::row).collect();
    let r6: Vec<ChangeRow> = d.iter().map(AsRow::row).collect();
    // Past r2, the space row comes along as a parent.
    let sp = || vec![s.row()];
    let cases: Vec<(i64, u64, Vec<ChangeRow>, i64)> = vec![
        (0, 3, head.clone(), 3),
        (0, 5, head.clone(), 3),
        (0, 6, [head.clone(), r4.clone()].concat(), 4),
        (2, 1, vec![m_p.row(), p.row(), s.row()], 3),
        (
            3,
            5,
            [r4.clone(), vec![d1.row(), v1.row()], sp()].concat(),
            5,
        ),
        (4, 2, vec![d1.row(), v1.row(), s.row()], 5),
        (4, 3, vec![d1.row(), v1.row(), s.row()], 5),
        (5, 4, [r6.clone(), sp()].concat(), 6),
        (5, 5, [r6.clone(), vec![f4.row()], sp()].concat(), 7),
        (
            6,
            100,
            vec![f4.row(), g1.row(), g2.row(), e1.row(), s.row()],
            10,
        ),
        // Exactly `limit` rows of one table up to r9, then another table.
        (7, 2, vec![g1.row(), g2.row(), s.row()], 9),
        (7, 0, vec![g1.row(), s.row()], 8),
        (10, 100, vec![], 10),
        (10, 0, vec![], 10),
    ];
    let mut tx = read(repo).await?;
    for (after, limit, expected, through) in cases {
        let what = format!("after r{after}, limit {limit}");
        assert_feed(
            tx.changes(s.id, Revision(after), limit).await?,
            expected,
            through,
            &what,
        );
    }

    // Paging through with `through` as the cursor.
    let mut cursor = Revision(0);
    let mut batches = Vec::new();
    loop {
        let batch = tx.changes(s.id, cursor, 2).await?;
        if batch.rows.is_empty() {
            assert_eq!(batch.through, cursor);
            break;
        }
        let mut revisions: Vec<i64> = batch.rows.iter().map(|r| r.revision().0).collect();
        revisions.sort();
        batches.push((revisions, batch.through.0));
        cursor = batch.through;
    }
    let expected: Vec<(Vec<i64>, i64)> = vec![
        (vec![1, 2], 2),
        (vec![1, 2, 3], 3), // the membership brings its principal along
        (vec![2, 4, 4, 4], 4),
        (vec![2, 5, 5], 5),
        (vec![2, 6, 6, 6, 6], 6),
        (vec![2, 7, 8], 8),
        (vec![2, 9, 10], 10),
    ];
    assert_eq!(batches, expected);
    Ok(())
}

pub async fn a_revision_larger_than_the_limit_comes_whole(repo: &dyn Repository) -> Outcome {
    let people: Vec<Principal> = ["a.a", "b.b", "c.c"]
        .into_iter()
        .map(|l| principal_at(agent(l), 1))
        .collect();
    let s = space_at(space("partage", "Partagé", people[0].id), 10);
    let memberships: Vec<Membership> = people
        .iter()
        .map(|p| member_at(member(&s, p, Role::Reader), 10))
        .collect();
    let folders: Vec<Folder> = ["x", "y"]
        .into_iter()
        .map(|n| folder_at(folder(&s, None, n), 10))
        .collect();
    let docs: Vec<Document> = ["d", "e"]
        .into_iter()
        .map(|n| document_at(document(&s, None, n), 10))
        .collect();
    let versions: Vec<Version> = docs
        .iter()
        .map(|d| version_at(version(d, 1, "v"), 10))
        .collect();
    let inv = invitation_at(invitation(&s, &people[1], "secret"), 10);
    let next = folder_at(folder(&s, None, "suivant"), 11);
    let rows = people
        .iter()
        .map(Row::from)
        .chain([Row::from(&s)])
        .chain(memberships.iter().map(Row::from))
        .chain(folders.iter().map(Row::from))
        .chain(docs.iter().map(Row::from))
        .chain(versions.iter().map(Row::from))
        .chain([Row::from(&inv), Row::from(&next)]);
    save(repo, rows).await?;

    let mut r10 = vec![s.row(), inv.row()];
    r10.extend(people.iter().map(AsRow::row));
    r10.extend(memberships.iter().map(AsRow::row));
    r10.extend(folders.iter().map(AsRow::row));
    r10.extend(docs.iter().map(AsRow::row));
    r10.extend(versions.iter().map(AsRow::row));
    let mut tx = read(repo).await?;
    for limit in [0, 1, 2, 10] {
        let what = format!("limit {limit}");
        let after_r9 = tx.changes(s.id, Revision(9), limit).await?;
        assert_feed(after_r9, r10.clone(), 10, &what);
    }
    let with_next = [r10.clone(), vec![next.row()]].concat();
    assert_feed(
        tx.changes(s.id, Revision(9), 15).await?,
        with_next,
        11,
        "limit 15: 11 rows at r10, 1 at r11 (principals r1 brought along)",
    );
    assert_feed(
        tx.changes(s.id, Revision(10), 0).await?,
        vec![next.row(), s.row()],
        11,
        "after r10",
    );
    Ok(())
}

pub async fn changes_carry_the_principals_of_the_space_without_credentials(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let c = principal_at(contractor("c.ancien"), 1);
    let x = principal_at(agent("x.ailleurs"), 15);
    let y = principal_at(agent("y.parti"), 16);
    let z = principal_at(agent("z.recent"), 30);
    let s = space_at(space("partage", "Partagé", p.id), 2);
    let o = space_at(space("autre", "Autre", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 2);
    let m_x = member_at(member(&o, &x, Role::Reader), 2);
    let mut m_y = member_at(member(&s, &y, Role::Reader), 3);
    m_y.removed = true;
    let m_c = member_at(member(&s, &c, Role::Contributor), 20);
    let m_z = member_at(member(&s, &z, Role::Reader), 20);
    // Memberships do not require their principal row (it may come later).
    let nobody = Membership {
        principal: PrincipalId::new(),
        ..member_at(member(&s, &p, Role::Reader), 25)
    };
    let rows = [&p, &c, &x, &y, &z].into_iter().map(Row::from).chain(
        [&s, &o]
            .into_iter()
            .map(Row::from)
            .chain([&m_p, &m_x, &m_y, &m_c, &m_z, &nobody].map(Row::from)),
    );
    save(repo, rows).await?;
    assert!(p.password_hash.is_some() && c.password_hash.is_some());

    let mut tx = read(repo).await?;
    assert_feed(
        tx.changes(s.id, Revision(10), 3).await?,
        vec![y.row(), m_c.row(), m_z.row(), c.row(), z.row(), s.row()],
        20,
        "y (r16) has a removed membership; c (r1) and z (r30) come with theirs",
    );
    assert_feed(
        tx.changes(s.id, Revision(20), 10).await?,
        vec![nobody.row(), z.row(), s.row()],
        30,
        "after r20",
    );
    let all = tx.changes(s.id, Revision(0), 100).await?;
    assert_feed(
        all.clone(),
        vec![
            p.row(),
            c.row(),
            s.row(),
            m_p.row(),
            m_y.row(),
            y.row(),
            m_c.row(),
            m_z.row(),
            nobody.row(),
            z.row(),
        ],
        30,
        "everything: x is a member of another space only",
    );
    for row in all.rows {
        if let ChangeRow::Principal(principal) = row {
            assert_eq!(principal.password_hash, None, "{principal:?}");
        }
    }
    Ok(())
}

/// Parents brought along may be newer than the range: `through` is the
/// last whole revision of the range, never the newest row of the batch.
pub async fn through_is_the_last_whole_revision_even_when_parents_brought_along_are_newer(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    // Changed after its membership (r4): its display name, at r11.
    let c = principal_at(contractor("c.renomme"), 11);
    // Shared last.
    let mut s = space_at(space("partage", "Partagé", p.id), 12);
    s.edge = Some("edge-1".parse().expect("node id"));
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let m_c = member_at(member(&s, &c, Role::Contributor), 4);
    let f = folder_at(folder(&s, None, "Plans"), 5);
    // Renamed after its versions (r6, r7), at r10.
    let d = document_at(document(&s, Some(&f), "plan.pdf"), 10);
    let v1 = version_at(version(&d, 1, "v1"), 6);
    let v2 = version_at(version(&d, 2, "v2"), 7);
    let g = folder_at(folder(&s, None, "g"), 8);
    let h = folder_at(folder(&s, None, "h"), 9);
    save(
        repo,
        [
            Row::from(&p),
            Row::from(&c),
            Row::from(&s),
            Row::from(&m_p),
            Row::from(&m_c),
            Row::from(&f),
            Row::from(&d),
            Row::from(&v1),
            Row::from(&v2),
            Row::from(&g),
            Row::from(&h),
        ],
    )
    .await?;

    let cases: Vec<(i64, u64, Vec<ChangeRow>, i64)> = vec![
        (0, 1, vec![p.row(), s.row()], 1),
        (
            2,
            2,
            vec![m_p.row(), m_c.row(), p.row(), c.row(), s.row()],
            4,
        ),
        (4, 1, vec![f.row(), s.row()], 5),
        (5, 1, vec![v1.row(), d.row(), s.row()], 6),
        (5, 2, vec![v1.row(), v2.row(), d.row(), s.row()], 7),
        (7, 2, vec![g.row(), h.row(), s.row()], 9),
        (9, 1, vec![d.row(), s.row()], 10),
        (9, 100, vec![d.row(), c.row(), s.row()], 12),
        (12, 100, vec![], 12),
    ];
    let mut tx = read(repo).await?;
    for (after, limit, expected, through) in cases {
        let what = format!("after r{after}, limit {limit}");
        let feed = tx.changes(s.id, Revision(after), limit).await?;
        if through < 12 {
            assert!(
                feed.rows.iter().any(|r| r.revision() > Revision(through)),
                "{what}: a parent newer than the range: {feed:#?}"
            );
        }
        assert_feed(feed, expected, through, &what);
    }
    for limit in [0, 1, 2, 3] {
        assert_batches_cover_the_space(&mut *tx, s.id, limit).await?;
    }
    Ok(())
}

/// A space shared after its rows were written has the newest revision:
/// it still comes with every non-empty batch, at its current value.
pub async fn every_non_empty_batch_carries_the_space_even_when_it_is_the_newest_row(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let s = space_at(space("partage", "Partagé", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let f = folder_at(folder(&s, None, "Plans"), 4);
    let d1 = document_at(document(&s, Some(&f), "d1.pdf"), 5);
    let v1 = version_at(version(&d1, 1, "d1"), 5);
    let d2 = document_at(document(&s, Some(&f), "d2.pdf"), 6);
    let v2 = version_at(version(&d2, 1, "d2"), 6);
    save(
        repo,
        [&p].map(Row::from).into_iter().chain([
            Row::from(&s),
            Row::from(&m_p),
            Row::from(&f),
            Row::from(&d1),
            Row::from(&v1),
            Row::from(&d2),
            Row::from(&v2),
        ]),
    )
    .await?;
    let mut shared = space_at(s.clone(), 7);
    shared.edge = Some("edge-1".parse().expect("node id"));
    save(repo, [Row::from(&shared)]).await?;

    let sh = shared.row();
    let cases: Vec<(i64, u64, Vec<ChangeRow>, i64)> = vec![
        (0, 1, vec![p.row(), sh.clone()], 1),
        // Nothing is left at r2.
        (0, 2, vec![p.row(), m_p.row(), sh.clone()], 3),
        (3, 1, vec![f.row(), sh.clone()], 4),
        (4, 1, vec![d1.row(), v1.row(), sh.clone()], 5),
        (5, 2, vec![d2.row(), v2.row(), sh.clone()], 6),
        (6, 0, vec![sh.clone()], 7),
        (6, 1, vec![sh.clone()], 7),
        (7, 1, vec![], 7),
    ];
    let mut tx = read(repo).await?;
    for (after, limit, expected, through) in cases {
        let what = format!("after r{after}, limit {limit}");
        assert_feed(
            tx.changes(s.id, Revision(after), limit).await?,
            expected,
            through,
            &what,
        );
    }
    for after in 0..7 {
        for limit in 0..5 {
            let feed = tx.changes(s.id, Revision(after), limit).await?;
            let spaces: Vec<&ChangeRow> = feed
                .rows
                .iter()
                .filter(|r| matches!(r, ChangeRow::Space(_)))
                .collect();
            assert_eq!(spaces, vec![&sh], "after r{after}, limit {limit}");
        }
    }
    for limit in [0, 1, 3] {
        assert_batches_cover_the_space(&mut *tx, s.id, limit).await?;
    }
    Ok(())
}

/// A version whose document changed later (renamed, purged) comes with
/// the document as it is now, once however many of its versions come.
pub async fn a_version_comes_with_its_document_even_when_the_document_changed_later(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let s = space_at(space("partage", "Partagé", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let d = document_at(document(&s, None, "plan.pdf"), 4);
    let v1 = version_at(version(&d, 1, "v1"), 4);
    let v2 = version_at(version(&d, 2, "v2"), 5);
    let g = document_at(document(&s, None, "jeté.pdf"), 4);
    let vg = version_at(version(&g, 1, "g"), 4);
    let e = document_at(document(&s, None, "autre.pdf"), 6);
    let ve = version_at(version(&e, 1, "e"), 6);
    save(
        repo,
        [&p].map(Row::from).into_iter().chain([
            Row::from(&s),
            Row::from(&m_p),
            Row::from(&d),
            Row::from(&g),
            Row::from(&v1),
            Row::from(&vg),
            Row::from(&v2),
            Row::from(&e),
            Row::from(&ve),
        ]),
    )
    .await?;
    let mut renamed = document_at(d.clone(), 7);
    renamed.name = name("plan (indice B).pdf");
    renamed.current_version = 2;
    let f = folder_at(folder(&s, None, "Plans"), 8);
    let mut purged = document_at(g.clone(), 9);
    purged.trashed = trashed(p.id, None);
    purged.purged = true;
    save(
        repo,
        [Row::from(&renamed), Row::from(&f), Row::from(&purged)],
    )
    .await?;

    let (dn, gp, sp) = (renamed.row(), purged.row(), s.row());
    let cases: Vec<(i64, u64, Vec<ChangeRow>, i64)> = vec![
        (
            3,
            1,
            vec![v1.row(), vg.row(), dn.clone(), gp.clone(), sp.clone()],
            4,
        ),
        (4, 1, vec![v2.row(), dn.clone(), sp.clone()], 5),
        (
            3,
            3,
            vec![
                v1.row(),
                vg.row(),
                v2.row(),
                dn.clone(),
                gp.clone(),
                sp.clone(),
            ],
            5,
        ),
        (5, 2, vec![e.row(), ve.row(), sp.clone()], 6),
        (6, 1, vec![dn.clone(), sp.clone()], 7),
        (
            3,
            100,
            vec![
                v1.row(),
                vg.row(),
                v2.row(),
                e.row(),
                ve.row(),
                dn.clone(),
                f.row(),
                gp.clone(),
                sp.clone(),
            ],
            9,
        ),
    ];
    let mut tx = read(repo).await?;
    for (after, limit, expected, through) in cases {
        let what = format!("after r{after}, limit {limit}");
        assert_feed(
            tx.changes(s.id, Revision(after), limit).await?,
            expected,
            through,
            &what,
        );
    }
    for limit in [0, 1, 2] {
        assert_batches_cover_the_space(&mut *tx, s.id, limit).await?;
    }
    Ok(())
}

pub async fn an_empty_range_gives_no_rows_and_keeps_the_cursor(repo: &dyn Repository) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let s = space_at(space("partage", "Partagé", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let f = folder_at(folder(&s, None, "Plans"), 4);
    let o = space_at(space("autre", "Autre", p.id), 5);
    let o_folder = folder_at(folder(&o, None, "Plans"), 6);
    let alone = space_at(space("seul", "Seul", p.id), 7);
    save(
        repo,
        [&p].map(Row::from).into_iter().chain([
            Row::from(&s),
            Row::from(&m_p),
            Row::from(&f),
            Row::from(&o),
            Row::from(&o_folder),
            Row::from(&alone),
        ]),
    )
    .await?;
    let mut tx = write(repo).await?;
    tx.save_document_type(&DocumentType {
        key: "facture".into(),
        label: "Facture".into(),
        domain: "Finances".into(),
        description: String::new(),
        retention_years: 10,
        fields: vec![],
        revision: Revision(8),
    })
    .await?;
    tx.commit().await?;

    let unknown = SpaceId::new();
    let cases: Vec<(SpaceId, i64, u64, &str)> = vec![
        (s.id, 4, 10, "after the last row of the space"),
        (s.id, 4, 0, "after the last row, limit 0"),
        (
            s.id,
            5,
            10,
            "r5 and r6 are another space's, r8 a document type",
        ),
        (s.id, 100, 3, "after the node's revision"),
        (unknown, 0, 10, "an unknown space"),
        (unknown, 7, 0, "an unknown space, limit 0"),
        (alone.id, 7, 10, "a space with nothing but itself, after it"),
    ];
    let mut tx = read(repo).await?;
    for (space, after, limit, what) in cases {
        let feed = tx.changes(space, Revision(after), limit).await?;
        assert_eq!(
            feed,
            Feed {
                rows: vec![],
                through: Revision(after),
            },
            "{what}"
        );
    }
    assert_feed(
        tx.changes(alone.id, Revision(0), 0).await?,
        vec![alone.row()],
        7,
        "a space with nothing but itself",
    );
    Ok(())
}

/// An edge paging with a small limit, applying each batch and keeping its
/// `through`, ends up with what one big batch gives: nothing lost, the
/// cursor never past a row it has not received.
pub async fn small_batches_applied_in_order_cover_the_space_like_one_big_batch(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let q = principal_at(agent("q.parti"), 2);
    let c = principal_at(contractor("c.renomme"), 14);
    let x = principal_at(agent("x.ailleurs"), 4);
    let mut s = space_at(space("partage", "Partagé", p.id), 15);
    s.edge = Some("edge-1".parse().expect("node id"));
    let o = space_at(space("autre", "Autre", p.id), 2);
    let m_p = member_at(member(&s, &p, Role::Manager), 3);
    let f1 = folder_at(folder(&s, None, "f1"), 4);
    let f2 = folder_at(folder(&s, None, "f2"), 4);
    let d1 = document_at(document(&s, Some(&f1), "d1.pdf"), 5);
    let v11 = version_at(version(&d1, 1, "d1"), 5);
    let d2 = document_at(document(&s, Some(&f2), "d2.pdf"), 13);
    let v21 = version_at(version(&d2, 1, "d2-1"), 6);
    let v22 = version_at(version(&d2, 2, "d2-2"), 7);
    let m_c = member_at(member(&s, &c, Role::Contributor), 8);
    let inv = invitation_at(invitation(&s, &c, "secret"), 8);
    let mut m_q = member_at(member(&s, &q, Role::Reader), 9);
    m_q.removed = true;
    let mut t = document_at(document(&s, None, "corbeille.pdf"), 10);
    t.trashed = trashed(p.id, None);
    let vt = version_at(version(&t, 1, "t"), 10);
    let f3 = folder_at(folder(&s, Some(&f1), "f3"), 11);
    let e = document_at(document(&s, Some(&f3), "e.pdf"), 12);
    // The other space: interleaved revisions, none in the feed of `s`.
    let o_doc = document_at(document(&o, None, "o.pdf"), 5);
    let others = [
        Row::from(&member_at(member(&o, &p, Role::Manager), 3)),
        Row::from(&member_at(member(&o, &x, Role::Reader), 5)),
        Row::from(&folder_at(folder(&o, None, "o"), 4)),
        Row::from(&o_doc),
        Row::from(&version_at(version(&o_doc, 1, "o"), 6)),
    ];
    save(
        repo,
        [&p, &q, &c, &x]
            .map(Row::from)
            .into_iter()
            .chain([&s, &o].map(Row::from))
            .chain([&m_p, &m_c, &m_q].map(Row::from))
            .chain([&f1, &f2, &f3].map(Row::from))
            .chain([&d1, &d2, &t, &e].map(Row::from))
            .chain([&v11, &v21, &v22, &vt].map(Row::from))
            .chain([Row::from(&inv)])
            .chain(others),
    )
    .await?;

    let mut tx = read(repo).await?;
    let throughs = assert_batches_cover_the_space(&mut *tx, s.id, 3).await?;
    assert_eq!(
        throughs,
        [3, 4, 6, 8, 10, 13, 15].map(Revision).to_vec(),
        "limit 3"
    );
    // The batches of limit 3 themselves, the parents brought along.
    let batches: Vec<(i64, Vec<ChangeRow>, i64)> = vec![
        (0, vec![p.row(), q.row(), m_p.row(), s.row()], 3),
        (3, vec![f1.row(), f2.row(), s.row()], 4),
        (
            4,
            vec![d1.row(), v11.row(), v21.row(), d2.row(), s.row()],
            6,
        ),
        (
            6,
            vec![v22.row(), d2.row(), m_c.row(), inv.row(), c.row(), s.row()],
            8,
        ),
        (8, vec![m_q.row(), q.row(), t.row(), vt.row(), s.row()], 10),
        (10, vec![f3.row(), e.row(), d2.row(), s.row()], 13),
        (13, vec![c.row(), s.row()], 15),
        (15, vec![], 15),
    ];
    for (after, expected, through) in batches {
        let what = format!("limit 3, after r{after}");
        assert_feed(
            tx.changes(s.id, Revision(after), 3).await?,
            expected,
            through,
            &what,
        );
    }
    for limit in [0, 1, 2, 4, 5, 7, 1000] {
        assert_batches_cover_the_space(&mut *tx, s.id, limit).await?;
    }
    assert_eq!(
        assert_batches_cover_the_space(&mut *tx, s.id, 1000).await?,
        vec![Revision(15)],
        "one big batch"
    );
    Ok(())
}
