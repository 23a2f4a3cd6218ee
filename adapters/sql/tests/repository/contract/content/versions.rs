//! Versions and the content hashes they name: listed by number, deleted
//! per document, and the hashes every version or one space's name.

use std::collections::HashSet;

use passerelle_core::ContentHash;
use passerelle_core::ids::DocumentId;
use passerelle_core::model::Document;
use passerelle_core::ports::Repository;

use super::super::{
    Outcome, Row, document, folder, read, save, seed_space, trashed, version, write,
};

pub async fn versions_are_listed_by_number_and_deleted_per_document(
    repo: &dyn Repository,
) -> Outcome {
    let (_, s) = seed_space(repo, "espace").await?;
    let (a, b) = (document(&s, None, "a.pdf"), document(&s, None, "b.pdf"));
    let (a1, a2, a3) = (
        version(&a, 1, "un"),
        version(&a, 2, "deux"),
        version(&a, 3, ""),
    );
    let mut big = version(&b, 1, "b");
    big.size = 5 * 1024 * 1024 * 1024 * 1024;
    big.media_type =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into();
    big.comment = String::new();
    save(
        repo,
        [&a, &b]
            .into_iter()
            .map(Row::from)
            .chain([&a3, &a1, &big, &a2].into_iter().map(Row::from)),
    )
    .await?;

    let mut tx = read(repo).await?;
    assert_eq!(
        tx.list_versions(a.id).await?,
        vec![a1.clone(), a2.clone(), a3.clone()]
    );
    assert_eq!(tx.list_versions(b.id).await?, vec![big.clone()]);
    assert_eq!(tx.list_versions(DocumentId::new()).await?, vec![]);
    drop(tx);

    let mut amended = a2.clone();
    amended.comment = "relu".into();
    save(repo, [Row::from(&amended)]).await?;
    assert_eq!(
        read(repo).await?.list_versions(a.id).await?,
        vec![a1, amended, a3]
    );

    let mut tx = write(repo).await?;
    tx.delete_versions(a.id).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.list_versions(a.id).await?, vec![]);
    assert_eq!(tx.list_versions(b.id).await?, vec![big]);
    Ok(())
}

/// A listing's versions: the current one of each live document directly
/// in the folder, none of an older version, a trashed document, another
/// folder or another space.
pub async fn current_versions_are_those_of_the_folders_live_documents(
    repo: &dyn Repository,
) -> Outcome {
    let (owner, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    let lot = folder(&s, None, "Lot");
    let mut a = document(&s, Some(&lot), "a.pdf");
    a.current_version = 2;
    let b = document(&s, Some(&lot), "b.pdf");
    let mut gone = document(&s, Some(&lot), "jeté.pdf");
    gone.trashed = trashed(owner.id, None);
    let at_root = document(&s, None, "racine.pdf");
    let elsewhere = document(&other, None, "ailleurs.pdf");
    let (a1, a2, b1) = (
        version(&a, 1, "a1"),
        version(&a, 2, "a2"),
        version(&b, 1, "b1"),
    );
    let (g1, r1, e1) = (
        version(&gone, 1, "g"),
        version(&at_root, 1, "r"),
        version(&elsewhere, 1, "e"),
    );
    save(
        repo,
        [Row::from(&lot)]
            .into_iter()
            .chain(
                [&a, &b, &gone, &at_root, &elsewhere]
                    .into_iter()
                    .map(Row::from),
            )
            .chain([&a1, &a2, &b1, &g1, &r1, &e1].into_iter().map(Row::from)),
    )
    .await?;
    let mut tx = read(repo).await?;
    let mut got = tx.current_versions(s.id, Some(lot.id)).await?;
    got.sort_by_key(|v| v.document);
    let mut want = vec![a2, b1];
    want.sort_by_key(|v| v.document);
    assert_eq!(got, want);
    assert_eq!(tx.current_versions(s.id, None).await?, vec![r1]);
    assert_eq!(tx.current_versions(other.id, Some(lot.id)).await?, vec![]);
    Ok(())
}

pub async fn referenced_hashes_are_every_version_hash(repo: &dyn Repository) -> Outcome {
    assert_eq!(read(repo).await?.referenced_hashes().await?, HashSet::new());
    let (_, s) = seed_space(repo, "espace").await?;
    let (a, b) = (document(&s, None, "a"), document(&s, None, "b"));
    let shared = version(&a, 1, "même contenu");
    save(
        repo,
        [
            Row::from(&a),
            Row::from(&b),
            Row::from(&shared),
            Row::from(&version(&a, 2, "autre")),
            Row::from(&version(&b, 1, "même contenu")),
        ],
    )
    .await?;
    let expected: HashSet<ContentHash> = [
        ContentHash::of("même contenu".as_bytes()),
        ContentHash::of(b"autre"),
    ]
    .into();
    assert_eq!(read(repo).await?.referenced_hashes().await?, expected);
    Ok(())
}

/// An un-share purge learns the space's blobs from this read: every hash
/// its versions name (trashed documents too), none of another space's.
pub async fn space_hashes_are_the_hashes_of_that_space_only(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "autre").await?;
    assert_eq!(read(repo).await?.space_hashes(s.id).await?, HashSet::new());
    let a = document(&s, None, "a");
    let gone = Document {
        trashed: trashed(p.id, None),
        ..document(&s, None, "b")
    };
    let elsewhere = document(&other, None, "c");
    save(
        repo,
        [
            Row::from(&a),
            Row::from(&gone),
            Row::from(&elsewhere),
            Row::from(&version(&a, 1, "commun")),
            Row::from(&version(&a, 2, "un")),
            Row::from(&version(&gone, 1, "à la corbeille")),
            Row::from(&version(&elsewhere, 1, "commun")),
            Row::from(&version(&elsewhere, 2, "ailleurs")),
        ],
    )
    .await?;
    let expected: HashSet<ContentHash> = [
        ContentHash::of(b"commun"),
        ContentHash::of(b"un"),
        ContentHash::of("à la corbeille".as_bytes()),
    ]
    .into();
    assert_eq!(read(repo).await?.space_hashes(s.id).await?, expected);
    Ok(())
}
