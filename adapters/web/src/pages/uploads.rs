//! Uploads from a plain form (`multipart/form-data`), so that a browser
//! without JavaScript can still deposit files and versions. With the
//! script, the same form is taken over: each file goes to the REST API with
//! its own progress bar, and this handler is never called.
//!
//! The form's fields come in document order: `_csrf` first (checked before
//! a byte of content is read), then `folder` (optional), then the files.
//! Each file is streamed to core as it arrives (nothing is buffered whole);
//! core checks its name and size, and the node's `DocumentWrites` stores
//! it or (on an edge) queues it in the outbox.

use axum::extract::multipart::{Field, Multipart};
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::service::{NewDocument, NewVersion, Written};
use passerelle_http_common::AppState;
use passerelle_http_common::multipart::{self, Upload, file_name, streamed};
use uuid::Uuid;

use crate::ctx::{Web, WebError, back_with_error, see_other};

/// Most files one form may carry (the picker allows many; a form with
/// more is refused before any is stored).
pub const MAX_FILES: usize = 100;

/// Longest text field read (`_csrf`, `folder`): a token or an id.
const MAX_TEXT_FIELD: usize = 1024;

/// `POST /spaces/{id}/upload`: the files of the upload form, each a new
/// document in the space (or the folder given). Files are stored one after
/// the other; one refused (bad name, too large, name taken…) does not stop
/// the others, and the page names the first problem.
pub async fn upload_files(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    check_token(&web, &mut form).await?;
    let space = SpaceId::from_uuid(id);
    let mut folder: Option<FolderId> = None;
    let mut stored = 0usize;
    // Whether a file waits for the internal node (an edge queued it).
    let mut queued = false;
    let mut files = 0usize;
    let mut first_error: Option<CoreError> = None;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("folder") => {
                let raw = small_text(field).await?;
                folder = if raw.is_empty() {
                    None
                } else {
                    Some(FolderId::from_uuid(
                        Uuid::parse_str(&raw).map_err(|_| CoreError::NotFound("folder"))?,
                    ))
                };
            }
            Some("file") => {
                // An empty picker still sends one part, without a name.
                if field.file_name().is_none_or(str::is_empty) {
                    continue;
                }
                files += 1;
                if files > MAX_FILES {
                    first_error.get_or_insert(CoreError::invalid(
                        "too_many_files",
                        format!("at most {MAX_FILES} files per form"),
                    ));
                    continue;
                }
                let name = file_name(field.file_name());
                let media_type = field.content_type().map(str::to_owned);
                let new = NewDocument {
                    space,
                    folder,
                    name,
                    doc_type: None,
                    metadata: Default::default(),
                    media_type,
                    comment: String::new(),
                };
                let outcome =
                    streamed(field, |content| st.writes.upload(&web.actor, new, content)).await;
                match outcome {
                    Ok(written) => {
                        stored += 1;
                        queued |= written.is_queued();
                    }
                    // Reading the request failed: the form is cut short.
                    Err(Upload::Form(e)) => return Err(bad_form(e)),
                    Err(Upload::Core(e)) => {
                        tracing::info!(space = %space, error = %e, "upload form: a file refused");
                        first_error.get_or_insert(e);
                    }
                }
            }
            // Other fields (a submit button's name) carry nothing.
            _ => {}
        }
    }
    let mut back = format!("/spaces/{space}");
    if let Some(f) = folder {
        back.push_str(&format!("?folder={f}"));
    }
    if let Some(e) = first_error {
        return back_with_error(&back, &e);
    }
    if stored == 0 {
        return back_with_error(
            &back,
            &CoreError::invalid("no_file", "choose at least one file"),
        );
    }
    let sep = if back.contains('?') { '&' } else { '?' };
    let notice = if queued {
        "operation_pending"
    } else {
        "uploaded"
    };
    Ok(see_other(&format!("{back}{sep}ok={notice}")))
}

/// `POST /documents/{id}/versions/upload`: the file of the new-version
/// form becomes the document's next version (on the edge, a pending
/// operation based on the version shown).
pub async fn upload_version(
    State(st): State<AppState>,
    web: Web,
    Path(id): Path<Uuid>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    check_token(&web, &mut form).await?;
    let id = DocumentId::from_uuid(id);
    let back = format!("/documents/{id}");
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        if field.name() != Some("file") || field.file_name().is_none_or(str::is_empty) {
            continue;
        }
        let new = NewVersion {
            media_type: field.content_type().map(str::to_owned),
            comment: String::new(),
        };
        let outcome = streamed(field, |content| {
            st.writes.new_version(&web.actor, id, new, content)
        })
        .await;
        return match outcome {
            Ok(Written::Queued(q)) => Ok(super::documents::pending(&q)),
            Ok(Written::Applied(_)) => Ok(see_other(&format!("{back}?ok=version_added"))),
            Err(Upload::Form(e)) => Err(bad_form(e)),
            Err(Upload::Core(e)) => back_with_error(&back, &e),
        };
    }
    back_with_error(&back, &CoreError::invalid("no_file", "choose a file"))
}

/// The first field must be the form's CSRF token, and match the session's.
async fn check_token(web: &Web, form: &mut Multipart) -> Result<(), WebError> {
    let token = match form.next_field().await.map_err(bad_form)? {
        Some(field) if field.name() == Some("_csrf") => small_text(field).await?,
        _ => String::new(),
    };
    web.check_csrf(&token)
}

/// A short text field (an id, a token).
async fn small_text(field: Field<'_>) -> Result<String, WebError> {
    multipart::small_text(field, MAX_TEXT_FIELD)
        .await
        .map_err(|e| match e {
            Upload::Form(e) => bad_form(e),
            Upload::Core(e) => e.into(),
        })
}

fn bad_form(e: impl std::fmt::Display) -> WebError {
    CoreError::invalid("invalid_form", format!("the form could not be read: {e}")).into()
}
