//! Administrators' pages for document types: the list, and a form to
//! create a type or edit its label, domain, retention and fields (key,
//! label, field type, required, allowed values of an enum). Saving goes
//! through core's `save_document_type` (administrators only, definition
//! checked there too); problems come back inline on the form (422).

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use passerelle_core::CoreError;
use passerelle_core::InternalApp;
use passerelle_core::doctype::{DocumentType, FieldDef, FieldKind, TypeDefinitionError};
use passerelle_http_common::AppState;

use crate::ctx::{PageCtx, Web, WebError, render, see_other};

/// Field types a form may choose, as `FieldKind::name` gives them.
const KINDS: &[&str] = &["text", "integer", "decimal", "date", "enum", "boolean"];

/// Blank field rows under the existing ones (no script adds rows).
const BLANK_ROWS: usize = 3;

#[derive(Debug)]
struct TypeView {
    key: String,
    label: String,
    domain: String,
    retention: String,
    fields: Vec<String>,
}

#[derive(Template)]
#[template(path = "types.html")]
struct TypesPage {
    p: PageCtx,
    types: Vec<TypeView>,
}

/// Only administrators see these pages; for others they do not exist.
fn admin_only(web: &Web) -> Result<(), WebError> {
    if web.actor.is_admin() {
        Ok(())
    } else {
        Err(CoreError::NotFound("page").into())
    }
}

/// `GET /admin/types`: the document types and their fields.
pub async fn types(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    admin_only(&web)?;
    let t = web.t();
    let types = st
        .app
        .list_document_types()
        .await?
        .into_iter()
        .map(|ty| TypeView {
            retention: t.f("types.retention", &ty.retention_years),
            fields: ty
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}{})",
                        f.label,
                        t.s(&format!("types.kind.{}", f.kind.name())),
                        if f.required { ", *" } else { "" }
                    )
                })
                .collect(),
            key: ty.key,
            label: ty.label,
            domain: ty.domain,
        })
        .collect();
    Ok(render(&TypesPage { p: web.page, types }))
}

/// One field row of the form.
#[derive(Debug, Clone, Default)]
struct FieldRow {
    key: String,
    label: String,
    kind: String,
    required: bool,
    /// Allowed values of an enum, one per line.
    values: String,
    error: String,
}

#[derive(Template)]
#[template(path = "type_form.html")]
struct TypeFormPage {
    p: PageCtx,
    /// `true`: creating (the key is editable); `false`: editing `key`.
    new: bool,
    key: String,
    label: String,
    domain: String,
    description: String,
    retention: String,
    rows: Vec<FieldRow>,
    kinds: Vec<(&'static str, &'static str)>,
    /// Problems of the type itself (key, label, retention), shown on top.
    errors: Vec<String>,
    key_error: String,
    label_error: String,
    retention_error: String,
}

impl TypeFormPage {
    fn new(p: PageCtx, new: bool) -> Self {
        let t = p.t;
        Self {
            p,
            new,
            key: String::new(),
            label: String::new(),
            domain: String::new(),
            description: String::new(),
            retention: "10".into(),
            rows: Vec::new(),
            kinds: KINDS
                .iter()
                .map(|k| (*k, t.lookup(&format!("types.kind.{k}")).unwrap_or(k)))
                .collect(),
            errors: Vec::new(),
            key_error: String::new(),
            label_error: String::new(),
            retention_error: String::new(),
        }
    }

    /// Anything refused on the form (the alert on top is shown).
    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
            || !self.key_error.is_empty()
            || !self.label_error.is_empty()
            || !self.retention_error.is_empty()
            || self.rows.iter().any(|r| !r.error.is_empty())
    }

    fn with_blank_rows(mut self) -> Self {
        self.rows.extend((0..BLANK_ROWS).map(|_| FieldRow {
            kind: "text".into(),
            ..FieldRow::default()
        }));
        self
    }
}

fn rows_of(ty: &DocumentType) -> Vec<FieldRow> {
    ty.fields
        .iter()
        .map(|f| FieldRow {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind.name().to_owned(),
            required: f.required,
            values: match &f.kind {
                FieldKind::Enum { values } => values.join("\n"),
                _ => String::new(),
            },
            error: String::new(),
        })
        .collect()
}

/// `GET /admin/types/new`.
pub async fn new_form(web: Web) -> Result<Response, WebError> {
    admin_only(&web)?;
    Ok(render(&TypeFormPage::new(web.page, true).with_blank_rows()))
}

/// `GET /admin/types/{key}/edit`: the form of an existing type.
pub async fn edit_form(
    State(st): State<AppState>,
    web: Web,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&web)?;
    let ty = st.app.get_document_type(&key).await?;
    let mut page = TypeFormPage::new(web.page, false);
    page.key = ty.key.clone();
    page.label = ty.label.clone();
    page.domain = ty.domain.clone();
    page.description = ty.description.clone();
    page.retention = ty.retention_years.to_string();
    page.rows = rows_of(&ty);
    Ok(render(&page.with_blank_rows()))
}

/// The posted form: flat `name=value` pairs, field rows as `f{i}.key`…
#[derive(Debug, Default)]
struct Posted {
    csrf: String,
    key: String,
    label: String,
    domain: String,
    description: String,
    retention: String,
    rows: Vec<FieldRow>,
}

/// Most field rows read from one form (a type has a handful).
const MAX_ROWS: usize = 200;

fn parse_posted(pairs: Vec<(String, String)>) -> Posted {
    let mut p = Posted::default();
    for (name, value) in pairs {
        match name.as_str() {
            "_csrf" => p.csrf = value,
            "key" => p.key = value.trim().to_owned(),
            "label" => p.label = value.trim().to_owned(),
            "domain" => p.domain = value.trim().to_owned(),
            "description" => p.description = value,
            "retention" => p.retention = value.trim().to_owned(),
            other => {
                let Some((index, part)) = other
                    .strip_prefix('f')
                    .and_then(|r| r.split_once('.'))
                    .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)))
                else {
                    continue;
                };
                if index >= MAX_ROWS {
                    continue;
                }
                if p.rows.len() <= index {
                    p.rows.resize_with(index + 1, FieldRow::default);
                }
                let row = &mut p.rows[index];
                match part {
                    "key" => row.key = value.trim().to_owned(),
                    "label" => row.label = value.trim().to_owned(),
                    "type" => row.kind = value,
                    "required" => row.required = value == "true",
                    "values" => row.values = value,
                    _ => {}
                }
            }
        }
    }
    // A row left blank (or whose key was emptied) is no field.
    p.rows.retain(|r| !(r.key.is_empty() && r.label.is_empty()));
    p
}

/// The definition a form describes, or the form with its problems marked.
/// `key_taken`: creating a type whose key exists.
fn build(
    mut page: TypeFormPage,
    posted: Posted,
    key_taken: bool,
) -> Result<DocumentType, Box<TypeFormPage>> {
    let t = page.p.t;
    page.key = posted.key;
    page.label = posted.label;
    page.domain = posted.domain;
    page.description = posted.description;
    page.retention = posted.retention;
    page.rows = posted.rows;
    if page.label.is_empty() {
        page.label_error = t.s("types.err.label").to_owned();
    }
    let retention = page.retention.parse::<u32>().ok().filter(|y| *y <= 200);
    if retention.is_none() {
        page.retention_error = t.s("types.err.retention").to_owned();
    }
    let mut fields = Vec::new();
    for row in &mut page.rows {
        let kind = match row.kind.as_str() {
            "text" => FieldKind::Text,
            "integer" => FieldKind::Integer,
            "decimal" => FieldKind::Decimal,
            "date" => FieldKind::Date,
            "boolean" => FieldKind::Boolean,
            "enum" => FieldKind::Enum {
                values: row
                    .values
                    .lines()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            _ => {
                row.error = t.s("types.err.kind").to_owned();
                continue;
            }
        };
        if row.label.is_empty() {
            row.error = t.s("types.err.field_label").to_owned();
        } else if !matches!(kind, FieldKind::Enum { .. }) && !row.values.trim().is_empty() {
            row.error = t.s("types.err.values_not_enum").to_owned();
        }
        fields.push(FieldDef {
            key: row.key.clone(),
            label: row.label.clone(),
            kind,
            required: row.required,
        });
    }
    let ty = DocumentType {
        key: page.key.clone(),
        label: page.label.clone(),
        domain: page.domain.clone(),
        description: page.description.clone(),
        retention_years: retention.unwrap_or_default(),
        fields,
        revision: Default::default(),
    };
    if let Err(e) = ty.check() {
        mark(&mut page, &e);
    } else if key_taken {
        page.key_error = t.s("types.err.exists").to_owned();
    }
    if page.has_errors() {
        Err(Box::new(page))
    } else {
        Ok(ty)
    }
}

/// Puts a definition problem beside the input it is about.
fn mark(page: &mut TypeFormPage, e: &TypeDefinitionError) {
    let t = page.p.t;
    let (key, message) = match e {
        TypeDefinitionError::BadKey(_) => {
            page.key_error = t.s("types.err.key").to_owned();
            return;
        }
        TypeDefinitionError::BadFieldKey(k) => (k, t.s("types.err.field_key")),
        TypeDefinitionError::DuplicateField(k) => (k, t.s("types.err.duplicate")),
        TypeDefinitionError::EmptyEnum(k) => (k, t.s("types.err.empty_enum")),
        TypeDefinitionError::Toml(_) => {
            page.errors.push(t.s("error.generic").to_owned());
            return;
        }
    };
    // The last row with that key: for a duplicate, the second one.
    match page.rows.iter_mut().rev().find(|r| &r.key == key) {
        Some(row) if row.error.is_empty() => row.error = message.to_owned(),
        Some(_) => {}
        None => page.errors.push(message.to_owned()),
    }
}

fn refused(page: Box<TypeFormPage>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&(*page).with_blank_rows()),
    )
        .into_response()
}

/// `POST /admin/types`: creates a type (a key already in use is refused,
/// not overwritten).
pub async fn create(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    admin_only(&web)?;
    let posted = parse_posted(pairs);
    web.check_csrf(&posted.csrf)?;
    let taken = match st.app.get_document_type(&posted.key).await {
        Ok(_) => true,
        Err(CoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    match build(TypeFormPage::new(web.page, true), posted, taken) {
        Ok(ty) => saved(&internal, &web.actor, ty).await,
        Err(page) => Ok(refused(page)),
    }
}

async fn saved(
    internal: &InternalApp,
    actor: &passerelle_core::Actor,
    ty: DocumentType,
) -> Result<Response, WebError> {
    let ty = internal.save_document_type(actor, ty).await?;
    Ok(see_other(&format!(
        "/admin/types/{}/edit?ok=type_saved",
        crate::ctx::encode(&ty.key)
    )))
}

/// `POST /admin/types/{key}`: saves an existing type (its key stays).
pub async fn save(
    State(st): State<AppState>,
    Extension(internal): Extension<InternalApp>,
    web: Web,
    Path(key): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    admin_only(&web)?;
    let mut posted = parse_posted(pairs);
    web.check_csrf(&posted.csrf)?;
    st.app.get_document_type(&key).await?;
    posted.key = key;
    match build(TypeFormPage::new(web.page, false), posted, false) {
        Ok(ty) => saved(&internal, &web.actor, ty).await,
        Err(page) => Ok(refused(page)),
    }
}
