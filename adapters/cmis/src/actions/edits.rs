//! The posted properties (`propertyId[i]`, `propertyValue[i]`) sorted
//! into what core changes: a name, a type on creation, metadata fields of
//! the document's type, each value as core's metadata takes it. Anything
//! else is refused by name, so nothing a client sends is silently dropped.

use passerelle_core::doctype::{DocumentType, FieldKind};
use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::error::{CmisError, CmisResult};
use crate::form::Form;
use crate::props::{self, PREFIX, Updatability};
use crate::reads::Doc;
use crate::types::{self, TypeRef};

/// What the posted properties ask, checked against the object's type.
#[derive(Debug, Default)]
pub(super) struct Edits {
    pub(super) name: Option<String>,
    pub(super) type_id: Option<String>,
    /// Metadata fields to set (`Null`: to clear).
    pub(super) metadata: Map<String, Value>,
}

/// Sorts the posted properties: the name, the type (on creation), and
/// metadata fields of `doc_type`; anything else (read-only, unknown,
/// multi-valued) is a `constraint`, so nothing is silently dropped.
pub(super) fn edits(
    posted: Vec<(String, Vec<String>)>,
    document: bool,
    doc_type: impl Fn(Option<&str>) -> CmisResult<Option<DocumentType>>,
) -> CmisResult<Edits> {
    let mut out = Edits::default();
    let mut fields = Vec::new();
    for (id, mut values) in posted {
        if id == "cmis:secondaryObjectTypeIds" && values.iter().all(String::is_empty) {
            continue;
        }
        if values.len() > 1 {
            return Err(CmisError::constraint(format!("{id} takes one value")));
        }
        let value = values.pop().unwrap_or_default();
        match id.as_str() {
            "cmis:name" => out.name = Some(value),
            "cmis:objectTypeId" => out.type_id = Some(value),
            _ if id.starts_with(PREFIX) && document => fields.push((id, value)),
            _ => {
                let why = match props::base_def(&id, document) {
                    Some(d) if d.updatability != Updatability::ReadOnly => "cannot be set here",
                    Some(_) => "is read-only",
                    None => "is not a property of this type",
                };
                return Err(CmisError::constraint(format!("{id} {why}")));
            }
        }
    }
    if fields.is_empty() {
        return Ok(out);
    }
    let t = doc_type(out.type_id.as_deref())?.ok_or_else(|| {
        CmisError::constraint("an untyped document (cmis:document) has no passerelle: property")
    })?;
    for (id, value) in fields {
        let key = &id[PREFIX.len()..];
        let Some(def) = t.fields.iter().find(|f| f.key == key) else {
            return Err(CmisError::constraint(format!(
                "{id} is not a property of {PREFIX}{}",
                t.key
            )));
        };
        out.metadata
            .insert(key.to_owned(), field_value(&def.kind, value));
    }
    Ok(out)
}

/// A posted value as core's metadata takes it: dates (milliseconds since
/// the epoch, or an ISO date-time) as `YYYY-MM-DD`; an empty value clears.
fn field_value(kind: &FieldKind, value: String) -> Value {
    if value.trim().is_empty() {
        return Value::Null;
    }
    match kind {
        FieldKind::Date => Value::String(date_of(&value).unwrap_or(value)),
        _ => Value::String(value),
    }
}

fn date_of(value: &str) -> Option<String> {
    let v = value.trim();
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !v.contains("--") && v.len() > 10 {
        let ms: i128 = v.parse().ok()?;
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(ms.checked_mul(1_000_000)?).ok()?;
        return Some(at.date().to_string());
    }
    v.split_once('T').map(|(d, _)| d.to_owned())
}

pub(super) fn typed(ctx: &Ctx, type_id: Option<&str>) -> CmisResult<Option<DocumentType>> {
    match type_id.map(|id| types::find(id, &ctx.catalogue)) {
        None | Some(Some(TypeRef::Document)) => Ok(None),
        Some(Some(TypeRef::Typed(t))) => Ok(Some(t.clone())),
        Some(Some(TypeRef::Folder)) => Err(CmisError::constraint(
            "cmis:folder is created with createFolder",
        )),
        Some(None) => Err(CmisError::constraint("unknown object type")),
    }
}

/// Applies the posted name and metadata to a document.
pub(super) async fn apply_edits(ctx: &Ctx, doc: &Doc, form: &Form) -> CmisResult<()> {
    let current = &doc.view.document;
    let e = edits(form.properties()?, true, |_| {
        Ok(ctx.doc_type(current.doc_type.as_deref()).cloned())
    })?;
    let current_type = types::document_type_id(current.doc_type.as_deref());
    if e.type_id.as_deref().is_some_and(|t| t != current_type) {
        return Err(CmisError::constraint(
            "cmis:objectTypeId is set on creation",
        ));
    }
    let app = &ctx.cmis.app;
    if !e.metadata.is_empty() {
        let mut metadata = current.metadata.clone();
        for (k, v) in e.metadata {
            if v.is_null() {
                metadata.remove(&k);
            } else {
                metadata.insert(k, v);
            }
        }
        app.update_metadata(&ctx.actor, current.id, current.doc_type.clone(), metadata)
            .await?;
    }
    if let Some(name) = e.name.filter(|n| n != current.name.as_str()) {
        app.update_document(&ctx.actor, current.id, Some(&name), None)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_from_milliseconds_or_iso_date_times() {
        assert_eq!(date_of("1772323200000").as_deref(), Some("2026-03-01"));
        assert_eq!(
            date_of("2026-03-01T10:00:00.000Z").as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(date_of("2026-03-01"), None);
    }

    #[test]
    fn read_only_and_unknown_properties_are_refused_not_dropped() {
        for id in ["cmis:objectId", "cmis:creationDate", "cmis:path", "x:y"] {
            let posted = vec![(id.to_owned(), vec!["v".to_owned()])];
            let e = edits(posted, true, |_| Ok(None)).expect_err(id);
            assert_eq!(e.exception, "constraint", "{id}");
        }
        let untyped = vec![("passerelle:fournisseur".to_owned(), vec!["x".to_owned()])];
        assert!(edits(untyped, true, |_| Ok(None)).is_err());
        let multi = vec![("cmis:name".to_owned(), vec!["a".into(), "b".into()])];
        assert!(edits(multi, true, |_| Ok(None)).is_err());
    }
}
