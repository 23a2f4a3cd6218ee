//! Locks (check-out): what a lock looks like in the API, and the bodies
//! and query of the lock routes.

use passerelle_core::locks::{Lock, LockSummary};
use passerelle_core::model::Resource;
use passerelle_core::service::LockView;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What a lock is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LockedKind {
    Space,
    Folder,
    Document,
}

/// A lock: who holds it, on what, until when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LockDto {
    /// `opaquelocktoken:<uuid>` (as WebDAV clients see it); `null` on an
    /// edge, which is told of the internal node's locks without their
    /// tokens.
    pub token: Option<String>,
    pub kind: LockedKind,
    /// The space, folder or document locked (a document may be covered by
    /// a folder's lock with depth infinity).
    pub resource: Uuid,
    pub holder: Uuid,
    /// The holder's display name.
    pub holder_name: String,
    /// What the holder or their client said ("relecture", "LibreOffice").
    pub note: Option<String>,
    /// `exclusive` or `shared`.
    pub scope: String,
    /// `0` or `infinity`.
    pub depth: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it expires by itself unless refreshed.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

impl LockDto {
    pub fn new(l: &Lock, holder_name: &str) -> Self {
        Self::of(&l.summary(holder_name.to_owned()), Some(l))
    }

    /// `summary`, with the token and note of `lock` when this node holds it.
    fn of(summary: &LockSummary, lock: Option<&Lock>) -> Self {
        let (kind, resource) = match summary.resource {
            Resource::Space(id) => (LockedKind::Space, id.as_uuid()),
            Resource::Folder(id) => (LockedKind::Folder, id.as_uuid()),
            Resource::Document(id) => (LockedKind::Document, id.as_uuid()),
        };
        Self {
            token: lock.map(|l| l.token.to_string()),
            kind,
            resource,
            holder: summary.holder.as_uuid(),
            holder_name: summary.holder_name.clone(),
            note: lock.and_then(|l| l.owner_info.clone()),
            scope: summary.scope.as_str().to_owned(),
            depth: summary.depth.as_str().to_owned(),
            created_at: summary.since,
            until: summary.until,
        }
    }
}

impl From<&LockView> for LockDto {
    fn from(v: &LockView) -> Self {
        LockDto::of(&v.summary, v.lock.as_ref())
    }
}

/// `POST /documents/{id}/lock` (check-out); `{}` takes the defaults.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOutBody {
    /// Seconds until the lock expires by itself: 8 hours when absent,
    /// bounded to 60 s … 1 day.
    pub timeout_secs: Option<u64>,
    /// Shown to others beside the holder's name ("relecture du CCTP").
    pub note: Option<String>,
}

/// `DELETE /documents/{id}/lock?force=true`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnlockQuery {
    /// Release the lock whoever holds it (space managers and
    /// administrators; audited). Without it, the holder checks in.
    pub force: Option<bool>,
}
