//! Writes: idempotent upserts, deletions, stored text, dropped spaces, and
//! cursors kept with the index across reopening and schema changes.

use std::collections::BTreeMap;

use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::search::{Find, IndexChange, Scope, SearchIndex};
use passerelle_search::{Opened, SCHEMA_VERSION, TantivyIndex};

use super::support::*;

#[tokio::test]
async fn upserting_twice_leaves_one_entry_and_delete_removes_it() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let d = doc(a, "Compte rendu");
    let index = index_of(&[d.clone(), d.clone()]).await?;
    put(&index, std::slice::from_ref(&d)).await?;
    let found = search(&index, anywhere("compte"), Scope::spaces([a])).await?;
    assert_eq!(found.total, 1);

    let mut renamed = d.clone();
    renamed.name = "Procès-verbal".into();
    put(&index, &[renamed]).await?;
    assert_eq!(
        search(&index, anywhere("compte"), Scope::spaces([a]))
            .await?
            .total,
        0
    );
    assert_eq!(
        search(&index, anywhere("proces"), Scope::spaces([a]))
            .await?
            .total,
        1
    );

    index.apply(vec![IndexChange::Delete(d.id)]).await?;
    // Staged only: still there until the commit.
    assert_eq!(
        search(&index, Find::All, Scope::spaces([a])).await?.total,
        1
    );
    index.commit(&[]).await?;
    assert_eq!(
        search(&index, Find::All, Scope::spaces([a])).await?.total,
        0
    );
    index.apply(vec![IndexChange::Delete(d.id)]).await?;
    index.commit(&[]).await?;
    Ok(())
}

#[tokio::test]
async fn stored_text_is_found_by_content_hash_once_committed() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let d = with_text(doc(a, "Note"), "Le texte extrait, une fois.");
    let index = TantivyIndex::in_memory()?;
    index
        .apply(vec![IndexChange::Upsert(Box::new(d.clone()))])
        .await?;
    assert_eq!(index.stored_text(&d.hash).await?, None);
    index.commit(&[]).await?;
    assert_eq!(
        index.stored_text(&d.hash).await?.as_deref(),
        Some("Le texte extrait, une fois.")
    );
    assert_eq!(index.stored_text(&ContentHash::of(b"other")).await?, None);
    Ok(())
}

#[tokio::test]
async fn commit_merges_cursors_and_drop_space_removes_entries_and_cursor() -> anyhow::Result<()> {
    let (a, b) = (SpaceId::new(), SpaceId::new());
    let index = index_of(&[doc(a, "Alpha"), doc(b, "Bêta")]).await?;
    assert_eq!(index.cursors().await?, BTreeMap::new());
    index.commit(&[(a, Revision(3)), (b, Revision(5))]).await?;
    index.commit(&[(a, Revision(7))]).await?;
    assert_eq!(
        index.cursors().await?,
        BTreeMap::from([(a, Revision(7)), (b, Revision(5))])
    );
    index.drop_space(b).await?;
    assert_eq!(index.cursors().await?, BTreeMap::from([(a, Revision(7))]));
    assert_eq!(
        search(&index, Find::All, Scope::spaces([b])).await?.total,
        0
    );
    assert_eq!(
        search(&index, Find::All, Scope::spaces([a])).await?.total,
        1
    );
    Ok(())
}

#[tokio::test]
async fn cursors_and_entries_survive_reopening_the_directory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let a = SpaceId::new();
    {
        let (index, opened) = TantivyIndex::open(dir.path())?;
        assert_eq!(opened, Opened::Rebuilt, "a new directory is a new index");
        index
            .apply(vec![IndexChange::Upsert(Box::new(doc(a, "Gardé")))])
            .await?;
        index.commit(&[(a, Revision(42))]).await?;
    }
    let (index, opened) = TantivyIndex::open(dir.path())?;
    assert_eq!(opened, Opened::Existing);
    assert_eq!(index.cursors().await?, BTreeMap::from([(a, Revision(42))]));
    assert_eq!(
        search(&index, anywhere("garde"), Scope::spaces([a]))
            .await?
            .total,
        1
    );
    Ok(())
}

#[tokio::test]
async fn another_schema_version_or_garbage_is_wiped_and_rebuilt() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let a = SpaceId::new();
    {
        let (index, _) = TantivyIndex::open(dir.path())?;
        put(&index, &[doc(a, "Ancien")]).await?;
        index.commit(&[(a, Revision(9))]).await?;
    }
    std::fs::write(
        dir.path().join("passerelle-schema"),
        (SCHEMA_VERSION + 1).to_string(),
    )?;
    {
        let (index, opened) = TantivyIndex::open(dir.path())?;
        assert_eq!(opened, Opened::Rebuilt);
        assert_eq!(index.cursors().await?, BTreeMap::new());
        assert_eq!(
            search(&index, Find::All, Scope::spaces([a])).await?.total,
            0
        );
    }
    // An unreadable index (its metadata clobbered) is rebuilt as well.
    std::fs::write(dir.path().join("meta.json"), b"not json")?;
    let (index, opened) = TantivyIndex::open(dir.path())?;
    assert_eq!(opened, Opened::Rebuilt);
    put(&index, &[doc(a, "Nouveau")]).await?;
    assert_eq!(
        search(&index, Find::All, Scope::spaces([a])).await?.total,
        1
    );
    Ok(())
}
