//! # passerelle-flux
//!
//! Parsers of the files business applications exchange with the State
//! (ADR 0008 §1), so that a drop folder, and later the API, file them as
//! typed documents. Pure: a `std::io::BufRead` in, plain structs out; no
//! core, no async, so every user (hot folders, tests, benchmarks) shares
//! them.
//!
//! Every parser is streamed: a file of hundreds of MB (a PES with its
//! attachments) is read in constant memory, its attachments decoded into
//! a sink the caller gives. A file is accepted whole or refused with a
//! [`FluxError`] whose [`explain`](FluxError::explain) tells its sender,
//! in French, what is wrong and how to fix it.
//!
//! Modules:
//! - [`pes`]: Helios PES V2 (`PES_Aller`): header, bordereaux, `PES_PJ`.
//! - [`actes`]: @CTES transmissions (envelope, act, annexes, as a
//!   `.tar.gz`) and the prefecture's acknowledgements (`ARActe`).
//! - `xml`: the guarded event stream the parsers read (encodings, depth,
//!   no DTD, bounded runs, raw reading of attachments).
//! - `base64`: attachments decoded as they are read.
//! - `error`: [`FluxError`].

pub mod actes;
mod base64;
mod error;
pub mod pes;
mod xml;

use std::io::Write;

pub use error::FluxError;

/// Where the files a flow carries go (PES attachments, an act and its
/// annexes): the writer of the `index`-th one. Names may come after the
/// content (`NomPJ` follows `Fichier`), so only the rank is given.
pub trait AttachmentSink {
    fn open(&mut self, index: usize) -> std::io::Result<Box<dyn Write + '_>>;
}

/// Bounds against hostile files; the defaults suit real flows.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Elements nested at most this deep.
    pub max_depth: usize,
    /// Bytes between two `<` or `>` outside an attachment: a tag, an
    /// attribute or a text node longer than this is refused (it would be
    /// held in memory whole).
    pub max_run: usize,
    /// Decoded bytes of one attachment.
    pub max_attachment_bytes: u64,
    /// Attachments in one file.
    pub max_attachments: usize,
    /// Bordereaux in one file.
    pub max_bordereaux: usize,
    /// Entries of an @CTES bundle.
    pub max_bundle_files: usize,
    /// Declared bytes of all the entries of a bundle together.
    pub max_bundle_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_run: 1024 * 1024,
            max_attachment_bytes: 2 * 1024 * 1024 * 1024,
            max_attachments: 10_000,
            max_bordereaux: 10_000,
            max_bundle_files: 200,
            max_bundle_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}
