//! What a page holds: order, paging against the total, facets over every
//! hit, and snippets that point at the matched words.

use std::collections::BTreeMap;

use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::search::{Find, Scope, SearchIndex, Sort};
use time::macros::datetime;

use super::support::*;

fn dated(space: SpaceId) -> Vec<passerelle_core::search::IndexedDocument> {
    vec![
        modified(doc(space, "bravo rapport"), datetime!(2024-05-01 10:00 UTC)),
        modified(
            doc(space, "Écoles rapport"),
            datetime!(2026-01-01 10:00 UTC),
        ),
        modified(doc(space, "alpha rapport"), datetime!(2025-07-01 10:00 UTC)),
        modified(doc(space, "Delta rapport"), datetime!(2023-02-01 10:00 UTC)),
    ]
}

#[tokio::test]
async fn sorts_by_date_by_name_and_by_relevance_with_newest_first_on_ties() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let docs = dated(a);
    let index = index_of(&docs).await?;
    let mut req = request(anywhere("rapport"), Scope::spaces([a]));

    req.sort = Sort::Modified;
    let found = index.search(&req).await?;
    let by_date = [
        "Écoles rapport",
        "alpha rapport",
        "bravo rapport",
        "Delta rapport",
    ];
    assert_eq!(names(&found, &docs), by_date);

    req.sort = Sort::Name;
    let found = index.search(&req).await?;
    let by_name = [
        "alpha rapport",
        "bravo rapport",
        "Delta rapport",
        "Écoles rapport",
    ];
    assert_eq!(names(&found, &docs), by_name);

    // Same words, same lengths but one: equal scores fall back to newest.
    req.sort = Sort::Relevance;
    req.find = Find::All;
    let found = index.search(&req).await?;
    assert_eq!(names(&found, &docs), by_date);
    Ok(())
}

#[tokio::test]
async fn pages_are_consistent_with_the_total() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let docs: Vec<_> = (0..25)
        .map(|i| {
            modified(
                doc(a, &format!("Rapport {i:02}")),
                datetime!(2026-01-01 00:00 UTC) + time::Duration::hours(i),
            )
        })
        .collect();
    let index = index_of(&docs).await?;
    let mut req = request(anywhere("rapport"), Scope::spaces([a]));
    req.sort = Sort::Name;
    req.limit = 10;
    let mut seen = Vec::new();
    for offset in [0, 10, 20, 30] {
        req.offset = offset;
        let found = index.search(&req).await?;
        assert_eq!(found.total, 25);
        seen.extend(names(&found, &docs));
    }
    let expected: Vec<_> = (0..25).map(|i| format!("Rapport {i:02}")).collect();
    assert_eq!(seen, expected);

    req.limit = 0;
    req.offset = usize::MAX;
    let found = index.search(&req).await?;
    assert_eq!(
        (found.total, found.hits.len()),
        (25, 0),
        "clamped, not panicking"
    );
    Ok(())
}

#[tokio::test]
async fn facets_count_every_hit_not_only_the_page() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let (alice, bob) = (PrincipalId::new(), PrincipalId::new());
    let mut docs = Vec::new();
    for i in 0..30 {
        let mut d = doc(a, &format!("Marché {i}"));
        d.doc_type = match i % 3 {
            0 => Some("facture".into()),
            1 => Some("contrat".into()),
            _ => None,
        };
        d.author = if i < 20 { alice } else { bob };
        d.modified = if i < 12 {
            datetime!(2025-06-01 00:00 UTC)
        } else {
            datetime!(2026-06-01 00:00 UTC)
        };
        docs.push(d);
    }
    let index = index_of(&docs).await?;
    let mut req = request(anywhere("marche"), Scope::spaces([a]));
    req.limit = 5;
    let found = index.search(&req).await?;
    assert_eq!(found.total, 30);
    assert_eq!(found.hits.len(), 5);
    let f = found.facets;
    assert_eq!(
        f.types,
        BTreeMap::from([("contrat".to_owned(), 10), ("facture".to_owned(), 10)])
    );
    assert_eq!(f.spaces, BTreeMap::from([(a, 30)]));
    assert_eq!(f.authors, BTreeMap::from([(alice, 20), (bob, 10)]));
    assert_eq!(f.years, BTreeMap::from([(2025, 12), (2026, 18)]));
    Ok(())
}

#[tokio::test]
async fn snippets_highlight_the_matched_words_on_char_boundaries() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let text = "Préambule. Après délibération, le conseil adopte les délibérations \
                relatives à l'été prochain. Fin.";
    let docs = vec![with_text(doc(a, "Séance"), text)];
    let index = index_of(&docs).await?;
    let found = search(&index, anywhere("deliberation"), Scope::spaces([a])).await?;
    let snippet = &found.hits[0].snippet;
    let marked: Vec<&str> = snippet
        .highlights
        .iter()
        .map(|r| &snippet.text[r.clone()])
        .collect();
    assert_eq!(marked, ["délibération", "délibérations"]);
    assert!(snippet.to_html().contains("<mark>délibération</mark>"));

    let prefix = Find::Prefix {
        within: passerelle_core::search::Within::Anywhere,
        text: "delib".into(),
    };
    let found = search(&index, prefix, Scope::spaces([a])).await?;
    assert_eq!(found.hits[0].snippet.highlights.len(), 2);
    Ok(())
}

#[tokio::test]
async fn snippets_fall_back_to_the_comment_then_the_name() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let mut commented = with_text(doc(a, "Plan"), "Rien à voir ici.");
    commented.comment = "Version validée par le comité".into();
    let named = doc(a, "Comité de pilotage");
    let docs = vec![commented, named];
    let index = index_of(&docs).await?;
    let mut req = request(anywhere("comite"), Scope::spaces([a]));
    req.sort = Sort::Name;
    let found = index.search(&req).await?;
    let texts: Vec<&str> = found.hits.iter().map(|h| h.snippet.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Comité de pilotage", "Version validée par le comité"]
    );

    // Filters alone highlight nothing.
    let found = search(&index, Find::All, Scope::spaces([a])).await?;
    assert!(found.hits.iter().all(|h| h.snippet == Default::default()));
    Ok(())
}

#[tokio::test]
async fn snippets_are_plain_text_that_core_escapes() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let text = "Avant <script>alert('budget')</script> après";
    let docs = vec![with_text(doc(a, "Piège"), text)];
    let index = index_of(&docs).await?;
    let found = search(&index, anywhere("budget"), Scope::spaces([a])).await?;
    let snippet = &found.hits[0].snippet;
    assert!(snippet.text.contains("<script>"), "{:?}", snippet.text);
    let html = snippet.to_html();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("<mark>budget</mark>"), "{html}");
    Ok(())
}
