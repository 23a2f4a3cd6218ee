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

use std::io;

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use passerelle_core::CoreError;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use passerelle_core::service::{NewDocument, NewVersion, Written};
use passerelle_http_common::AppState;
use tokio::sync::mpsc;
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
                let name = file_name(&field);
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

/// A short text field, refused beyond [`MAX_TEXT_FIELD`] bytes (read by
/// chunks, so a hostile field is not buffered whole).
async fn small_text(mut field: Field<'_>) -> Result<String, WebError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if out.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(CoreError::invalid("invalid_form", "form field too long").into());
        }
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out)
        .map(|s| s.trim().to_owned())
        .map_err(|_| CoreError::invalid("invalid_form", "form field is not UTF-8").into())
}

/// The name a browser gives a file: its last path component (some send a
/// whole Windows path). Core judges the rest (`..`, NUL, length…).
fn file_name(field: &Field<'_>) -> String {
    let raw = field.file_name().unwrap_or_default();
    raw.rsplit(['/', '\\']).next().unwrap_or(raw).to_owned()
}

enum Upload {
    /// The request itself could not be read (cut, malformed).
    Form(MultipartError),
    /// Core refused or failed.
    Core(CoreError),
}

/// Runs `store` over the content of `field`, streamed through a small
/// channel: the field borrows the form, so the two run side by side in
/// this task rather than in a spawned one.
async fn streamed<T, F, Fut>(mut field: Field<'_>, store: F) -> Result<T, Upload>
where
    F: FnOnce(ByteStream) -> Fut,
    Fut: Future<Output = Result<T, CoreError>>,
{
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    let content: ByteStream = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let pump = async move {
        loop {
            match field.chunk().await {
                Ok(Some(bytes)) => {
                    // Core stopped reading (it refused the file): the rest
                    // of the part is skipped by the next `next_field`.
                    if tx.send(Ok(bytes)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    let _ = tx
                        .send(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            e.to_string(),
                        )))
                        .await;
                    return Err(e);
                }
            }
        }
    };
    let (stored, read) = tokio::join!(store(content), pump);
    read.map_err(Upload::Form)?;
    stored.map_err(Upload::Core)
}

fn bad_form(e: MultipartError) -> WebError {
    CoreError::invalid("invalid_form", format!("the form could not be read: {e}")).into()
}
