//! Managers' pages of a space: sharing, trash, audit log (members are in
//! `members`).

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::InternalApp;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::model::{AuditEntry, Page};
use passerelle_core::role::Action;
use passerelle_core::service::SpaceView;
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::CsrfForm;
use super::view;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};
use crate::i18n::Tr;

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
