//! Spaces and their members.

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::{
    Document, GrantedBy, Membership, Page, Paged, Principal, PrincipalKind, Space, Visibility,
};
use crate::names::{Login, Slug};
use crate::ports::SpaceWithRole;
use crate::role::{Action, Role};

use super::access::{Access, Fail};
use super::member_ends::{manager_end, revoke_unused_invitations};
use super::{Actor, InternalApp, Passerelle};

/// A space to create.
#[derive(Clone, Debug)]
pub struct NewSpace {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub domain: String,
    pub visibility: Visibility,
    /// Login of the first manager, when an administrator or the CLI creates
    /// the space for someone else; `None`: the creator manages it.
    pub manager: Option<String>,
}

/// Changes to a space; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct SpacePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub domain: Option<String>,
    pub visibility: Option<Visibility>,
}

/// A space and the caller's role in it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceView {
    pub space: Space,
    pub role: Role,
}

/// A member as managers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberView {
    pub principal: Principal,
    pub role: Role,
    /// A manager's doing, or a mapped directory group's.
    pub granted_by: GrantedBy,
    /// When the access ends by itself.
    pub ends_at: Option<time::OffsetDateTime>,
}

fn check_title(title: &str) -> Result<String, CoreError> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "invalid_title",
            "a title has 1 to 200 characters, without control characters",
        ));
    }
    Ok(t.to_owned())
}

fn check_text(field: &'static str, s: &str, max: usize) -> Result<String, CoreError> {
    if s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(CoreError::invalid(
            field,
            format!("at most {max} characters, without control characters"),
        ));
    }
    Ok(s.trim().to_owned())
}

/// What a contractor's membership may be (ADR 0002, invariants 1 and 6):
/// never manager, and only in a space shared with an edge, where the
/// contractor actually works.
pub(crate) fn check_contractor_membership(space: &Space, role: Role) -> Result<(), CoreError> {
    if role == Role::Manager {
        return Err(CoreError::invalid(
            "contractor_role",
            "a contractor is a collaborator, contributor or reader, never a manager",
        ));
    }
    if !space.shared() {
        return Err(CoreError::conflict(
            "not_shared",
            "share the space with an edge before giving contractors access to it",
        ));
    }
    Ok(())
}

impl Passerelle {
    /// The caller's spaces with their role (every space, for administrators).
    pub async fn my_spaces(
        &self,
        actor: &Actor,
        page: Page,
    ) -> Result<Paged<SpaceWithRole>, CoreError> {
        let mut tx = self.read().await?;
        match actor {
            Actor::Principal(p) if !p.is_admin => {
                Ok(tx.list_spaces_of(p.id, self.now(), page).await?)
            }
            _ => {
                let all = tx.list_spaces(page).await?;
                Ok(Paged {
                    total: all.total,
                    items: all
                        .items
                        .into_iter()
                        .map(|space| SpaceWithRole {
                            space,
                            role: Role::Manager,
                        })
                        .collect(),
                })
            }
        }
    }

    pub async fn get_space(&self, actor: &Actor, id: SpaceId) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a = self.access(&mut tx, actor, id).await?;
            Ok(SpaceView {
                space: a.space,
                role: a.role,
            })
        })
        .await
    }

    /// The space's document changed last, in whichever folder: its recent
    /// activity as any reader may see it (the audit log is for managers).
    pub async fn latest_document(
        &self,
        actor: &Actor,
        space: SpaceId,
    ) -> Result<Option<Document>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            Ok::<_, Fail>(tx.latest_document(space).await?)
        })
        .await
    }

    /// Finds a space by slug, as `get_space` would.
    pub async fn space_by_slug(&self, actor: &Actor, slug: &str) -> Result<SpaceView, CoreError> {
        let id = self
            .read()
            .await?
            .space_by_slug(slug)
            .await?
            .ok_or(CoreError::NotFound("space"))?
            .id;
        self.get_space(actor, id).await
    }

    /// Members of a space (any member may see who else is in it).
    pub async fn list_members(
        &self,
        actor: &Actor,
        id: SpaceId,
    ) -> Result<Vec<MemberView>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, id).await?;
            let mut out = Vec::new();
            for m in tx.list_members(id).await? {
                if let Some(p) = tx.principal(m.principal).await? {
                    out.push(MemberView {
                        principal: p,
                        role: m.role,
                        granted_by: m.granted_by,
                        ends_at: m.ends_at,
                    });
                }
            }
            out.sort_by(|a, b| a.principal.display_name.cmp(&b.principal.display_name));
            Ok::<_, Fail>(out)
        })
        .await
    }

    /// Resolves access for adapters that need the role (e.g. to show buttons).
    pub async fn access_to(&self, actor: &Actor, id: SpaceId) -> Result<Access, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, id).await
        })
        .await
    }
}

impl InternalApp {
    /// Creates a space; its creator (or the named manager, when an
    /// administrator creates it for someone) becomes its manager. Any agent may.
    pub async fn create_space(&self, actor: &Actor, new: NewSpace) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            let slug = Slug::parse(&new.slug).map_err(CoreError::name)?;
            let title = check_title(&new.title)?;
            let description = check_text("invalid_description", &new.description, 4000)?;
            let domain = check_text("invalid_domain", &new.domain, 100)?;
            let mut tx = self.write().await?;
            let creator = match &new.manager {
                Some(login) => {
                    self.require_admin(actor, login)?;
                    let login = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
                    tx.principal_by_login(&login)
                        .await?
                        .ok_or(CoreError::NotFound("user"))?
                }
                None => actor.principal()?.clone(),
            };
            if creator.kind != PrincipalKind::Agent || creator.disabled {
                return Err(CoreError::Forbidden("only active agents manage new spaces").into());
            }
            if tx.space_by_slug(slug.as_str()).await?.is_some() {
                return Err(CoreError::conflict(
                    "slug_taken",
                    format!("a space named {slug} exists"),
                )
                .into());
            }
            let rev = tx.next_revision().await?;
            let space = Space {
                id: SpaceId::new(),
                slug,
                title,
                description,
                domain,
                visibility: new.visibility,
                edge: None,
                archived: false,
                created_by: creator.id,
                created_at: self.clock.now(),
                revision: rev,
            };
            tx.save_space(&space).await?;
            tx.save_membership(&Membership::granted(
                space.id,
                creator.id,
                Role::Manager,
                rev,
            ))
            .await?;
            self.audit(
                &mut tx,
                actor,
                "space.create",
                Some(space.id),
                Some(space.slug.to_string()),
                json!({ "title": space.title }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(SpaceView {
                space,
                role: Role::Manager,
            })
        })
        .await
    }

    pub async fn update_space(
        &self,
        actor: &Actor,
        id: SpaceId,
        patch: SpacePatch,
    ) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            let mut s = a.space.clone();
            if let Some(t) = &patch.title {
                s.title = check_title(t)?;
            }
            if let Some(d) = &patch.description {
                s.description = check_text("invalid_description", d, 4000)?;
            }
            if let Some(d) = &patch.domain {
                s.domain = check_text("invalid_domain", d, 100)?;
            }
            if let Some(v) = patch.visibility {
                s.visibility = v;
            }
            s.revision = tx.next_revision().await?;
            tx.save_space(&s).await?;
            self.audit(
                &mut tx,
                actor,
                "space.update",
                Some(id),
                Some(s.slug.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(SpaceView {
                space: s,
                role: a.role,
            })
        })
        .await
    }

    /// Archives (read-only) or unarchives a space. Managers only.
    pub async fn set_archived(
        &self,
        actor: &Actor,
        id: SpaceId,
        archived: bool,
    ) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            let mut s = a.space.clone();
            if s.archived == archived {
                // Idempotent: archiving an archived space writes nothing,
                // not even a revision (ADR 0002, invariant 4).
                return Ok(SpaceView {
                    space: s,
                    role: a.role,
                });
            }
            s.archived = archived;
            s.revision = tx.next_revision().await?;
            tx.save_space(&s).await?;
            let action = if archived {
                "space.archive"
            } else {
                "space.unarchive"
            };
            self.audit(
                &mut tx,
                actor,
                action,
                Some(id),
                Some(s.slug.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(SpaceView {
                space: s,
                role: a.role,
            })
        })
        .await
    }

    /// Adds a member or changes a member's role. Managers only. The change
    /// applies to the member's next request.
    pub async fn set_member(
        &self,
        actor: &Actor,
        id: SpaceId,
        login: &str,
        role: Role,
    ) -> Result<MemberView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            let login = Login::parse(login).map_err(|_| CoreError::NotFound("user"))?;
            let p = tx
                .principal_by_login(&login)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if p.disabled {
                return Err(
                    CoreError::conflict("user_disabled", "this account is disabled").into(),
                );
            }
            if p.kind == PrincipalKind::Contractor {
                check_contractor_membership(&a.space, role)?;
            }
            if p.kind == PrincipalKind::Service && role == Role::Manager {
                // Managing is inviting and deciding: people's work. An
                // application files, and at most edits what it filed.
                return Err(CoreError::conflict(
                    "service_manager",
                    "a service account cannot manage a space: give it the contributor role",
                )
                .into());
            }
            // Ended but not swept yet is as good as gone: a new grant
            // starts afresh.
            let previous = tx
                .membership(id, p.id)
                .await?
                .filter(|m| m.active_at(self.now()));
            if let Some(prev) = &previous {
                self.refuse_group_granted(prev, &a.space)?;
                // An end date stays with a new role, which cannot then be
                // a manager's.
                if role == Role::Manager && prev.ends_at.is_some() {
                    return Err(manager_end().into());
                }
            }
            if let Some(prev) = &previous
                && prev.role == Role::Manager
                && role != Role::Manager
            {
                self.ensure_another_manager(&mut tx, id, p.id).await?;
            }
            let revision = tx.next_revision().await?;
            let mut membership = Membership::granted(id, p.id, role, revision);
            membership.ends_at = previous.as_ref().and_then(|m| m.ends_at);
            tx.save_membership(&membership).await?;
            let action = if previous.is_some() {
                "member.role"
            } else {
                "member.add"
            };
            self.audit(
                &mut tx,
                actor,
                action,
                Some(id),
                Some(p.login.to_string()),
                json!({ "role": role.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(MemberView {
                principal: p,
                role,
                granted_by: GrantedBy::Manager,
                ends_at: membership.ends_at,
            })
        })
        .await
    }

    /// Removes a member (tombstone). A space keeps at least one manager.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: SpaceId,
        principal: PrincipalId,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            let mut m = tx
                .membership(id, principal)
                .await?
                .filter(|m| !m.removed)
                .ok_or(CoreError::NotFound("member"))?;
            self.refuse_group_granted(&m, &a.space)?;
            if m.role == Role::Manager {
                self.ensure_another_manager(&mut tx, id, principal).await?;
            }
            m.removed = true;
            m.revision = tx.next_revision().await?;
            tx.save_membership(&m).await?;
            // A contractor's link not used yet dies with the membership (the
            // edge would refuse it anyway; the managers' list says so).
            let revoked = revoke_unused_invitations(&mut tx, &m).await?;
            self.audit(
                &mut tx,
                actor,
                "member.remove",
                Some(id),
                Some(principal.to_string()),
                if revoked.is_empty() {
                    json!({})
                } else {
                    json!({ "invitations_revoked": revoked })
                },
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// A membership a mapped directory group grants is the directory's to
    /// change (ADR 0009 §6): by hand it would come back, or go, at the
    /// next sync. Once the space is no longer mapped, managers decide.
    pub(super) fn refuse_group_granted(
        &self,
        m: &Membership,
        space: &Space,
    ) -> Result<(), CoreError> {
        if m.granted_by == GrantedBy::Directory && self.groups.covers(&space.slug) {
            let groups: Vec<String> = self
                .groups
                .groups_of(&space.slug)
                .iter()
                .map(|g| g.to_string())
                .collect();
            return Err(CoreError::conflict(
                "directory_membership",
                format!(
                    "this membership comes from the directory (group {}): add the agent to \
                     the group or take them out of it in the directory",
                    groups.join(" or ")
                ),
            ));
        }
        Ok(())
    }

    /// Refuses to let `leaving` stop managing `space` unless another *agent*
    /// manager remains (ADR 0002, invariant 2): a contractor's row never
    /// counts, so a space cannot end up managed from the DMZ.
    async fn ensure_another_manager(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        space: SpaceId,
        leaving: PrincipalId,
    ) -> Result<(), Fail> {
        if another_agent_manager(tx, space, leaving).await? {
            return Ok(());
        }
        Err(CoreError::conflict(
            "last_manager",
            "a space keeps at least one manager among its agents",
        )
        .into())
    }
}

/// Whether `space` has an agent manager other than `leaving`.
pub(super) async fn another_agent_manager(
    tx: &mut Box<dyn crate::ports::Tx>,
    space: SpaceId,
    leaving: PrincipalId,
) -> Result<bool, CoreError> {
    for m in tx.list_members(space).await? {
        if m.role != Role::Manager || m.principal == leaving {
            continue;
        }
        if tx
            .principal(m.principal)
            .await?
            .is_some_and(|p| p.kind == PrincipalKind::Agent)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
