//! Where a batch of the change feed stops: at the last whole revision within
//! the limit (a larger revision comes whole), `through` never past a row not
//! sent, an empty range keeping the cursor; so that an edge paging with any
//! limit ends up with what one big batch gives.

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::model::{Document, Folder, Membership, Principal, Version};
use passerelle_core::ports::Repository;
use passerelle_core::replication::{ChangeRow, Feed};
use passerelle_core::role::Role;

use super::super::{contractor, invitation};
use super::{
    AsRow, assert_batches_cover_the_space, assert_feed, document_at, folder_at, invitation_at,
    member_at, principal_at, space_at, version_at,
};
use crate::contract::{
    Outcome, Row, agent, document, folder, member, read, save, space, trashed, version, write,
};

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
