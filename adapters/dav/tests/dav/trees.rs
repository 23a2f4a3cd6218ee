//! Properties, PROPFIND depth and the deletion of collections.

use super::*;

#[tokio::test]
async fn propfind_depth_infinity_is_refused() -> anyhow::Result<()> {
    let w = world().await?;
    let res = w
        .send(
            "PROPFIND",
            "/dav/plans/",
            Some("boss"),
            &[("depth", "infinity")],
            "",
        )
        .await?;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&res.body).contains("propfind-finite-depth"));
    Ok(())
}

#[tokio::test]
async fn dead_properties_follow_the_resource_rights_and_live_ones_are_read_only()
-> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "A").await?,
        StatusCode::CREATED
    );
    let set = |ns: &str, name: &str, value: &str| {
        format!(
            r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="{ns}"><D:set><D:prop><Z:{name}>{value}</Z:{name}></D:prop></D:set></D:propertyupdate>"#
        )
    };
    let ok = w
        .send(
            "PROPPATCH",
            "/dav/plans/a.txt",
            Some("boss"),
            &[],
            set("urn:x", "colour", "bleu"),
        )
        .await?;
    assert_eq!(ok.status, StatusCode::MULTI_STATUS);
    assert!(String::from_utf8_lossy(&ok.body).contains("200 OK"));
    let by_reader = w
        .send(
            "PROPPATCH",
            "/dav/plans/a.txt",
            Some("reader"),
            &[],
            set("urn:x", "colour", "rouge"),
        )
        .await?;
    assert_eq!(by_reader.status, StatusCode::FORBIDDEN);
    let live = w
        .send(
            "PROPPATCH",
            "/dav/plans/a.txt",
            Some("boss"),
            &[],
            set("urn:passerelle:dav", "version", "9"),
        )
        .await?;
    assert!(String::from_utf8_lossy(&live.body).contains("403"));
    let huge = w
        .send(
            "PROPPATCH",
            "/dav/plans/a.txt",
            Some("boss"),
            &[],
            set("urn:x", "big", &"v".repeat(20_000)),
        )
        .await?;
    assert!(!String::from_utf8_lossy(&huge.body).contains("200 OK"));
    let read = w
        .send(
            "PROPFIND",
            "/dav/plans/a.txt",
            Some("reader"),
            &[("depth", "0")],
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:x"><D:prop><Z:colour/><Z:big/></D:prop></D:propfind>"#,
        )
        .await?;
    let text = String::from_utf8_lossy(&read.body).into_owned();
    assert!(text.contains("bleu") && !text.contains("vvvv"), "{text}");
    Ok(())
}

#[tokio::test]
async fn deleting_a_collection_trashes_it_whole_or_not_at_all() -> anyhow::Result<()> {
    let w = world().await?;
    let mkcol = w
        .send("MKCOL", "/dav/plans/lot", Some("contrib"), &[], "")
        .await?;
    assert_eq!(mkcol.status, StatusCode::CREATED);
    assert_eq!(
        w.put("/dav/plans/lot/mine.txt", "contrib", "A").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put("/dav/plans/lot/boss.txt", "boss", "B").await?,
        StatusCode::CREATED
    );
    // The contributor may not delete the manager's document: nothing goes.
    let refused = w
        .send("DELETE", "/dav/plans/lot/", Some("contrib"), &[], "")
        .await?;
    assert!(refused.status.is_client_error() || refused.status == StatusCode::MULTI_STATUS);
    let still = w
        .send("GET", "/dav/plans/lot/mine.txt", Some("contrib"), &[], "")
        .await?;
    assert_eq!(still.status, StatusCode::OK);
    // A space's root is never deleted, nor anything in it through it.
    let root = w
        .send("DELETE", "/dav/plans/", Some("boss"), &[], "")
        .await?;
    assert!(!root.status.is_success(), "{}", root.status);
    assert_eq!(w.names().await?, vec!["lot"]);
    let ok = w
        .send("DELETE", "/dav/plans/lot/", Some("boss"), &[], "")
        .await?;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let plans = w.app.space_by_slug(&boss, "plans").await?.space.id;
    let trash = w.app.list_trash(&boss, plans).await?;
    assert_eq!(trash.folders.len(), 1, "one entry for the folder");
    assert!(trash.documents.is_empty(), "its documents went with it");
    Ok(())
}

#[tokio::test]
async fn a_name_is_found_past_a_page_of_names_that_contain_it() -> anyhow::Result<()> {
    let w = world().await?;
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let plans = w.app.space_by_slug(&boss, "plans").await?.space.id;
    // Sorted by name, these 600 come before `a.txt` and all contain it.
    for i in 0..600 {
        let new = passerelle_core::service::NewDocument {
            space: plans,
            name: format!("{i:03}-a.txt"),
            ..Default::default()
        };
        let body = Bytes::from(format!("{i}"));
        let content: passerelle_core::blob::ByteStream =
            Box::pin(futures::stream::once(async move { Ok(body) }));
        w.app.upload(&boss, new, content).await?;
    }
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "le bon").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "le bon, v2").await?,
        StatusCode::NO_CONTENT
    );
    let get = w
        .send("GET", "/dav/plans/a.txt", Some("boss"), &[], "")
        .await?;
    assert_eq!(&get.body[..], b"le bon, v2");
    Ok(())
}

#[tokio::test]
async fn plain_http_from_afar_is_refused_and_guessing_is_throttled() -> anyhow::Result<()> {
    let w = world().await?;
    let afar = w
        .send(
            "PROPFIND",
            "/dav/",
            Some("boss"),
            &[("x-test-peer", "192.0.2.7")],
            "",
        )
        .await?;
    assert_eq!(afar.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&afar.body).contains("https://"));
    let wrong = "Basic Ym9zczp3cm9uZyBwYXNzd29yZA=="; // boss:wrong password
    let mut last = StatusCode::OK;
    let mut retry = None;
    for _ in 0..8 {
        let r = w
            .send("PROPFIND", "/dav/", None, &[("authorization", wrong)], "")
            .await?;
        last = r.status;
        retry = r.headers.get("retry-after").cloned();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some(), "Retry-After says when");
    Ok(())
}

/// The `<D:response>` of `href` in a multistatus.
fn response_of<'a>(multistatus: &'a str, href: &str) -> &'a str {
    multistatus
        .split("<D:response>")
        .find(|r| r.contains(&format!("<D:href>{href}</D:href>")))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_listing_gives_each_childs_dead_properties_and_its_author_by_name() -> anyhow::Result<()>
{
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "A").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put("/dav/plans/b.txt", "contrib", "B").await?,
        StatusCode::CREATED
    );
    let mkcol = w
        .send("MKCOL", "/dav/plans/lot", Some("boss"), &[], "")
        .await?;
    assert_eq!(mkcol.status, StatusCode::CREATED);
    let set = |value: &str| {
        format!(
            r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:colour>{value}</Z:colour></D:prop></D:set></D:propertyupdate>"#
        )
    };
    for (path, value) in [("/dav/plans/a.txt", "bleu"), ("/dav/plans/lot", "vert")] {
        let ok = w
            .send("PROPPATCH", path, Some("boss"), &[], set(value))
            .await?;
        assert!(String::from_utf8_lossy(&ok.body).contains("200 OK"));
    }
    let listing = w
        .send(
            "PROPFIND",
            "/dav/plans/",
            Some("reader"),
            &[("depth", "1")],
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:x" xmlns:P="urn:passerelle:dav"><D:prop><Z:colour/><P:author/><D:lockdiscovery/></D:prop></D:propfind>"#,
        )
        .await?;
    assert_eq!(listing.status, StatusCode::MULTI_STATUS);
    let text = String::from_utf8_lossy(&listing.body).into_owned();
    let a = response_of(&text, "/dav/plans/a.txt");
    assert!(
        a.contains("bleu") && a.contains(">boss</P:author>"),
        "{text}"
    );
    let b = response_of(&text, "/dav/plans/b.txt");
    assert!(
        !b.contains("bleu") && b.contains(">contrib</P:author>"),
        "{text}"
    );
    let lot = response_of(&text, "/dav/plans/lot/");
    assert!(lot.contains("vert") && !lot.contains("bleu"), "{text}");
    // Names, never principal ids.
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let id = boss.id().map(|i| i.to_string()).unwrap_or_default();
    assert!(!id.is_empty() && !text.contains(&id), "{text}");

    // One document alone (not through a listing) gives the same.
    let propfind = |body: &'static str| {
        w.send(
            "PROPFIND",
            "/dav/plans/b.txt",
            Some("reader"),
            &[("depth", "0")],
            body,
        )
    };
    let one = propfind(
        r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:P="urn:passerelle:dav"><D:prop><P:author/><P:version/></D:prop></D:propfind>"#,
    )
    .await?;
    let text = String::from_utf8_lossy(&one.body).into_owned();
    assert!(
        text.contains(">contrib</P:author>") && text.contains(">1</P:version>"),
        "{text}"
    );
    // `allprop` is DAV's live properties and the dead ones (RFC 4918
    // §9.1): Passerelle's own are answered when named, and `propname`
    // lists them.
    let all =
        propfind(r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>"#)
            .await?;
    let text = String::from_utf8_lossy(&all.body).into_owned();
    assert!(
        text.contains("getetag")
            && !text.contains("contrib")
            && !text.contains("urn:passerelle:dav"),
        "{text}"
    );
    let names =
        propfind(r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#)
            .await?;
    let text = String::from_utf8_lossy(&names.body).into_owned();
    for name in ["type", "metadata", "version", "author"] {
        assert!(text.contains(&format!(":{name}")), "{name} in {text}");
    }
    assert!(
        text.contains("urn:passerelle:dav") && !text.contains("contrib"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn named_properties_come_back_as_libreoffice_reads_them() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.send("MKCOL", "/dav/plans/lot/", Some("boss"), &[], "")
            .await?
            .status,
        StatusCode::CREATED
    );
    // LibreOffice names DAV's properties with a default namespace, and
    // asks a folder for properties of its own before saving into it.
    let res = w
        .send(
            "PROPFIND",
            "/dav/plans/lot/",
            Some("boss"),
            &[("depth", "0")],
            r#"<?xml version="1.0" encoding="UTF-8"?><propfind xmlns="DAV:"><prop><resourcetype xmlns="DAV:"/></prop></propfind>"#,
        )
        .await?;
    let text = String::from_utf8_lossy(&res.body).into_owned();
    assert!(
        text.contains("<D:resourcetype><D:collection/></D:resourcetype>"),
        "a folder's resourcetype in DAV's prefix: {text}"
    );
    let res = w
        .send(
            "PROPFIND",
            "/dav/plans/lot/",
            Some("boss"),
            &[("depth", "0")],
            r#"<?xml version="1.0" encoding="UTF-8"?><propfind xmlns="DAV:"><prop><CreatableContentsInfo xmlns="http://ucb.openoffice.org/dav/props/"/></prop></propfind>"#,
        )
        .await?;
    assert_eq!(res.status, StatusCode::MULTI_STATUS);
    let text = String::from_utf8_lossy(&res.body).into_owned();
    assert!(
        text.contains(r#"<CreatableContentsInfo xmlns="http://ucb.openoffice.org/dav/props/"/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status>"#),
        "every response has a propstat, 404 for what it does not have: {text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_collection_answers_get_and_head_with_a_listing_of_what_the_user_sees()
-> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/R%26D.txt", "boss", "x").await?,
        StatusCode::CREATED
    );
    // LibreOffice checks the folder with HEAD before it saves into it.
    let head = w
        .send("HEAD", "/dav/plans/", Some("reader"), &[], "")
        .await?;
    assert_eq!(head.status, StatusCode::OK);
    let get = w
        .send("GET", "/dav/plans/", Some("reader"), &[], "")
        .await?;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(
        get.headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    let html = String::from_utf8_lossy(&get.body).into_owned();
    assert!(
        html.contains("R&amp;D.txt") && !html.contains("R&D"),
        "names are escaped: {html}"
    );
    // A space the user is not a member of is absent, as everywhere.
    let hidden = w
        .send("GET", "/dav/plans/", Some("outsider"), &[], "")
        .await?;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    Ok(())
}
