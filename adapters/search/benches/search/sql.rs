//! The bench's reference queries: a resolved [`Find`] written as the SQL a
//! reasonable PostgreSQL user would write over the reference table (words
//! through `websearch_to_tsquery('fr_unaccent', …)` on the weighted
//! `tsv` column and its GIN index, prefixes through `to_tsquery(…:*)`,
//! field words checked on the field's own text after the index narrowed
//! the rows, types as equality, amounts and dates as `jsonb` ranges).

use std::ops::Bound;

use passerelle_core::search::{DateField, Exact, Find, Within};

/// A condition and, when it holds words, the `tsquery` to rank by.
pub struct Sql {
    pub cond: String,
    pub rank: Option<String>,
}

const CONFIG: &str = "'fr_unaccent'";

/// `find` as SQL over the `docs` table.
pub fn translate(find: &Find) -> Sql {
    match find {
        Find::All => plain("TRUE"),
        Find::Nothing => plain("FALSE"),
        Find::Word { within, text } => words(within, websearch(text)),
        Find::Phrase { within, words: w } => {
            words(within, websearch(&format!("\"{}\"", w.join(" "))))
        }
        Find::Prefix { within, text } => {
            let parts: Vec<String> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            if parts.is_empty() {
                return plain("FALSE");
            }
            let q = format!("{}:*", parts.join(" & "));
            words(within, format!("to_tsquery({CONFIG}, {})", lit(&q)))
        }
        Find::Is(Exact::Type(key)) => plain(&format!("doc_type = {}", lit(key))),
        // Not asked by the bench's queries: spaces are the scope's.
        Find::Is(_) => plain("TRUE"),
        Find::Dates {
            field,
            lower,
            upper,
        } => {
            let column = match field {
                DateField::Modified => "modified::date".to_owned(),
                DateField::Meta(key) => format!("(metadata->>{})", lit(key)),
            };
            let day = |d: &time::Date| lit(&d.to_string());
            plain(&range(
                &column,
                lower.as_ref().map(day),
                upper.as_ref().map(day),
            ))
        }
        Find::Numbers { key, lower, upper } => {
            let column = format!("(metadata->{})::numeric", lit(key));
            let n = |x: &f64| format!("{x}");
            plain(&range(
                &column,
                lower.as_ref().map(n),
                upper.as_ref().map(n),
            ))
        }
        Find::And(parts) => and(parts),
        Find::Or(parts) => {
            let sqls: Vec<Sql> = parts.iter().map(translate).collect();
            let cond = sqls
                .iter()
                .map(|s| format!("({})", s.cond))
                .collect::<Vec<_>>()
                .join(" OR ");
            let ranks: Vec<String> = sqls.into_iter().filter_map(|s| s.rank).collect();
            Sql {
                cond,
                rank: (!ranks.is_empty()).then(|| format!("({})", ranks.join(" || "))),
            }
        }
        Find::Not(inner) => plain(&format!("NOT ({})", translate(inner).cond)),
    }
}

/// The words anywhere of a conjunction go into one `websearch_to_tsquery`
/// (as a user types them in one box); the rest are conditions beside it.
fn and(parts: &[Find]) -> Sql {
    let mut typed = Vec::new();
    let mut others = Vec::new();
    for p in parts {
        match p {
            Find::Word {
                within: Within::Anywhere,
                text,
            } => typed.push(text.clone()),
            Find::Phrase {
                within: Within::Anywhere,
                words,
            } => typed.push(format!("\"{}\"", words.join(" "))),
            Find::Not(inner) => match inner.as_ref() {
                Find::Word {
                    within: Within::Anywhere,
                    text,
                } => typed.push(format!("-{text}")),
                Find::Phrase {
                    within: Within::Anywhere,
                    words,
                } => {
                    typed.push(format!("-\"{}\"", words.join(" ")));
                }
                _ => others.push(translate(p)),
            },
            _ => others.push(translate(p)),
        }
    }
    if !typed.is_empty() {
        others.insert(0, words(&Within::Anywhere, websearch(&typed.join(" "))));
    }
    let cond = others
        .iter()
        .map(|s| format!("({})", s.cond))
        .collect::<Vec<_>>()
        .join(" AND ");
    let ranks: Vec<String> = others.into_iter().filter_map(|s| s.rank).collect();
    Sql {
        cond: if cond.is_empty() { "TRUE".into() } else { cond },
        rank: (!ranks.is_empty()).then(|| format!("({})", ranks.join(" && "))),
    }
}

fn websearch(text: &str) -> String {
    format!("websearch_to_tsquery({CONFIG}, {})", lit(text))
}

/// Words `q` within a field: the GIN index on `tsv` narrows, the field's
/// own text (or weight) decides.
fn words(within: &Within, q: String) -> Sql {
    let cond = match within {
        Within::Anywhere | Within::SpaceName | Within::Author | Within::Comment => {
            format!("tsv @@ {q}")
        }
        Within::Name => format!("tsv @@ {q} AND ts_filter(tsv, '{{a}}') @@ {q}"),
        Within::Content => format!("tsv @@ {q} AND ts_filter(tsv, '{{c}}') @@ {q}"),
        Within::FolderPath => {
            format!("tsv @@ {q} AND to_tsvector({CONFIG}, folder_path) @@ {q}")
        }
        Within::Meta(key) => format!(
            "tsv @@ {q} AND to_tsvector({CONFIG}, coalesce(metadata->>{}, '')) @@ {q}",
            lit(key)
        ),
    };
    Sql {
        cond,
        rank: Some(q),
    }
}

fn range(column: &str, lower: Bound<String>, upper: Bound<String>) -> String {
    let mut parts = Vec::new();
    match lower {
        Bound::Included(v) => parts.push(format!("{column} >= {v}")),
        Bound::Excluded(v) => parts.push(format!("{column} > {v}")),
        Bound::Unbounded => parts.push(format!("{column} IS NOT NULL")),
    }
    match upper {
        Bound::Included(v) => parts.push(format!("{column} <= {v}")),
        Bound::Excluded(v) => parts.push(format!("{column} < {v}")),
        Bound::Unbounded => {}
    }
    parts.join(" AND ")
}

fn plain(cond: &str) -> Sql {
    Sql {
        cond: cond.to_owned(),
        rank: None,
    }
}

/// A SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
