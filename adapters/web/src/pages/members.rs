//! A space's members page: who is in it with which role, who granted
//! it (a manager or a directory group) and until when, contractors'
//! invitations; managers add agents, change roles, set or clear the end
//! of a member's access, remove members and invite contractors.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{PrincipalId, SpaceId};
use passerelle_core::model::{GrantedBy, PrincipalKind};
use passerelle_core::replication::{Invitation, InvitationState};
use passerelle_core::role::{Action, Role};
use passerelle_core::service::{END_REMINDER, NewContractor};
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
    /// Granted by a mapped directory group: only the directory changes it.
    directory: bool,
    /// The last day of access (`2027-03-31`), empty when it does not end;
    /// also the date field's value.
    last_day: String,
    /// Its access ends within [`END_REMINDER`].
    ending_soon: bool,
    /// A manager may set an end date (not on a manager's membership).
    may_end: bool,
    /// A disabled contractor (inactive, say), whom a manager re-enables.
    disabled: bool,
}

/// The last day a membership ending at `ends_at` gives access, as the
/// date field shows it: access runs to the end of that day (UTC).
fn last_day(ends_at: OffsetDateTime) -> String {
    let last = ends_at - time::Duration::nanoseconds(1);
    last.date().to_string()
}

/// The instant access ends for a last day `2027-03-31` typed in the form:
/// the end of that day (UTC), so the whole day is included.
fn end_of(day: &str) -> Result<OffsetDateTime, CoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day.trim(), format).map_err(|_| {
        CoreError::invalid("bad_date", "the end of access is a date such as 2027-03-31")
    })?;
    let next = date.next_day().ok_or_else(|| {
        CoreError::invalid("bad_date", "the end of access is a date such as 2027-03-31")
    })?;
    Ok(next.midnight().assume_utc())
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
    /// "L'accès de … se termine le …" for each access ending soon
    /// (managers only).
    reminders: Vec<String>,
    roles: Vec<(String, String)>,
    contractor_roles: Vec<(String, String)>,
    invitation: Option<NewInvitation>,
}

/// An invitation just made, shown once to the manager who made it.
struct NewInvitation {
    /// The link, or the bare secret when the edge's address is unknown.
    url: String,
    /// The address it was mailed to, if it was (a relay is set): the
    /// manager then hands the link over only if the e-mail does not come.
    mailed_to: Option<String>,
}

async fn members_page(
    st: &AppState,
    internal: &InternalApp,
    web: Web,
    sid: SpaceId,
    invitation: Option<NewInvitation>,
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
    let rows: Vec<MemberRow> = members
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
            disabled: m.principal.disabled,
            role: m.role.as_str().to_owned(),
            role_label: t.role(m.role),
            invitation: invitation_of(m.principal.id),
            directory: m.granted_by == GrantedBy::Directory,
            last_day: m.ends_at.map(last_day).unwrap_or_default(),
            ending_soon: m.ends_at.is_some_and(|e| e - now <= END_REMINDER),
            may_end: m.role != Role::Manager && m.granted_by == GrantedBy::Manager,
        })
        .collect();
    let reminders = if manager {
        rows.iter()
            .filter(|r| r.ending_soon)
            .map(|r| {
                t.s("members.ends_reminder")
                    .replacen("{}", &r.name, 1)
                    .replacen("{}", &r.last_day, 1)
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = MembersPage {
        sid: sid.to_string(),
        tab: "members",
        manager,
        title: view.space.title.clone(),
        shared: view.space.shared(),
        members: rows,
        reminders,
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

#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// The last day of access, `2027-03-31`; empty: access does not end.
    #[serde(default)]
    last_day: String,
}

/// `POST /spaces/{id}/members/{member}/end`: sets or clears the last day
/// of a member's access.
pub async fn set_end(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Form(f): Form<EndForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    let ends_at = match f.last_day.trim() {
        "" => None,
        day => match end_of(day) {
            Ok(at) => Some(at),
            Err(e) => return back_with_error(&back, &e),
        },
    };
    let member = PrincipalId::from_uuid(member);
    match internal
        .set_member_end(&web.actor, sid, member, ends_at)
        .await
    {
        Ok(_) => Ok(see_other(&format!("{back}?ok=member_saved"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/members/{member}/second-factor-reset`: a
/// contractor lost their phone; they enrol again at their next login.
pub async fn reset_second_factor(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    match internal
        .reset_second_factor(&web.actor, sid, PrincipalId::from_uuid(member))
        .await
    {
        Ok(()) => Ok(see_other(&format!("{back}?ok=second_factor_reset"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /spaces/{id}/members/{member}/enable`: a disabled contractor
/// (inactive, say) may log in again.
pub async fn enable_contractor(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, member)): Path<(Uuid, Uuid)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let back = format!("/spaces/{sid}/members");
    match internal
        .enable_contractor(&web.actor, sid, PrincipalId::from_uuid(member))
        .await
    {
        Ok(_) => Ok(see_other(&format!("{back}?ok=contractor_enabled"))),
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
            let mailed_to = issued.mailed.then(|| issued.principal.email.clone());
            members_page(
                &st,
                &internal,
                web,
                sid,
                Some(NewInvitation { url, mailed_to }),
            )
            .await
        }
        Err(e) => back_with_error(&format!("/spaces/{sid}/members"), &e),
    }
}
