//! PROPFIND as this crate answers it: the request's forms, its bad
//! inputs, hrefs, and what each kind of client reads back.

use super::*;

async fn propfind(
    w: &World,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(StatusCode, HeaderMap, String)> {
    let res = w
        .send("PROPFIND", path, Some("boss"), headers, body.to_owned())
        .await?;
    let text = String::from_utf8(res.body.to_vec())?;
    Ok((res.status, res.headers, text))
}

/// One `<D:response>` of a multistatus, each property as
/// `{namespace}local`.
struct Answered {
    href: String,
    found: Vec<String>,
    missing: Vec<String>,
}

/// The responses of a multistatus, parsed.
fn responses(text: &str) -> anyhow::Result<Vec<Answered>> {
    let root = xmltree::Element::parse(text.as_bytes())?;
    anyhow::ensure!(root.name == "multistatus" && root.namespace.as_deref() == Some("DAV:"));
    let elems = |e: &xmltree::Element| -> Vec<xmltree::Element> {
        e.children
            .iter()
            .filter_map(xmltree::XMLNode::as_element)
            .cloned()
            .collect()
    };
    let mut out = Vec::new();
    for r in elems(&root) {
        let href = r
            .get_child("href")
            .and_then(|h| h.get_text())
            .unwrap_or_default()
            .into_owned();
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for stat in elems(&r).into_iter().filter(|e| e.name == "propstat") {
            let status = stat
                .get_child("status")
                .and_then(|s| s.get_text())
                .unwrap_or_default()
                .into_owned();
            let names: Vec<String> = stat
                .get_child("prop")
                .map(|p| {
                    elems(p)
                        .iter()
                        .map(|e| format!("{{{}}}{}", e.namespace.as_deref().unwrap_or(""), e.name))
                        .collect()
                })
                .unwrap_or_default();
            match status.as_str() {
                "HTTP/1.1 200 OK" => found.extend(names),
                "HTTP/1.1 404 Not Found" => missing.extend(names),
                other => anyhow::bail!("status {other}"),
            }
        }
        out.push(Answered {
            href,
            found,
            missing,
        });
    }
    Ok(out)
}

#[tokio::test]
async fn a_listing_answers_the_collection_then_each_child_once_at_its_encoded_href()
-> anyhow::Result<()> {
    let w = world().await?;
    for name in ["a.txt", "Devis n°2 & co.odt"] {
        let path = format!(
            "/dav/plans/{}",
            name.replace(' ', "%20")
                .replace('°', "%C2%B0")
                .replace('&', "%26")
        );
        assert_eq!(w.put(&path, "boss", "x").await?, StatusCode::CREATED);
    }
    assert_eq!(
        w.send("MKCOL", "/dav/plans/lot%201/", Some("boss"), &[], "")
            .await?
            .status,
        StatusCode::CREATED
    );
    // Named without its slash: answered at its own name, which is said.
    let (status, headers, text) = propfind(&w, "/dav/plans", &[("depth", "1")], "").await?;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(
        headers.get("content-location").map(|v| v.as_bytes()),
        Some(&b"/dav/plans/"[..])
    );
    let mut hrefs: Vec<String> = responses(&text)?.into_iter().map(|r| r.href).collect();
    assert_eq!(
        hrefs.first().map(String::as_str),
        Some("/dav/plans/"),
        "{text}"
    );
    hrefs.sort();
    assert_eq!(
        hrefs,
        [
            "/dav/plans/",
            "/dav/plans/Devis%20n%C2%B02%20%26%20co.odt",
            "/dav/plans/a.txt",
            "/dav/plans/lot%201/",
        ],
        "{text}"
    );
    // Depth 0: the collection alone.
    let (_, _, text) = propfind(&w, "/dav/plans/", &[("depth", "0")], "").await?;
    assert_eq!(responses(&text)?.len(), 1);
    // The spaces at the root, each a collection.
    let (_, _, text) = propfind(&w, "/dav/", &[("depth", "1")], "").await?;
    let hrefs: Vec<String> = responses(&text)?.into_iter().map(|r| r.href).collect();
    assert!(
        hrefs.contains(&"/dav/plans/".to_owned()) && hrefs.contains(&"/dav/other/".to_owned()),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn named_properties_absent_are_404_and_present_ones_200_with_values() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "abc").await?,
        StatusCode::CREATED
    );
    let (_, _, text) = propfind(
        &w,
        "/dav/plans/",
        &[("depth", "1")],
        r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/><d:getcontenttype/><oc:checksums/></d:prop></d:propfind>"#,
    )
    .await?;
    let all = responses(&text)?;
    let Answered { found, missing, .. } = all
        .iter()
        .find(|r| r.href == "/dav/plans/a.txt")
        .ok_or_else(|| anyhow::anyhow!("no a.txt in {text}"))?;
    assert_eq!(
        found,
        &vec![
            "{DAV:}getlastmodified",
            "{DAV:}getcontentlength",
            "{DAV:}resourcetype",
            "{DAV:}getcontenttype"
        ],
        "{text}"
    );
    assert_eq!(
        missing,
        &vec!["{DAV:}displayname", "{http://owncloud.org/ns}checksums"],
        "{text}"
    );
    assert!(
        text.contains("<D:getcontentlength>3</D:getcontentlength>"),
        "{text}"
    );
    assert!(
        text.contains("<D:getcontenttype>text/plain</D:getcontenttype>"),
        "{text}"
    );
    let Answered { found, missing, .. } = &all[0];
    assert!(
        !found.contains(&"{DAV:}getcontentlength".to_owned())
            && missing.contains(&"{DAV:}getcontentlength".to_owned()),
        "a collection has no length: {text}"
    );
    Ok(())
}

#[tokio::test]
async fn allprop_lists_windows_properties_for_windows_only_and_propname_gives_no_values()
-> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/.cache", "boss", "abc").await?,
        StatusCode::CREATED
    );
    let windows = [
        ("depth", "0"),
        ("user-agent", "Microsoft-WebDAV-MiniRedir/10.0.19045"),
    ];
    let (_, _, text) = propfind(&w, "/dav/plans/.cache", &windows, "").await?;
    let answered = responses(&text)?;
    let found = &answered[0].found;
    for p in [
        "Win32CreationTime",
        "Win32LastModifiedTime",
        "Win32FileAttributes",
    ] {
        assert!(
            found.contains(&format!("{{urn:schemas-microsoft-com:}}{p}")),
            "{p}: {text}"
        );
    }
    assert!(text.contains(">00000022<"), "hidden archive: {text}");
    for p in ["getetag", "creationdate", "lockdiscovery", "supportedlock"] {
        assert!(found.contains(&format!("{{DAV:}}{p}")), "{p}: {text}");
    }
    let (_, _, text) = propfind(&w, "/dav/plans/.cache", &[("depth", "0")], "").await?;
    assert!(!text.contains("Win32"), "{text}");
    let (_, _, text) = propfind(
        &w,
        "/dav/plans/.cache",
        &[("depth", "0")],
        r#"<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#,
    )
    .await?;
    assert!(
        text.contains("<D:getcontentlength/>") && !text.contains(">3<"),
        "names only: {text}"
    );
    Ok(())
}

#[tokio::test]
async fn bad_requests_are_refused_and_what_is_not_seen_is_not_found() -> anyhow::Result<()> {
    let w = world().await?;
    let (status, _, _) = propfind(&w, "/dav/plans/", &[("depth", "2")], "").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for body in [
        "<propfind",
        "<D:propfind xmlns:D=\"DAV:\"><D:nothing/></D:propfind>",
    ] {
        let (status, _, _) = propfind(&w, "/dav/plans/", &[("depth", "1")], body).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let huge = format!(
        "<D:propfind xmlns:D=\"DAV:\"><D:prop>{}</D:prop></D:propfind>",
        "<D:getetag/>".repeat(8000)
    );
    let (status, _, _) = propfind(&w, "/dav/plans/", &[("depth", "1")], &huge).await?;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, _) = propfind(&w, "/dav/plans/%00x", &[("depth", "0")], "").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A space the user is not in answers as one that does not exist.
    let absent = w
        .send(
            "PROPFIND",
            "/dav/nowhere/",
            Some("contrib"),
            &[("depth", "0")],
            "",
        )
        .await?;
    let hidden = w
        .send(
            "PROPFIND",
            "/dav/other/",
            Some("contrib"),
            &[("depth", "0")],
            "",
        )
        .await?;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.status, absent.status);
    assert_eq!(hidden.body, absent.body);
    Ok(())
}
