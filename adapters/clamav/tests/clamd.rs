//! The clamd adapter against a real clamd (`passerelle_testing::clamd`,
//! a private signature database): clean and infected content over the
//! Unix socket and TCP, content past the stream limit (the adapter's and
//! clamd's own), and a clamd that is gone or hangs (unavailable, within
//! the timeout).

use std::time::{Duration, Instant};

use bytes::Bytes;
use passerelle_clamav::{ClamdAddress, ClamdAntivirus, ClamdSettings};
use passerelle_core::antivirus::{Antivirus, ScanError, Verdict};
use passerelle_core::blob::ByteStream;
use passerelle_testing::clamd::{self, Clamd};

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

fn scanner(address: ClamdAddress, max_stream_bytes: u64) -> ClamdAntivirus {
    ClamdAntivirus::new(ClamdSettings {
        address,
        timeout: Duration::from_secs(10),
        max_stream_bytes,
    })
}

fn both(c: &Clamd) -> [ClamdAntivirus; 2] {
    let tcp = c.tcp.clone().expect("clamd::start listens on TCP");
    [
        scanner(ClamdAddress::Unix(c.unix.clone()), LIMIT),
        scanner(ClamdAddress::Tcp(tcp), LIMIT),
    ]
}

#[tokio::test]
async fn clean_content_is_clean_and_the_sample_is_found_over_unix_and_tcp() -> anyhow::Result<()> {
    let Some(c) = clamd::start(LIMIT)? else {
        return Ok(());
    };
    for av in both(&c) {
        av.ping().await?;
        let clean = av
            .scan(stream(b"un compte rendu de chantier".to_vec(), 7))
            .await?;
        assert_eq!(clean, Verdict::Clean, "{av:?}");
        // The sample, cut in small chunks: clamd judges the whole stream.
        let found = av.scan(stream(c.sample.clone(), 5)).await?;
        assert_eq!(
            found,
            Verdict::Infected {
                signature: c.signature.clone()
            },
            "{av:?}\n{}",
            c.log()
        );
        // Empty content is content too.
        assert_eq!(av.scan(stream(Vec::new(), 1)).await?, Verdict::Clean);
    }
    Ok(())
}

#[tokio::test]
async fn content_up_to_the_limit_is_scanned_and_past_it_is_too_large() -> anyhow::Result<()> {
    let Some(c) = clamd::start(LIMIT)? else {
        return Ok(());
    };
    let limit = usize::try_from(LIMIT)?;
    for av in both(&c) {
        let at_limit = av.scan(stream(vec![b'a'; limit], 256 * 1024)).await?;
        assert_eq!(at_limit, Verdict::Clean);
        let past = av.scan(stream(vec![b'a'; limit + 1], 256 * 1024)).await;
        assert!(
            matches!(past, Err(ScanError::TooLarge { limit: l }) if l == LIMIT),
            "{past:?}"
        );
    }
    // A node configured looser than clamd: clamd's own refusal is read,
    // not taken for an outage.
    let loose = scanner(ClamdAddress::Unix(c.unix.clone()), 4 * LIMIT);
    let past = loose.scan(stream(vec![b'a'; limit * 2], 64 * 1024)).await;
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
    for av in both(&c) {
        let started = Instant::now();
        let r = av.scan(stream(b"x".to_vec(), 1)).await;
        assert!(matches!(r, Err(ScanError::Unavailable(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "no hang");
        let message = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("cannot connect to clamd"), "{message}");
    }
    c.restart()?;
    for av in both(&c) {
        assert_eq!(
            av.scan(stream(c.sample.clone(), 64)).await?,
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
    });
    let started = Instant::now();
    let r = av.scan(stream(b"x".to_vec(), 1)).await;
    let waited = started.elapsed();
    assert!(matches!(r, Err(ScanError::Unavailable(_))), "{r:?}");
    assert!(
        waited < Duration::from_secs(5),
        "bounded by the timeout: {waited:?}"
    );
    hung.abort();
    Ok(())
}
