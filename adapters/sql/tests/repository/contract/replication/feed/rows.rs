//! What a batch of the change feed carries: every kind of row of the space
//! with its tombstones, its principals without credentials, and the parents
//! brought along at their current value (the space, a version's document),
//! since the edge applies a batch alone and must not end up with orphans.

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{PrincipalId, Revision};
use passerelle_core::model::Membership;
use passerelle_core::ports::Repository;
use passerelle_core::replication::ChangeRow;
use passerelle_core::role::Role;

use super::super::{contractor, invitation};
use super::{
    AsRow, assert_batches_cover_the_space, assert_feed, document_at, folder_at, invitation_at,
    member_at, principal_at, space_at, version_at,
};
use crate::contract::{
    Outcome, Row, agent, document, folder, member, name, read, save, space, trashed, version, write,
};

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

pub async fn changes_carry_the_links_whose_both_ends_are_in_the_space(
    repo: &dyn Repository,
) -> Outcome {
    use passerelle_core::ids::LinkId;
    use passerelle_core::links::{DocumentLink, LinkKind};

    let p = principal_at(agent("p.liens"), 1);
    let s = space_at(space("actes", "Actes", p.id), 2);
    let o = space_at(space("ailleurs", "Ailleurs", p.id), 2);
    let act = document_at(document(&s, None, "acte.pdf"), 3);
    let annex = document_at(document(&s, None, "annexe.pdf"), 4);
    let elsewhere = document_at(document(&o, None, "autre.pdf"), 5);
    let link = |from: &passerelle_core::model::Document,
                to: &passerelle_core::model::Document,
                kind: LinkKind,
                rev: i64| DocumentLink {
        id: LinkId::new(),
        space: from.space,
        from: from.id,
        to: to.id,
        kind,
        created_by: p.id,
        created_at: crate::contract::at(crate::contract::T0),
        removed: false,
        revision: Revision(rev),
    };
    let annexe_de = link(&annex, &act, LinkKind::AnnexeDe, 6);
    let removed = DocumentLink {
        removed: true,
        ..link(&act, &annex, LinkKind::VoirAussi, 7)
    };
    let out = link(&act, &elsewhere, LinkKind::Remplace, 8);
    let back_in = link(&elsewhere, &act, LinkKind::VoirAussi, 8);
    save(
        repo,
        [
            Row::from(&p),
            Row::from(&s),
            Row::from(&o),
            Row::from(&act),
            Row::from(&annex),
            Row::from(&elsewhere),
        ],
    )
    .await?;
    let mut tx = write(repo).await?;
    for l in [&annexe_de, &removed, &out, &back_in] {
        tx.save_link(l).await?;
    }
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_feed(
        tx.changes(s.id, Revision(0), 1000).await?,
        vec![
            s.row(),
            act.row(),
            annex.row(),
            ChangeRow::Link(annexe_de.clone()),
            ChangeRow::Link(removed.clone()),
        ],
        7,
        "the space's own links with their tombstones, none across spaces",
    );
    let after = tx.changes(s.id, Revision(5), 1000).await?;
    assert_eq!(
        after.rows.last(),
        Some(&ChangeRow::Link(removed)),
        "links come after the documents, in revision order: {after:#?}"
    );
    assert_eq!(tx.feed_backlog(s.id, Revision(5)).await?.rows, 2);
    let of_o = tx.changes(o.id, Revision(0), 1000).await?;
    assert!(
        !of_o.rows.iter().any(|r| matches!(r, ChangeRow::Link(_))),
        "{of_o:#?}"
    );
    Ok(())
}
