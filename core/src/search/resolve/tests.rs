//! What field names and bounds resolve to, against the default catalogue.

use std::ops::Bound::{Excluded, Included, Unbounded};

use time::macros::date;

use super::*;
use crate::doctype::default_catalogue;
use crate::search::parse;

fn find(input: &str) -> Find {
    resolve(&parse(input), &default_catalogue())
}

fn word(within: Within, text: &str) -> Find {
    Find::Word {
        within,
        text: text.to_owned(),
    }
}

#[test]
fn bare_words_are_searched_everywhere() {
    assert_eq!(find("piscine"), word(Within::Anywhere, "piscine"));
    assert_eq!(
        find("piscin*"),
        Find::Prefix {
            within: Within::Anywhere,
            text: "piscin".into()
        }
    );
}

#[test]
fn built_in_fields_in_french_and_english() {
    assert_eq!(find("nom:cctp"), word(Within::Name, "cctp"));
    assert_eq!(find("auteur:martin"), word(Within::Author, "martin"));
    assert_eq!(find("author:martin"), word(Within::Author, "martin"));
    assert_eq!(
        find("dossier:consultation"),
        word(Within::FolderPath, "consultation")
    );
    assert_eq!(find("contenu:bassin"), word(Within::Content, "bassin"));
}

#[test]
fn metadata_fields_are_typed_by_the_catalogue() {
    assert_eq!(
        find(r#"fournisseur:"BTP Rhône""#),
        Find::Phrase {
            within: Within::Meta("fournisseur".into()),
            words: vec!["BTP".into(), "Rhône".into()]
        }
    );
    assert_eq!(
        find("montant_ttc:[10000 TO 20000]"),
        Find::Numbers {
            key: "montant_ttc".into(),
            lower: Included(10000.0),
            upper: Included(20000.0)
        }
    );
    assert_eq!(
        find("date_emission:>=2026-01-01"),
        Find::Dates {
            field: DateField::Meta("date_emission".into()),
            lower: Included(date!(2026 - 01 - 01)),
            upper: Unbounded
        }
    );
    assert_eq!(
        find("montant_ttc:{10000 TO *}"),
        Find::Numbers {
            key: "montant_ttc".into(),
            lower: Excluded(10000.0),
            upper: Unbounded
        }
    );
}

#[test]
fn a_date_as_typed_covers_its_day_month_or_year() {
    let span = |field: DateField, from, to| Find::Dates {
        field,
        lower: Included(from),
        upper: Included(to),
    };
    assert_eq!(
        find("date_emission:15/03/2026"),
        span(
            DateField::Meta("date_emission".into()),
            date!(2026 - 03 - 15),
            date!(2026 - 03 - 15)
        )
    );
    assert_eq!(
        find("modifie:2026-02"),
        span(
            DateField::Modified,
            date!(2026 - 02 - 01),
            date!(2026 - 02 - 28)
        )
    );
    assert_eq!(
        find("date:2024"),
        span(
            DateField::Modified,
            date!(2024 - 01 - 01),
            date!(2024 - 12 - 31)
        )
    );
    // The upper bound of a range takes the whole span it names.
    assert_eq!(
        find("modifie:[2026-01 TO 2026-03]"),
        span(
            DateField::Modified,
            date!(2026 - 01 - 01),
            date!(2026 - 03 - 31)
        )
    );
}

#[test]
fn amounts_as_people_type_them() {
    assert_eq!(number("12 000,50"), Some(12000.5));
    assert_eq!(number("12000€"), Some(12000.0));
    assert_eq!(number("1e9"), None);
    assert_eq!(number("NaN"), None);
    assert_eq!(number(""), None);
}

#[test]
fn values_that_do_not_read_match_nothing() {
    assert_eq!(find("montant_ttc:beaucoup"), Find::Nothing);
    assert_eq!(find("date_emission:hier"), Find::Nothing);
    assert_eq!(find("date_emission:2026-13-01"), Find::Nothing);
    assert_eq!(find("date_emission:2026-02-30"), Find::Nothing);
    assert_eq!(find("montant_ttc:[abc TO 3]"), Find::Nothing);
}

#[test]
fn types_by_key_or_label() {
    assert_eq!(
        find("type:facture"),
        Find::Is(Exact::Type("facture".into()))
    );
    assert_eq!(
        find("type:Facture"),
        Find::Is(Exact::Type("facture".into()))
    );
    assert_eq!(
        find("type:Délibération"),
        Find::Is(Exact::Type("deliberation".into()))
    );
    assert_eq!(
        find(r#"type:"bon-de-commande""#),
        Find::Is(Exact::Type("bon-de-commande".into()))
    );
    assert_eq!(find("type:inconnu"), Find::Nothing);
}

#[test]
fn an_undeclared_field_is_words() {
    assert_eq!(find("couleur:bleu"), word(Within::Anywhere, "couleur bleu"));
    assert_eq!(
        find(r#"couleur:"bleu ciel""#),
        Find::Phrase {
            within: Within::Anywhere,
            words: vec!["couleur".into(), "bleu".into(), "ciel".into()]
        }
    );
}

#[test]
fn operators_carry_over() {
    assert_eq!(
        find("piscine -type:facture"),
        Find::And(vec![
            word(Within::Anywhere, "piscine"),
            Find::Not(Box::new(Find::Is(Exact::Type("facture".into()))))
        ])
    );
    assert!(matches!(find("a OR b"), Find::Or(parts) if parts.len() == 2));
}

#[test]
fn any_input_resolves() {
    // The parser's fuzz feeds the resolver too: nothing panics.
    for input in [
        "",
        ":",
        "date:",
        "date:[",
        "montant_ttc:>",
        "type:",
        "((( a",
        "date:0000-00-00",
        "date:99/99/9999",
        "montant_ttc:[- TO -]",
        "\u{0}:\u{200b}",
    ] {
        let _ = find(input);
    }
}
