//! "Mes espaces", creating a space, a space's listing (and its embeddable
//! view), creating a folder.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::model::{Page, PrincipalKind, Visibility};
use passerelle_core::notify::Followed;
use passerelle_core::ports::DocumentQuery;
use passerelle_core::replication::{OpOutcome, OutboxOp};
use passerelle_core::role::{Action, Role};
use passerelle_core::service::DocumentWrites;
use passerelle_core::service::{NewSpace, Written};
use passerelle_core::{Actor, CoreError, Passerelle};
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::view::{self, DocRow, FolderRow, SORTS, TreeRow};
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};
use crate::i18n::Tr;

/// A space in "Mes espaces".
#[derive(Debug)]
struct SpaceRow {
    id: String,
    title: String,
    domain: String,
    role: &'static str,
    shared: bool,
    archived: bool,
    activity: String,
}

#[derive(Template)]
#[template(path = "spaces.html")]
struct SpacesPage {
    p: PageCtx,
    spaces: Vec<SpaceRow>,
    can_create: bool,
}

/// `GET /spaces`: my spaces with my role and the latest change in each.
pub async fn my_spaces(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    let t = web.t();
    let spaces = st.app.my_spaces(&web.actor, Page::new(0, 200)).await?;
    let mut rows = Vec::with_capacity(spaces.items.len());
    for s in spaces.items {
        let activity = latest_activity(&st.app, &web.actor, s.space.id, t).await;
        rows.push(SpaceRow {
            id: s.space.id.to_string(),
            title: s.space.title.clone(),
            domain: s.space.domain.clone(),
            role: t.role(s.role),
            // A contractor sees shared spaces only: the mark tells nothing.
            shared: s.space.shared() && web.me.kind == PrincipalKind::Agent,
            archived: s.space.archived,
            activity,
        });
    }
    // Agents create spaces; contractors (the only users of an edge) never.
    let can_create = web.me.kind == PrincipalKind::Agent;
    Ok(render(&SpacesPage {
        p: web.page,
        spaces: rows,
        can_create,
    }))
}

/// The space's document changed last, wherever it is, as "name — date".
async fn latest_activity(app: &Passerelle, actor: &Actor, space: SpaceId, t: Tr) -> String {
    match app.latest_document(actor, space).await {
        Ok(Some(d)) => format!("{} — {}", d.name.as_str(), view::date(d.updated_at)),
        Ok(None) => t.s("spaces.no_activity").to_owned(),
        Err(_) => String::new(),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewSpaceForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    slug: String,
    title: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    description: String,
}

/// `POST /spaces`: creates a space (its creator manages it), then opens it.
pub async fn create_space(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Form(f): Form<NewSpaceForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let new = NewSpace {
        slug: f.slug.trim().to_owned(),
        title: f.title.trim().to_owned(),
        description: f.description,
        domain: f.domain.trim().to_owned(),
        visibility: Visibility::Private,
        manager: None,
    };
    match internal.create_space(&web.actor, new).await {
        Ok(v) => Ok(see_other(&format!(
            "/spaces/{}?ok=space_created",
            v.space.id
        ))),
        Err(e) => back_with_error("/spaces", &e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListingQuery {
    #[serde(default)]
    folder: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    q: String,
    #[serde(rename = "type", default)]
    type_filter: String,
    /// First document of the page (folders with more than a page of
    /// documents; sorting and filtering apply to the whole folder first).
    #[serde(default)]
    offset: u64,
    /// First operation of the page of the contractor's operations (edge).
    #[serde(default)]
    ops: u64,
}

/// A contractor's operation on the edge, pending or decided.
#[derive(Debug)]
struct OpRow {
    what: String,
    state: &'static str,
    class: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "space.html")]
struct SpacePage {
    p: PageCtx,
    sid: String,
    tab: &'static str,
    manager: bool,
    title: String,
    description: String,
    role: &'static str,
    folder: Option<FolderRow>,
    /// "Me prévenir pour ce dossier", inside a folder.
    follow: Option<super::activity::FollowForm>,
    ancestors: Vec<FolderRow>,
    parent_link: Option<String>,
    prev_page: Option<String>,
    next_page: Option<String>,
    folder_id: String,
    folders: Vec<FolderRow>,
    docs: Vec<DocRow>,
    /// The space's folder tree as a flat run of open/close steps.
    tree: Vec<TreeRow>,
    /// Documents matching the filter in the whole folder.
    total: u64,
    base: String,
    embed: bool,
    q: String,
    type_filter: String,
    sort: String,
    sorts: Vec<(String, String)>,
    types: Vec<(String, String)>,
    pending: Vec<OpRow>,
    /// Links to the newer and older pages of the contractor's operations.
    newer_ops: Option<String>,
    older_ops: Option<String>,
    can_write: bool,
}

#[derive(Template)]
#[template(path = "embed.html")]
struct EmbedPage {
    p: PageCtx,
    title: String,
    folders: Vec<FolderRow>,
    docs: Vec<DocRow>,
    base: String,
    embed: bool,
}

fn parse_folder(raw: &str) -> Result<Option<FolderId>, WebError> {
    if raw.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(raw)
        .map(|u| Some(FolderId::from_uuid(u)))
        .map_err(|_| WebError::Core(CoreError::NotFound("folder")))
}

/// What a listing shows: the folder, its subfolders and its documents.
struct Listing {
    /// Links to the previous and next pages of documents, if any.
    prev_page: Option<String>,
    next_page: Option<String>,
    folder: Option<FolderRow>,
    /// The folder's ancestors, root side first (the breadcrumb).
    ancestors: Vec<FolderRow>,
    parent_link: Option<String>,
    folders: Vec<FolderRow>,
    docs: Vec<DocRow>,
    total: u64,
    types: Vec<(String, String)>,
}

/// Documents per page of a listing.
pub const PAGE_SIZE: u64 = 100;

async fn listing(
    st: &AppState,
    actor: &Actor,
    space: SpaceId,
    q: &ListingQuery,
    base: &str,
) -> Result<Listing, WebError> {
    let folder = parse_folder(&q.folder)?;
    let (sort, descending) = view::parse_sort(&q.sort);
    let type_filter = q.type_filter.trim();
    let query = DocumentQuery::default()
        .name_contains(&q.q)
        .of_type((!type_filter.is_empty()).then(|| type_filter.to_owned()))
        .sorted_by(sort, descending);
    let l = st
        .app
        .browse_folder(actor, space, folder, &query, Page::new(q.offset, PAGE_SIZE))
        .await?;
    let types = st.app.list_document_types().await?;
    let names = view::names(&st.app, actor, space).await.unwrap_or_default();
    let docs: Vec<DocRow> = l
        .documents
        .items
        .iter()
        .map(|d| DocRow::new(d, &types, &names))
        .collect();
    let parent_link = l.folder.as_ref().map(|f| match f.parent {
        Some(p) => format!("{base}?folder={p}"),
        None => base.to_owned(),
    });
    let ancestors = ancestors(st, actor, space, l.folder.as_ref().and_then(|f| f.parent)).await?;
    let page_link = |offset: u64| with_listing_state(format!("{base}?offset={offset}"), q);
    let prev_page = (q.offset > 0).then(|| page_link(q.offset.saturating_sub(PAGE_SIZE)));
    let next_page =
        (q.offset + PAGE_SIZE < l.documents.total).then(|| page_link(q.offset + PAGE_SIZE));
    Ok(Listing {
        prev_page,
        next_page,
        ancestors,
        folder: l.folder.as_ref().map(|f| FolderRow {
            id: f.id.to_string(),
            name: f.name.as_str().to_owned(),
        }),
        parent_link,
        folders: l
            .folders
            .iter()
            .map(|f| FolderRow {
                id: f.id.to_string(),
                name: f.name.as_str().to_owned(),
            })
            .collect(),
        docs,
        total: l.documents.total,
        types: types.into_iter().map(|t| (t.key, t.label)).collect(),
    })
}

/// Deepest folder nesting the breadcrumb follows (a guard against a cycle
/// in corrupt data, far beyond real trees).
const MAX_DEPTH: usize = 32;

/// The chain of folders above `parent`, root side first.
async fn ancestors(
    st: &AppState,
    actor: &Actor,
    space: SpaceId,
    mut parent: Option<FolderId>,
) -> Result<Vec<FolderRow>, WebError> {
    let mut out = Vec::new();
    while let Some(id) = parent
        && out.len() < MAX_DEPTH
    {
        let l = st
            .app
            .list_folder(actor, space, Some(id), Page::new(0, 1))
            .await?;
        let Some(f) = l.folder else { break };
        out.push(FolderRow {
            id: f.id.to_string(),
            name: f.name.as_str().to_owned(),
        });
        parent = f.parent;
    }
    out.reverse();
    Ok(out)
}

/// `GET /spaces/{id}`: folder, subfolders, documents (sorted, filtered),
/// upload zone; the caller's operations waiting in this node's outbox
/// (a contractor's on an edge; none on the internal node, which has none).
pub async fn space(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Query(q): Query<ListingQuery>,
) -> Result<Response, WebError> {
    let sid = SpaceId::from_uuid(id);
    let t = web.t();
    let view = st.app.get_space(&web.actor, sid).await?;
    let base = format!("/spaces/{sid}");
    let l = listing(&st, &web.actor, sid, &q, &base).await?;
    let folders = st.app.folder_tree(&web.actor, sid).await?;
    let current = parse_folder(&q.folder)?;
    let tree = view::tree_rows(&folders, current);
    let ops = operations(st.writes.as_ref(), &web.actor, sid, &q, &base, t).await?;
    let rights = st.app.rights(&web.actor, sid).await?;
    let follow = match current {
        Some(f) => Some(super::activity::follow_form(&st, &web, sid, Followed::Folder(f)).await?),
        None => None,
    };
    let page = SpacePage {
        follow,
        sid: sid.to_string(),
        tab: "docs",
        manager: rights.may(Action::Manage),
        title: view.space.title.clone(),
        description: view.space.description.clone(),
        role: t.role(view.role),
        folder_id: l.folder.as_ref().map(|f| f.id.clone()).unwrap_or_default(),
        folder: l.folder,
        ancestors: l.ancestors,
        parent_link: l.parent_link,
        prev_page: l.prev_page,
        next_page: l.next_page,
        folders: l.folders,
        docs: l.docs,
        tree,
        total: l.total,
        base,
        embed: false,
        q: q.q,
        type_filter: q.type_filter,
        sort: if q.sort.is_empty() {
            "name".into()
        } else {
            q.sort
        },
        sorts: SORTS
            .iter()
            .map(|(k, key)| ((*k).to_owned(), t.s(key).to_owned()))
            .collect(),
        types: l.types,
        pending: ops.rows,
        newer_ops: ops.newer,
        older_ops: ops.older,
        can_write: rights.may(Action::Create),
        p: web.page,
    };
    Ok(render(&page))
}

/// Operations per page of a contractor's operations.
pub const OPS_PAGE_SIZE: u64 = 20;

/// One page of a contractor's operations and the links around it.
#[derive(Debug, Default)]
struct Operations {
    rows: Vec<OpRow>,
    newer: Option<String>,
    older: Option<String>,
}

/// The contractor's operations in a space on the edge, newest first, one
/// page at `q.ops`: pending ones, and decided ones until the edge prunes
/// them (applied ones are also in the documents' list).
async fn operations(
    writes: &dyn DocumentWrites,
    actor: &Actor,
    space: SpaceId,
    q: &ListingQuery,
    base: &str,
    t: Tr,
) -> Result<Operations, WebError> {
    let ops = writes
        .queued_writes(actor, space, Page::new(q.ops, OPS_PAGE_SIZE))
        .await?;
    // The listing's own state (folder, sort, filter, page) stays.
    let link = |ops: u64| {
        let mut link = with_listing_state(format!("{base}?ops={ops}"), q);
        if q.offset > 0 {
            link.push_str(&format!("&offset={}", q.offset));
        }
        link.push_str("#pending");
        link
    };
    let newer = (q.ops > 0).then(|| link(q.ops.saturating_sub(OPS_PAGE_SIZE)));
    let older = (q.ops + OPS_PAGE_SIZE < ops.total).then(|| link(q.ops + OPS_PAGE_SIZE));
    let rows = ops
        .items
        .into_iter()
        .map(|o| {
            let what = op_label(&o.op, t);
            let (state, class) = match o.outcome {
                None => (t.s("op.pending"), "pending"),
                Some(outcome) => (outcome_label(outcome, t), outcome_class(outcome)),
            };
            OpRow {
                what,
                state,
                class,
                detail: o.detail,
            }
        })
        .collect();
    Ok(Operations { rows, newer, older })
}

/// `link` followed by the listing's folder, sort and filter, when set.
fn with_listing_state(mut link: String, q: &ListingQuery) -> String {
    for (k, v) in [
        ("folder", &q.folder),
        ("sort", &q.sort),
        ("q", &q.q),
        ("type", &q.type_filter),
    ] {
        if !v.is_empty() {
            link.push_str(&format!("&{k}={}", crate::ctx::encode(v)));
        }
    }
    link
}

/// `GET /embed/spaces/{id}`: the listing alone, for the intranet portal's
/// frame (`frame-ancestors` from the configuration). Read only.
pub async fn embed(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Query(q): Query<ListingQuery>,
) -> Result<Response, WebError> {
    let sid = SpaceId::from_uuid(id);
    let view = st.app.get_space(&web.actor, sid).await?;
    let base = format!("/embed/spaces/{sid}");
    let l = listing(&st, &web.actor, sid, &q, &base).await?;
    Ok(render(&EmbedPage {
        p: web.page,
        title: view.space.title,
        folders: l.folders,
        docs: l.docs,
        base,
        embed: true,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NewFolderForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    parent: String,
    name: String,
}

/// `POST /spaces/{id}/folders`.
pub async fn create_folder(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<NewFolderForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let sid = SpaceId::from_uuid(id);
    let parent = parse_folder(&f.parent)?;
    let back = match parent {
        Some(p) => format!("/spaces/{sid}?folder={p}"),
        None => format!("/spaces/{sid}"),
    };
    match st
        .writes
        .create_folder(&web.actor, sid, parent, &f.name)
        .await
    {
        Ok(Written::Applied(folder)) => Ok(see_other(&format!(
            "/spaces/{sid}?folder={}&ok=folder_created",
            folder.id
        ))),
        Ok(Written::Queued(q)) => Ok(super::documents::pending(&q)),
        Err(e) => back_with_error(&back, &e),
    }
}

/// A role from a form.
pub fn parse_role(raw: &str) -> Result<Role, WebError> {
    raw.parse::<Role>()
        .map_err(|e| WebError::Core(CoreError::invalid("invalid_role", e.to_string())))
}

#[derive(Debug, Deserialize)]
pub struct FolderForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// The space whose page the form is on: where to come back (core
    /// checks the rights on the folder itself).
    space: Uuid,
    #[serde(default)]
    name: String,
}

/// `POST /folders/{id}/rename`.
pub async fn rename_folder(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<FolderForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = FolderId::from_uuid(id);
    let back = format!("/spaces/{}?folder={id}", f.space);
    match internal
        .update_folder(&web.actor, id, Some(f.name.trim()), None)
        .await
    {
        Ok(_) => Ok(see_other(&format!("{back}&ok=folder_renamed"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /folders/{id}/delete`: the folder and its content to the trash.
pub async fn delete_folder(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<FolderForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = FolderId::from_uuid(id);
    match internal.delete_folder(&web.actor, id).await {
        Ok(()) => Ok(see_other(&format!("/spaces/{}?ok=folder_deleted", f.space))),
        Err(e) => back_with_error(&format!("/spaces/{}?folder={id}", f.space), &e),
    }
}

/// What a contractor's operation does, in the reader's language (the
/// edge's pending list, the managers' quarantine).
pub(crate) fn op_label(op: &OutboxOp, t: Tr) -> String {
    match op {
        OutboxOp::NewDocument { name, .. } => t.f("op.new_document", name),
        OutboxOp::NewVersion { base_version, .. } => t.f("op.new_version", &(base_version + 1)),
        OutboxOp::Rename { name, .. } => t.f("op.rename", name),
        OutboxOp::Move { .. } => t.s("op.move").to_owned(),
        OutboxOp::Delete { .. } => t.s("op.delete").to_owned(),
        OutboxOp::SetMetadata { .. } => t.s("op.metadata").to_owned(),
        OutboxOp::NewFolder { name, .. } => t.f("op.new_folder", name),
        // Not in the edge's pending list (not a write to the space), but
        // quarantined like any operation when refused.
        OutboxOp::AcceptInvitation { .. } => t.s("op.accept_invitation").to_owned(),
    }
}

/// How the internal node dealt with an operation, in the reader's language.
pub(crate) fn outcome_label(outcome: OpOutcome, t: Tr) -> &'static str {
    match outcome {
        OpOutcome::Conflict => t.s("op.conflict"),
        OpOutcome::Rejected => t.s("op.rejected"),
        OpOutcome::Applied => t.s("op.applied"),
    }
}

fn outcome_class(outcome: OpOutcome) -> &'static str {
    match outcome {
        OpOutcome::Conflict | OpOutcome::Rejected => "rejected",
        OpOutcome::Applied => "applied",
    }
}
