//! The JSON the API speaks: request bodies, query strings and responses.
//!
//! These are the adapter's own types, converted from core's: core entities
//! are never serialized as they are (a principal carries its password hash),
//! and the API stays stable while core evolves.

mod accounts;
mod activity;
mod admin;
mod documents;
mod edge;
mod links;
mod locks;
mod search;
mod sharing;
mod spaces;

pub use accounts::*;
pub use activity::*;
pub use admin::*;
pub use documents::*;
pub use edge::*;
pub use links::*;
pub use locks::*;
pub use search::*;
pub use sharing::*;
pub use spaces::*;

use passerelle_core::model::{Page, Paged, PrincipalKind, Visibility};
use passerelle_core::role::Role;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?offset=&limit=` of a list (limit 1 to 500, 100 by default).
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (1 to 500, default 100).
    pub limit: Option<u64>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        let default = Page::default();
        Page::new(
            self.offset.unwrap_or(default.offset),
            self.limit.unwrap_or(default.limit),
        )
    }
}

/// A page of a list and the total number of items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

impl<T> PageOf<T> {
    pub fn new<U>(paged: Paged<U>, page: Page, f: impl FnMut(U) -> T) -> Self {
        Self {
            items: paged.items.into_iter().map(f).collect(),
            total: paged.total,
            offset: page.offset,
            limit: page.limit,
        }
    }
}

/// A member's role in a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Reader,
    Contributor,
    Collaborator,
    Manager,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Reader => RoleDto::Reader,
            Role::Contributor => RoleDto::Contributor,
            Role::Collaborator => RoleDto::Collaborator,
            Role::Manager => RoleDto::Manager,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Reader => Role::Reader,
            RoleDto::Contributor => Role::Contributor,
            RoleDto::Collaborator => Role::Collaborator,
            RoleDto::Manager => Role::Manager,
        }
    }
}

/// Who sees a space without being a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VisibilityDto {
    Private,
    Public,
}

impl From<Visibility> for VisibilityDto {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Private => VisibilityDto::Private,
            Visibility::Public => VisibilityDto::Public,
        }
    }
}

impl From<VisibilityDto> for Visibility {
    fn from(v: VisibilityDto) -> Self {
        match v {
            VisibilityDto::Private => Visibility::Private,
            VisibilityDto::Public => Visibility::Public,
        }
    }
}

/// Internal agent, outside contractor, or a business application's
/// service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKindDto {
    Agent,
    Contractor,
    Service,
}

impl From<PrincipalKind> for PrincipalKindDto {
    fn from(k: PrincipalKind) -> Self {
        match k {
            PrincipalKind::Agent => PrincipalKindDto::Agent,
            PrincipalKind::Contractor => PrincipalKindDto::Contractor,
            PrincipalKind::Service => PrincipalKindDto::Service,
        }
    }
}

/// For PATCH fields where `null` means something ("move to the root") and
/// an absent field means "keep": absent → `None`, `null` → `Some(None)`.
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
