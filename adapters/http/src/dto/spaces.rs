//! Spaces and members.

use passerelle_core::model::Space;
use passerelle_core::role::Role;
use passerelle_core::service::MemberView;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PrincipalKindDto, RoleDto, VisibilityDto};

/// A space and the caller's role in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpaceDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Business domain ("périmètre métier").
    pub domain: String,
    pub visibility: VisibilityDto,
    /// Replicated to the edge for outside contractors.
    pub shared: bool,
    /// The edge node it is shared with (`null`: internal only).
    pub edge: Option<String>,
    pub archived: bool,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The caller's effective role.
    pub role: RoleDto,
}

impl SpaceDto {
    pub fn new(s: &Space, role: Role) -> Self {
        Self {
            id: s.id.as_uuid(),
            slug: s.slug.to_string(),
            title: s.title.clone(),
            description: s.description.clone(),
            domain: s.domain.clone(),
            visibility: s.visibility.into(),
            shared: s.shared(),
            edge: s.edge.as_ref().map(ToString::to_string),
            archived: s.archived,
            created_by: s.created_by.as_uuid(),
            created_at: s.created_at,
            role: role.into(),
        }
    }
}

/// `POST /spaces`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSpaceBody {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub domain: String,
    /// Default: private.
    pub visibility: Option<VisibilityDto>,
    /// Login of the first manager when an administrator creates the space
    /// for someone else; absent: the caller manages it.
    pub manager: Option<String>,
}

/// `PATCH /spaces/{id}`: absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpacePatchBody {
    pub title: Option<String>,
    pub description: Option<String>,
    pub domain: Option<String>,
    pub visibility: Option<VisibilityDto>,
}

/// A member of a space.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberDto {
    pub principal: Uuid,
    pub login: String,
    pub display_name: String,
    pub kind: PrincipalKindDto,
    pub organisation: Option<String>,
    pub role: RoleDto,
    /// `manager`, or `directory` when a mapped directory group grants it
    /// (then only the directory changes it).
    pub granted_by: String,
    /// When the access ends by itself; absent: it does not.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

impl From<&MemberView> for MemberDto {
    fn from(m: &MemberView) -> Self {
        Self {
            principal: m.principal.id.as_uuid(),
            login: m.principal.login.to_string(),
            display_name: m.principal.display_name.clone(),
            kind: m.principal.kind.into(),
            organisation: m.principal.organisation.clone(),
            role: m.role.into(),
            granted_by: m.granted_by.as_str().to_owned(),
            ends_at: m.ends_at,
        }
    }
}

/// `PUT /spaces/{id}/members/{member}/end`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMemberEndBody {
    /// RFC 3339; `null` clears it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

/// `PUT /spaces/{id}/members/{login}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMemberBody {
    pub role: RoleDto,
}
