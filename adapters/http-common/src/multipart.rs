//! Reading `multipart/form-data` bodies whose parts come in order, small
//! text fields first and content last (the web pages' upload forms, CMIS
//! Browser-binding actions): text fields are bounded, content is streamed
//! to core as it arrives, never buffered whole. A part is any stream of
//! chunks: axum's `Field`, or multer's owned one (CMIS keeps the content
//! part past the loop that found it).

use std::fmt::Display;
use std::io;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use passerelle_core::CoreError;
use passerelle_core::blob::ByteStream;
use tokio::sync::mpsc;

/// Why a form's part could not be used.
#[derive(Debug)]
pub enum Upload {
    /// The request itself could not be read (cut, malformed): why.
    Form(String),
    /// Core refused or failed, or a field broke a bound.
    Core(CoreError),
}

impl From<CoreError> for Upload {
    fn from(e: CoreError) -> Self {
        Upload::Core(e)
    }
}

/// A short text field (any stream of chunks, axum's `Field` among
/// them), refused beyond `max` bytes (read by chunks, so a
/// hostile field is not buffered whole), trimmed.
pub async fn small_text<S, E>(mut field: S, max: usize) -> Result<String, Upload>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut out = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| Upload::Form(e.to_string()))?;
        if out.len() + chunk.len() > max {
            return Err(CoreError::invalid("invalid_form", "form field too long").into());
        }
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out)
        .map(|s| s.trim().to_owned())
        .map_err(|_| CoreError::invalid("invalid_form", "form field is not UTF-8").into())
}

/// The name a client gives a file: its last path component (some send a
/// whole Windows path). Core judges the rest (`..`, NUL, length…).
pub fn file_name(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default();
    raw.rsplit(['/', '\\']).next().unwrap_or(raw).to_owned()
}

/// Runs `store` over the content of `field`, streamed through a small
/// channel: the field borrows the form, so the two run side by side in
/// this task rather than in a spawned one.
pub async fn streamed<S, E, T, F, Fut>(mut field: S, store: F) -> Result<T, Upload>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
    F: FnOnce(ByteStream) -> Fut,
    Fut: Future<Output = Result<T, CoreError>>,
{
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    let content: ByteStream = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let pump = async move {
        loop {
            match field.next().await.transpose() {
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
    read.map_err(|e| Upload::Form(e.to_string()))?;
    stored.map_err(Upload::Core)
}
