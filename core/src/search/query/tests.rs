//! The parser on what people type, on malformed input, and on random input:
//! it never fails, stays within its bounds, and its canonical text parses
//! back to the same query.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn t(text: &str) -> Query {
    Query::Term {
        field: None,
        text: text.into(),
    }
}

fn ft(field: &str, text: &str) -> Query {
    Query::Term {
        field: Field::parse(field),
        text: text.into(),
    }
}

fn not(q: Query) -> Query {
    Query::Not(Box::new(q))
}

#[test]
fn words_are_all_required_and_operators_combine_them() {
    assert_eq!(parse(""), Query::All);
    assert_eq!(parse("   "), Query::All);
    assert_eq!(parse("piscine"), t("piscine"));
    assert_eq!(
        parse("marches publics"),
        Query::And(vec![t("marches"), t("publics")])
    );
    assert_eq!(
        parse("piscine AND devis"),
        Query::And(vec![t("piscine"), t("devis")])
    );
    assert_eq!(
        parse("piscine OR gymnase stade"),
        Query::Or(vec![
            t("piscine"),
            Query::And(vec![t("gymnase"), t("stade")])
        ])
    );
    assert_eq!(
        parse("(piscine OR gymnase) devis"),
        Query::And(vec![
            Query::Or(vec![t("piscine"), t("gymnase")]),
            t("devis")
        ])
    );
    assert_eq!(
        parse("facture -annulée NOT brouillon"),
        Query::And(vec![t("facture"), not(t("annulée")), not(t("brouillon"))])
    );
    // Lower-case operators are words (« et », « ou » too).
    assert_eq!(parse("a or b"), Query::And(vec![t("a"), t("or"), t("b")]));
    // A hyphen inside a word is part of it.
    assert_eq!(parse("Saint-Étienne"), t("Saint-Étienne"));
}

#[test]
fn phrases_prefixes_and_fields() {
    let phrase = |field: Option<&str>, words: &[&str]| Query::Phrase {
        field: field.and_then(Field::parse),
        words: words.iter().map(|w| (*w).to_owned()).collect(),
    };
    assert_eq!(
        parse("\"bon de commande\""),
        phrase(None, &["bon", "de", "commande"])
    );
    assert_eq!(
        parse("« bon de commande »"),
        phrase(None, &["bon", "de", "commande"])
    );
    assert_eq!(
        parse("“délibération” 2026"),
        Query::And(vec![phrase(None, &["délibération"]), t("2026")])
    );
    assert_eq!(
        parse("piscin*"),
        Query::Prefix {
            field: None,
            text: "piscin".into()
        }
    );
    assert_eq!(
        parse("fournisseur:\"BTP Rhône\" type:facture"),
        Query::And(vec![
            phrase(Some("fournisseur"), &["BTP", "Rhône"]),
            ft("type", "facture")
        ])
    );
    assert_eq!(parse("Type:Facture"), ft("type", "Facture"));
    // Not a field name: the colon stays in the word.
    assert_eq!(parse("12:30"), t("12:30"));
    assert_eq!(parse("l'arrêté"), t("l'arrêté"));
}

#[test]
fn ranges_open_closed_and_one_sided() {
    let range = |lower: Bound, upper: Bound| Query::Range {
        field: Field::parse("montant_ttc").expect("field"),
        lower,
        upper,
    };
    let inc = |v: &str| Bound::Included(v.into());
    let exc = |v: &str| Bound::Excluded(v.into());
    assert_eq!(
        parse("montant_ttc:[10000 TO 20000]"),
        range(inc("10000"), inc("20000"))
    );
    assert_eq!(
        parse("montant_ttc:{10000 TO *]"),
        range(exc("10000"), Bound::Unbounded)
    );
    assert_eq!(
        parse("montant_ttc:[-1000 TO -500]"),
        range(inc("-1000"), inc("-500"))
    );
    assert_eq!(
        parse("montant_ttc:>=500"),
        range(inc("500"), Bound::Unbounded)
    );
    assert_eq!(
        parse("montant_ttc:<500"),
        range(Bound::Unbounded, exc("500"))
    );
    // Broken ranges are words, never an error.
    assert_eq!(
        parse("montant_ttc:[10000 AND TO 20000]"),
        Query::And(vec![ft("montant_ttc", "10000"), t("TO"), t("20000")])
    );
    assert_eq!(parse("montant_ttc:>="), Query::All);
}

#[test]
fn malformed_input_is_read_leniently() {
    assert_eq!(parse("\"bon de"), parse("\"bon de\""));
    assert_eq!(parse("(piscine"), t("piscine"));
    assert_eq!(parse("piscine)"), t("piscine"));
    assert_eq!(parse(")))((("), Query::All);
    assert_eq!(parse("AND OR NOT"), Query::All);
    assert_eq!(parse("piscine OR"), t("piscine"));
    assert_eq!(parse("- + * : \"\" ()"), Query::All);
    // Only exclusions: everything readable, minus them.
    assert_eq!(
        parse("-brouillon"),
        Query::And(vec![Query::All, not(t("brouillon"))])
    );
    assert_eq!(parse("--brouillon"), t("brouillon"));
    assert_eq!(
        parse("piscine\0devis"),
        Query::And(vec![t("piscine"), t("devis")])
    );
}

#[test]
fn what_the_engine_gets_is_bounded() {
    let many = "mot ".repeat(10_000);
    let Query::And(parts) = parse(&many) else {
        panic!("an And")
    };
    assert_eq!(parts.len(), MAX_CLAUSES);
    let deep = format!("{}a b{}", "(".repeat(50), ")".repeat(50));
    assert_eq!(parse(&deep), Query::And(vec![t("a"), t("b")]));
    let long: String = "é".repeat(MAX_INPUT * 3);
    let Query::Term { text, .. } = parse(&long) else {
        panic!("a term")
    };
    assert_eq!(text.chars().count(), MAX_INPUT);
}

fn depth(q: &Query) -> usize {
    match q {
        Query::And(p) | Query::Or(p) => 1 + p.iter().map(depth).max().unwrap_or(0),
        Query::Not(q) => 1 + depth(q),
        _ => 0,
    }
}

fn leaves(q: &Query) -> usize {
    match q {
        Query::And(p) | Query::Or(p) => p.iter().map(leaves).sum(),
        Query::Not(q) => leaves(q),
        Query::All => 0,
        _ => 1,
    }
}

/// Random text from pieces people and attackers type: words with accents,
/// operators, quotes of every kind, brackets, colons, NUL, invisible
/// characters.
fn random_input(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "piscine",
        "délibération",
        "l'arrêté",
        "AND",
        "OR",
        "NOT",
        "-",
        "+",
        "*",
        "(",
        ")",
        "\"",
        "“",
        "”",
        "«",
        "»",
        "„",
        ":",
        "type:",
        "montant:",
        "[",
        "]",
        "{",
        "}",
        "TO",
        ">=",
        "<",
        "10000",
        " ",
        "  ",
        "\0",
        "\u{200b}",
        "\t",
        "é",
        "x*",
        "f:-a",
        "🙂",
    ];
    let n = rng.random_range(0..40);
    (0..n)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

#[test]
fn random_input_never_fails_stays_bounded_and_round_trips() {
    let mut rng = StdRng::seed_from_u64(20_261_206);
    for i in 0..20_000 {
        let input = random_input(&mut rng);
        let q = parse(&input);
        assert!(leaves(&q) <= MAX_CLAUSES, "case {i}: {input:?}");
        // Each level of parentheses adds at most an Or, an And and a Not.
        assert!(
            depth(&q) <= 3 * (MAX_DEPTH + 1),
            "case {i}: {input:?} → {q:?}"
        );
        let again = parse(&q.to_string());
        assert_eq!(again, q, "case {i}: {input:?} → {q} ({q:?})");
    }
}
