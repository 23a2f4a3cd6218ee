//! Document types: the catalogue of this node, and the validation of a
//! document's metadata against its type; apart from documents themselves,
//! which only name a type.

use serde_json::{Map, Value, json};

use crate::doctype::DocumentType;
use crate::error::CoreError;
use crate::ports::Tx;

use super::super::access::{Fail, Outcome};
use super::super::{Actor, InternalApp, Passerelle};

impl Passerelle {
    /// Resolves and validates a document type and its metadata.
    pub(crate) async fn typed_metadata(
        &self,
        tx: &mut Box<dyn Tx>,
        doc_type: Option<&str>,
        metadata: &Map<String, Value>,
    ) -> Outcome<Map<String, Value>> {
        match doc_type {
            None if metadata.is_empty() => Ok(Map::new()),
            None => Err(CoreError::invalid(
                "metadata_without_type",
                "metadata need a document type",
            )
            .into()),
            Some(key) => {
                let t: DocumentType = tx.document_type(key).await?.ok_or_else(|| {
                    CoreError::invalid(
                        "unknown_document_type",
                        format!("unknown document type {key:?}"),
                    )
                })?;
                t.validate(metadata).map_err(|fields| {
                    Fail::Error(CoreError::Invalid {
                        code: "invalid_metadata",
                        message: format!("metadata do not match the document type {}", t.key),
                        fields,
                    })
                })
            }
        }
    }

    /// Document types known to this node (any authenticated caller).
    pub async fn list_document_types(&self) -> Result<Vec<DocumentType>, CoreError> {
        Ok(self.read().await?.list_document_types().await?)
    }

    pub async fn get_document_type(&self, key: &str) -> Result<DocumentType, CoreError> {
        self.read()
            .await?
            .document_type(key)
            .await?
            .ok_or(CoreError::NotFound("document type"))
    }
}

impl InternalApp {
    /// Creates or replaces a document type (administrators and the CLI).
    /// Existing documents keep their metadata; they are validated against the
    /// new definition at their next metadata change.
    pub async fn save_document_type(
        &self,
        actor: &Actor,
        mut t: DocumentType,
    ) -> Result<DocumentType, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, &t.key)?;
            t.check()
                .map_err(|e| CoreError::invalid("invalid_document_type", e.to_string()))?;
            let mut tx = self.write().await?;
            t.revision = tx.next_revision().await?;
            tx.save_document_type(&t).await?;
            self.audit(
                &mut tx,
                actor,
                "doctype.save",
                None,
                Some(t.key.clone()),
                json!({ "fields": t.fields.len() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(t)
        })
        .await
    }
}
