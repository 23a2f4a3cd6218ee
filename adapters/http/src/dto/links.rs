//! Links between documents: what a link looks like from one of its ends,
//! and the body that makes one.

use passerelle_core::service::LinkView;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A link seen from the document asked about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkDto {
    pub id: Uuid,
    /// `annexe_de`, `piece_justificative_de`, `accuse_de_reception_de`,
    /// `remplace` or `voir_aussi`: what the source is to the target.
    pub kind: String,
    /// `outgoing`: the document asked about is the source; `incoming`:
    /// the target.
    pub direction: String,
    /// As the document's page says it ("Annexe de", or from the target
    /// "Annexes").
    pub label: String,
    /// The other end.
    pub document: Uuid,
    pub document_name: String,
    pub document_space: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&LinkView> for LinkDto {
    fn from(v: &LinkView) -> Self {
        let (direction, label) = if v.outgoing {
            ("outgoing", v.link.kind.label())
        } else {
            ("incoming", v.link.kind.inverse_label())
        };
        Self {
            id: v.link.id.as_uuid(),
            kind: v.link.kind.as_str().to_owned(),
            direction: direction.to_owned(),
            label: label.to_owned(),
            document: v.other.id.as_uuid(),
            document_name: v.other.name.as_str().to_owned(),
            document_space: v.other.space.as_uuid(),
            created_at: v.link.created_at,
        }
    }
}

/// A link to make from the document of the path.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLinkBody {
    /// The target document.
    pub to: Uuid,
    /// What the document of the path is to the target (see `LinkDto`).
    pub kind: String,
}
