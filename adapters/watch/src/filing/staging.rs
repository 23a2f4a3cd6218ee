//! Attachments decoded straight into the blob store: the parser's sink
//! hands each attachment's bytes, as they are decoded, to a `stage` of
//! core's flows running on the runtime, so an attachment is written once
//! (as its blob) instead of to a scratch file first and read back.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::mem;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use passerelle_core::blob::ByteStream;
use passerelle_core::service::{Flows, Staged};
use passerelle_core::{Actor, CoreError};
use passerelle_flux::AttachmentSink;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::core_problem;
use super::plan::Problem;

/// Decoded bytes are sent to the blob store in pieces of this size: the
/// decoder writes about 48 KiB at a time, and fewer, larger pieces keep
/// the hops between the parser's thread and the runtime rare.
const PIECE_BYTES: usize = 256 * 1024;

/// Pieces waiting for the blob store, per attachment: the parser runs
/// ahead of the disk by at most this many, so memory stays flat.
const PIECES_AHEAD: usize = 4;

/// What the parser's thread sends to an attachment's stage.
enum Piece {
    Bytes(Bytes),
    /// The parse succeeded: the content is whole.
    End,
}

/// An [`AttachmentSink`] staging each attachment as it is decoded. Made on
/// the runtime, used on the parser's own thread (the parsers read std I/O
/// and wait while a stage is behind, which no thread of the runtime may
/// do), then [`StagingSink::finish`]ed back on the runtime.
pub struct StagingSink {
    flows: Flows,
    actor: Actor,
    runtime: Handle,
    open: BTreeMap<usize, Open>,
}

/// One attachment being staged.
struct Open {
    /// Kept here as well as in the writer, so that the content ends only
    /// when [`StagingSink::finish`] says the parse succeeded: a parse that
    /// stops halfway must not leave a truncated blob named by nothing.
    pieces: mpsc::Sender<Piece>,
    stage: JoinHandle<Result<Staged, CoreError>>,
    /// Set when the stage failed because the parse stopped: its error is
    /// the parse's consequence, not a failure of its own.
    cut: Arc<AtomicBool>,
}

/// What the stages made of a parse.
pub struct Finished {
    /// Each attachment's staged content, by its index in the flow.
    pub staged: BTreeMap<usize, Staged>,
    /// A stage that failed by itself (the disk full, the upload limit):
    /// it comes before whatever the parse said, which may be only its
    /// consequence (the sink could not write).
    pub failed: Option<Problem>,
}

impl StagingSink {
    /// Must be called on the runtime.
    pub fn new(flows: Flows, actor: Actor) -> Self {
        Self {
            flows,
            actor,
            runtime: Handle::current(),
            open: BTreeMap::new(),
        }
    }

    /// Ends every attachment's content (`complete`: the parse succeeded)
    /// or cuts it (the stages fail and leave no blob), then waits for the
    /// stages.
    pub async fn finish(self, complete: bool) -> Finished {
        let mut finished = Finished {
            staged: BTreeMap::new(),
            failed: None,
        };
        for (index, open) in self.open {
            // A send failing means the stage stopped already: its result
            // says why.
            if complete {
                let _ = open.pieces.send(Piece::End).await;
            }
            drop(open.pieces);
            let outcome = match open.stage.await {
                Ok(Ok(staged)) => Ok(staged),
                Ok(Err(_)) if open.cut.load(Ordering::Acquire) => continue,
                Ok(Err(e)) => Err(core_problem(&e)),
                Err(e) => Err(Problem::Retry(format!(
                    "l'enregistrement d'une pièce jointe s'est arrêté : {e}"
                ))),
            };
            match outcome {
                Ok(staged) => {
                    finished.staged.insert(index, staged);
                }
                Err(problem) => {
                    finished.failed.get_or_insert(problem);
                }
            }
        }
        finished
    }
}

impl AttachmentSink for StagingSink {
    fn open(&mut self, index: usize) -> io::Result<Box<dyn Write + '_>> {
        let (pieces, received) = mpsc::channel(PIECES_AHEAD);
        let cut = Arc::new(AtomicBool::new(false));
        let content = content(received, cut.clone());
        let (flows, actor) = (self.flows.clone(), self.actor.clone());
        let stage = self
            .runtime
            .spawn(async move { flows.stage(&actor, content).await });
        let writer = PieceWriter {
            pieces: pieces.clone(),
            buffer: Vec::with_capacity(PIECE_BYTES),
        };
        // Opened twice (the parser refuses that first): the first stage is
        // cut, as for a parse that stopped.
        if let Some(earlier) = self.open.insert(index, Open { pieces, stage, cut }) {
            drop(earlier.pieces);
        }
        Ok(Box::new(writer))
    }
}

/// The stream a stage reads: the pieces until `End`; the channel closed
/// before it (the parse stopped, or panicked) is an error, so that the
/// blob store removes what it received.
fn content(received: mpsc::Receiver<Piece>, cut: Arc<AtomicBool>) -> ByteStream {
    Box::pin(futures::stream::unfold(Some(received), move |received| {
        let cut = cut.clone();
        async move {
            let mut received = received?;
            match received.recv().await {
                Some(Piece::Bytes(b)) => Some((Ok(b), Some(received))),
                Some(Piece::End) => None,
                None => {
                    cut.store(true, Ordering::Release);
                    Some((Err(io::Error::other("the flow's parse stopped")), None))
                }
            }
        }
    }))
}

/// The parser's side of an attachment: buffers the decoded bytes into
/// pieces and sends them, waiting while the blob store is behind.
struct PieceWriter {
    pieces: mpsc::Sender<Piece>,
    buffer: Vec<u8>,
}

impl PieceWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = mem::replace(&mut self.buffer, Vec::with_capacity(PIECE_BYTES));
        self.pieces
            .blocking_send(Piece::Bytes(Bytes::from(piece)))
            .map_err(|_| io::Error::other("the attachment's stage stopped"))
    }
}

impl Write for PieceWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= PIECE_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for PieceWriter {
    fn drop(&mut self) {
        // The decoder flushes when an attachment ends; this keeps a
        // writer dropped without it from losing its last bytes.
        let _ = self.send();
    }
}
