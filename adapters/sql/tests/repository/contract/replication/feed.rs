//! The change feed of a space (`Tx::changes`).

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{PrincipalId, Revision};
use passerelle_core::model::{Document, Folder, Membership, Principal, Space, Version};
use passerelle_core::ports::Repository;
use passerelle_core::replication::{ChangeRow, Invitation};
use passerelle_core::role::Role;

use super::super::{
    Outcome, Row, agent, document, folder, member, read, save, space, trashed, version, write,
};
use super::{contractor, invitation};

/// What a stored value looks like in the feed.
trait Feed {
    fn row(&self) -> ChangeRow;
}

impl Feed for Space {
    fn row(&self) -> ChangeRow {
        ChangeRow::Space(self.clone())
    }
}

impl Feed for Principal {
    /// Without its password hash, always.
    fn row(&self) -> ChangeRow {
        ChangeRow::Principal(Principal {
            password_hash: None,
            ..self.clone()
        })
    }
}

impl Feed for Membership {
    fn row(&self) -> ChangeRow {
        ChangeRow::Membership(self.clone())
    }
}

impl Feed for Invitation {
    fn row(&self) -> ChangeRow {
        ChangeRow::Invitation(self.clone())
    }
}

impl Feed for Folder {
    fn row(&self) -> ChangeRow {
        ChangeRow::Folder(self.clone())
    }
}

impl Feed for Document {
    fn row(&self) -> ChangeRow {
        ChangeRow::Document(self.clone())
    }
}

impl Feed for Version {
    fn row(&self) -> ChangeRow {
        ChangeRow::Version(self.clone())
    }
}

/// The feed is in revision order; the order of rows within a revision is
/// not part of the contract, so both sides are compared sorted.
fn assert_feed(actual: Vec<ChangeRow>, mut expected: Vec<ChangeRow>, what: &str) {
    let revisions: Vec<i64> = actual.iter().map(|r| r.revision().0).collect();
    assert!(
        revisions.is_sorted(),
        "{what}: not in revision order: {revisions:?}"
    );
    let key = |r: &ChangeRow| (r.revision(), format!("{r:?}"));
    let mut actual = actual;
    actual.sort_by_cached_key(key);
    expected.sort_by_cached_key(key);
    assert_eq!(actual, expected, "{what}");
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

pub async fn changes_carry_every_row_of_the_space_in_revision_order_with_tombstones(
    repo: &dyn Repository,
) -> Outcome {
    let p = principal_at(agent("p.owner"), 1);
    let q = principal_at(agent("q.parti"), 1);
    let c = principal_at(contractor("c.dupont"), 6);
    let r = principal_at(agent("r.ailleurs"), 10);
    let mut s = space_at(space("partage", "Partagé", p.id), 2);
    s.edge = Some("edge-1".into());
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
        "from the start",
    );
    assert_feed(
        tx.changes(s.id, Revision(6), 1000).await?,
        vec![t.row(), gone.row(), m_q.row(), q.row()],
        "after r6: tombstones, and the principal of the removed membership",
    );
    assert_feed(
        tx.changes(s.id, Revision(9), 1000).await?,
        vec![],
        "r10 is a principal of another space, r11 a document type",
    );
    let of_o = tx.changes(o.id, Revision(0), 1000).await?;
    assert_eq!(of_o.len(), 10, "{of_o:#?}");
    assert!(
        !of_o.contains(&s.row()) && !of_o.contains(&f.row()) && !of_o.contains(&q.row()),
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
    let r4: Vec<ChangeRow> = f.iter().map(Feed::row).collect();
    let r6: Vec<ChangeRow> = d.iter().map(Feed::row).collect();
    let cases: Vec<(i64, u64, Vec<ChangeRow>)> = vec![
        (0, 3, head.clone()),
        (0, 5, head.clone()),
        (0, 6, [head.clone(), r4.clone()].concat()),
        (3, 5, [r4.clone(), vec![d1.row(), v1.row()]].concat()),
        (4, 2, vec![d1.row(), v1.row()]),
        (4, 3, vec![d1.row(), v1.row()]),
        (5, 4, r6.clone()),
        (5, 5, [r6.clone(), vec![f4.row()]].concat()),
        (6, 100, vec![f4.row(), g1.row(), g2.row(), e1.row()]),
        // Exactly `limit` rows of one table up to r9, then another table.
        (7, 2, vec![g1.row(), g2.row()]),
        (7, 0, vec![g1.row()]),
        (10, 100, vec![]),
        (10, 0, vec![]),
    ];
    let mut tx = read(repo).await?;
    for (after, limit, expected) in cases {
        let what = format!("after r{after}, limit {limit}");
        assert_feed(
            tx.changes(s.id, Revision(after), limit).await?,
            expected,
            &what,
        );
    }

    // Paging through with the last revision seen as the cursor.
    let mut cursor = Revision(0);
    let mut batches = Vec::new();
    loop {
        let batch = tx.changes(s.id, cursor, 2).await?;
        let Some(last) = batch.iter().map(ChangeRow::revision).max() else {
            break;
        };
        batches.push(batch.iter().map(|r| r.revision().0).collect::<Vec<_>>());
        cursor = last;
    }
    let expected: Vec<Vec<i64>> = vec![
        vec![1, 2],
        vec![1, 3], // the membership brings its principal along
        vec![4, 4, 4],
        vec![5, 5],
        vec![6, 6, 6, 6],
        vec![7, 8],
        vec![9, 10],
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
    r10.extend(people.iter().map(Feed::row));
    r10.extend(memberships.iter().map(Feed::row));
    r10.extend(folders.iter().map(Feed::row));
    r10.extend(docs.iter().map(Feed::row));
    r10.extend(versions.iter().map(Feed::row));
    let mut tx = read(repo).await?;
    for limit in [0, 1, 2, 10] {
        let what = format!("limit {limit}");
        let after_r9 = tx.changes(s.id, Revision(9), limit).await?;
        assert_feed(after_r9, r10.clone(), &what);
    }
    let with_next = [r10.clone(), vec![next.row()]].concat();
    assert_feed(
        tx.changes(s.id, Revision(9), 15).await?,
        with_next,
        "limit 15: 11 rows at r10, 1 at r11 (principals r1 brought along)",
    );
    assert_feed(
        tx.changes(s.id, Revision(10), 0).await?,
        vec![next.row()],
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
        vec![y.row(), m_c.row(), m_z.row(), c.row(), z.row()],
        "y (r16) has a removed membership; c (r1) and z (r30) come with theirs",
    );
    assert_feed(
        tx.changes(s.id, Revision(20), 10).await?,
        vec![nobody.row(), z.row()],
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
        "everything: x is a member of another space only",
    );
    for row in all {
        if let ChangeRow::Principal(principal) = row {
            assert_eq!(principal.password_hash, None, "{principal:?}");
        }
    }
    Ok(())
}
