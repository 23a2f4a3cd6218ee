//! Writes: idempotent upserts, deletions, stored text, dropped spaces, and
//! cursors kept with the index across reopening and schema changes.

use std::collections::BTreeMap;

use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::search::{Find, IndexChange, Scope, SearchIndex, Within};
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

/// Issue 14's memory target: the index's files are read, never mapped, so
/// that they do not count in the node's resident memory however big the
/// index grows. Searched (postings, positions, stored text for snippets),
/// committed several times and merged, then the process's maps are read.
#[tokio::test]
async fn an_index_on_disk_is_written_and_searched_without_mapping_its_files() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let a = SpaceId::new();
    let b = SpaceId::new();
    let (index, _) = TantivyIndex::open(dir.path())?;
    for (i, space) in [a, b, a, b].into_iter().enumerate() {
        let d = with_text(
            doc(space, &format!("Délibération {i}")),
            "le conseil métropolitain adopte le plan de mobilité",
        );
        put(&index, &[d]).await?;
    }
    index.drop_space(b).await?;
    let phrase = Find::Phrase {
        within: Within::Anywhere,
        words: vec!["conseil".into(), "métropolitain".into()],
    };
    let found = search(&index, phrase, Scope::spaces([a])).await?;
    assert_eq!(found.total, 2);
    assert!(found.hits.iter().all(|h| !h.snippet.text.is_empty()));
    let text = ContentHash::of("le conseil métropolitain adopte le plan de mobilité".as_bytes());
    assert!(index.stored_text(&text).await?.is_some());

    let root = dir.path().canonicalize()?;
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let mapped: Vec<&str> = maps
        .lines()
        .filter(|l| l.contains(&*root.to_string_lossy()))
        .collect();
    assert!(mapped.is_empty(), "index files mapped: {mapped:?}");
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

/// Every file of `dir` that holds `needle`.
fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read(p)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// An un-share purge leaves nothing of the space on the edge's disk: a
/// dropped space's stored text is gone from the index's files, not only
/// marked deleted, while the other spaces' stays.
#[tokio::test]
async fn a_dropped_space_leaves_no_byte_in_the_index_directory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (a, b) = (SpaceId::new(), SpaceId::new());
    let (index, _) = TantivyIndex::open(dir.path())?;
    // Stored text is compressed in blocks (LZ4): a run of four bytes seen
    // earlier in the block is stored as a reference to it, not as bytes.
    // So the markers share no four bytes with each other (the two
    // documents may be stored in either order) nor with the ids stored
    // beside them (hex digits and hyphens: each marker has a letter past
    // `f` in every four bytes).
    let secret = "zqxj vwkp confidentiel rsyh";
    let kept = "conserve hmrt publiquement lnzw";
    index
        .apply(vec![
            IndexChange::Upsert(Box::new(with_text(doc(b, "Secret"), secret))),
            IndexChange::Upsert(Box::new(with_text(doc(a, "Garde"), kept))),
        ])
        .await?;
    index.commit(&[(a, Revision(1)), (b, Revision(1))]).await?;
    assert!(!files_holding(dir.path(), secret.as_bytes()).is_empty());
    index.drop_space(b).await?;
    assert_eq!(
        files_holding(dir.path(), secret.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
    assert!(!files_holding(dir.path(), kept.as_bytes()).is_empty());
    assert_eq!(
        search(&index, anywhere("conserve"), Scope::spaces([a]))
            .await?
            .total,
        1
    );
    Ok(())
}

/// `search reindex`: refused while a node holds the index, then deletes
/// it, and the next open starts from nothing.
#[tokio::test]
async fn reset_is_refused_while_the_index_is_open_and_empties_it_after() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let a = SpaceId::new();
    let (index, _) = TantivyIndex::open(dir.path())?;
    put(&index, &[doc(a, "Gardé")]).await?;
    index.commit(&[(a, Revision(4))]).await?;
    assert!(matches!(
        TantivyIndex::reset(dir.path()),
        Err(passerelle_search::ResetError::InUse(_))
    ));
    drop(index);
    assert!(TantivyIndex::reset(dir.path())?);
    let (index, opened) = TantivyIndex::open(dir.path())?;
    assert_eq!(opened, Opened::Rebuilt);
    assert!(index.cursors().await?.is_empty());
    assert!(!TantivyIndex::reset(&dir.path().join("absent"))?);
    Ok(())
}
