//! What only the SQL engines have: data surviving a reconnection, repeated
//! migrations, and rows altered behind the repository's back.

use passerelle_core::model::Page;
use passerelle_core::ports::{RepoError, Repository, TxMode};
use passerelle_sql::SqlRepository;
use sea_orm::ConnectionTrait;

use crate::contract::{Row, document, save, seed_space, version};
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

/// A principal with an unknown kind, a version with a malformed hash and a
/// document with broken metadata: reads fail with `Storage`, no panic.
async fn corrupt_rows_are_storage_errors(t: TestRepo) -> anyhow::Result<()> {
    let url = t.url.clone().expect("an SQL repository");
    let (owner, space) = seed_space(&*t.repo, "corrupt").await?;
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
        "UPDATE spaces SET visibility = 'secret'",
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
