//! What only the SQL engines have: data surviving a reconnection, repeated
//! migrations, rows altered behind the repository's back; and the change
//! feed checked against the in-memory fake on generated data.

use passerelle_core::ContentHash;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::model::Page;
use passerelle_core::ports::{RepoError, Repository, TxMode};
use passerelle_core::role::Role;
use passerelle_core::search::{ExtractionRecord, ExtractionStatus};
use passerelle_sql::SqlRepository;
use sea_orm::ConnectionTrait;

use crate::contract::{
    Row, T0, agent, assert_batches_cover_the_space, at, contractor, document, folder, invitation,
    member, save, seed_space, space, trashed, version,
};
use crate::harness::{self, TestRepo};

async fn reconnecting_keeps_committed_data(t: TestRepo) -> anyhow::Result<()> {
    let url = t.url.clone().expect("an SQL repository");
    let (owner, space) = seed_space(&*t.repo, "durable").await?;
    let mut tx = t.repo.begin(TxMode::Write).await?;
    let revision = tx.next_revision().await?;
    tx.commit().await?;

    let again = SqlRepository::connect(&url).await?;
    again.migrate().await?;
    let mut tx = again.begin(TxMode::Write).await?;
    assert_eq!(tx.principal(owner.id).await?, Some(owner));
    assert_eq!(tx.space(space.id).await?, Some(space));
    assert_eq!(
        tx.next_revision().await?,
        revision.next(),
        "the counter is stored too"
    );
    Ok(())
}

/// A principal with an unknown kind, a version with a malformed hash, a
/// document with broken metadata and a space shared with something that is
/// no node id: reads fail with `Storage`, no panic.
async fn corrupt_rows_are_storage_errors(t: TestRepo) -> anyhow::Result<()> {
    let url = t.url.clone().expect("an SQL repository");
    let (owner, space) = seed_space(&*t.repo, "corrupt").await?;
    let (_, shared) = seed_space(&*t.repo, "corrupt-edge").await?;
    let doc = document(&space, None, "a.txt");
    save(
        &*t.repo,
        [Row::from(&doc), Row::from(&version(&doc, 1, "x"))],
    )
    .await?;

    let raw = sea_orm::Database::connect(url.as_str()).await?;
    for sql in [
        "UPDATE principals SET kind = 'robot'",
        "UPDATE versions SET hash = 'not-a-hash'",
        "UPDATE documents SET metadata = '{broken'",
        "UPDATE spaces SET visibility = 'secret' WHERE slug = 'corrupt'",
        "UPDATE spaces SET edge = '../edge-1' WHERE slug = 'corrupt-edge'",
    ] {
        raw.execute_unprepared(sql).await?;
    }
    raw.close().await?;

    let mut tx = t.repo.begin(TxMode::Read).await?;
    let storage = |r: Result<String, RepoError>| match r {
        Err(RepoError::Storage(e)) => e.to_string(),
        other => panic!("expected Storage, got {other:?}"),
    };
    let message = storage(tx.principal(owner.id).await.map(|p| format!("{p:?}")));
    assert!(
        message.contains("principals") && message.contains("robot"),
        "{message}"
    );
    storage(
        tx.list_principals(Page::all())
            .await
            .map(|p| format!("{p:?}")),
    );
    let message = storage(tx.list_versions(doc.id).await.map(|v| format!("{v:?}")));
    assert!(message.contains("versions"), "{message}");
    storage(tx.referenced_hashes().await.map(|h| format!("{h:?}")));
    let message = storage(tx.document(doc.id).await.map(|d| format!("{d:?}")));
    assert!(message.contains("metadata"), "{message}");
    storage(tx.space(space.id).await.map(|s| format!("{s:?}")));
    let message = storage(tx.space(shared.id).await.map(|s| format!("{s:?}")));
    assert!(message.contains("edge"), "{message}");
    Ok(())
}

mod reconnecting_keeps_committed_data_and_migrating_again_is_harmless {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() -> anyhow::Result<()> {
        reconnecting_keeps_committed_data(harness::sqlite().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() -> anyhow::Result<()> {
        match harness::postgres().await? {
            Some(t) => reconnecting_keeps_committed_data(t).await,
            None => Ok(()),
        }
    }
}

mod corrupt_rows_are_storage_errors_not_panics {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() -> anyhow::Result<()> {
        corrupt_rows_are_storage_errors(harness::sqlite().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() -> anyhow::Result<()> {
        match harness::postgres().await? {
            Some(t) => corrupt_rows_are_storage_errors(t).await,
            None => Ok(()),
        }
    }
}

/// An extraction row whose status is unknown, then whose hash is malformed:
/// every read of it fails with `Storage` naming the table, no panic.
async fn corrupt_extractions_are_storage_errors(t: TestRepo) -> anyhow::Result<()> {
    let url = t.url.clone().expect("an SQL repository");
    let record = ExtractionRecord {
        hash: ContentHash::of(b"abime"),
        status: ExtractionStatus::Failed,
        reason: "tronqué".into(),
        attempts: 1,
        tried_at: at(T0),
        next_try: Some(at(T0 + 1)),
    };
    t.log.record(&record).await?;
    let raw = sea_orm::Database::connect(url.as_str()).await?;
    raw.execute_unprepared("UPDATE extractions SET status = 'lost'")
        .await?;

    let storage = |r: Result<String, RepoError>| match r {
        Err(RepoError::Storage(e)) => e.to_string(),
        other => panic!("expected Storage, got {other:?}"),
    };
    let message = storage(
        t.log
            .extraction(&record.hash)
            .await
            .map(|r| format!("{r:?}")),
    );
    assert!(
        message.contains("extractions") && message.contains("lost"),
        "{message}"
    );
    storage(t.log.due(at(T0 + 1), 10).await.map(|r| format!("{r:?}")));
    storage(t.log.problems(Page::all()).await.map(|r| format!("{r:?}")));
    let message = storage(t.log.count_by_status().await.map(|r| format!("{r:?}")));
    assert!(message.contains("lost"), "{message}");

    raw.execute_unprepared("UPDATE extractions SET status = 'failed', hash = 'not-a-hash'")
        .await?;
    raw.close().await?;
    let message = storage(t.log.problems(Page::all()).await.map(|r| format!("{r:?}")));
    assert!(
        message.contains("extractions") && message.contains("not-a-hash"),
        "{message}"
    );
    Ok(())
}

mod corrupt_extractions_are_storage_errors_not_panics {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() -> anyhow::Result<()> {
        corrupt_extractions_are_storage_errors(harness::sqlite().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() -> anyhow::Result<()> {
        match harness::postgres().await? {
            Some(t) => corrupt_extractions_are_storage_errors(t).await,
            None => Ok(()),
        }
    }
}

/// Ordering must not depend on the server's default collation: the sorted
/// text columns are `COLLATE "C"` (code point order, as SQLite and Rust).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_text_columns_use_code_point_order_on_postgres() -> anyhow::Result<()> {
    let Some(t) = harness::postgres().await? else {
        return Ok(());
    };
    let raw = sea_orm::Database::connect(t.url.clone().expect("a URL").as_str()).await?;
    let rows = raw
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns \
             WHERE column_name IN ('login', 'slug', 'title', 'title_key', 'name_key', 'type_key') \
             AND table_schema = 'public' ORDER BY 1",
        ))
        .await?;
    let found: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    assert_eq!(found.len(), 7, "{found:?}");
    assert!(
        found.iter().all(|(_, c)| c.as_deref() == Some("C")),
        "{found:?}"
    );
    raw.close().await?;
    Ok(())
}

/// A small deterministic generator (no dependency, same data every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn revision(&mut self) -> Revision {
        Revision(1 + self.below(20) as i64)
    }
}

/// Two spaces with many rows per revision, revisions drawn at random (so
/// documents and principals are often newer than their versions and
/// memberships); the space is shared last (the newest revision).
fn feed_fixture() -> (SpaceId, Vec<Row>) {
    let mut rng = Lcg(0x7061_7373);
    let owner = agent("owner");
    let mut s = space("partage", "Partagé", owner.id);
    s.edge = Some("edge-1".parse().expect("node id"));
    s.revision = Revision(21);
    let o = space("autre", "Autre", owner.id);
    let mut rows = vec![Row::from(&owner), Row::from(&s), Row::from(&o)];
    for i in 0..12 {
        let mut p = contractor(&format!("c.{i}"));
        p.revision = rng.revision();
        rows.push(Row::from(&p));
        for sp in [&s, &o] {
            if rng.below(3) > 0 {
                let mut m = member(sp, &p, Role::Reader);
                m.removed = rng.below(4) == 0;
                m.revision = rng.revision();
                rows.push(Row::from(&m));
            }
        }
        if i % 3 == 0 {
            let mut inv = invitation(&s, &p, &format!("secret-{i}"));
            inv.revision = rng.revision();
            rows.push(Row::from(&inv));
        }
    }
    for i in 0..16 {
        let sp = if i % 4 == 0 { &o } else { &s };
        let mut f = folder(sp, None, &format!("f{i}"));
        f.revision = rng.revision();
        let mut d = document(sp, Some(&f), &format!("d{i}"));
        d.revision = rng.revision();
        if rng.below(4) == 0 {
            d.trashed = trashed(owner.id, None);
            d.purged = rng.below(2) == 0;
        }
        rows.extend([Row::from(&f), Row::from(&d)]);
        for n in 1..=1 + rng.below(3) as u32 {
            let mut v = version(&d, n, &format!("{i}-{n}"));
            v.revision = rng.revision();
            rows.push(Row::from(&v));
        }
    }
    (s.id, rows)
}

/// The SQL feed (per-table windows of `limit + 1` rows, merged, re-read
/// when a revision is larger than the limit, parents added) agrees row for
/// row and cursor for cursor with the fake's (every row, then cut) for
/// every cursor and many limits; paging through either covers the space.
async fn the_feed_agrees_with_the_in_memory_fake(t: TestRepo) -> anyhow::Result<()> {
    let memory = harness::memory();
    let (space, rows) = feed_fixture();
    save(&*t.repo, rows.clone()).await?;
    save(&*memory.repo, rows).await?;
    let mut sql = t.repo.begin(TxMode::Read).await?;
    let mut mem = memory.repo.begin(TxMode::Read).await?;
    for after in 0..=22 {
        for limit in [0, 1, 2, 3, 5, 8, 13, 40, 1000] {
            let after = Revision(after);
            assert_eq!(
                sql.changes(space, after, limit).await?,
                mem.changes(space, after, limit).await?,
                "after {after}, limit {limit}"
            );
        }
    }
    for limit in [0, 1, 2, 3, 5, 8] {
        let on_sql = assert_batches_cover_the_space(&mut *sql, space, limit).await?;
        let on_memory = assert_batches_cover_the_space(&mut *mem, space, limit).await?;
        assert_eq!(on_sql, on_memory, "limit {limit}");
    }
    Ok(())
}

mod the_feed_agrees_with_the_in_memory_fake_on_random_data {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() -> anyhow::Result<()> {
        the_feed_agrees_with_the_in_memory_fake(harness::sqlite().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() -> anyhow::Result<()> {
        match harness::postgres().await? {
            Some(t) => the_feed_agrees_with_the_in_memory_fake(t).await,
            None => Ok(()),
        }
    }
}
