//! Objects as the Browser binding writes them: `{properties |
//! succinctProperties, allowableActions}`, from what `reads` gathered.
//! The allowable actions come from core's rights in the object's space
//! (`Rights`), so an action a client is shown is a call core accepts.

use std::collections::HashMap;

use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::PrincipalId;
use passerelle_core::model::{Document, Folder, Space, Version};
use passerelle_core::service::Rights;
use serde_json::{Value, json};

use crate::ids::{ObjectId, Which};
use crate::props::{BaseDef, COMMON, DOCUMENT, FOLDER, Props, millis};
use crate::types::{DOCUMENT_TYPE, FOLDER_TYPE, document_type_id};

/// How the client asked objects to be written.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shape {
    /// `succinct=true`: `{id: value}` properties.
    pub(crate) succinct: bool,
    /// `filter=a,b` (or a `SELECT` list): only these properties.
    pub(crate) filter: Option<Vec<String>>,
}

impl Shape {
    /// An object: its properties in the asked form, and what the caller
    /// may do with it.
    pub(crate) fn object(&self, mut props: Props, actions: Actions) -> Value {
        props.keep(self.filter.as_deref());
        if self.succinct {
            json!({ "succinctProperties": props.succinct(), "allowableActions": actions.0 })
        } else {
            json!({ "properties": props.full(), "allowableActions": actions.0 })
        }
    }
}

/// Principals' logins by id, as `cmis:createdBy` shows them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names(pub(crate) HashMap<PrincipalId, String>);

impl Names {
    fn of(&self, id: PrincipalId) -> Value {
        // A former member's login is gone with their membership: the id
        // still says who it was, to whoever reads the audit log.
        Value::String(self.0.get(&id).cloned().unwrap_or_else(|| id.to_string()))
    }
}

/// The allowable actions (CMIS 1.1 §2.2.1.2.6): every `can…` key, true
/// or false.
#[derive(Clone, Debug)]
pub(crate) struct Actions(Value);

const ALL_ACTIONS: &[&str] = &[
    "canDeleteObject",
    "canUpdateProperties",
    "canGetFolderTree",
    "canGetProperties",
    "canGetObjectRelationships",
    "canGetObjectParents",
    "canGetFolderParent",
    "canGetDescendants",
    "canMoveObject",
    "canDeleteContentStream",
    "canCheckOut",
    "canCancelCheckOut",
    "canCheckIn",
    "canSetContentStream",
    "canGetAllVersions",
    "canAddObjectToFolder",
    "canRemoveObjectFromFolder",
    "canGetContentStream",
    "canApplyPolicy",
    "canGetAppliedPolicies",
    "canRemovePolicy",
    "canGetChildren",
    "canCreateDocument",
    "canCreateFolder",
    "canCreateRelationship",
    "canCreateItem",
    "canDeleteTree",
    "canGetRenditions",
    "canGetACL",
    "canApplyACL",
];

impl Actions {
    fn with(allowed: &[&str]) -> Self {
        Actions(Value::Object(
            ALL_ACTIONS
                .iter()
                .map(|a| ((*a).to_owned(), Value::Bool(allowed.contains(a))))
                .collect(),
        ))
    }
}

fn set(p: &mut Props, defs: &[BaseDef], id: &str, value: Value) {
    if let Some(d) = defs.iter().find(|d| d.id == id) {
        p.base(d, value);
    }
}

/// The common properties of a folder-like object.
fn folder_props(id: ObjectId, name: &str, description: &str, parent: Option<ObjectId>) -> Props {
    let mut p = Props::default();
    set(&mut p, COMMON, "cmis:objectId", json!(id.to_string()));
    set(&mut p, COMMON, "cmis:baseTypeId", json!(FOLDER_TYPE));
    set(&mut p, COMMON, "cmis:objectTypeId", json!(FOLDER_TYPE));
    set(&mut p, COMMON, "cmis:secondaryObjectTypeIds", json!([]));
    set(&mut p, COMMON, "cmis:name", json!(name));
    set(&mut p, COMMON, "cmis:description", json!(description));
    set(
        &mut p,
        FOLDER,
        "cmis:parentId",
        parent.map_or(Value::Null, |p| json!(p.to_string())),
    );
    set(
        &mut p,
        FOLDER,
        "cmis:allowedChildObjectTypeIds",
        Value::Null,
    );
    p
}

/// The root folder: the spaces the caller may read are its children.
pub(crate) fn root() -> (Props, Actions) {
    let mut p = folder_props(ObjectId::Root, "", "Passerelle", None);
    set(&mut p, FOLDER, "cmis:path", json!("/"));
    // Nobody made the root: it is the node's.
    set(&mut p, COMMON, "cmis:createdBy", json!("system"));
    set(&mut p, COMMON, "cmis:creationDate", Value::Null);
    set(&mut p, COMMON, "cmis:lastModifiedBy", json!("system"));
    set(&mut p, COMMON, "cmis:lastModificationDate", Value::Null);
    // Spaces are created by administrators, on the pages or the API.
    (p, Actions::with(&["canGetProperties", "canGetChildren"]))
}

/// A space, a folder under the root named by its slug.
pub(crate) fn space(s: &Space, rights: &Rights, names: &Names) -> (Props, Actions) {
    let mut p = folder_props(
        ObjectId::Space(s.id),
        s.slug.as_str(),
        &s.title,
        Some(ObjectId::Root),
    );
    set(&mut p, FOLDER, "cmis:path", json!(format!("/{}", s.slug)));
    stamp(
        &mut p,
        names,
        s.created_by,
        s.created_at,
        s.created_by,
        s.created_at,
    );
    set(
        &mut p,
        COMMON,
        "cmis:changeToken",
        json!(s.revision.to_string()),
    );
    let create = rights.may(passerelle_core::role::Action::Create);
    let mut allowed = vec![
        "canGetProperties",
        "canGetChildren",
        "canGetObjectParents",
        "canGetFolderParent",
    ];
    if create {
        allowed.extend(["canCreateDocument", "canCreateFolder"]);
    }
    (p, Actions::with(&allowed))
}

/// A folder of a space; `path` is the cmis:path of its parent.
pub(crate) fn folder(
    s: &Space,
    f: &Folder,
    parent_path: &str,
    rights: &Rights,
    names: &Names,
) -> (Props, Actions) {
    let parent = f.parent.map_or(ObjectId::Space(s.id), ObjectId::Folder);
    let mut p = folder_props(ObjectId::Folder(f.id), f.name.as_str(), "", Some(parent));
    set(
        &mut p,
        FOLDER,
        "cmis:path",
        json!(format!("{parent_path}/{}", f.name)),
    );
    stamp(
        &mut p,
        names,
        f.created_by,
        f.created_at,
        f.created_by,
        f.created_at,
    );
    set(
        &mut p,
        COMMON,
        "cmis:changeToken",
        json!(f.revision.to_string()),
    );
    let mut allowed = vec![
        "canGetProperties",
        "canGetChildren",
        "canGetObjectParents",
        "canGetFolderParent",
    ];
    if rights.may(passerelle_core::role::Action::Create) {
        allowed.extend(["canCreateDocument", "canCreateFolder"]);
    }
    if rights.may_edit(f.created_by) {
        allowed.extend(["canUpdateProperties", "canMoveObject"]);
    }
    if rights.may_delete(f.created_by) {
        allowed.extend(["canDeleteObject", "canDeleteTree"]);
    }
    (p, Actions::with(&allowed))
}

fn stamp(
    p: &mut Props,
    names: &Names,
    created_by: PrincipalId,
    created_at: time::OffsetDateTime,
    modified_by: PrincipalId,
    modified_at: time::OffsetDateTime,
) {
    set(p, COMMON, "cmis:createdBy", names.of(created_by));
    set(p, COMMON, "cmis:creationDate", millis(created_at));
    set(p, COMMON, "cmis:lastModifiedBy", names.of(modified_by));
    set(p, COMMON, "cmis:lastModificationDate", millis(modified_at));
}

/// Who holds the check-out (an exclusive lock on the document itself).
#[derive(Clone, Debug)]
pub(crate) struct CheckedOut {
    pub(crate) holder: PrincipalId,
    pub(crate) holder_name: String,
    /// Whether the caller holds it (only they see the working copy).
    pub(crate) mine: bool,
}

/// What a document object is made of.
#[derive(Clone, Debug)]
pub(crate) struct DocumentFacts<'a> {
    pub(crate) document: &'a Document,
    /// The version shown (the current one for the latest and the working
    /// copy).
    pub(crate) version: &'a Version,
    pub(crate) which: Which,
    pub(crate) checked_out: Option<&'a CheckedOut>,
    pub(crate) doc_type: Option<&'a DocumentType>,
}

/// A document, one of its versions, or its private working copy.
pub(crate) fn document(f: &DocumentFacts<'_>, rights: &Rights, names: &Names) -> (Props, Actions) {
    let d = f.document;
    let v = f.version;
    let latest = v.number == d.current_version && f.which != Which::WorkingCopy;
    let pwc = f.which == Which::WorkingCopy;
    let id = match f.which {
        Which::Number(n) if n != d.current_version => ObjectId::Document(d.id, Which::Number(n)),
        Which::WorkingCopy => ObjectId::Document(d.id, Which::WorkingCopy),
        _ => ObjectId::Document(d.id, Which::Latest),
    };
    let mut p = Props::default();
    set(&mut p, COMMON, "cmis:objectId", json!(id.to_string()));
    set(&mut p, COMMON, "cmis:baseTypeId", json!(DOCUMENT_TYPE));
    set(
        &mut p,
        COMMON,
        "cmis:objectTypeId",
        json!(document_type_id(d.doc_type.as_deref())),
    );
    set(&mut p, COMMON, "cmis:secondaryObjectTypeIds", json!([]));
    set(&mut p, COMMON, "cmis:name", json!(d.name.as_str()));
    set(&mut p, COMMON, "cmis:description", Value::Null);
    stamp(
        &mut p,
        names,
        d.created_by,
        d.created_at,
        v.author,
        v.created_at,
    );
    set(
        &mut p,
        COMMON,
        "cmis:changeToken",
        json!(d.revision.to_string()),
    );
    set(&mut p, DOCUMENT, "cmis:isImmutable", json!(!latest && !pwc));
    set(&mut p, DOCUMENT, "cmis:isLatestVersion", json!(latest));
    // Every version is a major one: Passerelle numbers versions 1, 2, 3.
    set(&mut p, DOCUMENT, "cmis:isMajorVersion", json!(!pwc));
    set(&mut p, DOCUMENT, "cmis:isLatestMajorVersion", json!(latest));
    set(&mut p, DOCUMENT, "cmis:isPrivateWorkingCopy", json!(pwc));
    let label = if pwc {
        "pwc".to_owned()
    } else {
        v.number.to_string()
    };
    set(&mut p, DOCUMENT, "cmis:versionLabel", json!(label));
    set(
        &mut p,
        DOCUMENT,
        "cmis:versionSeriesId",
        json!(ObjectId::Document(d.id, Which::Latest).to_string()),
    );
    let out = f.checked_out;
    set(
        &mut p,
        DOCUMENT,
        "cmis:isVersionSeriesCheckedOut",
        json!(out.is_some()),
    );
    set(
        &mut p,
        DOCUMENT,
        "cmis:versionSeriesCheckedOutBy",
        out.map_or(Value::Null, |c| names_or(names, c)),
    );
    let pwc_id = ObjectId::Document(d.id, Which::WorkingCopy).to_string();
    set(
        &mut p,
        DOCUMENT,
        "cmis:versionSeriesCheckedOutId",
        out.filter(|c| c.mine)
            .map_or(Value::Null, |_| json!(pwc_id)),
    );
    set(&mut p, DOCUMENT, "cmis:checkinComment", json!(v.comment));
    set(&mut p, DOCUMENT, "cmis:contentStreamLength", json!(v.size));
    set(
        &mut p,
        DOCUMENT,
        "cmis:contentStreamMimeType",
        json!(v.media_type),
    );
    set(
        &mut p,
        DOCUMENT,
        "cmis:contentStreamFileName",
        json!(d.name.as_str()),
    );
    set(&mut p, DOCUMENT, "cmis:contentStreamId", Value::Null);
    if let Some(t) = f.doc_type {
        for field in &t.fields {
            p.field(field, d.metadata.get(&field.key));
        }
    }
    (p, Actions::with(&document_actions(f, latest, pwc, rights)))
}

fn names_or(names: &Names, c: &CheckedOut) -> Value {
    match names.0.get(&c.holder) {
        Some(login) => json!(login),
        None => json!(c.holder_name),
    }
}

fn document_actions(
    f: &DocumentFacts<'_>,
    latest: bool,
    pwc: bool,
    rights: &Rights,
) -> Vec<&'static str> {
    let mut allowed = vec![
        "canGetProperties",
        "canGetContentStream",
        "canGetAllVersions",
        "canGetObjectParents",
    ];
    let edit = rights.may_edit(f.document.created_by);
    let mine = f.checked_out.is_some_and(|c| c.mine);
    let free = f.checked_out.is_none() || mine;
    if latest && edit && free {
        allowed.extend([
            "canUpdateProperties",
            "canSetContentStream",
            "canMoveObject",
        ]);
    }
    if latest && edit && f.checked_out.is_none() {
        allowed.push("canCheckOut");
    }
    if pwc && mine {
        allowed.extend(["canCheckIn", "canCancelCheckOut"]);
    }
    if latest && free && rights.may_delete(f.document.created_by) {
        allowed.push("canDeleteObject");
    }
    allowed
}
