//! What the edge node's API adds: accepting an invitation, and contractors'
//! operations waiting in the outbox.

use passerelle_core::replication::{OutboxItem, OutboxOp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{OperationKindDto, OutcomeDto, document_of};

/// `POST /invitations/accept`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationBody {
    /// The secret from the invitation link (after `#`).
    pub secret: String,
    /// The password the contractor chooses (policy: 400 `weak_password`).
    pub password: String,
}

/// Where a contractor's operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatusDto {
    /// Waiting for the internal node.
    Pending,
    /// Decided: see `outcome`.
    Decided,
}

/// A contractor's write on the edge. It is *pending* until the internal node
/// applies it (`applied`), applies it as a conflict copy (`conflict`) or
/// refuses it (`rejected`, with a `detail`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationDto {
    pub op_id: Uuid,
    pub space: Uuid,
    pub kind: OperationKindDto,
    pub status: OperationStatusDto,
    /// `null` while pending.
    pub outcome: Option<OutcomeDto>,
    /// The internal node's explanation, when it gave one.
    pub detail: String,
    /// The document concerned (`null` for a new document or folder).
    pub document: Option<Uuid>,
    /// The folder created, or where a document goes (new document, move;
    /// `null`: the root or not applicable).
    pub folder: Option<Uuid>,
    /// The name given (new document, rename, new folder).
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&OutboxItem> for OperationDto {
    fn from(i: &OutboxItem) -> Self {
        let (folder, name) = match &i.op {
            OutboxOp::NewDocument { folder, name, .. } => (*folder, Some(name.clone())),
            OutboxOp::Rename { name, .. } => (None, Some(name.clone())),
            OutboxOp::Move { folder, .. } => (*folder, None),
            OutboxOp::NewFolder { folder, name, .. } => (Some(*folder), Some(name.clone())),
            OutboxOp::NewVersion { .. }
            | OutboxOp::Delete { .. }
            | OutboxOp::SetMetadata { .. }
            | OutboxOp::AcceptInvitation { .. } => (None, None),
        };
        Self {
            op_id: i.op_id,
            space: i.space.as_uuid(),
            kind: (&i.op).into(),
            status: match i.outcome {
                None => OperationStatusDto::Pending,
                Some(_) => OperationStatusDto::Decided,
            },
            outcome: i.outcome.map(Into::into),
            detail: i.detail.clone(),
            document: document_of(&i.op),
            folder: folder.map(|f| f.as_uuid()),
            name,
            created_at: i.created_at,
        }
    }
}
