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
const PREFIX: &str = "P";

/// The names of the live properties, in the order they are listed.
const LIVE: [&str; 4] = ["type", "metadata", "version", "author"];

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

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

fn live_prop(view: &Doc, author: &str, name: &str, content: bool) -> Option<DavProp> {
    let value = live_value(view, author, name)?;
    Some(if content {
        DavProp::new(
            name.to_owned(),
            PREFIX.to_owned(),
            NAMESPACE.to_owned(),
            escape(&value),
        )
    } else {
        DavProp {
            name: name.to_owned(),
            prefix: Some(PREFIX.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            xml: None,
        }
    })
}

/// A dead property as dav-server carries it.
fn to_dav(p: &DeadProperty, content: bool) -> DavProp {
    let ns = p.name.namespace();
    DavProp {
        name: p.name.name().to_owned(),
        prefix: None,
        namespace: (!ns.is_empty()).then(|| ns.to_owned()),
        xml: content.then(|| p.xml.clone().into_bytes()),
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
    /// and keeps them for the request, so that the properties dav-server
    /// asks next of each child read no more store. A failure only loses
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
    async fn dead_props(
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

    /// The properties beyond DAV's own: with their values (`content`,
    /// PROPFIND `allprop`), the dead ones; by name only (`propname`), the
    /// live ones too.
    ///
    /// `allprop` returns the dead properties and the live ones RFC 4918
    /// defines (§9.1, §14.2); Passerelle's own are answered when named
    /// (`prop`, or `allprop` with `include`). dav-server parses each
    /// property's XML back for every entry of a listing, and asks for all
    /// of them even for a `prop` request: four live values per document
    /// made a listing of 5,000 documents parse 20,000 small XML documents
    /// that no client had asked for.
    pub(crate) async fn all_props(
        &self,
        c: &DavCredentials,
        at: Located,
        content: bool,
    ) -> FsResult<Vec<DavProp>> {
        let Some(resource) = at.resource() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if let (Located::Document(_, view), false) = (&at, content) {
            out.extend(LIVE.iter().filter_map(|n| live_prop(view, "", n, false)));
        }
        let dead = self.dead_props(c, resource).await?;
        out.extend(dead.iter().map(|p| to_dav(p, content)));
        Ok(out)
    }

    /// One property's XML, or `NotFound`.
    pub(crate) async fn one_prop(
        &self,
        c: &DavCredentials,
        at: Located,
        prop: DavProp,
    ) -> FsResult<Vec<u8>> {
        if prop.namespace.as_deref() == Some(NAMESPACE) {
            let Located::Document(_, view) = &at else {
                return Err(FsError::NotFound);
            };
            let author = if prop.name == "author" {
                self.author_of(&c.actor, view).await?
            } else {
                String::new()
            };
            return live_prop(view, &author, &prop.name, true)
                .and_then(|p| p.xml)
                .ok_or(FsError::NotFound);
        }
        let resource = at.resource().ok_or(FsError::NotFound)?;
        let Ok(name) = name_of(&prop) else {
            return Err(FsError::NotFound);
        };
        self.dead_props(c, resource)
            .await?
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.xml.clone().into_bytes())
            .ok_or(FsError::NotFound)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_live_values() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
