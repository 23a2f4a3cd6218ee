//! Locking a document from its page (ADR 0007 §1): Verrouiller,
//! Déverrouiller, and for space managers and administrators Forcer le
//! déverrouillage. Plain POST forms with the CSRF token, answered by a
//! redirect to the document's page; the rules are core's `Locks`.

use axum::Extension;
use axum::Form;
use axum::extract::Path;
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::DocumentId;
use passerelle_core::model::Resource;
use passerelle_core::service::DocumentView;
use time::macros::format_description;
use uuid::Uuid;

use super::auth::CsrfForm;
use super::view;
use crate::ctx::{Web, WebError, back_with_error, see_other};

/// The lock line of a document's page and the buttons the actor gets.
#[derive(Debug, Default)]
pub(crate) struct LockLine {
    /// The holder's display name; empty when the document is not locked.
    pub(crate) holder: String,
    /// `17:40`.
    pub(crate) until_time: String,
    /// `07/12/2026`.
    pub(crate) until_day: String,
    /// RFC 3339, for `<time datetime>`.
    pub(crate) until_iso: String,
    /// What the holder noted at check-out.
    pub(crate) note: String,
    /// The document is not locked and the actor may edit it.
    pub(crate) may_lock: bool,
    /// The actor holds the lock.
    pub(crate) may_unlock: bool,
    /// Someone else holds it and the actor manages the space.
    pub(crate) may_force: bool,
}

impl LockLine {
    /// `may_edit` and `may_manage` as core's `Rights` answer them.
    pub(crate) fn new(dv: &DocumentView, web: &Web, may_edit: bool, may_manage: bool) -> Self {
        let Some(l) = &dv.lock else {
            return Self {
                may_lock: may_edit,
                ..Self::default()
            };
        };
        let mine = web.actor.id() == Some(l.summary.holder);
        let until = l.summary.until;
        Self {
            holder: l.summary.holder_name.clone(),
            until_time: until
                .format(format_description!("[hour]:[minute]"))
                .unwrap_or_default(),
            until_day: until
                .format(format_description!("[day]/[month]/[year]"))
                .unwrap_or_default(),
            until_iso: view::date_iso(until),
            // The note stays on the node that holds the lock (an edge's
            // mirror has none).
            note: l
                .lock
                .as_ref()
                .and_then(|k| k.owner_info.clone())
                .unwrap_or_default(),
            may_lock: false,
            may_unlock: mine,
            may_force: !mine && may_manage,
        }
    }

    pub(crate) fn locked(&self) -> bool {
        !self.holder.is_empty()
    }
}

/// `POST /documents/{id}/lock`: checks the document out for the actor
/// (the default timeout).
pub async fn lock(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    match internal.locks().check_out(&web.actor, id, None, None).await {
        Ok(_) => Ok(see_other(&format!("/documents/{id}?ok=locked"))),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}

/// `POST /documents/{id}/unlock`: the holder checks the document in.
pub async fn unlock(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    match internal.locks().check_in(&web.actor, id).await {
        Ok(()) => Ok(see_other(&format!("/documents/{id}?ok=unlocked"))),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}

/// `POST /documents/{id}/force-unlock`: a manager or an administrator
/// releases whatever lock covers the document (audited by core).
pub async fn force_unlock(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    let resource = Resource::Document(id);
    match internal.locks().force_unlock(&web.actor, resource).await {
        Ok(_) => Ok(see_other(&format!("/documents/{id}?ok=force_unlocked"))),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}
