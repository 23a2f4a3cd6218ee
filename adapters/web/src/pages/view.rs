//! Rows the templates show, built from core's types, and formatting.

use std::collections::HashMap;

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::Document;
use passerelle_core::{Actor, CoreError, Passerelle};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

/// `2026-11-28 18:40` (UTC).
pub fn date(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.format(fmt).unwrap_or_default()
}

/// RFC 3339, for `<time datetime>`.
pub fn date_iso(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `12.3 Ko` / `12.3 KB`.
pub fn size(bytes: u64, lang: crate::i18n::Lang) -> String {
    let units: [&str; 4] = match lang {
        crate::i18n::Lang::Fr => ["o", "Ko", "Mo", "Go"],
        crate::i18n::Lang::En => ["B", "KB", "MB", "GB"],
    };
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} {}", units[0])
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Display names of a space's members by id ("—" for others): who wrote
/// what, without giving readers any other directory access.
pub async fn names(
    app: &Passerelle,
    actor: &Actor,
    space: SpaceId,
) -> Result<HashMap<PrincipalId, String>, CoreError> {
    Ok(app
        .list_members(actor, space)
        .await?
        .into_iter()
        .map(|m| (m.principal.id, m.principal.display_name))
        .collect())
}

pub fn name_of(names: &HashMap<PrincipalId, String>, id: &PrincipalId) -> String {
    names.get(id).cloned().unwrap_or_else(|| "—".into())
}

/// A document in a list.
#[derive(Debug, Clone)]
pub struct DocRow {
    pub id: String,
    pub name: String,
    pub type_key: String,
    pub type_label: String,
    /// The first two metadata values of its type, in the type's order.
    pub key_meta: String,
    pub version: u32,
    pub author: String,
    pub date: String,
    pub date_iso: String,
    pub updated: OffsetDateTime,
}

impl DocRow {
    pub fn new(d: &Document, types: &[DocumentType], names: &HashMap<PrincipalId, String>) -> Self {
        let ty = d
            .doc_type
            .as_deref()
            .and_then(|k| types.iter().find(|t| t.key == k));
        let key_meta = ty
            .map(|t| {
                t.fields
                    .iter()
                    .filter_map(|f| d.metadata.get(&f.key).map(value_text))
                    .filter(|s| !s.is_empty())
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        Self {
            id: d.id.to_string(),
            name: d.name.as_str().to_owned(),
            type_key: d.doc_type.clone().unwrap_or_default(),
            type_label: ty.map(|t| t.label.clone()).unwrap_or_default(),
            key_meta,
            version: d.current_version,
            author: name_of(names, &d.created_by),
            date: date(d.updated_at),
            date_iso: date_iso(d.updated_at),
            updated: d.updated_at,
        }
    }
}

/// A metadata value as text in a form or a list.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A folder in a list.
#[derive(Debug, Clone)]
pub struct FolderRow {
    pub id: String,
    pub name: String,
}

/// Sorts and filters a listing as the space page's form asks.
pub fn sort_and_filter(rows: &mut Vec<DocRow>, sort: &str, q: &str, type_filter: &str) {
    let q = q.trim().to_lowercase();
    rows.retain(|r| {
        (q.is_empty()
            || r.name.to_lowercase().contains(&q)
            || r.key_meta.to_lowercase().contains(&q))
            && (type_filter.is_empty() || r.type_key == type_filter)
    });
    match sort {
        "-name" => rows.sort_by_key(|r| std::cmp::Reverse(r.name.to_lowercase())),
        "date" => rows.sort_by_key(|r| r.updated),
        "-date" => rows.sort_by_key(|r| std::cmp::Reverse(r.updated)),
        "type" => rows.sort_by(|a, b| a.type_label.cmp(&b.type_label).then(a.name.cmp(&b.name))),
        "version" => rows.sort_by_key(|r| std::cmp::Reverse(r.version)),
        _ => rows.sort_by_key(|r| r.name.to_lowercase()),
    }
}

/// The sort choices of the space page: (value, catalogue key).
pub const SORTS: &[(&str, &str)] = &[
    ("name", "sort.name"),
    ("-name", "sort.name_desc"),
    ("-date", "sort.date_desc"),
    ("date", "sort.date"),
    ("type", "sort.type"),
    ("version", "sort.version"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, ty: &str, version: u32, minutes: i64) -> DocRow {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minutes);
        DocRow {
            id: name.into(),
            name: name.into(),
            type_key: ty.into(),
            type_label: ty.into(),
            key_meta: String::new(),
            version,
            author: String::new(),
            date: date(t),
            date_iso: date_iso(t),
            updated: t,
        }
    }

    #[test]
    fn sorts_and_filters_by_name_type_and_date() {
        let mut rows = vec![
            row("b.pdf", "facture", 1, 3),
            row("A.txt", "", 4, 1),
            row("c.odt", "facture", 2, 2),
        ];
        sort_and_filter(&mut rows, "name", "", "");
        assert_eq!(
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["A.txt", "b.pdf", "c.odt"]
        );
        sort_and_filter(&mut rows, "-date", "", "");
        assert_eq!(rows[0].name, "b.pdf");
        sort_and_filter(&mut rows, "version", "", "facture");
        assert_eq!(
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["c.odt", "b.pdf"]
        );
        sort_and_filter(&mut rows, "name", "C.O", "");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn sizes_are_human_readable_in_both_languages() {
        assert_eq!(size(512, crate::i18n::Lang::Fr), "512 o");
        assert_eq!(size(1536, crate::i18n::Lang::En), "1.5 KB");
        assert_eq!(size(5 * 1024 * 1024, crate::i18n::Lang::Fr), "5.0 Mo");
    }
}
