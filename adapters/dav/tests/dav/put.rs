//! PUT streamed into core: content arriving in many chunks is stored
//! whole, and a body that breaks, ends short of its announced length or
//! passes the size limit stores nothing, neither a document nor a version.

use std::io;

use futures::stream;

use super::*;

/// A request body of `chunks`, each `Ok` or an I/O error (a client gone).
fn streamed(chunks: Vec<Result<Vec<u8>, io::Error>>) -> Body {
    Body::from_stream(stream::iter(chunks.into_iter().map(|c| c.map(Bytes::from))))
}

fn broken() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "the client went away")
}

/// The current version number and content of `path`, as `boss` sees it.
async fn current(w: &World, path: &str) -> anyhow::Result<(String, Bytes)> {
    let props = w
        .send(
            "PROPFIND",
            path,
            Some("boss"),
            &[("depth", "0")],
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:P="urn:passerelle:dav"><D:prop><P:version/></D:prop></D:propfind>"#,
        )
        .await?;
    let text = String::from_utf8_lossy(&props.body).into_owned();
    let version = text
        .split("P:version")
        .nth(1)
        .and_then(|s| s.split(['>', '<']).nth(1))
        .unwrap_or_default()
        .to_owned();
    let get = w.send("GET", path, Some("boss"), &[], "").await?;
    Ok((version, get.body))
}

#[tokio::test]
async fn a_body_in_many_chunks_is_stored_whole() -> anyhow::Result<()> {
    let w = world().await?;
    let chunks: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 16 * 1024]).collect();
    let whole: Vec<u8> = chunks.concat();
    let res = w
        .send(
            "PUT",
            "/dav/plans/many.bin",
            Some("boss"),
            &[],
            streamed(chunks.into_iter().map(Ok).collect()),
        )
        .await?;
    assert_eq!(res.status, StatusCode::CREATED);
    let (version, body) = current(&w, "/dav/plans/many.bin").await?;
    assert_eq!(version, "1");
    assert_eq!(ContentHash::of(&body), ContentHash::of(&whole));
    Ok(())
}

#[tokio::test]
async fn a_body_that_breaks_stores_no_document_and_no_version() -> anyhow::Result<()> {
    let w = world().await?;
    let res = w
        .send(
            "PUT",
            "/dav/plans/cut.txt",
            Some("boss"),
            &[],
            streamed(vec![Ok(b"the first half".to_vec()), Err(broken())]),
        )
        .await;
    // The request fails one way or another (dav-server gives up on the
    // body); what matters is what was stored.
    if let Ok(res) = &res {
        assert!(!res.status.is_success(), "{}", res.status);
    }
    assert!(!w.names().await?.contains(&"cut.txt".to_owned()));

    assert_eq!(
        w.put("/dav/plans/kept.txt", "boss", "version one").await?,
        StatusCode::CREATED
    );
    let res = w
        .send(
            "PUT",
            "/dav/plans/kept.txt",
            Some("boss"),
            &[],
            streamed(vec![Ok(b"version two, cut".to_vec()), Err(broken())]),
        )
        .await;
    if let Ok(res) = &res {
        assert!(!res.status.is_success(), "{}", res.status);
    }
    let (version, body) = current(&w, "/dav/plans/kept.txt").await?;
    assert_eq!((version.as_str(), &body[..]), ("1", &b"version one"[..]));
    Ok(())
}

#[tokio::test]
async fn a_body_shorter_than_announced_stores_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    let res = w
        .send(
            "PUT",
            "/dav/plans/short.txt",
            Some("boss"),
            &[("content-length", "100")],
            streamed(vec![Ok(b"only twenty-six bytes here".to_vec())]),
        )
        .await?;
    assert!(!res.status.is_success(), "{}", res.status);
    assert!(!w.names().await?.contains(&"short.txt".to_owned()));
    Ok(())
}

#[tokio::test]
async fn a_body_past_the_size_limit_is_refused_and_stores_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    // No Content-Length: the limit (1 MiB here) is found while streaming.
    let chunks = (0..20).map(|_| Ok(vec![b'x'; 64 * 1024])).collect();
    let res = w
        .send(
            "PUT",
            "/dav/plans/big.bin",
            Some("boss"),
            &[],
            streamed(chunks),
        )
        .await?;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!w.names().await?.contains(&"big.bin".to_owned()));
    Ok(())
}
