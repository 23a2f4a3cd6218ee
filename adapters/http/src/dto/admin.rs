//! Document types and the audit log.

use passerelle_core::doctype::{DocumentType, FieldDef, FieldKind};
use passerelle_core::ids::Revision;
use passerelle_core::model::AuditEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A document type ("typologie") and the metadata it declares.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentTypeDto {
    pub key: String,
    pub label: String,
    pub domain: String,
    pub description: String,
    /// Retention period in years.
    pub retention_years: u32,
    pub fields: Vec<FieldDefDto>,
}

impl From<&DocumentType> for DocumentTypeDto {
    fn from(t: &DocumentType) -> Self {
        Self {
            key: t.key.clone(),
            label: t.label.clone(),
            domain: t.domain.clone(),
            description: t.description.clone(),
            retention_years: t.retention_years,
            fields: t.fields.iter().map(Into::into).collect(),
        }
    }
}

/// `PUT /document-types/{key}` (the key is in the path).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentTypeBody {
    pub label: String,
    pub domain: String,
    #[serde(default)]
    pub description: String,
    pub retention_years: u32,
    #[serde(default)]
    pub fields: Vec<FieldDefDto>,
}

impl DocumentTypeBody {
    pub fn into_core(self, key: String) -> DocumentType {
        DocumentType {
            key,
            label: self.label,
            domain: self.domain,
            description: self.description,
            retention_years: self.retention_years,
            fields: self.fields.into_iter().map(Into::into).collect(),
            revision: Revision::ZERO,
        }
    }
}

/// One metadata field of a document type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDefDto {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldTypeDto,
    /// Values of an `enum` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// The type of a metadata field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldTypeDto {
    Text,
    Integer,
    /// Exact decimal (amounts), as a string.
    Decimal,
    /// `YYYY-MM-DD`.
    Date,
    Enum,
    Boolean,
}

impl From<&FieldDef> for FieldDefDto {
    fn from(f: &FieldDef) -> Self {
        let (kind, values) = match &f.kind {
            FieldKind::Text => (FieldTypeDto::Text, Vec::new()),
            FieldKind::Integer => (FieldTypeDto::Integer, Vec::new()),
            FieldKind::Decimal => (FieldTypeDto::Decimal, Vec::new()),
            FieldKind::Date => (FieldTypeDto::Date, Vec::new()),
            FieldKind::Enum { values } => (FieldTypeDto::Enum, values.clone()),
            FieldKind::Boolean => (FieldTypeDto::Boolean, Vec::new()),
        };
        Self {
            key: f.key.clone(),
            label: f.label.clone(),
            kind,
            values,
            required: f.required,
        }
    }
}

impl From<FieldDefDto> for FieldDef {
    fn from(f: FieldDefDto) -> Self {
        let kind = match f.kind {
            FieldTypeDto::Text => FieldKind::Text,
            FieldTypeDto::Integer => FieldKind::Integer,
            FieldTypeDto::Decimal => FieldKind::Decimal,
            FieldTypeDto::Date => FieldKind::Date,
            FieldTypeDto::Enum => FieldKind::Enum { values: f.values },
            FieldTypeDto::Boolean => FieldKind::Boolean,
        };
        FieldDef {
            key: f.key,
            label: f.label,
            kind,
            required: f.required,
        }
    }
}

/// One entry of the hash-chained audit log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `null`: the node operator (CLI) or an anonymous attempt.
    pub actor: Option<Uuid>,
    /// Stable action code (`document.upload`, `login.failed`…).
    pub action: String,
    pub space: Option<Uuid>,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&AuditEntry> for AuditEntryDto {
    fn from(e: &AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor.map(|a| a.as_uuid()),
            action: e.action.clone(),
            space: e.space.map(|s| s.as_uuid()),
            target: e.target.clone(),
            detail: e.detail.clone(),
            prev_hash: e.prev_hash.to_hex(),
            hash: e.hash.to_hex(),
        }
    }
}
