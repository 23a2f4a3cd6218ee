//! Rows the templates show, built from core's types, and formatting.

use std::collections::HashMap;

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{FolderId, PrincipalId, SpaceId};
use passerelle_core::model::{Document, Folder};
use passerelle_core::ports::DocumentSort;
use passerelle_core::search::{ExtractionRecord, ExtractionStatus};
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
    pub type_label: String,
    /// The first two metadata values of its type, in the type's order.
    pub key_meta: String,
    pub version: u32,
    pub author: String,
    pub date: String,
    pub date_iso: String,
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
            type_label: ty.map(|t| t.label.clone()).unwrap_or_default(),
            key_meta,
            version: d.current_version,
            author: name_of(names, &d.created_by),
            date: date(d.updated_at),
            date_iso: date_iso(d.updated_at),
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

/// The sort of the space page's `sort` parameter (`name`, `-date`…): the
/// key and whether it is descending. Unknown values sort by name.
pub fn parse_sort(raw: &str) -> (DocumentSort, bool) {
    let (descending, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    let sort = match key {
        "date" => DocumentSort::Date,
        "type" => DocumentSort::Type,
        "author" => DocumentSort::Author,
        "version" => DocumentSort::Version,
        "name" => DocumentSort::Name,
        _ => return (DocumentSort::Name, false),
    };
    (sort, descending)
}

/// The sort choices of the space page: (value, catalogue key).
pub const SORTS: &[(&str, &str)] = &[
    ("name", "sort.name"),
    ("-name", "sort.name_desc"),
    ("-date", "sort.date_desc"),
    ("date", "sort.date"),
    ("type", "sort.type"),
    ("author", "sort.author"),
    ("-version", "sort.version"),
];

/// One step of the folder tree, rendered in order: `open` starts an item
/// (and its link), `down`/`up` open and close the nested list of its
/// children, `close` ends the item. A flat run keeps the template free of
/// recursion.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow {
    pub step: &'static str,
    pub id: String,
    pub name: String,
    /// The folder shown: `aria-current="page"`.
    pub current: bool,
}

/// Most folders drawn in the tree (beyond, the breadcrumb and subfolder
/// list still reach every folder; the page stays light).
pub const MAX_TREE_FOLDERS: usize = 400;

/// The tree of `folders` (live folders of a space, any order) as steps,
/// children by name; folders whose parent is not among them are left out.
pub fn tree_rows(folders: &[Folder], current: Option<FolderId>) -> Vec<TreeRow> {
    let mut children: HashMap<Option<FolderId>, Vec<&Folder>> = HashMap::new();
    for f in folders {
        children.entry(f.parent).or_default().push(f);
    }
    for list in children.values_mut() {
        list.sort_by_cached_key(|f| (f.name.unique_key(), f.id));
    }
    let step = |step, f: Option<&Folder>| TreeRow {
        step,
        id: f.map(|f| f.id.to_string()).unwrap_or_default(),
        name: f.map(|f| f.name.as_str().to_owned()).unwrap_or_default(),
        current: f.is_some_and(|f| Some(f.id) == current),
    };
    let mut out = Vec::new();
    let mut drawn = 0;
    // Depth-first without recursion: (children of a level, next index).
    let mut stack: Vec<(&[&Folder], usize)> = Vec::new();
    if let Some(top) = children.get(&None) {
        stack.push((top.as_slice(), 0));
    }
    while let Some((level, i)) = stack.last_mut() {
        let Some(f) = level.get(*i).copied() else {
            stack.pop();
            if !stack.is_empty() {
                out.push(step("up", None));
                out.push(step("close", None));
            }
            continue;
        };
        *i += 1;
        if drawn >= MAX_TREE_FOLDERS || stack.len() > 32 {
            continue;
        }
        drawn += 1;
        out.push(step("open", Some(f)));
        match children.get(&Some(f.id)) {
            Some(kids) if !kids.is_empty() => {
                out.push(step("down", None));
                stack.push((kids.as_slice(), 0));
            }
            _ => out.push(step("close", None)),
        }
    }
    out
}

/// What text extraction made of a document's current content, as a
/// sentence in the page's language ("Indexation en attente" until the
/// indexer has tried it).
pub fn extraction(t: crate::i18n::Tr, record: Option<&ExtractionRecord>) -> String {
    let Some(r) = record else {
        return t.s("extraction.pending").to_owned();
    };
    let retried = matches!(
        r.status,
        ExtractionStatus::Failed | ExtractionStatus::Timeout
    );
    let text = t.s(extraction_key(r.status));
    let mut text = if r.reason.trim().is_empty() {
        text.replace(" ({reason})", "")
    } else {
        text.replace("{reason}", r.reason.trim())
    };
    if retried {
        text.push(' ');
        match r.next_try {
            Some(at) => text.push_str(&t.f("extraction.next_try", &date(at))),
            None => text.push_str(t.s("extraction.no_retry")),
        }
    }
    text
}

/// The catalogue key of an extraction status.
pub fn extraction_key(status: ExtractionStatus) -> &'static str {
    match status {
        ExtractionStatus::Ok => "extraction.ok",
        ExtractionStatus::Empty => "extraction.empty",
        ExtractionStatus::TooLarge => "extraction.too_large",
        ExtractionStatus::Encrypted => "extraction.encrypted",
        ExtractionStatus::Unsupported => "extraction.unsupported",
        ExtractionStatus::Failed => "extraction.failed",
        ExtractionStatus::Timeout => "extraction.timeout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameters_map_to_keys_and_directions() {
        assert_eq!(parse_sort("name"), (DocumentSort::Name, false));
        assert_eq!(parse_sort("-date"), (DocumentSort::Date, true));
        assert_eq!(parse_sort("author"), (DocumentSort::Author, false));
        assert_eq!(parse_sort("-version"), (DocumentSort::Version, true));
        assert_eq!(parse_sort("-bogus"), (DocumentSort::Name, false));
        assert_eq!(parse_sort(""), (DocumentSort::Name, false));
        for (value, _) in SORTS {
            let (sort, desc) = parse_sort(value);
            assert_eq!(value.starts_with('-'), desc, "{value}");
            assert!(
                value.trim_start_matches('-') == "name" || sort != DocumentSort::Name,
                "{value}"
            );
        }
    }

    fn folder(name: &str, parent: Option<&Folder>) -> Folder {
        Folder {
            id: FolderId::new(),
            space: SpaceId::new(),
            parent: parent.map(|p| p.id),
            name: passerelle_core::names::DocumentName::parse(name).expect("name"),
            created_by: PrincipalId::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            trashed: None,
            purged: false,
            revision: passerelle_core::ids::Revision(1),
        }
    }

    #[test]
    fn the_tree_nests_children_by_name_and_marks_the_current_folder() {
        let b = folder("b", None);
        let a = folder("A", None);
        let b1 = folder("b1", Some(&b));
        let b11 = folder("b11", Some(&b1));
        let orphan = folder("orphan", Some(&folder("gone", None)));
        let rows = tree_rows(
            &[b.clone(), b11.clone(), a.clone(), b1.clone(), orphan],
            Some(b1.id),
        );
        let steps: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}{}{}",
                    r.step,
                    if r.name.is_empty() { "" } else { ":" },
                    r.name
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                "open:A", "close", "open:b", "down", "open:b1", "down", "open:b11", "close", "up",
                "close", "up", "close"
            ]
        );
        let current: Vec<_> = rows
            .iter()
            .filter(|r| r.current)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(current, ["b1"]);
    }

    #[test]
    fn sizes_are_human_readable_in_both_languages() {
        assert_eq!(size(512, crate::i18n::Lang::Fr), "512 o");
        assert_eq!(size(1536, crate::i18n::Lang::En), "1.5 KB");
        assert_eq!(size(5 * 1024 * 1024, crate::i18n::Lang::Fr), "5.0 Mo");
    }
}
