//! Querying a folder's documents: filtered by name and type and sorted
//! by each key both ways over the whole folder before paging.

use passerelle_core::ids::PrincipalId;
use passerelle_core::model::Page;
use passerelle_core::ports::{DocumentQuery, DocumentSort, Repository};

use super::super::{Outcome, Row, T0, at, document, folder, read, save, seed_space, trashed};
use super::{document_name, names};

/// Filter and sort apply to the whole folder before paging, identically on
/// every engine: name substring (case-insensitive, `%`/`_` literal), type,
/// each sort key both ways, ties by name then id.
pub async fn documents_are_queried_filtered_and_sorted_over_the_whole_folder(
    repo: &dyn Repository,
) -> Outcome {
    let (owner, s) = seed_space(repo, "espace").await?;
    let mut bob = super::super::agent("bob");
    bob.display_name = "Bob".into();
    let mut zoe = super::super::agent("zoe");
    zoe.display_name = "Zoé".into();
    let a = folder(&s, None, "a");
    let mk = |raw: &str, ty: Option<&str>, by: PrincipalId, minutes: i128, v: u32| {
        let mut d = document(&s, None, raw);
        d.doc_type = ty.map(str::to_owned);
        d.created_by = by;
        d.updated_at = at(T0 + minutes * 60_000_000_000);
        d.current_version = v;
        d
    };
    // "Agent owner-espace" sorts before "Bob", "Bob" before "Zoé".
    let docs = [
        mk("Facture 100%.pdf", Some("facture"), bob.id, 5, 2),
        mk("facture_2.pdf", Some("facture"), zoe.id, 1, 7),
        mk("Contrat.odt", Some("contrat-type"), owner.id, 3, 1),
        mk("note.txt", None, zoe.id, 4, 3),
        mk("FACTURE-3.pdf", Some("facture"), owner.id, 2, 1),
    ];
    let mut gone = mk("facture-jetée.pdf", Some("facture"), bob.id, 9, 9);
    gone.trashed = trashed(owner.id, None);
    let inside = {
        let mut d = document(&s, Some(&a), "facture-dans-a.pdf");
        d.doc_type = Some("facture".into());
        d
    };
    let mut rows = vec![Row::from(&bob), Row::from(&zoe), Row::from(&a)];
    rows.extend(docs.iter().map(Row::from));
    rows.push(Row::from(&gone));
    rows.push(Row::from(&inside));
    save(repo, rows).await?;

    let mut tx = read(repo).await?;
    let mut run = async |q: DocumentQuery, page: Page| -> anyhow::Result<(Vec<String>, u64)> {
        let r = tx.query_documents(s.id, None, &q, page).await?;
        Ok((names(&r.items, document_name), r.total))
    };
    let all = Page::new(0, 100);
    let sorted = |sort, descending| DocumentQuery::default().sorted_by(sort, descending);
    assert_eq!(
        run(DocumentQuery::default(), all).await?.0,
        [
            "Contrat.odt",
            "Facture 100%.pdf",
            "FACTURE-3.pdf",
            "facture_2.pdf",
            "note.txt"
        ]
    );
    assert_eq!(
        run(sorted(DocumentSort::Name, true), all).await?.0,
        [
            "note.txt",
            "facture_2.pdf",
            "FACTURE-3.pdf",
            "Facture 100%.pdf",
            "Contrat.odt"
        ]
    );
    assert_eq!(
        run(sorted(DocumentSort::Date, true), all).await?.0,
        [
            "Facture 100%.pdf",
            "note.txt",
            "Contrat.odt",
            "FACTURE-3.pdf",
            "facture_2.pdf"
        ]
    );
    assert_eq!(
        run(sorted(DocumentSort::Version, true), all).await?.0,
        [
            "facture_2.pdf",
            "note.txt",
            "Facture 100%.pdf",
            "Contrat.odt",
            "FACTURE-3.pdf"
        ]
    );
    // Untyped first; "contrat-type" before "facture"; ties by name.
    assert_eq!(
        run(sorted(DocumentSort::Type, false), all).await?.0,
        [
            "note.txt",
            "Contrat.odt",
            "Facture 100%.pdf",
            "FACTURE-3.pdf",
            "facture_2.pdf"
        ]
    );
    assert_eq!(
        run(sorted(DocumentSort::Author, false), all).await?.0,
        [
            "Contrat.odt",
            "FACTURE-3.pdf",
            "Facture 100%.pdf",
            "facture_2.pdf",
            "note.txt"
        ]
    );
    assert_eq!(
        run(sorted(DocumentSort::Author, true), all).await?.0,
        [
            "facture_2.pdf",
            "note.txt",
            "Facture 100%.pdf",
            "Contrat.odt",
            "FACTURE-3.pdf"
        ]
    );
    // Case-insensitive substring; the total counts every match, not the page.
    assert_eq!(
        run(
            DocumentQuery::default().name_contains(" FACTURE"),
            Page::new(1, 1)
        )
        .await?,
        (vec!["FACTURE-3.pdf".to_owned()], 3)
    );
    // `%` and `_` are literal characters, not wildcards.
    assert_eq!(
        run(DocumentQuery::default().name_contains("100%"), all).await?,
        (vec!["Facture 100%.pdf".to_owned()], 1)
    );
    assert_eq!(
        run(DocumentQuery::default().name_contains("e_"), all).await?,
        (vec!["facture_2.pdf".to_owned()], 1)
    );
    let typed = DocumentQuery::default()
        .of_type(Some("facture".into()))
        .sorted_by(DocumentSort::Date, false);
    assert_eq!(
        run(typed.name_contains("pdf"), all).await?,
        (
            vec![
                "facture_2.pdf".to_owned(),
                "FACTURE-3.pdf".to_owned(),
                "Facture 100%.pdf".to_owned()
            ],
            3
        )
    );
    assert_eq!(
        run(DocumentQuery::default().name_contains("absent"), all).await?,
        (vec![], 0)
    );
    let inner = tx
        .query_documents(s.id, Some(a.id), &DocumentQuery::default(), all)
        .await?;
    assert_eq!(inner.items, vec![inside]);
    Ok(())
}

/// A space's latest document is found in whichever folder it sits, never a
/// trashed or purged one nor another space's; ties go to the smallest id.
pub async fn the_latest_document_of_a_space_is_found_in_any_folder(
    repo: &dyn Repository,
) -> Outcome {
    let (owner, s) = seed_space(repo, "activite").await?;
    let (_, other) = seed_space(repo, "ailleurs").await?;
    assert_eq!(read(repo).await?.latest_document(s.id).await?, None);
    let plans = folder(&s, None, "Plans");
    let deep = folder(&s, Some(&plans), "Lot 2");
    let at_minute = |mut d: passerelle_core::model::Document, minutes: i128| {
        d.updated_at = at(T0 + minutes * 60_000_000_000);
        d
    };
    let root = at_minute(document(&s, None, "racine.pdf"), 1);
    let nested = at_minute(document(&s, Some(&deep), "plan-lot2.pdf"), 5);
    let mut binned = at_minute(document(&s, Some(&plans), "jeté.pdf"), 9);
    binned.trashed = trashed(owner.id, None);
    let mut purged = at_minute(document(&s, None, "purgé.pdf"), 10);
    purged.trashed = trashed(owner.id, None);
    purged.purged = true;
    let elsewhere = at_minute(document(&other, None, "ailleurs.pdf"), 11);
    save(
        repo,
        [
            Row::from(&plans),
            Row::from(&deep),
            Row::from(&root),
            Row::from(&nested),
            Row::from(&binned),
            Row::from(&purged),
            Row::from(&elsewhere),
        ],
    )
    .await?;
    let latest = read(repo).await?.latest_document(s.id).await?;
    assert_eq!(
        latest.map(|d| d.id),
        Some(nested.id),
        "the one two folders down"
    );

    // Same time: the smallest id, on every engine.
    let twin = at_minute(document(&s, None, "jumeau.pdf"), 5);
    save(repo, [Row::from(&twin)]).await?;
    let latest = read(repo).await?.latest_document(s.id).await?;
    assert_eq!(latest.map(|d| d.id), Some(nested.id.min(twin.id)));
    Ok(())
}
