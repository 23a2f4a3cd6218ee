//! clamd's INSTREAM and PING over one connection (clamd(8), "COMMANDS"):
//! the `z` form of the commands (NUL-terminated), the content framed in
//! chunks of `<u32 BE length><bytes>` ended by a zero length, the answer
//! read up to its NUL. Every step is bounded by the settings' timeout, so
//! a clamd that hangs is reported as unavailable, not waited for.

use std::future::Future;

use futures::StreamExt;
use passerelle_core::antivirus::ScanError;
use passerelle_core::blob::ByteStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::{TcpStream, UnixStream};

use crate::{ClamdAddress, ClamdSettings};

/// The largest chunk sent at once: clamd reads chunks into a buffer of its
/// own, and a chunk and its header fill one write.
const MAX_CHUNK: usize = 64 * 1024;

/// The longest answer read: a signature name is short; anything longer is
/// not clamd.
const MAX_ANSWER: usize = 4096;

/// What clamd said of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `stream: OK`
    Clean,
    /// `stream: <signature> FOUND`
    Found(String),
    /// `INSTREAM size limit exceeded. ERROR`: past its `StreamMaxLength`.
    SizeLimit,
    /// `<message> ERROR`, or an answer this adapter does not know.
    Error(String),
}

/// Why clamd could not be talked to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClamdError {
    #[error("cannot connect to clamd at {address}: {source}")]
    Connect {
        address: ClamdAddress,
        #[source]
        source: std::io::Error,
    },
    #[error("clamd did not answer within {secs} s ({step})")]
    TimedOut { step: &'static str, secs: u64 },
    #[error("the connection to clamd failed ({step}): {source}")]
    Io {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("clamd closed the connection without an answer")]
    Closed,
    #[error("clamd answered {0:?} to PING")]
    NotPong(String),
}

/// A connection to clamd, whichever the socket.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// `what` within the settings' timeout, its I/O error named by `step`.
pub(crate) async fn within<T>(
    s: &ClamdSettings,
    step: &'static str,
    what: impl Future<Output = std::io::Result<T>>,
) -> Result<T, ClamdError> {
    match tokio::time::timeout(s.timeout, what).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(ClamdError::Io { step, source }),
        Err(_) => Err(ClamdError::TimedOut {
            step,
            secs: s.timeout.as_secs(),
        }),
    }
}

/// `connecting` within the timeout, its failure named as a connection's.
pub(crate) async fn connecting<T>(
    s: &ClamdSettings,
    connecting: impl Future<Output = std::io::Result<T>>,
) -> Result<T, ClamdError> {
    match within(s, "connecting", connecting).await {
        Err(ClamdError::Io { source, .. }) => Err(ClamdError::Connect {
            address: s.address.clone(),
            source,
        }),
        other => other,
    }
}

async fn connect(s: &ClamdSettings) -> Result<Box<dyn Conn>, ClamdError> {
    let connecting = async {
        let conn: Box<dyn Conn> = match &s.address {
            ClamdAddress::Unix(path) => Box::new(UnixStream::connect(path).await?),
            ClamdAddress::Tcp(addr) => {
                let tcp = TcpStream::connect(addr).await?;
                // The last chunk and the terminator go at once, not after
                // an acknowledgement (Nagle with delayed ACKs costs 40 ms).
                tcp.set_nodelay(true)?;
                Box::new(tcp)
            }
        };
        Ok(conn)
    };
    self::connecting(s, connecting).await
}

/// Reads one answer, up to its NUL (or the end of the connection).
pub(crate) async fn answer(
    s: &ClamdSettings,
    conn: &mut (impl AsyncRead + Unpin),
) -> Result<String, ClamdError> {
    let reading = async {
        let mut buf = Vec::with_capacity(64);
        let mut byte = [0u8; 256];
        loop {
            let n = conn.read(&mut byte).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&byte[..n]);
            if buf.contains(&0) || buf.len() > MAX_ANSWER {
                break;
            }
        }
        Ok(buf)
    };
    let buf = within(s, "reading the answer", reading).await?;
    let text = String::from_utf8_lossy(&buf);
    let text = text.split('\0').next().unwrap_or_default().trim();
    if text.is_empty() {
        return Err(ClamdError::Closed);
    }
    Ok(text.to_owned())
}

/// `PING` → `PONG`.
pub(crate) async fn ping(s: &ClamdSettings) -> Result<(), ClamdError> {
    let mut conn = connect(s).await?;
    within(s, "sending PING", conn.write_all(b"zPING\0")).await?;
    match answer(s, &mut conn).await? {
        pong if pong == "PONG" => Ok(()),
        other => Err(ClamdError::NotPong(other)),
    }
}

/// Streams `content` to clamd and returns its answer.
pub(crate) async fn instream(
    s: &ClamdSettings,
    mut content: ByteStream,
) -> Result<Answer, ScanError> {
    let unavailable = |e: ClamdError| ScanError::Unavailable(e.to_string());
    let conn = connect(s).await.map_err(unavailable)?;
    // One write per chunk and its header.
    let mut out = BufWriter::with_capacity(MAX_CHUNK + 4, conn);
    within(s, "sending INSTREAM", out.write_all(b"zINSTREAM\0"))
        .await
        .map_err(unavailable)?;
    let mut sent = 0u64;
    while let Some(chunk) = content.next().await {
        let chunk = chunk.map_err(ScanError::Content)?;
        for piece in chunk.chunks(MAX_CHUNK) {
            sent += piece.len() as u64;
            if sent > s.max_stream_bytes {
                return Err(ScanError::TooLarge {
                    limit: s.max_stream_bytes,
                });
            }
            let len = u32::try_from(piece.len()).expect("a piece is at most MAX_CHUNK bytes");
            let sending = async {
                out.write_all(&len.to_be_bytes()).await?;
                out.write_all(piece).await
            };
            if let Err(e) = within(s, "sending content", sending).await {
                // clamd stops reading past its StreamMaxLength and says so
                // before closing: its answer, if any, explains the cut.
                return match answer(s, out.get_mut()).await {
                    Ok(text) => Ok(parse(&text)),
                    Err(_) => Err(unavailable(e)),
                };
            }
        }
    }
    let ending = async {
        out.write_all(&0u32.to_be_bytes()).await?;
        out.flush().await
    };
    if let Err(e) = within(s, "ending the stream", ending).await {
        return match answer(s, out.get_mut()).await {
            Ok(text) => Ok(parse(&text)),
            Err(_) => Err(unavailable(e)),
        };
    }
    let text = answer(s, out.get_mut()).await.map_err(unavailable)?;
    Ok(parse(&text))
}

/// clamd's answer to INSTREAM (`stream: …`) or FILDES (`fd[9]: …`),
/// without its NUL.
pub(crate) fn parse(text: &str) -> Answer {
    let verdict = subject_stripped(text);
    if verdict == "OK" {
        return Answer::Clean;
    }
    if let Some(found) = verdict.strip_suffix(" FOUND") {
        return Answer::Found(found.trim().to_owned());
    }
    if text.contains("size limit exceeded") {
        return Answer::SizeLimit;
    }
    let message = text.strip_suffix(" ERROR").unwrap_or(text);
    Answer::Error(message.trim().to_owned())
}

/// An answer without what it is about: `stream: ` or `fd[<n>]: `.
fn subject_stripped(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix("stream: ") {
        return rest;
    }
    text.strip_prefix("fd[")
        .and_then(|rest| rest.split_once("]: "))
        .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(text, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clamds_answers() {
        assert_eq!(parse("stream: OK"), Answer::Clean);
        assert_eq!(
            parse("stream: Win.Test.EICAR_HDB-1 FOUND"),
            Answer::Found("Win.Test.EICAR_HDB-1".into())
        );
        assert_eq!(
            parse("stream: sample.bin.UNOFFICIAL FOUND"),
            Answer::Found("sample.bin.UNOFFICIAL".into())
        );
        assert_eq!(
            parse("INSTREAM size limit exceeded. ERROR"),
            Answer::SizeLimit
        );
        assert_eq!(
            parse("Can't allocate memory ERROR"),
            Answer::Error("Can't allocate memory".into())
        );
        assert_eq!(parse("fd[9]: OK"), Answer::Clean);
        assert_eq!(
            parse("fd[12]: sample.bin.UNOFFICIAL FOUND"),
            Answer::Found("sample.bin.UNOFFICIAL".into())
        );
        assert_eq!(
            parse("fd[x]: OK"),
            Answer::Error("fd[x]: OK".into()),
            "only a descriptor's number is stripped"
        );
        assert_eq!(
            parse("UNKNOWN COMMAND"),
            Answer::Error("UNKNOWN COMMAND".into())
        );
    }
}
