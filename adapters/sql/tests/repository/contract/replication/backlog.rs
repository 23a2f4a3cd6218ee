//! How far the change feed runs past a cursor (`Tx::feed_backlog`, what the
//! replication lag metrics read): the rows `changes` has in range, counted,
//! and the newest of their revisions.

use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::ports::{FeedBacklog, Repository};
use passerelle_core::role::Role;

use super::super::{Outcome, Row, agent, document, folder, member, read, save, space, version};
use super::{contractor, invitation};

pub async fn the_feed_backlog_counts_the_rows_changes_has_past_a_cursor(
    repo: &dyn Repository,
) -> Outcome {
    let r = Revision;
    let mut p = agent("p.owner");
    p.revision = r(1);
    let mut c = contractor("c.dupont");
    c.revision = r(6);
    // A member of the other space only: never in the backlog of `s`.
    let mut x = agent("x.ailleurs");
    x.revision = r(8);
    let mut s = space("partage", "Partagé", p.id);
    (s.edge, s.revision) = (Some("edge-1".parse().expect("node id")), r(2));
    let mut o = space("autre", "Autre", p.id);
    o.revision = r(2);
    let mut m_p = member(&s, &p, Role::Manager);
    m_p.revision = r(3);
    let mut f = folder(&s, None, "Plans");
    f.revision = r(4);
    let mut d = document(&s, Some(&f), "plan.pdf");
    d.revision = r(5);
    let mut v = version(&d, 1, "plan");
    v.revision = r(5);
    let mut m_c = member(&s, &c, Role::Contributor);
    m_c.revision = r(6);
    let mut inv = invitation(&s, &c, "secret");
    inv.revision = r(7);
    let mut m_x = member(&o, &x, Role::Reader);
    m_x.revision = r(8);
    let mut o_doc = document(&o, None, "o.pdf");
    o_doc.revision = r(9);
    let mut o_v = version(&o_doc, 1, "o");
    o_v.revision = r(9);
    save(
        repo,
        [
            Row::from(&p),
            Row::from(&c),
            Row::from(&x),
            Row::from(&s),
            Row::from(&o),
            Row::from(&m_p),
            Row::from(&f),
            Row::from(&d),
            Row::from(&v),
            Row::from(&m_c),
            Row::from(&inv),
            Row::from(&m_x),
            Row::from(&o_doc),
            Row::from(&o_v),
        ],
    )
    .await?;

    let mut tx = read(repo).await?;
    let backlog = |rows, newest| FeedBacklog {
        rows,
        newest: r(newest),
    };
    // p, s, m_p, f, d, v, c, m_c, inv.
    assert_eq!(tx.feed_backlog(s.id, r(0)).await?, backlog(9, 7), "from 0");
    assert_eq!(
        tx.feed_backlog(s.id, r(4)).await?,
        backlog(5, 7),
        "after r4"
    );
    assert_eq!(
        tx.feed_backlog(s.id, r(6)).await?,
        backlog(1, 7),
        "after r6"
    );
    assert_eq!(
        tx.feed_backlog(s.id, r(7)).await?,
        backlog(0, 7),
        "caught up: r8 and r9 are the other space's"
    );
    assert_eq!(tx.feed_backlog(s.id, r(20)).await?, backlog(0, 20));
    assert_eq!(
        tx.feed_backlog(SpaceId::new(), r(3)).await?,
        backlog(0, 3),
        "an unknown space has nothing past any cursor"
    );
    // The other space: its row, its member and their principal, its
    // document and version; its creator `p` is no member of it.
    assert_eq!(tx.feed_backlog(o.id, r(0)).await?, backlog(5, 9), "other");

    // Whatever the cursor, what `changes` sends in range (parents brought
    // along from before it aside) is what the backlog counts.
    for after in 0..=10 {
        let feed = tx.changes(s.id, r(after), u64::MAX / 2).await?;
        let in_range: Vec<Revision> = feed
            .rows
            .iter()
            .map(|row| row.revision())
            .filter(|rev| *rev > r(after))
            .collect();
        let expected = backlog(
            in_range.len() as u64,
            in_range.iter().max().copied().unwrap_or(r(after)).0,
        );
        assert_eq!(
            tx.feed_backlog(s.id, r(after)).await?,
            expected,
            "after r{after}"
        );
    }
    Ok(())
}
