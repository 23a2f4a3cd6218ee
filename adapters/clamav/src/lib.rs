//! # passerelle-clamav
//!
//! A driven adapter: core's `Antivirus` port (ADR 0010) over clamd, the
//! ClamAV daemon, which the authority runs beside the internal node with
//! its own signature updates. A scan is one connection. A stored file over
//! clamd's Unix socket is handed over by descriptor: `zFILDES\0`, one byte
//! carrying the descriptor, and clamd reads the file where it lies. Any
//! other content is streamed: `zINSTREAM\0`, the content in chunks
//! (`<u32 BE length><bytes>`), a zero-length chunk. Then one NUL-terminated
//! answer: `… OK`, `… <signature> FOUND`, or `<message> ERROR`. Never a
//! whole file in memory.
//!
//! Depends on core, tokio and rustix's `sendmsg` (no ClamAV client crate:
//! the protocol is shorter than the code to wrap one). Only the internal
//! node links it: the edge does not scan, and core must not see it
//! (`.ci/run`).
//!
//! Modules: [`address`] (where clamd listens, `unix:` or `tcp:`),
//! `protocol` (INSTREAM framing and answers), `fildes` (descriptor
//! passing), this file (the port).

pub mod address;
mod fildes;
mod protocol;

use std::time::Duration;

use async_trait::async_trait;
use passerelle_core::antivirus::{Antivirus, ScanError, Verdict};
use passerelle_core::blob::{ByteStream, Readable};
use tokio_util::io::ReaderStream;

pub use address::ClamdAddress;
pub use protocol::Answer;

/// clamd's default `StreamMaxLength` (25 MiB): the default limit here too,
/// so a node and an untouched clamd agree.
pub const DEFAULT_MAX_STREAM_BYTES: u64 = 25 * 1024 * 1024;

/// How to reach clamd and what it accepts.
#[derive(Clone, Debug)]
pub struct ClamdSettings {
    pub address: ClamdAddress,
    /// For connecting, and for each write and the answer (a scan of a
    /// large archive can take a few seconds: clamd answers only at the
    /// end).
    pub timeout: Duration,
    /// Longest content sent; longer is `ScanError::TooLarge` without
    /// sending the rest. Must not exceed clamd's `StreamMaxLength`, which
    /// would otherwise answer `INSTREAM size limit exceeded` (mapped to
    /// the same error).
    pub max_stream_bytes: u64,
    /// Hand clamd a stored file's descriptor (FILDES) when it listens on a
    /// Unix socket, rather than streaming the file's bytes. Off only for a
    /// clamd built without descriptor passing.
    pub fd_passing: bool,
}

/// core's `Antivirus` over clamd. Cheap: one connection per scan (clamd's
/// threads are per connection; its `MaxThreads` bounds the node's scans).
#[derive(Clone, Debug)]
pub struct ClamdAntivirus {
    settings: ClamdSettings,
}

impl ClamdAntivirus {
    pub fn new(settings: ClamdSettings) -> Self {
        Self { settings }
    }

    /// Whether clamd answers `PING` with `PONG` (startup checks, probes).
    pub async fn ping(&self) -> Result<(), ScanError> {
        protocol::ping(&self.settings).await.map_err(unavailable)
    }
}

#[async_trait]
impl Antivirus for ClamdAntivirus {
    #[tracing::instrument(skip_all, fields(clamd = %self.settings.address))]
    async fn scan(&self, content: Readable) -> Result<Verdict, ScanError> {
        let s = &self.settings;
        let answer = match (content, &s.address) {
            (Readable::File(file), ClamdAddress::Unix(socket)) if s.fd_passing => {
                fildes::fildes(s, socket, file).await?
            }
            (Readable::File(file), _) => protocol::instream(s, streamed(file)).await?,
            (Readable::Stream(content), _) => protocol::instream(s, content).await?,
        };
        tracing::debug!(?answer, "clamd answered");
        match answer {
            Answer::Clean => Ok(Verdict::Clean),
            Answer::Found(signature) => Ok(Verdict::Infected { signature }),
            Answer::SizeLimit => Err(ScanError::TooLarge {
                limit: self.settings.max_stream_bytes,
            }),
            Answer::Error(message) => Err(ScanError::Failed(message)),
        }
    }
}

/// A file's bytes as a stream, for clamd over TCP (no descriptor crosses
/// hosts).
fn streamed(file: std::fs::File) -> ByteStream {
    Box::pin(ReaderStream::with_capacity(
        tokio::fs::File::from_std(file),
        64 * 1024,
    ))
}

/// An I/O failure toward clamd, as core names it: no answer.
fn unavailable(e: protocol::ClamdError) -> ScanError {
    ScanError::Unavailable(e.to_string())
}
