//! Properties: the CMIS base properties this repository fills, defined
//! once here so that type definitions and objects cannot disagree, and
//! Passerelle's metadata fields as `passerelle:<key>` properties of the
//! document types' subtypes. Written in the Browser binding's full form
//! (`{id, localName, displayName, queryName, type, cardinality, value}`)
//! or its succinct one (`{id: value}`); dates as milliseconds since the
//! epoch (the binding's default `dateTimeFormat=simple`).

use passerelle_core::doctype::{FieldDef, FieldKind};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// The namespace of Passerelle's own types and properties.
pub(crate) const PREFIX: &str = "passerelle:";

/// CMIS's property types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PropType {
    Id,
    String,
    Integer,
    Decimal,
    DateTime,
    Boolean,
}

impl PropType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PropType::Id => "id",
            PropType::String => "string",
            PropType::Integer => "integer",
            PropType::Decimal => "decimal",
            PropType::DateTime => "datetime",
            PropType::Boolean => "boolean",
        }
    }
}

/// Who may set a property, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Updatability {
    ReadOnly,
    ReadWrite,
    OnCreate,
}

impl Updatability {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Updatability::ReadOnly => "readonly",
            Updatability::ReadWrite => "readwrite",
            Updatability::OnCreate => "oncreate",
        }
    }
}

/// A base property's definition.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BaseDef {
    pub(crate) id: &'static str,
    pub(crate) display: &'static str,
    pub(crate) ptype: PropType,
    pub(crate) multi: bool,
    pub(crate) updatability: Updatability,
    pub(crate) required: bool,
    /// Searchable in a `WHERE` (see `query`), and sortable.
    pub(crate) queryable: bool,
}

const fn def(id: &'static str, display: &'static str, ptype: PropType) -> BaseDef {
    BaseDef {
        id,
        display,
        ptype,
        multi: false,
        updatability: Updatability::ReadOnly,
        required: false,
        queryable: false,
    }
}

/// The properties every object has.
pub(crate) const COMMON: &[BaseDef] = &[
    BaseDef {
        updatability: Updatability::ReadWrite,
        required: true,
        queryable: true,
        ..def("cmis:name", "Name", PropType::String)
    },
    def("cmis:description", "Description", PropType::String),
    def("cmis:objectId", "Object Id", PropType::Id),
    def("cmis:baseTypeId", "Base Type Id", PropType::Id),
    BaseDef {
        updatability: Updatability::OnCreate,
        required: true,
        ..def("cmis:objectTypeId", "Object Type Id", PropType::Id)
    },
    BaseDef {
        multi: true,
        ..def(
            "cmis:secondaryObjectTypeIds",
            "Secondary Type Ids",
            PropType::Id,
        )
    },
    BaseDef {
        queryable: true,
        ..def("cmis:createdBy", "Created by", PropType::String)
    },
    def("cmis:creationDate", "Creation date", PropType::DateTime),
    def("cmis:lastModifiedBy", "Last modified by", PropType::String),
    BaseDef {
        queryable: true,
        ..def(
            "cmis:lastModificationDate",
            "Last modification date",
            PropType::DateTime,
        )
    },
    def("cmis:changeToken", "Change token", PropType::String),
];

/// The properties of folders.
pub(crate) const FOLDER: &[BaseDef] = &[
    def("cmis:parentId", "Parent Id", PropType::Id),
    def("cmis:path", "Path", PropType::String),
    BaseDef {
        multi: true,
        ..def(
            "cmis:allowedChildObjectTypeIds",
            "Allowed child types",
            PropType::Id,
        )
    },
];

/// The properties of documents.
pub(crate) const DOCUMENT: &[BaseDef] = &[
    def("cmis:isImmutable", "Immutable", PropType::Boolean),
    def("cmis:isLatestVersion", "Latest version", PropType::Boolean),
    def("cmis:isMajorVersion", "Major version", PropType::Boolean),
    def(
        "cmis:isLatestMajorVersion",
        "Latest major version",
        PropType::Boolean,
    ),
    def(
        "cmis:isPrivateWorkingCopy",
        "Private working copy",
        PropType::Boolean,
    ),
    def("cmis:versionLabel", "Version label", PropType::String),
    def("cmis:versionSeriesId", "Version series Id", PropType::Id),
    def(
        "cmis:isVersionSeriesCheckedOut",
        "Checked out",
        PropType::Boolean,
    ),
    def(
        "cmis:versionSeriesCheckedOutBy",
        "Checked out by",
        PropType::String,
    ),
    def(
        "cmis:versionSeriesCheckedOutId",
        "Checked out Id",
        PropType::Id,
    ),
    def("cmis:checkinComment", "Check-in comment", PropType::String),
    def(
        "cmis:contentStreamLength",
        "Content length",
        PropType::Integer,
    ),
    def("cmis:contentStreamMimeType", "Media type", PropType::String),
    def("cmis:contentStreamFileName", "File name", PropType::String),
    def("cmis:contentStreamId", "Content stream Id", PropType::Id),
];

/// The base definition of `id` for a folder (`false`) or a document.
pub(crate) fn base_def(id: &str, document: bool) -> Option<&'static BaseDef> {
    let own = if document { DOCUMENT } else { FOLDER };
    COMMON.iter().chain(own).find(|d| d.id == id)
}

/// The CMIS type of a metadata field.
pub(crate) fn field_type(kind: &FieldKind) -> PropType {
    match kind {
        FieldKind::Text | FieldKind::Enum { .. } => PropType::String,
        FieldKind::Integer => PropType::Integer,
        FieldKind::Decimal => PropType::Decimal,
        FieldKind::Date => PropType::DateTime,
        FieldKind::Boolean => PropType::Boolean,
    }
}

/// One property of one object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Prop {
    pub(crate) id: String,
    pub(crate) display: String,
    pub(crate) ptype: PropType,
    pub(crate) multi: bool,
    pub(crate) value: Value,
}

/// An object's properties, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Props(Vec<Prop>);

impl Props {
    /// Sets a base property (defined in the tables above).
    pub(crate) fn base(&mut self, def: &BaseDef, value: Value) {
        self.0.push(Prop {
            id: def.id.to_owned(),
            display: def.display.to_owned(),
            ptype: def.ptype,
            multi: def.multi,
            value,
        });
    }

    /// Sets a metadata field's property from the document's stored value.
    pub(crate) fn field(&mut self, field: &FieldDef, stored: Option<&Value>) {
        let ptype = field_type(&field.kind);
        self.0.push(Prop {
            id: format!("{PREFIX}{}", field.key),
            display: field.label.clone(),
            ptype,
            multi: false,
            value: stored.map_or(Value::Null, |v| wire_value(ptype, v)),
        });
    }

    /// Keeps the properties `wanted` names (a `filter` or a `SELECT`
    /// list); `None` keeps them all.
    pub(crate) fn keep(&mut self, wanted: Option<&[String]>) {
        if let Some(wanted) = wanted {
            self.0.retain(|p| wanted.iter().any(|w| w == &p.id));
        }
    }

    /// The full form: each property with its definition's names.
    pub(crate) fn full(&self) -> Value {
        let mut out = Map::new();
        for p in &self.0 {
            let local = p.id.split_once(':').map_or(p.id.as_str(), |(_, l)| l);
            out.insert(
                p.id.clone(),
                json!({
                    "id": p.id,
                    "localName": local,
                    "displayName": p.display,
                    "queryName": p.id,
                    "type": p.ptype.name(),
                    "cardinality": if p.multi { "multi" } else { "single" },
                    "value": p.value,
                }),
            );
        }
        Value::Object(out)
    }

    /// The succinct form: `{id: value}`.
    pub(crate) fn succinct(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|p| (p.id.clone(), p.value.clone()))
                .collect(),
        )
    }
}

/// A date-time as the binding writes it: milliseconds since the epoch.
pub(crate) fn millis(at: OffsetDateTime) -> Value {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).map_or(Value::Null, Value::from)
}

/// A stored metadata value as the property's type is written: decimals
/// (kept as exact strings) as JSON numbers, dates (`YYYY-MM-DD`) as
/// midnight UTC.
fn wire_value(ptype: PropType, stored: &Value) -> Value {
    match (ptype, stored) {
        (PropType::Decimal, Value::String(s)) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        (PropType::DateTime, Value::String(s)) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &fmt)
                .map(|d| millis(d.midnight().assume_utc()))
                .unwrap_or(Value::Null)
        }
        (_, v) => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_dates_are_written_as_the_binding_reads_them() {
        assert_eq!(
            wire_value(PropType::Decimal, &json!("1234.50")),
            json!(1234.5)
        );
        assert_eq!(
            wire_value(PropType::DateTime, &json!("2026-03-01")),
            json!(1_772_323_200_000_i64)
        );
        assert_eq!(wire_value(PropType::DateTime, &json!("mars")), Value::Null);
    }

    #[test]
    fn both_forms_carry_the_same_values() {
        let mut p = Props::default();
        p.base(&COMMON[0], json!("Devis.pdf"));
        assert_eq!(p.succinct(), json!({ "cmis:name": "Devis.pdf" }));
        let full = p.full();
        assert_eq!(full["cmis:name"]["value"], json!("Devis.pdf"));
        assert_eq!(full["cmis:name"]["localName"], json!("name"));
        assert_eq!(full["cmis:name"]["cardinality"], json!("single"));
    }
}
