//! clamd's FILDES over its Unix socket (clamd(8), "COMMANDS"): the node
//! sends `zFILDES\0`, then one byte carrying the open blob file's
//! descriptor (`SCM_RIGHTS`), and clamd scans that file where it lies and
//! answers `fd[<n>]: OK` or `fd[<n>]: <signature> FOUND`. Against INSTREAM
//! nothing is copied down the socket and clamd writes no temporary file
//! (ADR 0010 §5): on contractors' many small files that copy and that file
//! were most of the scan's cost besides the matching itself. clamd needs no
//! right on the node's data directory: it reads through the descriptor.
//!
//! The size limit is the node's, checked before anything is sent, so a
//! file past it is `TooLarge` exactly as a stream past it would be (clamd
//! would otherwise apply only its own `MaxFileSize`, and skip the rest).

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::path::Path;

use passerelle_core::antivirus::ScanError;
use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::UnixStream;

use crate::ClamdSettings;
use crate::protocol::{Answer, ClamdError, answer, connecting, parse, within};

/// Has clamd at `socket` scan `file` through its descriptor.
pub(crate) async fn fildes(
    s: &ClamdSettings,
    socket: &Path,
    file: std::fs::File,
) -> Result<Answer, ScanError> {
    let unavailable = |e: ClamdError| ScanError::Unavailable(e.to_string());
    // fstat of an open file: no path lookup, no wait worth a thread hop.
    let size = file.metadata().map_err(ScanError::Content)?.len();
    if size > s.max_stream_bytes {
        return Err(ScanError::TooLarge {
            limit: s.max_stream_bytes,
        });
    }
    let mut conn = connecting(s, UnixStream::connect(socket))
        .await
        .map_err(unavailable)?;
    within(s, "sending FILDES", conn.write_all(b"zFILDES\0"))
        .await
        .map_err(unavailable)?;
    within(s, "passing the file", pass(&conn, &file))
        .await
        .map_err(unavailable)?;
    // clamd has its own descriptor now; ours may go.
    drop(file);
    let text = answer(s, &mut conn).await.map_err(unavailable)?;
    Ok(parse(&text))
}

/// Sends one NUL byte carrying `file`'s descriptor, when the socket can
/// take it.
async fn pass(conn: &UnixStream, file: &std::fs::File) -> std::io::Result<()> {
    let sent = conn
        .async_io(Interest::WRITABLE, || {
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut control = SendAncillaryBuffer::new(&mut space);
            let fds = [file.as_fd()];
            if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
                return Err(std::io::Error::other("no room for one descriptor"));
            }
            sendmsg(
                conn,
                &[IoSlice::new(b"\0")],
                &mut control,
                SendFlags::NOSIGNAL,
            )
            .map_err(std::io::Error::from)
        })
        .await?;
    if sent == 1 {
        Ok(())
    } else {
        Err(std::io::ErrorKind::WriteZero.into())
    }
}
