//! Properties. Live ones of Passerelle, read-only, in [`NAMESPACE`]: a
//! document's `type`, `metadata` (JSON), `version` and `author`. Dead ones
//! (anything else a client sets with PROPPATCH) are kept per resource by
//! core's `Properties`, under the resource's rights and core's limits.

use std::sync::Arc;

use axum::http::StatusCode;
use dav_server::fs::{DavProp, FsError, FsResult};
use passerelle_core::model::Resource;
use passerelle_core::properties::{DeadProperty, PropertyChange, PropertyName};
use passerelle_core::{Actor, CoreError};

use crate::error::fs_error;
use crate::fs::{DavCredentials, PasserelleFs};
use crate::meta::Entry;
use crate::paths::{Doc, Located};

/// The XML namespace of Passerelle's own properties.
pub const NAMESPACE: &str = "urn:passerelle:dav";

/// The names of the live properties, in the order they are listed.
pub(crate) const LIVE: [&str; 4] = ["type", "metadata", "version", "author"];

/// One live property of a document, as text; `author` is the display
/// name of the current version's author (empty when the account is gone).
fn live_value(view: &Doc, author: &str, name: &str) -> Option<String> {
    let d = &view.document;
    match name {
        "type" => Some(d.doc_type.clone().unwrap_or_default()),
        "metadata" => Some(serde_json::Value::Object(d.metadata.clone()).to_string()),
        "version" => Some(view.version.number.to_string()),
        "author" => Some(author.to_owned()),
        _ => None,
    }
}

fn name_of(p: &DavProp) -> Result<PropertyName, CoreError> {
    PropertyName::parse(p.namespace.as_deref().unwrap_or(""), &p.name)
}

/// The property as named in a PROPPATCH answer (no value).
fn bare(p: &DavProp) -> DavProp {
    DavProp {
        xml: None,
        ..p.clone()
    }
}

impl PasserelleFs {
    /// Reads the dead properties of a listing's children in one core read
    /// and keeps them for the request, so that a PROPFIND's answer for
    /// each child reads no more store. A failure only loses
    /// the shortcut: each child's are then read one by one, as core allows.
    pub(crate) async fn prefetch_props(
        &self,
        c: &DavCredentials,
        at: &Located,
        entries: &[(Entry, Located)],
    ) {
        let (space, folder) = match at {
            Located::Space(s) => (s.id, None),
            Located::Folder(s, f) => (s.id, Some(f.id)),
            Located::Root | Located::Document(..) | Located::New(_) => return,
        };
        if entries.is_empty() {
            return;
        }
        let mut found = match self.properties.children(&c.actor, space, folder).await {
            Ok(found) => found,
            Err(e) => {
                tracing::info!(error = %e, "dav: children's properties not read");
                return;
            }
        };
        for (_, child) in entries {
            if let Some(r) = child.resource() {
                let props = found.remove(&r).unwrap_or_default();
                c.remember_props(r, Arc::new(props));
            }
        }
    }

    /// The dead properties of `resource`, read once per request.
    pub(crate) async fn dead_props(
        &self,
        c: &DavCredentials,
        resource: Resource,
    ) -> FsResult<Arc<Vec<DeadProperty>>> {
        if let Some(props) = c.recall_props(resource) {
            return Ok(props);
        }
        let props = Arc::new(
            self.properties
                .get(&c.actor, resource)
                .await
                .map_err(fs_error)?,
        );
        c.remember_props(resource, props.clone());
        Ok(props)
    }

    /// The display name of a document's current author: from the listing
    /// that found it, else asked of core.
    async fn author_of(&self, actor: &Actor, view: &Doc) -> FsResult<String> {
        if let Some(name) = &view.author {
            return Ok(name.clone());
        }
        let name = self
            .app
            .current_author_name(actor, view.document.id)
            .await
            .map_err(fs_error)?;
        Ok(name.unwrap_or_default())
    }

    /// The value of Passerelle's live property `local` of a document
    /// (`None`: not a document, or no such property). `author` is the
    /// only one that may ask core (when the listing did not read it).
    pub(crate) async fn passerelle_prop(
        &self,
        c: &DavCredentials,
        at: &Located,
        local: &str,
    ) -> Option<String> {
        let Located::Document(_, view) = at else {
            return None;
        };
        let author = if local == "author" {
            match self.author_of(&c.actor, view).await {
                Ok(name) => name,
                Err(e) => {
                    tracing::info!(error = ?e, "dav: author not read");
                    return None;
                }
            }
        } else {
            String::new()
        };
        live_value(view, &author, local)
    }

    /// PROPPATCH of dead properties, all or nothing: a protected or
    /// refused property fails the whole request (the others answer 424
    /// Failed Dependency, as RFC 4918 §9.2 asks).
    pub(crate) async fn patch_props(
        &self,
        actor: &Actor,
        at: Located,
        patch: Vec<(bool, DavProp)>,
    ) -> FsResult<Vec<(StatusCode, DavProp)>> {
        let resource = at.resource().ok_or(FsError::Forbidden)?;
        let mut changes = Vec::new();
        let mut refused = Vec::new();
        for (is_set, p) in &patch {
            if p.namespace.as_deref() == Some(NAMESPACE) {
                refused.push((StatusCode::FORBIDDEN, bare(p)));
                continue;
            }
            let checked = name_of(p).and_then(|name| {
                if *is_set {
                    let xml =
                        String::from_utf8_lossy(p.xml.as_deref().unwrap_or_default()).into_owned();
                    DeadProperty::new(name, xml).map(|d| changes.push(PropertyChange::Set(d)))
                } else {
                    changes.push(PropertyChange::Remove(name));
                    Ok(())
                }
            });
            if checked.is_err() {
                refused.push((StatusCode::CONFLICT, bare(p)));
            }
        }
        if !refused.is_empty() {
            return Ok(failed(patch, refused));
        }
        match self.properties.patch(actor, resource, changes).await {
            Ok(()) => Ok(patch
                .iter()
                .map(|(_, p)| (StatusCode::OK, bare(p)))
                .collect()),
            // Too many properties: the store's limit, not the request's form.
            Err(CoreError::Invalid { .. }) => Ok(patch
                .iter()
                .map(|(_, p)| (StatusCode::INSUFFICIENT_STORAGE, bare(p)))
                .collect()),
            Err(e) => Err(fs_error(e)),
        }
    }

    /// Copies what can be copied of `from`'s dead properties onto `to`
    /// (COPY): a failure leaves the copy without them, and is logged.
    pub(crate) async fn copy_properties(&self, actor: &Actor, from: Resource, to: Resource) {
        let copied = async {
            let props = self.properties.get(actor, from).await?;
            if props.is_empty() {
                return Ok(());
            }
            let changes = props.into_iter().map(PropertyChange::Set).collect();
            self.properties.patch(actor, to, changes).await
        }
        .await;
        if let Err(e) = copied {
            tracing::info!(error = %e, "dav: properties not copied");
        }
    }
}

/// Every property of a refused PROPPATCH: its own status if refused, 424
/// for the others.
fn failed(
    patch: Vec<(bool, DavProp)>,
    refused: Vec<(StatusCode, DavProp)>,
) -> Vec<(StatusCode, DavProp)> {
    let is_refused = |p: &DavProp| {
        refused
            .iter()
            .any(|(_, r)| r.name == p.name && r.namespace == p.namespace)
    };
    let mut out: Vec<(StatusCode, DavProp)> = patch
        .into_iter()
        .filter(|(_, p)| !is_refused(p))
        .map(|(_, p)| (StatusCode::FAILED_DEPENDENCY, bare(&p)))
        .collect();
    out.extend(refused);
    out
}
