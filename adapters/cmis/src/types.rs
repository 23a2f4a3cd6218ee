//! Type definitions: `cmis:folder`, `cmis:document`, and one subtype of
//! `cmis:document` per document type of the catalogue
//! (`passerelle:facture`, its fields as `passerelle:fournisseur`…), read
//! from the catalogue at each request, so a type an administrator adds is
//! there at once. Types are not created through CMIS (`typeMutability`
//! all false): the catalogue is the administrators' page.

use passerelle_core::doctype::{DocumentType, FieldDef, FieldKind};
use serde_json::{Map, Value, json};

use crate::props::{BaseDef, COMMON, DOCUMENT, FOLDER, PREFIX, field_type};

pub(crate) const DOCUMENT_TYPE: &str = "cmis:document";
pub(crate) const FOLDER_TYPE: &str = "cmis:folder";
const CMIS_NAMESPACE: &str = "http://docs.oasis-open.org/ns/cmis/core/200908/";
const OWN_NAMESPACE: &str = "urn:passerelle:cmis";

/// What a type id designates.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TypeRef<'a> {
    Folder,
    Document,
    /// A document type of the catalogue.
    Typed(&'a DocumentType),
}

/// Resolves a type id against the catalogue; `None`: no such type.
pub(crate) fn find<'a>(id: &str, catalogue: &'a [DocumentType]) -> Option<TypeRef<'a>> {
    match id {
        FOLDER_TYPE => Some(TypeRef::Folder),
        DOCUMENT_TYPE => Some(TypeRef::Document),
        _ => {
            let key = id.strip_prefix(PREFIX)?;
            catalogue.iter().find(|t| t.key == key).map(TypeRef::Typed)
        }
    }
}

/// The id of a document's type.
pub(crate) fn document_type_id(key: Option<&str>) -> String {
    key.map_or_else(|| DOCUMENT_TYPE.to_owned(), |k| format!("{PREFIX}{k}"))
}

/// The base types, as `typeChildren` without a type lists them.
pub(crate) fn base_types() -> Vec<Value> {
    vec![definition(&TypeRef::Document), definition(&TypeRef::Folder)]
}

/// The direct subtypes of `of`.
pub(crate) fn children(of: &TypeRef<'_>, catalogue: &[DocumentType]) -> Vec<Value> {
    match of {
        TypeRef::Document => catalogue
            .iter()
            .map(|t| definition(&TypeRef::Typed(t)))
            .collect(),
        TypeRef::Folder | TypeRef::Typed(_) => Vec::new(),
    }
}

/// A type's definition, its property definitions included.
pub(crate) fn definition(t: &TypeRef<'_>) -> Value {
    let mut out = match t {
        TypeRef::Folder => json!({
            "id": FOLDER_TYPE, "localName": "folder", "localNamespace": CMIS_NAMESPACE,
            "displayName": "Folder", "queryName": FOLDER_TYPE,
            "description": "A folder, or a space (a folder under the root)",
            "baseId": FOLDER_TYPE, "parentId": Value::Null,
            "creatable": true, "fileable": true,
            // Queries find documents: the search index holds no folders.
            "queryable": false, "fulltextIndexed": false,
            "includedInSupertypeQuery": true,
        }),
        TypeRef::Document => json!({
            "id": DOCUMENT_TYPE, "localName": "document", "localNamespace": CMIS_NAMESPACE,
            "displayName": "Document", "queryName": DOCUMENT_TYPE,
            "description": "A document of any type", "baseId": DOCUMENT_TYPE,
            "parentId": Value::Null, "creatable": true, "fileable": true,
            "queryable": true, "fulltextIndexed": true, "includedInSupertypeQuery": true,
            "versionable": true, "contentStreamAllowed": "allowed",
        }),
        TypeRef::Typed(d) => json!({
            "id": format!("{PREFIX}{}", d.key), "localName": d.key,
            "localNamespace": OWN_NAMESPACE, "displayName": d.label,
            "queryName": format!("{PREFIX}{}", d.key), "description": d.description,
            "baseId": DOCUMENT_TYPE, "parentId": DOCUMENT_TYPE,
            "creatable": true, "fileable": true, "queryable": true,
            "fulltextIndexed": true, "includedInSupertypeQuery": true,
            "versionable": true, "contentStreamAllowed": "allowed",
        }),
    };
    let fixed = json!({
        "controllablePolicy": false, "controllableACL": false,
        "typeMutability": { "create": false, "update": false, "delete": false },
        "propertyDefinitions": property_definitions(t),
    });
    if let (Value::Object(o), Value::Object(f)) = (&mut out, fixed) {
        o.extend(f);
    }
    out
}

fn property_definitions(t: &TypeRef<'_>) -> Value {
    let (own, inherited): (&[BaseDef], bool) = match t {
        TypeRef::Folder => (FOLDER, false),
        TypeRef::Document => (DOCUMENT, false),
        TypeRef::Typed(_) => (DOCUMENT, true),
    };
    let mut out = Map::new();
    for d in COMMON.iter().chain(own) {
        out.insert(d.id.to_owned(), base_definition(d, inherited));
    }
    if let TypeRef::Typed(d) = t {
        for f in &d.fields {
            out.insert(format!("{PREFIX}{}", f.key), field_definition(f));
        }
    }
    Value::Object(out)
}

fn base_definition(d: &BaseDef, inherited: bool) -> Value {
    let local = d.id.trim_start_matches("cmis:");
    json!({
        "id": d.id, "localName": local, "localNamespace": CMIS_NAMESPACE,
        "displayName": d.display, "queryName": d.id, "description": d.display,
        "propertyType": d.ptype.name(),
        "cardinality": if d.multi { "multi" } else { "single" },
        "updatability": d.updatability.name(), "inherited": inherited,
        "required": d.required, "queryable": d.queryable, "orderable": d.queryable,
        "openChoice": false,
    })
}

fn field_definition(f: &FieldDef) -> Value {
    let mut out = json!({
        "id": format!("{PREFIX}{}", f.key), "localName": f.key,
        "localNamespace": OWN_NAMESPACE, "displayName": f.label,
        "queryName": format!("{PREFIX}{}", f.key), "description": f.label,
        "propertyType": field_type(&f.kind).name(), "cardinality": "single",
        "updatability": "readwrite", "inherited": false, "required": f.required,
        "queryable": true, "orderable": false, "openChoice": false,
    });
    if let (FieldKind::Enum { values }, Value::Object(o)) = (&f.kind, &mut out) {
        let choices: Vec<Value> = values
            .iter()
            .map(|v| json!({ "displayName": v, "value": [v] }))
            .collect();
        o.insert("choice".into(), Value::Array(choices));
    }
    out
}

#[cfg(test)]
mod tests {
    use passerelle_core::doctype::default_catalogue;

    use super::*;

    #[test]
    fn every_catalogue_type_is_a_document_subtype_with_its_fields() {
        let catalogue = default_catalogue();
        let subtypes = children(&TypeRef::Document, &catalogue);
        assert_eq!(subtypes.len(), catalogue.len());
        let facture = find("passerelle:facture", &catalogue).expect("facture");
        let def = definition(&facture);
        assert_eq!(def["parentId"], json!("cmis:document"));
        let props = def["propertyDefinitions"].as_object().expect("props");
        assert!(props.contains_key("cmis:name"));
        assert_eq!(props["cmis:name"]["inherited"], json!(true));
        let TypeRef::Typed(t) = facture else {
            panic!("typed")
        };
        for f in &t.fields {
            let p = &props[&format!("passerelle:{}", f.key)];
            assert_eq!(p["required"], json!(f.required), "{}", f.key);
        }
        assert_eq!(find("passerelle:absent", &catalogue), None);
        assert_eq!(find("facture", &catalogue), None);
    }
}
