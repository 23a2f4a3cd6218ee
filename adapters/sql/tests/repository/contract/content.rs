//! Folders, documents, names and the trash; versions and their hashes in
//! `versions`, querying a folder's documents in `query`.

mod query;
mod versions;

pub use query::*;
pub use versions::*;

use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use passerelle_core::model::{ApiToken, Page, Session, TokenKind};
use passerelle_core::ports::Repository;
use passerelle_core::role::Role;
use serde_json::json;

use super::{
    Outcome, Row, T0, assert_conflict, assert_storage, at, document, folder, member, name, read,
    save, seed_space, space, trashed, version, write,
};

fn names<T>(items: &[T], name_of: fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| name_of(i).to_owned()).collect()
}

fn folder_name(f: &passerelle_core::model::Folder) -> &str {
    f.name.as_str()
}

fn document_name(d: &passerelle_core::model::Document) -> &str {
    d.name.as_str()
}

pub async fn folders_round_trip_exactly_including_trash_state(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let root = folder(&s, None, "Marchés publics");
    let child = folder(&s, Some(&root), "2026 — Lot n°3");
    let mut trashed_alone = folder(&s, Some(&root), "Brouillons");
    trashed_alone.trashed = trashed(p.id, None);
    trashed_alone.revision = Revision(77);
    let mut trashed_along = folder(&s, Some(&trashed_alone), "Anciens");
    trashed_along.trashed = trashed(p.id, Some(trashed_alone.id));
    let mut purged = folder(&s, None, "Purgé");
    purged.trashed = trashed(p.id, None);
    purged.purged = true;
    let all = [&root, &child, &trashed_alone, &trashed_along, &purged];
    save(repo, all.iter().map(|f| Row::from(*f))).await?;

    let mut tx = read(repo).await?;
    for f in all {
        assert_eq!(tx.folder(f.id).await?.as_ref(), Some(f));
    }
    assert_eq!(tx.folder(FolderId::new()).await?, None);
    drop(tx);

    let mut restored = trashed_alone.clone();
    restored.trashed = None;
    restored.revision = Revision(78);
    save(repo, [Row::from(&restored)]).await?;
    assert_eq!(read(repo).await?.folder(restored.id).await?, Some(restored));
    Ok(())
}

pub async fn documents_round_trip_exactly_including_metadata_and_trash_state(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let f = folder(&s, None, "Factures");
    let mut typed = document(&s, Some(&f), "Facture F-2026-0042.pdf");
    typed.doc_type = Some("facture".into());
    let serde_json::Value::Object(metadata) = json!({
        "numero": "F-2026-0042",
        "montant_ttc": "1234.50",
        "echeance": "2026-01-31",
        "payée": true,
        "quantite": 42,
        "lignes": [{"article": "béton", "prix": "99.90"}],
        "note": null,
        "texte": "guillemets \" et \\ barre, émoji 🏗️",
    }) else {
        unreachable!("a JSON object literal")
    };
    typed.metadata = metadata;
    typed.current_version = 3;
    let mut in_trash = document(&s, None, "notes.txt");
    in_trash.trashed = trashed(p.id, Some(f.id));
    in_trash.updated_at = at(T0 + 123_456_789_012);
    save(
        repo,
        [Row::from(&f), Row::from(&typed), Row::from(&in_trash)],
    )
    .await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.document(typed.id).await?, Some(typed.clone()));
    assert_eq!(tx.document(in_trash.id).await?, Some(in_trash.clone()));
    assert_eq!(tx.document(DocumentId::new()).await?, None);
    drop(tx);

    let mut moved = typed.clone();
    moved.folder = None;
    moved.name = name("Facture F-2026-0042 (payée).pdf");
    moved.metadata.remove("note");
    moved.doc_type = None;
    moved.current_version = 4;
    moved.purged = true;
    moved.trashed = trashed(p.id, None);
    save(repo, [Row::from(&moved)]).await?;
    assert_eq!(read(repo).await?.document(typed.id).await?, Some(moved));
    Ok(())
}

pub async fn live_items_are_listed_by_name_under_their_parent(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other_space) = seed_space(repo, "other").await?;
    let a = folder(&s, None, "a-dossier");
    let b = folder(&s, None, "B-dossier");
    let mut gone = folder(&s, None, "0-corbeille");
    gone.trashed = trashed(p.id, None);
    let mut purged = folder(&s, None, "0-purgé");
    purged.trashed = trashed(p.id, None);
    purged.purged = true;
    let child = folder(&s, Some(&a), "enfant");
    let elsewhere = folder(&other_space, None, "0-ailleurs");
    let docs = [
        document(&s, None, "Zeta.pdf"),
        document(&s, None, "alpha.txt"),
        document(&s, None, "Beta.doc"),
        document(&s, Some(&a), "dans-a.txt"),
        document(&other_space, None, "0-autre.txt"),
    ];
    let mut trashed_doc = document(&s, None, "0-jeté.txt");
    trashed_doc.trashed = trashed(p.id, None);
    let mut rows: Vec<Row> = [&a, &b, &gone, &purged, &child, &elsewhere]
        .into_iter()
        .map(Row::from)
        .collect();
    rows.extend(docs.iter().map(Row::from));
    rows.push(Row::from(&trashed_doc));
    save(repo, rows).await?;

    let mut tx = read(repo).await?;
    assert_eq!(
        names(&tx.list_folders(s.id, None).await?, folder_name),
        ["a-dossier", "B-dossier"]
    );
    assert_eq!(tx.list_folders(s.id, Some(a.id)).await?, vec![child]);
    assert_eq!(tx.list_folders(s.id, Some(b.id)).await?, vec![]);
    let page = tx.list_documents(s.id, None, Page::new(0, 2)).await?;
    assert_eq!(
        (names(&page.items, document_name), page.total),
        (vec!["alpha.txt".into(), "Beta.doc".into()], 3)
    );
    let page = tx.list_documents(s.id, None, Page::new(2, 2)).await?;
    assert_eq!(
        (names(&page.items, document_name), page.total),
        (vec!["Zeta.pdf".into()], 3)
    );
    let page = tx.list_documents(s.id, Some(a.id), Page::default()).await?;
    assert_eq!((page.items, page.total), (vec![docs[3].clone()], 1));
    let page = tx
        .list_documents(SpaceId::new(), None, Page::default())
        .await?;
    assert_eq!((page.items.len(), page.total), (0, 0));
    Ok(())
}

pub async fn name_taken_is_case_insensitive_and_ignores_trashed_rows_and_the_exception(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "other").await?;
    let reports = folder(&s, None, "Rapports");
    let quote = document(&s, None, "Devis.pdf");
    let mut old = document(&s, None, "old.txt");
    old.trashed = trashed(p.id, None);
    let inner = document(&s, Some(&reports), "inner.txt");
    save(
        repo,
        [
            Row::from(&reports),
            Row::from(&quote),
            Row::from(&old),
            Row::from(&inner),
        ],
    )
    .await?;

    let mut tx = read(repo).await?;
    let key = |raw: &str| name(raw).unique_key();
    assert!(
        tx.name_taken(s.id, None, &key("RAPPORTS"), None).await?,
        "a folder's name"
    );
    assert!(
        tx.name_taken(s.id, None, &key("DEVIS.PDF"), None).await?,
        "a document's name"
    );
    assert!(
        !tx.name_taken(s.id, None, &key("old.txt"), None).await?,
        "trashed rows free their name"
    );
    assert!(
        !tx.name_taken(s.id, None, &key("inner.txt"), None).await?,
        "another folder"
    );
    assert!(
        tx.name_taken(s.id, Some(reports.id), &key("Inner.TXT"), None)
            .await?
    );
    assert!(
        !tx.name_taken(other.id, None, &key("devis.pdf"), None)
            .await?,
        "another space"
    );
    assert!(
        !tx.name_taken(s.id, None, &key("devis.pdf"), Some(quote.id.as_uuid()))
            .await?,
        "the document itself"
    );
    assert!(
        !tx.name_taken(s.id, None, &key("rapports"), Some(reports.id.as_uuid()))
            .await?,
        "the folder itself"
    );
    assert!(
        tx.name_taken(s.id, None, &key("rapports"), Some(quote.id.as_uuid()))
            .await?,
        "another exception"
    );
    Ok(())
}

pub async fn a_duplicate_live_name_in_a_folder_is_a_conflict(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "other").await?;
    let plans = folder(&s, None, "Plans");
    let first = document(&s, None, "a.txt");
    save(repo, [Row::from(&plans), Row::from(&first)]).await?;

    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_folder(&folder(&s, None, "PLANS")).await,
        "folder at the root",
    );
    drop(tx);
    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_document(&document(&s, None, "A.TXT")).await,
        "document at the root",
    );
    drop(tx);
    let sub = folder(&s, Some(&plans), "plans");
    let sub_twin = folder(&s, Some(&plans), "Plans");
    let mut tx = write(repo).await?;
    tx.save_folder(&sub).await?;
    assert_conflict(tx.save_folder(&sub_twin).await, "folder in a folder");
    drop(tx);

    // The same name elsewhere, or beside trashed rows, is fine.
    let mut trashed_first = first.clone();
    trashed_first.trashed = trashed(p.id, None);
    let successor = document(&s, None, "A.txt");
    save(
        repo,
        [
            Row::from(&sub),
            Row::from(&document(&s, Some(&plans), "a.txt")),
            Row::from(&document(&other, None, "a.txt")),
            Row::from(&folder(&other, None, "plans")),
            Row::from(&trashed_first),
            Row::from(&successor),
        ],
    )
    .await?;
    // Restoring the trashed one now clashes with its successor.
    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_document(&first).await,
        "restored beside its successor",
    );
    Ok(())
}

pub async fn the_trash_lists_trashed_but_not_purged_items(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "other").await?;
    let live = folder(&s, None, "vivant");
    let mut binned = folder(&s, None, "jeté");
    binned.trashed = trashed(p.id, None);
    let mut purged = folder(&s, None, "purgé");
    purged.trashed = trashed(p.id, None);
    purged.purged = true;
    let mut binned_doc = document(&s, Some(&binned), "b.txt");
    binned_doc.trashed = trashed(p.id, Some(binned.id));
    let mut binned_doc2 = document(&s, None, "a.txt");
    binned_doc2.trashed = trashed(p.id, None);
    let mut purged_doc = document(&s, None, "c.txt");
    purged_doc.trashed = trashed(p.id, None);
    purged_doc.purged = true;
    let mut elsewhere = document(&other, None, "d.txt");
    elsewhere.trashed = trashed(p.id, None);
    let live_doc = document(&s, None, "e.txt");
    save(
        repo,
        [&live, &binned, &purged].into_iter().map(Row::from).chain(
            [
                &binned_doc,
                &binned_doc2,
                &purged_doc,
                &elsewhere,
                &live_doc,
            ]
            .into_iter()
            .map(Row::from),
        ),
    )
    .await?;

    let (folders, documents) = read(repo).await?.list_trash(s.id).await?;
    assert_eq!(folders, vec![binned]);
    assert_eq!(documents, vec![binned_doc2, binned_doc]);
    Ok(())
}

pub async fn all_folders_include_trashed_but_not_purged_ones(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (_, other) = seed_space(repo, "other").await?;
    let root = folder(&s, None, "b");
    let child = folder(&s, Some(&root), "a");
    let mut binned = folder(&s, Some(&child), "c");
    binned.trashed = trashed(p.id, None);
    let mut purged = folder(&s, None, "d");
    purged.trashed = trashed(p.id, None);
    purged.purged = true;
    let elsewhere = folder(&other, None, "e");
    save(
        repo,
        [&root, &child, &binned, &purged, &elsewhere]
            .into_iter()
            .map(Row::from),
    )
    .await?;
    assert_eq!(
        read(repo).await?.all_folders(s.id).await?,
        vec![child, root, binned]
    );
    Ok(())
}

pub async fn documents_in_folders_include_trashed_but_not_purged_ones(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let (f1, f2, f3) = (
        folder(&s, None, "f1"),
        folder(&s, None, "f2"),
        folder(&s, None, "f3"),
    );
    let live1 = document(&s, Some(&f1), "c.txt");
    let mut binned1 = document(&s, Some(&f1), "a.txt");
    binned1.trashed = trashed(p.id, Some(f1.id));
    let live2 = document(&s, Some(&f2), "b.txt");
    let mut purged2 = document(&s, Some(&f2), "d.txt");
    purged2.trashed = trashed(p.id, None);
    purged2.purged = true;
    let not_asked = document(&s, Some(&f3), "e.txt");
    let at_root = document(&s, None, "f.txt");
    save(
        repo,
        [&f1, &f2, &f3].into_iter().map(Row::from).chain(
            [&live1, &binned1, &live2, &purged2, &not_asked, &at_root]
                .into_iter()
                .map(Row::from),
        ),
    )
    .await?;

    let mut tx = read(repo).await?;
    let expected = vec![binned1, live2, live1];
    assert_eq!(
        tx.documents_in_folders(s.id, &[f1.id, f2.id]).await?,
        expected
    );
    assert_eq!(tx.documents_in_folders(s.id, &[]).await?, vec![]);
    assert_eq!(
        tx.documents_in_folders(SpaceId::new(), &[f1.id]).await?,
        vec![]
    );
    // Long lists (a deep tree) are fine too.
    let mut many: Vec<FolderId> = (0..1_200).map(|_| FolderId::new()).collect();
    many.insert(700, f2.id);
    many.push(f1.id);
    assert_eq!(tx.documents_in_folders(s.id, &many).await?, expected);
    Ok(())
}

/// Foreign keys: sessions and tokens need their principal, memberships,
/// folders and documents their space, versions their document.
pub async fn rows_referring_to_missing_parents_are_refused(repo: &dyn Repository) -> Outcome {
    let (p, s) = seed_space(repo, "espace").await?;
    let ghost_space = space("ghost", "Ghost", p.id);
    let ghost_doc = document(&s, None, "ghost.txt");
    let nobody = PrincipalId::new();
    let session = Session {
        token_hash: ContentHash::of(b"session"),
        principal: nobody,
        csrf: "csrf".into(),
        created_at: at(T0),
        expires_at: at(T0 + 1),
    };
    let token = ApiToken {
        id: TokenId::new(),
        principal: nobody,
        kind: TokenKind::Api,
        name: "app".into(),
        token_hash: ContentHash::of(b"token"),
        created_at: at(T0),
        expires_at: None,
        revoked: false,
    };

    // One transaction per attempt: on PostgreSQL a failed statement ends it.
    assert_storage(
        write(repo).await?.save_session(&session).await,
        "session of nobody",
    );
    assert_storage(
        write(repo).await?.save_token(&token).await,
        "token of nobody",
    );
    assert_storage(
        write(repo)
            .await?
            .save_membership(&member(&ghost_space, &p, Role::Reader))
            .await,
        "membership",
    );
    assert_storage(
        write(repo)
            .await?
            .save_folder(&folder(&ghost_space, None, "f"))
            .await,
        "folder",
    );
    assert_storage(
        write(repo)
            .await?
            .save_document(&document(&ghost_space, None, "d"))
            .await,
        "document",
    );
    assert_storage(
        write(repo)
            .await?
            .save_version(&version(&ghost_doc, 1, "v"))
            .await,
        "version",
    );
    Ok(())
}
