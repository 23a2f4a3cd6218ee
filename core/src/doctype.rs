//! Document types ("typologies") and validation of metadata against them.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::Revision;

/// A business type of document: "facture", "acte administratif"… It declares
/// the metadata its documents carry and how long they are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentType {
    /// Stable key used by business applications ("facture").
    pub key: String,
    pub label: String,
    /// Business domain ("périmètre métier"): Finances, Urbanisme…
    pub domain: String,
    #[serde(default)]
    pub description: String,
    /// Retention period in years (DUA, "durée d'utilité administrative").
    pub retention_years: u32,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(skip)]
    pub revision: Revision,
}

/// One metadata field of a document type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawField", into = "RawField")]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
}

/// The type of a metadata field.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Text,
    Integer,
    /// An exact decimal (amounts in euros): stored as a string, never a float.
    Decimal,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    Enum {
        values: Vec<String>,
    },
    Boolean,
}

/// The flat form of a field in TOML and JSON:
/// `{ key, label, type, values?, required? }`. Unknown keys are refused, so a
/// typo such as `requried` is an error, not a silently optional field.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    values: Vec<String>,
    #[serde(default)]
    required: bool,
}

impl TryFrom<RawField> for FieldDef {
    type Error = String;
    fn try_from(r: RawField) -> Result<Self, String> {
        let kind = match r.kind.as_str() {
            "text" => FieldKind::Text,
            "integer" => FieldKind::Integer,
            "decimal" => FieldKind::Decimal,
            "date" => FieldKind::Date,
            "boolean" => FieldKind::Boolean,
            "enum" => FieldKind::Enum {
                values: r.values.clone(),
            },
            other => {
                return Err(format!(
                    "field {}: unknown type {other:?} (text, integer, decimal, date, enum, boolean)",
                    r.key
                ));
            }
        };
        if !matches!(kind, FieldKind::Enum { .. }) && !r.values.is_empty() {
            return Err(format!("field {}: only enum fields take values", r.key));
        }
        Ok(FieldDef {
            key: r.key,
            label: r.label,
            kind,
            required: r.required,
        })
    }
}

impl From<FieldDef> for RawField {
    fn from(f: FieldDef) -> Self {
        let (kind, values) = match f.kind {
            FieldKind::Text => ("text", Vec::new()),
            FieldKind::Integer => ("integer", Vec::new()),
            FieldKind::Decimal => ("decimal", Vec::new()),
            FieldKind::Date => ("date", Vec::new()),
            FieldKind::Boolean => ("boolean", Vec::new()),
            FieldKind::Enum { values } => ("enum", values),
        };
        RawField {
            key: f.key,
            label: f.label,
            kind: kind.to_owned(),
            values,
            required: f.required,
        }
    }
}

impl FieldKind {
    /// The name used in catalogues and the API.
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Decimal => "decimal",
            FieldKind::Date => "date",
            FieldKind::Enum { .. } => "enum",
            FieldKind::Boolean => "boolean",
        }
    }
}

/// One problem with one metadata field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

/// Longest text value accepted in a metadata field.
pub const MAX_TEXT_LEN: usize = 2000;

/// Why a document type definition is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeDefinitionError {
    #[error("document type key {0:?} must be 1 to 64 characters among a-z, 0-9, '-' and '_'")]
    BadKey(String),
    #[error("field key {0:?} must be 1 to 64 characters among a-z, 0-9 and '_'")]
    BadFieldKey(String),
    #[error("field {0:?} is declared twice")]
    DuplicateField(String),
    #[error("enum field {0:?} declares no value")]
    EmptyEnum(String),
    #[error("the catalogue is not valid TOML: {0}")]
    Toml(String),
}

fn is_key(s: &str, allow_dash: bool) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || (allow_dash && b == b'-')
        })
}

impl DocumentType {
    /// Checks the definition itself (keys, duplicates, enums).
    pub fn check(&self) -> Result<(), TypeDefinitionError> {
        if !is_key(&self.key, true) {
            return Err(TypeDefinitionError::BadKey(self.key.clone()));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            if !is_key(&f.key, false) {
                return Err(TypeDefinitionError::BadFieldKey(f.key.clone()));
            }
            if !seen.insert(f.key.as_str()) {
                return Err(TypeDefinitionError::DuplicateField(f.key.clone()));
            }
            if let FieldKind::Enum { values } = &f.kind
                && values.is_empty()
            {
                return Err(TypeDefinitionError::EmptyEnum(f.key.clone()));
            }
        }
        Ok(())
    }

    /// Validates metadata against this type and returns it normalised
    /// (decimals as canonical strings, dates checked). Every problem is
    /// reported at once so a form can show them all.
    pub fn validate(
        &self,
        metadata: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = Map::new();
        for key in metadata.keys() {
            if !self.fields.iter().any(|f| &f.key == key) {
                errors.push(FieldError {
                    field: key.clone(),
                    problem: format!("unknown field for document type {}", self.key),
                });
            }
        }
        for field in &self.fields {
            match metadata.get(&field.key) {
                None | Some(Value::Null) => {
                    if field.required {
                        errors.push(FieldError {
                            field: field.key.clone(),
                            problem: "required".into(),
                        });
                    }
                }
                Some(Value::String(s)) if s.trim().is_empty() && field.kind != FieldKind::Text => {
                    if field.required {
                        errors.push(FieldError {
                            field: field.key.clone(),
                            problem: "required".into(),
                        });
                    }
                }
                Some(v) => match field.kind.normalise(v) {
                    Ok(v) => {
                        if field.required && v == Value::String(String::new()) {
                            errors.push(FieldError {
                                field: field.key.clone(),
                                problem: "required".into(),
                            });
                        } else {
                            out.insert(field.key.clone(), v);
                        }
                    }
                    Err(problem) => errors.push(FieldError {
                        field: field.key.clone(),
                        problem,
                    }),
                },
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

impl FieldKind {
    fn normalise(&self, v: &Value) -> Result<Value, String> {
        match (self, v) {
            (FieldKind::Text, Value::String(s)) => {
                if s.chars().count() > MAX_TEXT_LEN {
                    Err(format!("longer than {MAX_TEXT_LEN} characters"))
                } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    Err("contains a control character".into())
                } else {
                    Ok(Value::String(s.trim().to_owned()))
                }
            }
            (FieldKind::Integer, Value::Number(n)) if n.is_i64() => Ok(v.clone()),
            (FieldKind::Integer, Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "expected an integer".into()),
            (FieldKind::Integer, _) => Err("expected an integer".into()),
            (FieldKind::Decimal, Value::String(s)) => parse_decimal(s),
            (FieldKind::Decimal, Value::Number(n)) => parse_decimal(&n.to_string()),
            (FieldKind::Decimal, _) => Err("expected a decimal number such as 1234.50".into()),
            (FieldKind::Date, Value::String(s)) => {
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(s.trim(), &fmt)
                    .map(|_| Value::String(s.trim().to_owned()))
                    .map_err(|_| "expected a date as YYYY-MM-DD".into())
            }
            (FieldKind::Date, _) => Err("expected a date as YYYY-MM-DD".into()),
            (FieldKind::Enum { values }, Value::String(s)) => {
                if values.iter().any(|x| x == s) {
                    Ok(v.clone())
                } else {
                    Err(format!("expected one of: {}", values.join(", ")))
                }
            }
            (FieldKind::Enum { values }, _) => {
                Err(format!("expected one of: {}", values.join(", ")))
            }
            (FieldKind::Boolean, Value::Bool(_)) => Ok(v.clone()),
            (FieldKind::Boolean, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (FieldKind::Boolean, _) => Err("expected true or false".into()),
            (FieldKind::Text, _) => Err("expected text".into()),
        }
    }
}

fn parse_decimal(s: &str) -> Result<Value, String> {
    // French users type "1 234,50": accept the comma and spaces, store "1234.50".
    let cleaned: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    Decimal::from_str(&cleaned)
        .map(|d| Value::String(d.normalize().to_string()))
        .map_err(|_| "expected a decimal number such as 1234.50".into())
}

/// The catalogue file: `[[type]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    #[serde(rename = "type", default)]
    types: Vec<DocumentType>,
}

/// Parses a TOML catalogue of document types and checks every definition.
pub fn parse_catalogue(toml_text: &str) -> Result<Vec<DocumentType>, TypeDefinitionError> {
    let cat: Catalogue =
        toml::from_str(toml_text).map_err(|e| TypeDefinitionError::Toml(e.to_string()))?;
    let mut keys = BTreeMap::new();
    for t in &cat.types {
        t.check()?;
        if keys.insert(t.key.clone(), ()).is_some() {
            return Err(TypeDefinitionError::BadKey(format!(
                "{} (declared twice)",
                t.key
            )));
        }
    }
    Ok(cat.types)
}

/// The authority's document types, seeded on `init`.
pub const DEFAULT_CATALOGUE: &str = include_str!("../doctypes.toml");

/// [`DEFAULT_CATALOGUE`], parsed.
pub fn default_catalogue() -> Vec<DocumentType> {
    parse_catalogue(DEFAULT_CATALOGUE).expect("the embedded catalogue is checked by a unit test")
}

impl DocumentType {
    /// Adds the optional fields of `newer` (a later release's definition
    /// of the same type) that this one lacks, and returns their keys.
    /// Nothing else changes: an administrator's labels, values and
    /// required flags stay, and a new *required* field is not added (the
    /// documents already filed would no longer validate). How a node's
    /// built-in types gain the fields a release brings (the act types'
    /// @CTES fields) without undoing local changes.
    pub fn add_missing_fields(&mut self, newer: &DocumentType) -> Vec<String> {
        let mut added = Vec::new();
        for f in &newer.fields {
            if !f.required && !self.fields.iter().any(|mine| mine.key == f.key) {
                self.fields.push(f.clone());
                added.push(f.key.clone());
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facture() -> DocumentType {
        default_catalogue()
            .into_iter()
            .find(|t| t.key == "facture")
            .expect("facture is in the catalogue")
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn a_release_adds_only_missing_optional_fields_and_keeps_local_changes() {
        let newer = default_catalogue()
            .into_iter()
            .find(|t| t.key == "deliberation")
            .expect("deliberation");
        let mut mine = newer.clone();
        // An administrator relabelled one field and dropped two new ones;
        // the release also brings a required field of its own.
        mine.fields[0].label = "N° (local)".into();
        mine.fields
            .retain(|f| f.key != "matiere" && f.key != "transmis_le");
        let mut newer = newer;
        newer.fields.push(FieldDef {
            key: "nouveau_obligatoire".into(),
            label: "Obligatoire".into(),
            kind: FieldKind::Text,
            required: true,
        });
        let added = mine.add_missing_fields(&newer);
        assert_eq!(added, ["matiere", "transmis_le"]);
        assert_eq!(mine.fields[0].label, "N° (local)");
        assert!(!mine.fields.iter().any(|f| f.key == "nouveau_obligatoire"));
        assert!(mine.add_missing_fields(&newer).is_empty(), "idempotent");
    }

    #[test]
    fn embedded_catalogue_parses_and_covers_the_authority_types() {
        let keys: Vec<_> = default_catalogue().into_iter().map(|t| t.key).collect();
        for k in [
            "cahier-des-charges",
            "facture",
            "bon-de-commande",
            "deliberation",
            "arrete",
            "piece-comptable",
            "compte-rendu",
            "courrier",
            "flux-pes",
            "bordereau",
            "piece-justificative",
            "annexe-acte",
            "accuse-reception-acte",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing");
        }
    }

    #[test]
    fn accepts_valid_invoice_metadata_and_normalises_amounts() {
        let out = facture()
            .validate(&obj(json!({
                "numero": "F-2026-0042",
                "fournisseur": "BTP Rhône SAS",
                "montant_ttc": "12 480,50",
                "date_emission": "2026-10-02"
            })))
            .expect("valid");
        assert_eq!(out["montant_ttc"], json!("12480.5"));
    }

    #[test]
    fn reports_every_missing_or_mistyped_field() {
        let errs = facture()
            .validate(&obj(
                json!({"montant_ttc": "douze", "date_emission": "02/10/2026", "couleur": "bleu"}),
            ))
            .expect_err("invalid");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "numero",
            "fournisseur",
            "montant_ttc",
            "date_emission",
            "couleur",
        ] {
            assert!(fields.contains(&f), "{f} not reported in {errs:?}");
        }
    }

    #[test]
    fn rejects_a_misspelt_field_option() {
        let bad = r#"
            [[type]]
            key = "x"
            label = "X"
            domain = "Finances"
            retention_years = 1
            fields = [ { key = "a", label = "A", type = "text", requried = true } ]
        "#;
        assert!(
            matches!(parse_catalogue(bad), Err(TypeDefinitionError::Toml(m)) if m.contains("requried"))
        );
    }

    #[test]
    fn round_trips_a_type_through_json() {
        let t = facture();
        let j = serde_json::to_value(&t).expect("serialise");
        assert_eq!(j["fields"][0]["type"], "text");
        let back: DocumentType = serde_json::from_value(j).expect("parse");
        assert_eq!(back.fields, t.fields);
    }

    #[test]
    fn rejects_a_catalogue_with_duplicate_fields() {
        let bad = r#"
            [[type]]
            key = "x"
            label = "X"
            domain = "Finances"
            retention_years = 1
            fields = [ { key = "a", label = "A", type = "text" }, { key = "a", label = "A", type = "integer" } ]
        "#;
        assert_eq!(
            parse_catalogue(bad),
            Err(TypeDefinitionError::DuplicateField("a".into()))
        );
    }
}
