//! Rights: the scope is part of every query, so nothing outside it is ever
//! returned, counted or faceted, whatever the query.

use std::collections::BTreeMap;
use std::ops::Bound;

use passerelle_core::ids::SpaceId;
use passerelle_core::search::{
    DateField, Exact, Find, IndexedDocument, MetaValue, Scope, SearchIndex, Sort, Within,
};
use time::Date;
use time::macros::date;

use super::support::*;

#[tokio::test]
async fn a_scope_never_returns_nor_counts_another_space() -> anyhow::Result<()> {
    let (a, b) = (SpaceId::new(), SpaceId::new());
    let docs = vec![
        doc(a, "Budget primitif"),
        doc(b, "Budget annexe"),
        doc(b, "Budget supplémentaire"),
    ];
    let index = index_of(&docs).await?;
    let found = search(&index, anywhere("budget"), Scope::spaces([a])).await?;
    assert_eq!(names(&found, &docs), ["Budget primitif"]);
    assert_eq!(found.total, 1);
    assert_eq!(found.facets.spaces, BTreeMap::from([(a, 1)]));
    assert_eq!(found.facets.years.values().sum::<u64>(), 1);
    // Asking for B's space by name does not reach it either.
    let other = Find::Is(Exact::Space(b));
    assert_eq!(search(&index, other, Scope::spaces([a])).await?.total, 0);
    Ok(())
}

#[tokio::test]
async fn trashed_documents_are_found_only_by_a_trash_search() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let mut gone = doc(a, "Rapport supprimé");
    gone.trashed = true;
    let docs = vec![gone, doc(a, "Rapport annuel")];
    let index = index_of(&docs).await?;
    let live = search(&index, anywhere("rapport"), Scope::spaces([a])).await?;
    assert_eq!(names(&live, &docs), ["Rapport annuel"]);
    let trash = search(&index, anywhere("rapport"), Scope::trash([a])).await?;
    assert_eq!(names(&trash, &docs), ["Rapport supprimé"]);
    assert_eq!(trash.total, 1);
    Ok(())
}

#[tokio::test]
async fn an_empty_scope_finds_nothing() -> anyhow::Result<()> {
    let a = SpaceId::new();
    let docs = vec![doc(a, "Rapport")];
    let index = index_of(&docs).await?;
    let found = search(&index, Find::All, Scope::spaces([])).await?;
    assert_eq!(found, Default::default());
    let found = search(&index, Find::All, Scope::trash([])).await?;
    assert_eq!(found.total, 0);
    Ok(())
}

/// A seeded generator (rand's `StdRng`, as the corpus uses), so that a
/// failing tree can be replayed from its seed.
struct Rng(rand::rngs::StdRng);

impl Rng {
    fn seeded(seed: u64) -> Self {
        Self(rand::SeedableRng::seed_from_u64(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        rand::Rng::random_range(&mut self.0, 0..n)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "budget",
    "délibération",
    "piscine",
    "commande",
    "le",
    "arrêté",
    "facture",
    "école",
    "travaux",
    "rapport",
    "été",
    "voirie",
];

fn within(rng: &mut Rng) -> Within {
    match rng.below(6) {
        0 => Within::Name,
        1 => Within::Content,
        2 => Within::Meta("objet".into()),
        3 => Within::Comment,
        _ => Within::Anywhere,
    }
}

fn day(rng: &mut Rng) -> Bound<Date> {
    let d = date!(2024 - 01 - 01) + time::Duration::days(rng.below(900) as i64);
    match rng.below(3) {
        0 => Bound::Included(d),
        1 => Bound::Excluded(d),
        _ => Bound::Unbounded,
    }
}

fn amount(rng: &mut Rng) -> Bound<f64> {
    let v = rng.below(2000) as f64;
    match rng.below(3) {
        0 => Bound::Included(v),
        1 => Bound::Excluded(v),
        _ => Bound::Unbounded,
    }
}

fn random_find(rng: &mut Rng, spaces: &[SpaceId], depth: usize) -> Find {
    let leaf = depth == 0 || rng.below(3) == 0;
    if !leaf {
        let parts = (0..1 + rng.below(3))
            .map(|_| {
                let part = random_find(rng, spaces, depth - 1);
                if rng.below(4) == 0 {
                    Find::Not(Box::new(part))
                } else {
                    part
                }
            })
            .collect();
        return if rng.below(2) == 0 {
            Find::And(parts)
        } else {
            Find::Or(parts)
        };
    }
    let text = rng.pick(WORDS).to_string();
    match rng.below(9) {
        0 => Find::All,
        1 => Find::Word {
            within: within(rng),
            text,
        },
        2 => Find::Phrase {
            within: within(rng),
            words: vec![text, rng.pick(WORDS).to_string()],
        },
        3 => Find::Prefix {
            within: within(rng),
            text: text.chars().take(1 + rng.below(4)).collect(),
        },
        4 => Find::Is(Exact::Space(*rng.pick(spaces))),
        5 => Find::Dates {
            field: if rng.below(2) == 0 {
                DateField::Modified
            } else {
                DateField::Meta("date".into())
            },
            lower: day(rng),
            upper: day(rng),
        },
        6 => Find::Numbers {
            key: "montant".into(),
            lower: amount(rng),
            upper: amount(rng),
        },
        7 => Find::Is(Exact::Type(rng.pick(&["facture", "arrete"]).to_string())),
        _ => Find::Nothing,
    }
}

fn random_doc(rng: &mut Rng, space: SpaceId) -> IndexedDocument {
    let words = |rng: &mut Rng, n: usize| {
        (0..n)
            .map(|_| *rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut d = doc(space, &words(rng, 3));
    d.text = words(rng, 12);
    d.comment = words(rng, 2);
    d.doc_type = Some(rng.pick(&["facture", "arrete"]).to_string());
    d.trashed = rng.below(8) == 0;
    d.modified = time::macros::datetime!(2024-01-01 00:00 UTC)
        + time::Duration::hours(rng.below(900 * 24) as i64);
    d.metadata = vec![
        ("objet".into(), MetaValue::Text(words(rng, 3))),
        ("montant".into(), MetaValue::Number(rng.below(2000) as f64)),
        (
            "date".into(),
            MetaValue::Date(date!(2024 - 01 - 01) + time::Duration::days(rng.below(900) as i64)),
        ),
    ];
    d
}

/// Rights hold for any query (and exclusions are exact complements, the
/// part of tantivy this adapter found fragile, see `guard.rs`).
#[tokio::test]
async fn no_random_query_escapes_its_scope() -> anyhow::Result<()> {
    let mut rng = Rng::seeded(0x5eed_cafe_f00d_1234);
    let spaces = [SpaceId::new(), SpaceId::new(), SpaceId::new()];
    let docs: Vec<_> = (0..150)
        .map(|i| random_doc(&mut rng, spaces[i % 3]))
        .collect();
    let index = index_of(&docs).await?;
    for round in 0..200 {
        let find = random_find(&mut rng, &spaces, 3);
        let take = 1 + rng.below(2);
        let chosen: Vec<SpaceId> = (0..take).map(|i| spaces[(round + i) % 3]).collect();
        let trash = rng.below(5) == 0;
        let scope = if trash {
            Scope::trash(chosen.clone())
        } else {
            Scope::spaces(chosen.clone())
        };
        let in_scope = docs
            .iter()
            .filter(|d| chosen.contains(&d.space) && d.trashed == trash)
            .count() as u64;
        let mut req = request(find.clone(), scope);
        req.sort = *rng.pick(&[Sort::Relevance, Sort::Modified, Sort::Name]);
        let found = index
            .search(&req)
            .await
            .map_err(|e| anyhow::anyhow!("round {round}: {find:?}: {e:?}"))?;
        assert!(found.total <= in_scope, "round {round}: {find:?}");
        for hit in &found.hits {
            assert!(chosen.contains(&hit.space), "round {round}: {find:?}");
            let d = docs.iter().find(|d| d.id == hit.document);
            assert!(d.is_some_and(|d| d.trashed == trash && d.space == hit.space));
        }
        assert!(found.facets.spaces.keys().all(|s| chosen.contains(s)));
        assert_eq!(found.facets.spaces.values().sum::<u64>(), found.total);
        assert_eq!(found.hits.len() as u64, found.total.min(100));

        // What a query excludes is exactly what it does not find.
        req.find = Find::And(vec![Find::Not(Box::new(find.clone()))]);
        let complement = index
            .search(&req)
            .await
            .map_err(|e| anyhow::anyhow!("round {round}: not {find:?}: {e:?}"))?;
        assert_eq!(
            found.total + complement.total,
            in_scope,
            "round {round}: {find:?}"
        );
    }
    Ok(())
}
