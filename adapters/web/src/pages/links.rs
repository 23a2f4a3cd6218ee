//! Links on a document's page (ADR 0008 §4): what it is to others
//! ("Annexe de acte.pdf") and what others are to it ("Annexes :
//! annexe.pdf"), each other end a link to its page; on the internal node,
//! a form linking it to a document of its folder and a button removing a
//! link it is the source of. The rules (an edit of the source, the far end
//! visible) are core's.

use axum::Extension;
use axum::Form;
use axum::extract::Path;
use axum::response::Response;
use passerelle_core::InternalApp;
use passerelle_core::ids::{DocumentId, LinkId};
use passerelle_core::links::LinkKind;
use passerelle_core::model::Page;
use passerelle_core::service::{DocumentView, LinkView};
use passerelle_http_common::AppState;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::CsrfForm;
use crate::ctx::{Web, WebError, back_with_error, see_other};
use crate::i18n::Tr;

/// One link as the page lists it.
#[derive(Debug)]
pub(crate) struct LinkRow {
    pub(crate) id: String,
    /// "Annexe de", or from the target "Annexes".
    pub(crate) label: String,
    pub(crate) other_id: String,
    pub(crate) other_name: String,
    /// The page's document is the source: it may remove the link.
    pub(crate) outgoing: bool,
}

/// The page's links section.
#[derive(Debug, Default)]
pub(crate) struct LinksSection {
    pub(crate) rows: Vec<LinkRow>,
    /// Documents of the same folder it may be linked to (id, name); empty
    /// when the actor may not link it.
    pub(crate) candidates: Vec<(String, String)>,
    /// Every kind (key, label).
    pub(crate) kinds: Vec<(String, String)>,
}

impl LinksSection {
    /// The links core shows the actor; the form when `may_link`.
    pub(crate) async fn new(
        st: &AppState,
        web: &Web,
        dv: &DocumentView,
        may_link: bool,
    ) -> Result<Self, WebError> {
        let t = web.t();
        let links = st.app.document_links(&web.actor, dv.document.id).await?;
        let rows = links.iter().map(|v| row(&t, v)).collect();
        if !may_link {
            return Ok(Self {
                rows,
                ..Self::default()
            });
        }
        let d = &dv.document;
        let candidates = st
            .app
            .list_folder(&web.actor, d.space, d.folder, Page::new(0, Page::MAX_LIMIT))
            .await?
            .documents
            .items
            .into_iter()
            .filter(|o| o.id != d.id)
            .map(|o| (o.id.to_string(), o.name.as_str().to_owned()))
            .collect();
        let kinds = LinkKind::ALL
            .into_iter()
            .map(|k| {
                let label = t.s(&format!("link.{}", k.as_str())).to_owned();
                (k.as_str().to_owned(), label)
            })
            .collect();
        Ok(Self {
            rows,
            candidates,
            kinds,
        })
    }
}

fn row(t: &Tr, v: &LinkView) -> LinkRow {
    let key = v.link.kind.as_str();
    let label = if v.outgoing {
        t.s(&format!("link.{key}")).to_owned()
    } else {
        t.s(&format!("link.{key}.in")).to_owned()
    };
    LinkRow {
        id: v.link.id.to_string(),
        label,
        other_id: v.other.id.to_string(),
        other_name: v.other.name.as_str().to_owned(),
        outgoing: v.outgoing,
    }
}

#[derive(Debug, Deserialize)]
pub struct LinkForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    to: Uuid,
    kind: String,
}

/// `POST /documents/{id}/links`: links the document to another.
pub async fn create(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(id): Path<Uuid>,
    Form(f): Form<LinkForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    let back = format!("/documents/{id}");
    let kind: LinkKind = match f.kind.parse() {
        Ok(k) => k,
        Err(e) => {
            let e = passerelle_core::CoreError::invalid("invalid_link", e.to_string());
            return back_with_error(&back, &e);
        }
    };
    match internal
        .link_documents(&web.actor, id, DocumentId::from_uuid(f.to), kind)
        .await
    {
        Ok(_) => Ok(see_other(&format!("{back}?ok=linked"))),
        Err(e) => back_with_error(&back, &e),
    }
}

/// `POST /documents/{id}/links/{link}/remove`: removes a link the
/// document is the source of.
pub async fn remove(
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path((id, link)): Path<(Uuid, Uuid)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let id = DocumentId::from_uuid(id);
    match internal
        .unlink_documents(&web.actor, id, LinkId::from_uuid(link))
        .await
    {
        Ok(()) => Ok(see_other(&format!("/documents/{id}?ok=unlinked"))),
        Err(e) => back_with_error(&format!("/documents/{id}"), &e),
    }
}
