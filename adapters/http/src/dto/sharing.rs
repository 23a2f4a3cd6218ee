//! Sharing spaces with edge nodes, contractors' invitations, replication
//! status (internal node).

use passerelle_core::ids::SpaceId;
use passerelle_core::replication::{
    AppliedOp, EdgeStatus, Invitation, InvitationState, OpOutcome, OutboxOp,
};
use passerelle_core::service::{IssuedInvitation, SpaceReplication};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{RoleDto, UserDto};

/// `POST /spaces/{id}/share`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// Node id of a configured edge (`edge-1`).
    pub edge: String,
}

/// `POST /spaces/{id}/contractors`: invites an outside contractor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Also the contractor's login on the edge.
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub organisation: String,
    pub role: RoleDto,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStateDto {
    Pending,
    /// The contractor chose a password on the edge (which reports it to the
    /// internal node: `accepted_at` is when).
    Accepted,
    Revoked,
    Expired,
}

/// An invitation, never its secret (only its hash is stored).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationDto {
    pub id: Uuid,
    pub space: Uuid,
    /// The invited contractor's account.
    pub principal: Uuid,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    pub revoked: bool,
    pub state: InvitationStateDto,
}

impl InvitationDto {
    pub fn new(i: &Invitation, now: OffsetDateTime) -> Self {
        let state = match i.state(now) {
            InvitationState::Pending => InvitationStateDto::Pending,
            InvitationState::Accepted => InvitationStateDto::Accepted,
            InvitationState::Revoked => InvitationStateDto::Revoked,
            InvitationState::Expired => InvitationStateDto::Expired,
        };
        Self {
            id: i.id,
            space: i.space.as_uuid(),
            principal: i.principal.as_uuid(),
            created_by: i.created_by.as_uuid(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            revoked: i.revoked,
            state,
        }
    }
}

/// A new invitation. The secret is in this response only: in
/// `invitation_url` when the edge's public URL is configured, else bare in
/// `invitation_secret` (the other field is then `null`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedInvitationDto {
    pub invitation: InvitationDto,
    pub contractor: UserDto,
    /// The edge node where the contractor will work.
    pub edge: String,
    /// `<edge public URL>/invitation#<secret>`, to send to the contractor.
    pub invitation_url: Option<String>,
    /// The secret, when no public URL is configured for the edge.
    pub invitation_secret: Option<String>,
    /// Whether the node e-mails the link to the contractor (a relay and
    /// the edge's public URL are configured); otherwise the manager sends it.
    pub mailed: bool,
}

impl IssuedInvitationDto {
    /// `url`: the link built from the configuration, if any.
    pub fn new(issued: &IssuedInvitation, url: Option<String>, now: OffsetDateTime) -> Self {
        let invitation_secret = url.is_none().then(|| issued.secret.clone());
        Self {
            invitation: InvitationDto::new(&issued.invitation, now),
            contractor: UserDto::from(&issued.principal),
            edge: issued.edge.to_string(),
            invitation_url: url,
            invitation_secret,
            mailed: issued.mailed,
        }
    }
}

/// Kind of a contractor's operation made on an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKindDto {
    NewDocument,
    NewVersion,
    Rename,
    Move,
    Delete,
    SetMetadata,
    NewFolder,
    /// The contractor accepted their invitation (no document).
    AcceptInvitation,
}

impl From<&OutboxOp> for OperationKindDto {
    fn from(op: &OutboxOp) -> Self {
        match op {
            OutboxOp::NewDocument { .. } => Self::NewDocument,
            OutboxOp::NewVersion { .. } => Self::NewVersion,
            OutboxOp::Rename { .. } => Self::Rename,
            OutboxOp::Move { .. } => Self::Move,
            OutboxOp::Delete { .. } => Self::Delete,
            OutboxOp::SetMetadata { .. } => Self::SetMetadata,
            OutboxOp::NewFolder { .. } => Self::NewFolder,
            OutboxOp::AcceptInvitation { .. } => Self::AcceptInvitation,
        }
    }
}

/// The document an operation is about, when it names one.
pub(crate) fn document_of(op: &OutboxOp) -> Option<Uuid> {
    match op {
        OutboxOp::NewVersion { document, .. }
        | OutboxOp::Rename { document, .. }
        | OutboxOp::Move { document, .. }
        | OutboxOp::Delete { document, .. }
        | OutboxOp::SetMetadata { document, .. } => Some(document.as_uuid()),
        OutboxOp::NewDocument { .. }
        | OutboxOp::NewFolder { .. }
        | OutboxOp::AcceptInvitation { .. } => None,
    }
}

/// How the internal node dealt with an edge operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeDto {
    Applied,
    Conflict,
    Rejected,
}

impl From<OpOutcome> for OutcomeDto {
    fn from(o: OpOutcome) -> Self {
        match o {
            OpOutcome::Applied => Self::Applied,
            OpOutcome::Conflict => Self::Conflict,
            OpOutcome::Rejected => Self::Rejected,
        }
    }
}

/// An edge operation the internal node refused (rights revoked meanwhile,
/// invalid): kept for the space's managers to review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarantinedOpDto {
    pub op_id: Uuid,
    pub edge: String,
    pub kind: OperationKindDto,
    /// The contractor's principal id.
    pub contractor: Uuid,
    /// The document concerned, when any.
    pub document: Option<Uuid>,
    pub outcome: OutcomeDto,
    /// Why it was refused.
    pub detail: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl From<&AppliedOp> for QuarantinedOpDto {
    fn from(a: &AppliedOp) -> Self {
        Self {
            op_id: a.op_id,
            edge: a.edge.to_string(),
            kind: (&a.op).into(),
            contractor: a.contractor.as_uuid(),
            document: a
                .document
                .map(|d| d.as_uuid())
                .or_else(|| document_of(&a.op)),
            outcome: a.outcome.into(),
            detail: a.detail.clone(),
            at: a.at,
        }
    }
}

/// `GET /spaces/{id}/replication`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpaceReplicationDto {
    pub space: Uuid,
    /// The edge it is shared with (`null`: internal only).
    pub edge: Option<String>,
    /// Last exchange with that edge (`null`: never).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_contact: Option<OffsetDateTime>,
    /// Why the link to the edge last went down (`null`: it is up).
    pub last_error: Option<String>,
    /// Why this space's replication fails while the link is up, for ops
    /// ("edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge"); `null`:
    /// it does not. The other spaces of the edge go on.
    pub error: Option<String>,
    /// Last revision of the space the edge acknowledged.
    pub acknowledged_revision: Option<i64>,
    /// Revisions the edge has not acknowledged yet (0: up to date; an
    /// upper bound otherwise; `null`: not shared or never contacted).
    pub lag_revisions: Option<i64>,
    /// Refused edge operations.
    pub quarantine: Vec<QuarantinedOpDto>,
    /// The antivirus that judges contractors' uploads (`null`: the node
    /// scans nothing).
    pub antivirus: Option<AntivirusDto>,
}

/// The antivirus as the managers see it (ADR 0010).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AntivirusDto {
    /// Whether it answered the last scan asked.
    pub reachable: bool,
    /// Since when it does not (`null`: it does).
    #[serde(with = "time::serde::rfc3339::option")]
    pub unreachable_since: Option<OffsetDateTime>,
    /// Contractors' operations waiting for it.
    pub waiting_operations: u64,
}

impl SpaceReplicationDto {
    pub fn new(space: Uuid, r: &SpaceReplication) -> Self {
        let status = r.status.as_ref();
        Self {
            space,
            edge: r.edge.as_ref().map(ToString::to_string),
            last_contact: status.and_then(|s| s.last_contact),
            last_error: status.and_then(|s| s.last_error.clone()),
            error: status
                .and_then(|s| s.space_error(SpaceId::from_uuid(space)))
                .map(str::to_owned),
            acknowledged_revision: status.and_then(|s| {
                s.cursors
                    .iter()
                    .find(|(sp, _)| sp.as_uuid() == space)
                    .map(|(_, rev)| rev.0)
            }),
            lag_revisions: r.lag_revisions,
            quarantine: r.quarantine.iter().map(Into::into).collect(),
            antivirus: r.antivirus.as_ref().map(|a| AntivirusDto {
                reachable: a.reachable,
                unreachable_since: a.outage.as_ref().map(|(since, _)| *since),
                waiting_operations: a.waiting_operations,
            }),
        }
    }
}

/// An edge's cursor in one shared space.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EdgeCursorDto {
    pub space: Uuid,
    /// Last revision of the space the edge acknowledged (0: none yet).
    pub revision: i64,
    /// Why this space's replication fails (`null`: it does not).
    pub error: Option<String>,
}

/// `GET /edges`: one configured or known edge node.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EdgeStatusDto {
    pub edge: String,
    /// Its public URL, when configured (invitation links).
    pub public_url: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_contact: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub spaces: Vec<EdgeCursorDto>,
    /// When the replication last recorded this status (`null`: never).
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// Each space the edge holds, with its error if it fails, then the failing
/// spaces it does not hold yet (a first send refused), by space id.
fn cursors_and_errors(s: &EdgeStatus) -> Vec<EdgeCursorDto> {
    let mut spaces: Vec<EdgeCursorDto> = s
        .cursors
        .iter()
        .map(|(space, rev)| EdgeCursorDto {
            space: space.as_uuid(),
            revision: rev.0,
            error: s.space_error(*space).map(str::to_owned),
        })
        .collect();
    for (space, error) in &s.space_errors {
        if !s.cursors.iter().any(|(c, _)| c == space) {
            spaces.push(EdgeCursorDto {
                space: space.as_uuid(),
                revision: 0,
                error: Some(error.clone()),
            });
        }
    }
    spaces.sort_by_key(|c| c.space);
    spaces
}

impl EdgeStatusDto {
    pub fn new(s: &EdgeStatus, public_url: Option<String>) -> Self {
        Self {
            edge: s.edge.to_string(),
            public_url,
            last_contact: s.last_contact,
            last_error: s.last_error.clone(),
            spaces: cursors_and_errors(s),
            updated_at: Some(s.updated_at),
        }
    }

    /// A configured edge the replication has not reported on yet.
    pub fn never_contacted(edge: &str, public_url: Option<String>) -> Self {
        Self {
            edge: edge.to_owned(),
            public_url,
            last_contact: None,
            last_error: None,
            spaces: Vec::new(),
            updated_at: None,
        }
    }
}
