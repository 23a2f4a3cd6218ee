//! The results page `GET /search` (both nodes): hits, facets as filters,
//! sort, paging, and the metadata filters of a chosen type. The query
//! string is read by `passerelle_http_common::search_params`, as the API
//! reads it, after the page's own range fields (`min.`/`max.`, `from.`/
//! `to.`) are folded into `meta.<key>` filters.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passerelle_core::doctype::{DocumentType, FieldDef, FieldKind};
use passerelle_core::search::Sort;
use passerelle_core::service::{Facet, SearchAsk, SearchFilters, SearchPage};
use passerelle_http_common::AppState;
use passerelle_http_common::search_params::ask_of;

use super::view::DocRow;
use crate::ctx::{PageCtx, Web, WebError, encode, render};
use crate::i18n::Tr;

/// Prefixes of the page's range fields: `(lower bound, upper bound)`.
const RANGES: [(&str, &str); 2] = [("min.", "max."), ("from.", "to.")];

/// One document found, as the list shows it.
#[derive(Debug)]
struct HitRow {
    doc: DocRow,
    space_id: String,
    space_title: String,
    /// The folders from the root down, `" / "`-joined (empty at the root).
    folders: String,
    author: String,
    /// Already escaped by core (`Snippet::to_html`), `<mark>` highlights.
    snippet_html: String,
}

/// A link of the page (a facet value, a sort, the next page).
#[derive(Debug)]
struct Link {
    label: String,
    count: u64,
    href: String,
    current: bool,
}

/// One facet: its values as links adding the filter, or the chosen value
/// with a link removing it.
#[derive(Debug)]
struct FacetGroup {
    id: &'static str,
    title: &'static str,
    chosen: Option<Link>,
    values: Vec<Link>,
}

/// How a metadata filter is entered.
#[derive(Debug)]
enum MetaInput {
    /// `meta.<key>=<value>`.
    Text(String),
    /// `meta.<key>=<value>` among a list's values or yes/no: `(value,
    /// label)` choices and the chosen value (empty: any).
    Choice(Vec<(String, String)>, String),
    /// `min.<key>`/`max.<key>` (or `from.`/`to.` for days), folded into a
    /// range; the input type (`number`, `date`) and the prefixes.
    Range {
        input: &'static str,
        lower: &'static str,
        upper: &'static str,
        /// The bounds' labels: minimum/maximum, or from/to for days.
        labels: (&'static str, &'static str),
        min: String,
        max: String,
    },
}

#[derive(Debug)]
struct MetaField {
    key: String,
    label: String,
    input: MetaInput,
}

/// The metadata filters of the chosen type, as a GET form keeping the
/// rest of the search in hidden fields.
#[derive(Debug)]
struct MetaForm {
    type_label: String,
    hidden: Vec<(String, String)>,
    fields: Vec<MetaField>,
    clear: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchView {
    p: PageCtx,
    /// Nothing asked: the page explains what can be asked.
    help: bool,
    /// Malformed parameters: the alert says so, no results are shown.
    refused: bool,
    total: u64,
    hits: Vec<HitRow>,
    sorts: Vec<Link>,
    next: Option<String>,
    facets: Vec<FacetGroup>,
    meta_form: Option<MetaForm>,
}

/// `GET /search`: malformed parameters are the page with an alert (400);
/// a space, author or folder one cannot see finds nothing, as an unknown
/// one.
pub async fn search(
    State(st): State<AppState>,
    mut web: Web,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = web.t();
    let raw: Vec<(String, String)> = raw
        .into_iter()
        .filter(|(k, v)| k == "q" || !v.trim().is_empty())
        .collect();
    web.page.search_text = last(&raw, "q").unwrap_or_default().to_owned();
    let types = st.app.list_document_types().await?;
    let mut view = SearchView {
        help: false,
        refused: false,
        total: 0,
        hits: Vec::new(),
        sorts: Vec::new(),
        next: None,
        facets: Vec::new(),
        meta_form: meta_form(&raw, &types, t),
        p: web.page,
    };
    let ask = match ask_of(&folded(&raw)) {
        Ok(ask) => ask,
        Err(e) => {
            tracing::debug!(code = e.code, detail = %e.detail, "search parameters refused");
            view.refused = true;
            view.p.alert = Some(
                t.lookup(&format!("search.error.{}", e.code))
                    .unwrap_or_else(|| t.s("search.error.bad_request")),
            );
            return Ok((StatusCode::BAD_REQUEST, render(&view)).into_response());
        }
    };
    if is_blank(&ask) {
        view.help = true;
        return Ok(render(&view));
    }
    view.sorts = sort_links(&raw, ask.sort, t);
    let found = st.search.search(&web.actor, ask).await?;
    fill(&mut view, &raw, &found, &types, t);
    Ok(render(&view))
}

/// Nothing to search for: no text, no filter.
fn is_blank(ask: &SearchAsk) -> bool {
    ask.text.trim().is_empty() && ask.filters == SearchFilters::default() && !ask.trash
}

fn fill(
    view: &mut SearchView,
    raw: &[(String, String)],
    found: &SearchPage,
    types: &[DocumentType],
    t: Tr,
) {
    let no_names = HashMap::new();
    view.total = found.total;
    view.hits = found
        .hits
        .iter()
        .map(|f| HitRow {
            doc: DocRow::new(&f.document, types, &no_names),
            space_id: f.space.id.to_string(),
            space_title: f.space.title.clone(),
            folders: f
                .folders
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(" / "),
            author: f.author_name.clone(),
            snippet_html: f.snippet.to_html(),
        })
        .collect();
    view.next = found
        .next_offset
        .map(|n| link(raw, |k| k == "cursor", Some(("cursor", &n.to_string()))));
    let fv = &found.facets;
    view.facets = vec![
        facet_group(raw, "type", t.s("search.facet_type"), &fv.types),
        facet_group(raw, "space", t.s("search.facet_space"), &fv.spaces),
        facet_group(raw, "author", t.s("search.facet_author"), &fv.authors),
        facet_group(raw, "year", t.s("search.facet_year"), &fv.years),
    ];
}

/// The last value of a parameter (the one that counts).
fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The page's range fields folded into `meta.<key>` filters, as the
/// shared reader takes them: `[min TO max]`, `>=min` or `<=max`.
fn folded(raw: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut bounds: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for (k, v) in raw {
        let range = RANGES.iter().find_map(|(lo, hi)| {
            k.strip_prefix(lo)
                .map(|key| (key, true))
                .or_else(|| k.strip_prefix(hi).map(|key| (key, false)))
        });
        let Some((key, is_lower)) = range else {
            out.push((k.clone(), v.clone()));
            continue;
        };
        let at = match bounds.iter().position(|(b, _, _)| b == key) {
            Some(at) => at,
            None => {
                bounds.push((key.to_owned(), None, None));
                bounds.len() - 1
            }
        };
        let value = Some(v.trim().to_owned());
        if is_lower {
            bounds[at].1 = value;
        } else {
            bounds[at].2 = value;
        }
    }
    for (key, lower, upper) in bounds {
        let filter = match (lower, upper) {
            (Some(a), Some(b)) => format!("[{a} TO {b}]"),
            (Some(a), None) => format!(">={a}"),
            (None, Some(b)) => format!("<={b}"),
            (None, None) => continue,
        };
        out.push((format!("meta.{key}"), filter));
    }
    out
}

/// `/search?` with the current pairs but those `drop` names, and `add`;
/// the cursor is always dropped but when added: another filter or sort
/// starts again from the first page.
fn link(
    raw: &[(String, String)],
    drop: impl Fn(&str) -> bool,
    add: Option<(&str, &str)>,
) -> String {
    let kept = raw
        .iter()
        .filter(|(k, _)| k != "cursor" && !drop(k))
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let query: Vec<String> = kept
        .chain(add)
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("/search?{}", query.join("&"))
}

/// Whether a parameter is one of a type's metadata filters, which go
/// with the type when it is removed.
fn is_meta(k: &str) -> bool {
    k.starts_with("meta.")
        || RANGES
            .iter()
            .any(|(a, b)| k.starts_with(a) || k.starts_with(b))
}

fn facet_group(
    raw: &[(String, String)],
    param: &'static str,
    title: &'static str,
    values: &[Facet],
) -> FacetGroup {
    let drops = move |k: &str| k == param || (param == "type" && is_meta(k));
    let chosen = last(raw, param).map(|v| Link {
        // An id one cannot see shows as itself, as an unknown one.
        label: values
            .iter()
            .find(|f| f.value == v)
            .map_or_else(|| v.to_owned(), |f| f.label.clone()),
        count: 0,
        href: link(raw, drops, None),
        current: true,
    });
    let values = if chosen.is_some() {
        Vec::new()
    } else {
        values
            .iter()
            .map(|f| Link {
                label: f.label.clone(),
                count: f.count,
                href: link(raw, drops, Some((param, &f.value))),
                current: false,
            })
            .collect()
    };
    FacetGroup {
        id: param,
        title,
        chosen,
        values,
    }
}

/// How one field of a type is filtered; `get(prefix)` is the value the
/// query gives the field's input of that prefix.
fn meta_input(f: &FieldDef, t: Tr, get: &dyn Fn(&str) -> String) -> MetaInput {
    let range = |input, (lower, upper): (&'static str, &'static str), labels| MetaInput::Range {
        input,
        lower,
        upper,
        labels,
        min: get(lower),
        max: get(upper),
    };
    match &f.kind {
        FieldKind::Integer | FieldKind::Decimal => {
            range("text", RANGES[0], (t.s("search.min"), t.s("search.max")))
        }
        FieldKind::Date => range("date", RANGES[1], (t.s("search.from"), t.s("search.to"))),
        FieldKind::Enum { values } => MetaInput::Choice(
            values.iter().map(|v| (v.clone(), v.clone())).collect(),
            get("meta."),
        ),
        FieldKind::Boolean => MetaInput::Choice(
            vec![
                ("true".into(), t.s("search.yes").to_owned()),
                ("false".into(), t.s("search.no").to_owned()),
            ],
            get("meta."),
        ),
        FieldKind::Text => MetaInput::Text(get("meta.")),
    }
}

fn sort_links(raw: &[(String, String)], sort: Sort, t: Tr) -> Vec<Link> {
    [
        (Sort::Relevance, "relevance", "search.sort_relevance"),
        (Sort::Modified, "date", "search.sort_date"),
        (Sort::Name, "name", "search.sort_name"),
    ]
    .into_iter()
    .map(|(s, name, label)| Link {
        label: t.s(label).to_owned(),
        count: 0,
        href: link(raw, |k| k == "sort", Some(("sort", name))),
        current: s == sort,
    })
    .collect()
}

/// The metadata filters of the chosen type, prefilled from the query.
fn meta_form(raw: &[(String, String)], types: &[DocumentType], t: Tr) -> Option<MetaForm> {
    let key = last(raw, "type")?;
    let ty = types.iter().find(|ty| ty.key == key)?;
    let get = |name: String| last(raw, &name).unwrap_or_default().to_owned();
    let fields = ty
        .fields
        .iter()
        .map(|f| {
            let input = meta_input(f, t, &|name| get(format!("{name}{}", f.key)));
            MetaField {
                key: f.key.clone(),
                label: f.label.clone(),
                input,
            }
        })
        .collect();
    Some(MetaForm {
        type_label: ty.label.clone(),
        hidden: raw
            .iter()
            .filter(|(k, _)| k != "cursor" && !is_meta(k))
            .cloned()
            .collect(),
        fields,
        clear: link(raw, is_meta, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn range_fields_fold_into_metadata_filters() {
        let out = folded(&pairs(&[
            ("q", "x"),
            ("min.montant_ttc", "10000"),
            ("max.montant_ttc", "20000"),
            ("from.date_emission", "2026-01-01"),
            ("max.quantite", "3"),
        ]));
        assert_eq!(
            out,
            pairs(&[
                ("q", "x"),
                ("meta.montant_ttc", "[10000 TO 20000]"),
                ("meta.date_emission", ">=2026-01-01"),
                ("meta.quantite", "<=3"),
            ])
        );
    }

    #[test]
    fn a_snippet_is_escaped_but_for_its_highlights() {
        use passerelle_core::search::Snippet;

        let (parts, ()) = axum::http::Request::builder()
            .uri("/search?q=piscine")
            .body(())
            .expect("request")
            .into_parts();
        let text = "<b>la</b> <script>alert(1)</script> piscine".to_owned();
        let at = text.find("piscine").expect("word");
        // One highlight: the range is the element, not the contents.
        let highlights = std::iter::once(at..at + "piscine".len()).collect();
        let snippet = Snippet { highlights, text };
        let view = SearchView {
            p: PageCtx::new(&parts, crate::i18n::Lang::Fr),
            help: false,
            refused: false,
            total: 1,
            hits: vec![HitRow {
                doc: DocRow {
                    id: "d".into(),
                    name: "<i>n</i>.txt".into(),
                    type_label: String::new(),
                    key_meta: String::new(),
                    version: 1,
                    author: String::new(),
                    date: String::new(),
                    date_iso: String::new(),
                },
                space_id: "s".into(),
                space_title: "Espace".into(),
                folders: String::new(),
                author: "Alice".into(),
                snippet_html: snippet.to_html(),
            }],
            sorts: Vec::new(),
            next: None,
            facets: Vec::new(),
            meta_form: None,
        };
        let html = view.render().expect("rendered");
        assert!(html.contains("<mark>piscine</mark>"), "{html}");
        assert!(html.contains("&lt;b&gt;la&lt;/b&gt;"), "{html}");
        for raw in ["<b>", "<script>alert", "<i>"] {
            assert!(!html.contains(raw), "{raw} in {html}");
        }
    }

    #[test]
    fn links_drop_the_cursor_and_encode_values() {
        let raw = pairs(&[("q", "a b&c"), ("cursor", "20"), ("type", "facture")]);
        assert_eq!(
            link(&raw, |k| k == "type", Some(("year", "2026"))),
            "/search?q=a%20b%26c&year=2026"
        );
    }
}
