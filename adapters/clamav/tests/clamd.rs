//! The clamd adapter against a real clamd (`passerelle_testing::clamd`,
//! a private signature database): clean and infected content, streamed
//! over the Unix socket and TCP and handed as a stored file (by descriptor
//! over the Unix socket, streamed over TCP), content past the stream limit
//! (the adapter's and clamd's own), and a clamd that is gone or hangs
//! (unavailable, within the timeout).

use std::time::{Duration, Instant};

use bytes::Bytes;
use passerelle_clamav::{ClamdAddress, ClamdAntivirus, ClamdSettings};
use passerelle_core::antivirus::{Antivirus, ScanError, Verdict};
use passerelle_core::blob::{ByteStream, Readable};
use passerelle_testing::clamd::{self, Clamd};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// clamd's `StreamMaxLength` in these tests.
const LIMIT: u64 = 1024 * 1024;

/// `content` as core's blob store streams it: in chunks of `chunk` bytes.
fn stream(content: Vec<u8>, chunk: usize) -> ByteStream {
    let chunks: Vec<Result<Bytes, std::io::Error>> = content
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

/// `content` as the disk blob store hands a stored blob: an open file.
fn file(content: &[u8]) -> Readable {
    let mut f = tempfile::tempfile().expect("a temporary file");
    std::io::Write::write_all(&mut f, content).expect("write it");
    std::io::Seek::rewind(&mut f).expect("rewind it");
    Readable::File(f)
}

/// Each way a content reaches clamd: streamed, or as a file.
#[derive(Clone, Copy, Debug)]
enum As {
    Stream,
    File,
}

impl As {
    fn give(self, content: &[u8]) -> Readable {
        match self {
            As::Stream => Readable::Stream(stream(content.to_vec(), 64 * 1024)),
            As::File => file(content),
        }
    }
}

fn scanner(address: ClamdAddress, max_stream_bytes: u64) -> ClamdAntivirus {
    ClamdAntivirus::new(ClamdSettings {
        address,
        timeout: Duration::from_secs(10),
        max_stream_bytes,
        fd_passing: true,
    })
}

fn both(c: &Clamd) -> [ClamdAntivirus; 2] {
    let tcp = c.tcp.clone().expect("clamd::start listens on TCP");
    [
        scanner(ClamdAddress::Unix(c.unix.clone()), LIMIT),
        scanner(ClamdAddress::Tcp(tcp), LIMIT),
    ]
}

/// Every scanner and every way: the Unix socket by descriptor and (passing
/// off) streamed, TCP streamed, each given a stream and a file.
fn every_way(c: &Clamd) -> Vec<(ClamdAntivirus, As)> {
    let no_passing = ClamdAntivirus::new(ClamdSettings {
        address: ClamdAddress::Unix(c.unix.clone()),
        timeout: Duration::from_secs(10),
        max_stream_bytes: LIMIT,
        fd_passing: false,
    });
    both(c)
        .into_iter()
        .chain([no_passing])
        .flat_map(|av| [(av.clone(), As::Stream), (av, As::File)])
        .collect()
}

#[tokio::test]
async fn clean_content_is_clean_and_the_sample_is_found_over_unix_and_tcp() -> anyhow::Result<()> {
    let Some(c) = clamd::start(LIMIT)? else {
        return Ok(());
    };
    for av in both(&c) {
        av.ping().await?;
        // The sample, cut in small chunks: clamd judges the whole stream.
        let found = av
            .scan(Readable::Stream(stream(c.sample.clone(), 5)))
            .await?;
        assert_eq!(
            found,
            Verdict::Infected {
                signature: c.signature.clone()
            },
            "{av:?}\n{}",
            c.log()
        );
    }
    for (av, way) in every_way(&c) {
        let clean = av.scan(way.give(b"un compte rendu de chantier")).await?;
        assert_eq!(clean, Verdict::Clean, "{av:?} {way:?}");
        let found = av.scan(way.give(&c.sample)).await?;
        assert_eq!(
            found,
            Verdict::Infected {
                signature: c.signature.clone()
            },
            "{av:?} {way:?}\n{}",
            c.log()
        );
        // Empty content is content too.
        assert_eq!(av.scan(way.give(b"")).await?, Verdict::Clean, "{way:?}");
    }
    Ok(())
}

#[tokio::test]
async fn content_up_to_the_limit_is_scanned_and_past_it_is_too_large() -> anyhow::Result<()> {
    let Some(c) = clamd::start(LIMIT)? else {
        return Ok(());
    };
    let limit = usize::try_from(LIMIT)?;
    for (av, way) in every_way(&c) {
        let at_limit = av.scan(way.give(&vec![b'a'; limit])).await?;
        assert_eq!(at_limit, Verdict::Clean, "{way:?}");
        let past = av.scan(way.give(&vec![b'a'; limit + 1])).await;
        assert!(
            matches!(past, Err(ScanError::TooLarge { limit: l }) if l == LIMIT),
            "{way:?} {past:?}"
        );
    }
    // A node configured looser than clamd: clamd's own refusal is read,
    // not taken for an outage.
    let loose = scanner(ClamdAddress::Unix(c.unix.clone()), 4 * LIMIT);
    let past = loose
        .scan(Readable::Stream(stream(vec![b'a'; limit * 2], 64 * 1024)))
        .await;
    assert!(matches!(past, Err(ScanError::TooLarge { .. })), "{past:?}");
    Ok(())
}

#[tokio::test]
async fn a_stopped_clamd_is_unavailable_at_once_and_answers_again_once_restarted()
-> anyhow::Result<()> {
    let Some(mut c) = clamd::start(LIMIT)? else {
        return Ok(());
    };
    c.stop();
    for (av, way) in every_way(&c) {
        let started = Instant::now();
        let r = av.scan(way.give(b"x")).await;
        assert!(matches!(r, Err(ScanError::Unavailable(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "no hang");
        let message = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("cannot connect to clamd"), "{message}");
    }
    c.restart()?;
    for (av, way) in every_way(&c) {
        assert_eq!(
            av.scan(way.give(&c.sample)).await?,
            Verdict::Infected {
                signature: c.signature.clone()
            }
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_clamd_that_never_answers_is_unavailable_after_the_timeout() -> anyhow::Result<()> {
    // A socket that accepts and reads but never answers: a hung clamd.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = ClamdAddress::Tcp(listener.local_addr()?.to_string());
    let hung = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_buf(&mut s, &mut sink).await;
            held.push(s);
        }
    });
    let av = ClamdAntivirus::new(ClamdSettings {
        address,
        timeout: Duration::from_millis(500),
        max_stream_bytes: LIMIT,
        fd_passing: true,
    });
    let started = Instant::now();
    let r = av.scan(As::File.give(b"x")).await;
    let waited = started.elapsed();
    assert!(matches!(r, Err(ScanError::Unavailable(_))), "{r:?}");
    assert!(
        waited < Duration::from_secs(5),
        "bounded by the timeout: {waited:?}"
    );
    hung.abort();
    Ok(())
}

/// A stored file over a Unix socket is handed over by descriptor: the
/// scanner is sent `zFILDES`, and reads the content through the descriptor
/// it receives (a stand-in clamd that records what came, so the test fails
/// if the adapter streamed the bytes instead).
#[tokio::test]
async fn a_file_over_the_unix_socket_goes_by_descriptor_not_by_stream() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("clamd.sock");
    let listener = tokio::net::UnixListener::bind(&socket)?;
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await?;
        let mut command = [0u8; 8];
        conn.read_exact(&mut command).await?;
        // The descriptor rides on the next byte: read it with the byte.
        let received = received_file(&conn).await?;
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::from(received), &mut content)?;
        conn.write_all(b"fd[7]: OK\0").await?;
        anyhow::Ok((command, content))
    });
    let av = scanner(ClamdAddress::Unix(socket), LIMIT);
    assert_eq!(
        av.scan(file(b"un avenant au marche")).await?,
        Verdict::Clean
    );
    let (command, content) = server.await??;
    assert_eq!(&command, b"zFILDES\0");
    assert_eq!(content, b"un avenant au marche");
    Ok(())
}

/// The descriptor received with one byte on `conn`.
async fn received_file(conn: &tokio::net::UnixStream) -> anyhow::Result<std::os::fd::OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
    use std::mem::MaybeUninit;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let got = conn
        .async_io(tokio::io::Interest::READABLE, || {
            recvmsg(
                conn,
                &mut [std::io::IoSliceMut::new(&mut byte)],
                &mut control,
                RecvFlags::empty(),
            )
            .map_err(std::io::Error::from)
        })
        .await?;
    anyhow::ensure!(got.bytes == 1, "one byte with the descriptor");
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = message
            && let Some(fd) = fds.next()
        {
            return Ok(fd);
        }
    }
    anyhow::bail!("no descriptor came with the byte")
}
