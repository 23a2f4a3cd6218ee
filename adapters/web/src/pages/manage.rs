//! Managers' pages of a space: members and invitations, sharing, trash,
//! audit log.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::model::{AuditEntry, Page, PrincipalKind};
use passerelle_core::replication::{Invitation, InvitationState};
use passerelle_core::role::{Action, Role};
use passerelle_core::service::{NewContractor, SpaceView};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::AppState;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::CsrfForm;
use super::spaces::parse_role;
use super::view;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};
use crate::i18n::Tr;

fn roles(t: Tr, contractor: bool) -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .filter(|r| !(contractor && **r == Role::Manager))
        .map(|r| (r.as_str().to_owned(), t.role(*r).to_owned()))
        .collect()
}

#[derive(Debug)]
struct MemberRow {
    id: String,
    name: String,
    login: String,
    kind: &'static str,
    /// Contractors are never managers: their role list has no "manager".
    contractor: bool,
    role: String,
    role_label: &'static str,
    /// Where the contractor's latest invitation stands (managers only;
    /// empty for agents).
    invitation: String,
}

/// `Acceptée le 2026-11-28 18:40`, `En attente (jusqu'au …)`, …
fn invitation_state(t: Tr, i: &Invitation, now: OffsetDateTime) -> String {
    match i.state(now) {
        InvitationState::Pending => t.f("members.invitation_pending", &view::date(i.expires_at)),
        InvitationState::Accepted => {
            let at = i.accepted_at.map(view::date).unwrap_or_default();
            t.f("members.invitation_accepted", &at)
        }
        InvitationState::Revoked => t.s("members.invitation_revoked").to_owned(),
        InvitationState::Expired => t.s("members.invitation_expired").to_owned(),
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    p: PageCtx,
    sid: String,
    tab: &'static str,
    manager: bool,
    title: String,
    shared: bool,
    members: Vec<MemberRow>,
    roles: Vec<(String, String)>,
    contractor_roles: Vec<(String, String)>,
    invitation: Option<String>,
}

async fn members_page(
    st: &AppState,
    internal: &InternalApp,
    web: Web,
    sid: SpaceId,
    invitation: Option<String>,
) -> Result<Response, WebError> {
    let t = web.t();
    let view = st.app.get_space(&web.actor, sid).await?;
    let members = st.app.list_members(&web.actor, sid).await?;
    let manager = st.app.may(&web.actor, sid, Action::Manage).await?;
    // Newest first: the first one of a contractor is their latest.
    let invitations = if manager {
        internal.list_invitations(&web.actor, sid).await?
    } else {
        Vec::new()
    };
    let now = OffsetDateTime::now_utc();
    let invitation_of = |p: PrincipalId| {
        invitations
            .iter()
            .find(|i| i.principal == p)
            .map(|i| invitation_state(t, i, now))
            .unwrap_or_default()
    };
    let page = MembersPage {
        sid: sid.to_string(),
        tab: "members",
        manager,
        title: view.space.title.clone(),
        shared: view.space.shared(),
        members: members
            .into_iter()
            .map(|m| MemberRow {
                id: m.principal.id.to_string(),
                name: m.principal.display_name.clone(),
                login: m.principal.login.as_str().to_owned(),
                kind: match m.principal.kind {
                    PrincipalKind::Agent => t.s("members.agent"),
                    PrincipalKind::Contractor => t.s("members.contractor"),
                    PrincipalKind::Service => t.s("members.service"),
                },
                contractor: m.principal.kind == PrincipalKind::Contractor,
                role: m.role.as_str().to_owned(),
                role_label: t.role(m.role),
                invitation: invitation_of(m.principal.id),
            })
            .collect(),
        roles: roles(t, false),
        contractor_roles: roles(t, true),
        invitation,
        p: web.page,
    };
    Ok(render(&page))
}

/// `GET /spaces/{id}/members`.
pub async fn members(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    members_page(&st, &internal, web, SpaceId::from_uuid(id), None).await
}

#[derive(Debug, Deserialize)]
pub struct AddMemberForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    login: String,
    role: String,
}

/// `POST /spaces/{id}/members`: adds an agent (or changes their role).
pub async fn add_member(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<AddMemberForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    let role = parse_role(&f.role)?;
    match internal
        .set_member(&web.actor, sid, f.login.trim(), role)
        .await
    {
        Ok(_) => Ok(see_other(&format!("{back}?ok=member_saved"))),
        // An unknown login: say so on the page rather than a 404 page.
        Err(CoreError::NotFound(_)) => Ok(see_other(&format!("{back}?err=unknown_login"))),
        Err(e) => back_with_error(&back, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    role: String,
}

/// The login of a member of a space, from its id.
async fn member_login(
    st: &AppState,
    actor: &Actor,
    sid: SpaceId,
    member: PrincipalId,
) -> Result<String, WebError> {
    st.app
        .list_members(actor, sid)
        .await?
        .into_iter()
        .find(|m| m.principal.id == member)
        .map(|m| m.principal.login.as_str().to_owned())
        .ok_or_else(|| CoreError::NotFound("member").into())
}

/// `POST /spaces/{id}/members/{member}/role`.
pub async fn change_role(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    let role = parse_role(&f.role)?;
    let login = member_login(&st, &web.actor, sid, PrincipalId::from_uuid(member)).await?;
    match internal.set_member(&web.actor, sid, &login, role).await {
        Ok(_) => Ok(see_other(&format!("{back}?ok=member_saved"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/members/{member}/remove`.
pub async fn remove_member(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    match internal
        .remove_member(&web.actor, sid, PrincipalId::from_uuid(member))
        .await
    {
        Ok(()) => Ok(see_other(&format!("{back}?ok=member_removed"))),
        Err(e) => back_with_error(&back, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    email: String,
    display_name: String,
    organisation: String,
    role: String,
}

/// `POST /spaces/{id}/contractors`: invites a contractor; the link is
/// shown once, on this response (never put in a URL).
pub async fn invite(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<InviteForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let role = parse_role(&f.role)?;
    let new = NewContractor {
        email: f.email.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        organisation: f.organisation.trim().to_owned(),
        role,
    };
    match internal.invite_contractor(&web.actor, sid, new).await {
        Ok(issued) => {
            let url = st
                .config
                .invitation_url(issued.edge.as_str(), &issued.secret)
                .unwrap_or(issued.secret);
            members_page(&st, &internal, web, sid, Some(url)).await
        }
        Err(e) => back_with_error(&format!("/spaces/{sid}/members"), &e),
    }
}

#[derive(Debug)]
struct QuarantineRow {
    date: String,
    what: String,
    outcome: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct SharingPage {
    p: PageCtx,
    sid: String,
    tab: &'static str,
    manager: bool,
    title: String,
    edge: Option<String>,
    edges: Vec<String>,
    last_contact: String,
    last_error: String,
    /// Why this space's replication fails while the link is up (empty:
    /// it does not).
    space_error: String,
    /// The antivirus's state when the node scans uploads (empty: it does
    /// not): an outage keeps contractors' uploads waiting.
    antivirus: String,
    lag: String,
    quarantine: Vec<QuarantineRow>,
}

pub(super) async fn managed(st: &AppState, web: &Web, sid: SpaceId) -> Result<SpaceView, WebError> {
    let view = st.app.get_space(&web.actor, sid).await?;
    if !st.app.may(&web.actor, sid, Action::Manage).await? {
        return Err(CoreError::Forbidden("managers only").into());
    }
    Ok(view)
}

/// `GET /spaces/{id}/sharing`: share with an edge, replication status,
/// quarantined and conflicting operations.
pub async fn sharing(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let t = web.t();
    let sid = SpaceId::from_uuid(id);
    let view = managed(&st, &web, sid).await?;
    let r = internal.space_replication(&web.actor, sid).await?;
    let never = t.s("sharing.never").to_owned();
    let page = SharingPage {
        sid: sid.to_string(),
        tab: "sharing",
        manager: true,
        title: view.space.title,
        edge: r.edge.as_ref().map(ToString::to_string),
        edges: st
            .app
            .settings()
            .edges
            .iter()
            .map(ToString::to_string)
            .collect(),
        last_contact: r
            .status
            .as_ref()
            .and_then(|s| s.last_contact)
            .map(view::date)
            .unwrap_or(never),
        last_error: r
            .status
            .as_ref()
            .and_then(|s| s.last_error.clone())
            .unwrap_or_default(),
        space_error: r
            .status
            .as_ref()
            .and_then(|s| s.space_error(sid))
            .unwrap_or_default()
            .to_owned(),
        antivirus: r
            .antivirus
            .as_ref()
            .map(|a| match &a.outage {
                Some((since, _)) if !a.reachable => t
                    .s("sharing.antivirus_down")
                    .replacen("{}", &view::date(*since), 1)
                    .replacen("{}", &a.waiting_operations.to_string(), 1),
                _ => t.s("sharing.antivirus_up").to_owned(),
            })
            .unwrap_or_default(),
        lag: r
            .lag_revisions
            .map(|l| {
                if l == 0 {
                    t.s("sharing.up_to_date").to_owned()
                } else {
                    t.f("sharing.behind", &l)
                }
            })
            .unwrap_or_else(|| "—".into()),
        quarantine: r
            .quarantine
            .iter()
            .map(|q| QuarantineRow {
                date: view::date(q.at),
                what: super::spaces::op_label(&q.op, t),
                outcome: super::spaces::outcome_label(q.outcome, t),
                detail: q.detail.clone(),
            })
            .collect(),
        p: web.page,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct ShareForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    edge: String,
}

/// `POST /spaces/{id}/share`.
pub async fn share(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<ShareForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/sharing");
    match internal.share_space(&web.actor, sid, &f.edge).await {
        Ok(_) => Ok(see_other(&format!("{back}?ok=shared"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/unshare`.
pub async fn unshare(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/sharing");
    match internal.unshare_space(&web.actor, sid).await {
        Ok(_) => Ok(see_other(&format!("{back}?ok=unshared"))),
        Err(e) => back_with_error(&back, &e),
    }
}

#[derive(Debug)]
struct TrashRow {
    kind: &'static str,
    id: String,
    name: String,
    date: String,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    p: PageCtx,
    sid: String,
    tab: &'static str,
    manager: bool,
    title: String,
    items: Vec<TrashRow>,
}

/// `GET /spaces/{id}/trash`.
pub async fn trash(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let sid = SpaceId::from_uuid(id);
    let view = managed(&st, &web, sid).await?;
    let l = st.app.list_trash(&web.actor, sid).await?;
    let mut items: Vec<TrashRow> = l
        .folders
        .iter()
        .map(|f| TrashRow {
            kind: "folders",
            id: f.id.to_string(),
            name: f.name.as_str().to_owned(),
            date: f
                .trashed
                .as_ref()
                .map(|t| view::date(t.at))
                .unwrap_or_default(),
        })
        .collect();
    items.extend(l.documents.iter().map(|d| {
        TrashRow {
            kind: "documents",
            id: d.id.to_string(),
            name: d.name.as_str().to_owned(),
            date: d
                .trashed
                .as_ref()
                .map(|t| view::date(t.at))
                .unwrap_or_default(),
        }
    }));
    Ok(render(&TrashPage {
        p: web.page,
        sid: sid.to_string(),
        tab: "trash",
        manager: true,
        title: view.space.title,
        items,
    }))
}

/// `POST /trash/{kind}/{id}/{restore|purge}`.
pub async fn trash_action(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((kind, id, action)): Path<(String, Uuid, String)>,
    Form(f): Form<TrashForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let space = match (kind.as_str(), action.as_str()) {
        ("documents", "restore") => Some(
            internal
                .restore_document(&web.actor, DocumentId::from_uuid(id))
                .await?
                .space,
        ),
        ("folders", "restore") => Some(
            internal
                .restore_folder(&web.actor, FolderId::from_uuid(id))
                .await?
                .space,
        ),
        ("documents", "purge") => {
            internal
                .purge_document(&web.actor, DocumentId::from_uuid(id))
                .await?;
            None
        }
        ("folders", "purge") => {
            internal
                .purge_folder(&web.actor, FolderId::from_uuid(id))
                .await?;
            None
        }
        _ => return Err(CoreError::NotFound("page").into()),
    };
    let back = match (space, Uuid::parse_str(&f.space)) {
        (Some(s), _) => format!("/spaces/{s}/trash?ok=restored"),
        (None, Ok(s)) => format!("/spaces/{s}/trash?ok=purged"),
        (None, Err(_)) => "/spaces?ok=purged".into(),
    };
    Ok(see_other(&back))
}

#[derive(Debug, Deserialize)]
pub struct TrashForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// The space whose trash the form is on (where to come back after a purge).
    #[serde(default)]
    space: String,
}

#[derive(Debug)]
pub(super) struct AuditRow {
    seq: i64,
    date: String,
    actor: String,
    action: String,
    target: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(super) struct AuditPage {
    pub(super) p: PageCtx,
    pub(super) sid: String,
    pub(super) tab: &'static str,
    pub(super) manager: bool,
    pub(super) title: String,
    pub(super) entries: Vec<AuditRow>,
}

pub(super) fn audit_rows(
    entries: &[AuditEntry],
    names: &std::collections::HashMap<PrincipalId, String>,
    t: Tr,
) -> Vec<AuditRow> {
    entries
        .iter()
        .rev()
        .map(|e| AuditRow {
            seq: e.seq,
            date: view::date(e.at),
            actor: e
                .actor
                .map(|a| view::name_of(names, &a))
                .unwrap_or_else(|| t.s("audit.system").to_owned()),
            action: e.action.clone(),
            target: e.target.clone().unwrap_or_default(),
        })
        .collect()
}

/// `GET /spaces/{id}/audit`: the space's audit log (managers), newest first.
pub async fn space_audit(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let sid = SpaceId::from_uuid(id);
    let view = managed(&st, &web, sid).await?;
    let total = st
        .app
        .space_audit(&web.actor, sid, Page::new(0, 1))
        .await?
        .total;
    let page = Page::new(total.saturating_sub(200), 200);
    let entries = st.app.space_audit(&web.actor, sid, page).await?;
    let names = view::names(&st.app, &web.actor, sid).await?;
    let rows = audit_rows(&entries.items, &names, web.t());
    Ok(render(&AuditPage {
        p: web.page,
        sid: sid.to_string(),
        tab: "audit",
        manager: true,
        title: view.space.title,
        entries: rows,
    }))
}
