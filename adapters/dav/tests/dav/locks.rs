//! Locks over WebDAV: core's locks, whichever path took them, and the
//! `If:` headers that carry their tokens.

use super::*;

#[tokio::test]
async fn an_if_header_left_open_is_a_400_not_a_dropped_connection() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "v1").await?,
        StatusCode::CREATED
    );
    let r = w
        .send(
            "PUT",
            "/dav/plans/a.txt",
            Some("boss"),
            &[("if", "(<opaquelocktoken:x> [\"5c1a")],
            "v2",
        )
        .await?;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let get = w
        .send("GET", "/dav/plans/a.txt", Some("boss"), &[], "")
        .await?;
    assert_eq!(&get.body[..], b"v1", "nothing written");
    Ok(())
}

const LOCKINFO: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>LibreOffice</D:owner></D:lockinfo>"#;

/// LOCKs `path` as `user`; the token, without its angle brackets.
async fn dav_lock(w: &World, path: &str, user: &str) -> anyhow::Result<String> {
    let r = w
        .send(
            "LOCK",
            path,
            Some(user),
            &[("timeout", "Second-600")],
            LOCKINFO,
        )
        .await?;
    anyhow::ensure!(r.status.is_success(), "LOCK answered {}", r.status);
    let token = r.headers["lock-token"].to_str()?;
    Ok(token.trim_matches(|c| c == '<' || c == '>').to_owned())
}

#[tokio::test]
async fn a_webdav_lock_is_core_s_lock_for_every_path() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/cctp.odt", "boss", "v1").await?,
        StatusCode::CREATED
    );
    let token = dav_lock(&w, "/dav/plans/cctp.odt", "boss").await?;
    assert!(token.starts_with("opaquelocktoken:"), "{token}");

    // Another member's writes are refused through WebDAV (423) and
    // through core, as the API and the pages call it.
    assert_eq!(
        w.put("/dav/plans/cctp.odt", "collab", "theirs").await?,
        StatusCode::LOCKED
    );
    let collab = w.app.authenticate_basic("collab", PASSWORD, None).await?;
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let space = w.app.space_by_slug(&boss, "plans").await?.space.id;
    let listing = w.app.list_folder(&boss, space, None, Page::all()).await?;
    let doc = listing.documents.items[0].id;
    let refused = w
        .app
        .writes()
        .rename_document(&collab, doc, "autre.odt")
        .await;
    assert!(
        matches!(refused, Err(passerelle_core::CoreError::Locked { .. })),
        "{refused:?}"
    );
    // The holder writes with the token (WebDAV asks for it) and keeps the lock.
    assert_eq!(
        w.put("/dav/plans/cctp.odt", "boss", "v2 sans jeton")
            .await?,
        StatusCode::LOCKED
    );
    let with_token = w
        .send(
            "PUT",
            "/dav/plans/cctp.odt",
            Some("boss"),
            &[("if", &format!("(<{token}>)"))],
            "v2",
        )
        .await?;
    assert_eq!(with_token.status, StatusCode::NO_CONTENT);
    let locks = w
        .app
        .locks()
        .locks_on(&boss, passerelle_core::model::Resource::Document(doc))
        .await?;
    assert_eq!(locks.len(), 1, "the save kept the lock");
    assert_eq!(
        locks[0]
            .owner_info
            .as_deref()
            .map(|o| o.contains("LibreOffice")),
        Some(true)
    );

    // UNLOCK, then the other member writes.
    let unlock = w
        .send(
            "UNLOCK",
            "/dav/plans/cctp.odt",
            Some("boss"),
            &[("lock-token", &format!("<{token}>"))],
            "",
        )
        .await?;
    assert_eq!(unlock.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.put("/dav/plans/cctp.odt", "collab", "v3").await?,
        StatusCode::NO_CONTENT
    );
    Ok(())
}

#[tokio::test]
async fn a_check_out_from_the_api_refuses_webdav_writes_and_shows_in_lockdiscovery()
-> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/devis.xlsx", "collab", "v1").await?,
        StatusCode::CREATED
    );
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let space = w.app.space_by_slug(&boss, "plans").await?.space.id;
    let doc = w
        .app
        .list_folder(&boss, space, None, Page::all())
        .await?
        .documents
        .items[0]
        .id;
    w.app
        .locks()
        .check_out(&boss, doc, None, Some("relecture".into()))
        .await?;
    assert_eq!(
        w.put("/dav/plans/devis.xlsx", "collab", "v2").await?,
        StatusCode::LOCKED
    );
    assert_eq!(
        w.send("DELETE", "/dav/plans/devis.xlsx", Some("collab"), &[], "")
            .await?
            .status,
        StatusCode::LOCKED
    );
    let found = w
        .send(
            "PROPFIND",
            "/dav/plans/devis.xlsx",
            Some("collab"),
            &[("depth", "0")],
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>"#,
        )
        .await?;
    let text = String::from_utf8_lossy(&found.body).into_owned();
    assert!(
        text.contains("opaquelocktoken:") && text.contains("relecture"),
        "{text}"
    );
    // A lock on a name that holds nothing yet makes an empty document.
    let token = dav_lock(&w, "/dav/plans/nouveau.odt", "collab").await?;
    assert!(!token.is_empty());
    assert!(w.names().await?.contains(&"nouveau.odt".to_owned()));
    Ok(())
}

#[tokio::test]
async fn a_listing_discovers_each_entrys_own_locks_and_its_folders_deep_ones() -> anyhow::Result<()>
{
    let w = world().await?;
    for path in ["/dav/plans/lot/a.odt", "/dav/plans/lot/b.odt"] {
        if path.ends_with("a.odt") {
            let mkcol = w
                .send("MKCOL", "/dav/plans/lot", Some("boss"), &[], "")
                .await?;
            assert_eq!(mkcol.status, StatusCode::CREATED);
        }
        assert_eq!(w.put(path, "boss", "v1").await?, StatusCode::CREATED);
    }
    let on_a = dav_lock(&w, "/dav/plans/lot/a.odt", "boss").await?;
    let propfind = r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>"#;
    let listing = w
        .send(
            "PROPFIND",
            "/dav/plans/lot/",
            Some("reader"),
            &[("depth", "1")],
            propfind,
        )
        .await?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    let entry = |href: &str| {
        text.split("<D:response>")
            .find(|r| r.contains(&format!("<D:href>{href}</D:href>")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(entry("/dav/plans/lot/a.odt").contains(&on_a), "{text}");
    assert!(!entry("/dav/plans/lot/b.odt").contains(&on_a), "{text}");
    assert!(!entry("/dav/plans/lot/").contains(&on_a), "{text}");

    // A depth-infinity lock on the folder covers every entry, and is
    // shown at the folder's path.
    let unlock = w
        .send(
            "UNLOCK",
            "/dav/plans/lot/a.odt",
            Some("boss"),
            &[("lock-token", &format!("<{on_a}>"))],
            "",
        )
        .await?;
    assert!(unlock.status.is_success());
    let deep = dav_lock(&w, "/dav/plans/lot", "boss").await?;
    let listing = w
        .send(
            "PROPFIND",
            "/dav/plans/lot/",
            Some("reader"),
            &[("depth", "1")],
            propfind,
        )
        .await?;
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    let b = text
        .split("<D:response>")
        .find(|r| r.contains("<D:href>/dav/plans/lot/b.odt</D:href>"))
        .unwrap_or_default();
    assert!(
        b.contains(&deep) && b.contains("<D:href>/dav/plans/lot/</D:href>"),
        "{text}"
    );
    Ok(())
}
