//! The CMIS-QL subset: what reads, what is refused and why, and what a
//! statement compiles to.

use passerelle_core::doctype::default_catalogue;
use passerelle_core::search::{Bound, Field, Query, Sort};

use super::parse::{MAX_CONDITIONS, MAX_DEPTH, MAX_STATEMENT};
use super::*;

fn f(name: &str) -> Field {
    Field::parse(name).expect("field")
}

fn plan(q: &str) -> CmisResult<Plan> {
    let st = parse(q).map_err(|e| CmisError::invalid_argument(e.to_string()))?;
    compile(&st, &default_catalogue())
}

#[test]
fn a_typed_query_compiles_to_a_type_filter_and_the_search_query() {
    let p = plan(
        "SELECT cmis:name, passerelle:fournisseur FROM passerelle:facture \
         WHERE passerelle:fournisseur = 'BTP Rhône' AND passerelle:montant_ttc >= 1000 \
         AND CONTAINS('piscine') ORDER BY cmis:name",
    )
    .expect("plan");
    assert_eq!(p.doc_type.as_deref(), Some("facture"));
    assert_eq!(p.sort, Sort::Name);
    assert_eq!(
        p.columns,
        Some(vec!["cmis:name".into(), "passerelle:fournisseur".into()])
    );
    assert_eq!(
        p.query,
        Query::And(vec![
            Query::Phrase {
                field: Some(f("fournisseur")),
                words: vec!["BTP".into(), "Rhône".into()],
            },
            Query::Range {
                field: f("montant_ttc"),
                lower: Bound::Included("1000".into()),
                upper: Bound::Unbounded,
            },
            Query::Term {
                field: None,
                text: "piscine".into(),
            },
        ])
    );
}

#[test]
fn in_like_not_and_dates_compile() {
    let p = plan(
        "select * from cmis:document d where d.cmis:name like 'devis%' \
         and not (passerelle:fournisseur in ('A', 'B')) \
         and cmis:lastModificationDate < TIMESTAMP '2026-03-01T00:00:00.000Z'",
    )
    .expect("plan");
    let Query::And(parts) = p.query else {
        panic!("and")
    };
    assert_eq!(
        parts[0],
        Query::Prefix {
            field: Some(f("name")),
            text: "devis".into()
        }
    );
    assert!(matches!(&parts[1], Query::And(x) if matches!(x[1], Query::Not(_))));
    assert_eq!(
        parts[2],
        Query::Range {
            field: f("modified"),
            lower: Bound::Unbounded,
            upper: Bound::Excluded("2026-03-01".into()),
        }
    );
}

#[test]
fn folders_scope_the_query_once_at_the_top() {
    let folder = passerelle_core::ids::FolderId::new();
    let p = plan(&format!(
        "SELECT * FROM cmis:document WHERE IN_FOLDER('f-{folder}') AND cmis:name = 'x'"
    ))
    .expect("plan");
    assert_eq!(p.scope.tree, Some(folder));
    assert_eq!(p.scope.direct, Some(Some(folder)));
    let tree = plan(&format!(
        "SELECT * FROM cmis:document WHERE IN_TREE('f-{folder}')"
    ))
    .expect("plan");
    assert_eq!(tree.scope.direct, None);
    for q in [
        format!("SELECT * FROM cmis:document WHERE IN_TREE('f-{folder}') OR cmis:name = 'x'"),
        format!("SELECT * FROM cmis:document WHERE NOT IN_FOLDER('f-{folder}')"),
        format!(
            "SELECT * FROM cmis:document WHERE IN_FOLDER('f-{folder}') AND IN_TREE('f-{folder}')"
        ),
    ] {
        let e = plan(&q).expect_err(&q);
        assert_eq!(e.exception, "notSupported", "{q}");
    }
    let e = plan("SELECT * FROM cmis:document WHERE IN_FOLDER('nothing')").expect_err("id");
    assert_eq!(e.exception, "objectNotFound");
}

#[test]
fn what_the_index_cannot_answer_is_not_supported_never_wrong() {
    for q in [
        "SELECT * FROM cmis:folder",
        "SELECT * FROM cmis:document WHERE cmis:name > 'a'",
        "SELECT * FROM cmis:document WHERE cmis:contentStreamLength > 10",
        "SELECT * FROM cmis:document WHERE cmis:name LIKE '%devis'",
        "SELECT * FROM cmis:document WHERE cmis:name LIKE 'de_is%'",
        "SELECT * FROM cmis:document ORDER BY cmis:creationDate",
        "SELECT * FROM cmis:document ORDER BY cmis:name DESC",
    ] {
        let e = plan(q).expect_err(q);
        assert_eq!(e.exception, "notSupported", "{q}");
    }
}

#[test]
fn bad_statements_say_what_and_where() {
    for (q, at) in [
        ("SELEC * FROM cmis:document", 0),
        ("SELECT * FROM", 13),
        ("SELECT * FROM cmis:document WHERE cmis:name = 'open", 46),
        ("SELECT * FROM cmis:document WHERE cmis:name IS NULL", 44),
        ("SELECT * FROM cmis:document WHERE (cmis:name = 'a'", 50),
        ("SELECT * FROM cmis:document; DROP TABLE x", 27),
    ] {
        let e = parse(q).expect_err(q);
        assert_eq!(e.at, at, "{q}: {e}");
    }
    for q in [
        "SELECT * FROM passerelle:absent",
        "SELECT cmis:nope FROM cmis:document",
        "SELECT * FROM passerelle:facture WHERE passerelle:nope = 'x'",
        "SELECT * FROM cmis:document WHERE cmis:name LIKE 'a' AND passerelle:montant_ttc LIKE '1%'",
    ] {
        let e = plan(q).expect_err(q);
        assert_eq!(e.exception, "invalidArgument", "{q}");
    }
}

#[test]
fn hostile_statements_are_bounded() {
    let long = format!(
        "SELECT * FROM cmis:document WHERE CONTAINS('{}')",
        "a".repeat(MAX_STATEMENT)
    );
    assert!(parse(&long).is_err());
    let many = (0..=MAX_CONDITIONS)
        .map(|i| format!("cmis:name = 'n{i}'"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert!(parse(&format!("SELECT * FROM cmis:document WHERE {many}")).is_err());
    let deep = format!(
        "SELECT * FROM cmis:document WHERE {}cmis:name = 'x'{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(parse(&deep).is_err());
    let nots = format!(
        "SELECT * FROM cmis:document WHERE {}cmis:name = 'x'",
        "NOT ".repeat(MAX_DEPTH + 1)
    );
    assert!(parse(&nots).is_err());
}

#[test]
fn strings_take_both_escapes() {
    let st = parse(r"SELECT * FROM cmis:document WHERE cmis:name = 'l''été \'26'").expect("parse");
    assert!(matches!(
        st.filter,
        Some(Cond::Cmp { value: Lit::Str(ref s), .. }) if s == "l'été '26"
    ));
}
