//! The WebDAV adapter over core's in-memory fakes, through its real router:
//! authentication, the authorization matrix as WebDAV shows it, hostile
//! paths and headers, versions and ranges; `trees`: properties, depth,
//! deleting collections.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use passerelle_core::fakes::{mem_agent, mem_internal};
use passerelle_core::model::{Page, Visibility};
use passerelle_core::role::Role;
use passerelle_core::service::{DocumentWrites, NewSpace, Properties};
use passerelle_core::{Actor, ContentHash, CoreSettings, InternalApp};
use passerelle_dav::{DavService, PasserelleFs, router};

const PASSWORD: &str = "un mot de passe de test";

struct World {
    app: InternalApp,
    router: Router,
}

async fn agent(app: &InternalApp, login: &str) -> anyhow::Result<Actor> {
    Ok(mem_agent(app, login, PASSWORD).await?)
}

/// A space `plans` managed by `boss`, where `reader`, `contrib` and
/// `collab` have those roles; `outsider` is in none; `other` is a second
/// space of `boss` where `reader` is a reader.
async fn world() -> anyhow::Result<World> {
    let (app, repo) = mem_internal(CoreSettings {
        max_upload_bytes: 1024 * 1024,
        ..CoreSettings::default()
    });
    let boss = agent(&app, "boss").await?;
    for login in ["reader", "contrib", "collab", "outsider"] {
        agent(&app, login).await?;
    }
    for slug in ["plans", "other"] {
        let s = app
            .create_space(
                &boss,
                NewSpace {
                    slug: slug.into(),
                    title: slug.into(),
                    description: String::new(),
                    domain: "Urbanisme".into(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await?
            .space
            .id;
        app.set_member(&boss, s, "reader", Role::Reader).await?;
        if slug == "plans" {
            app.set_member(&boss, s, "contrib", Role::Contributor)
                .await?;
            app.set_member(&boss, s, "collab", Role::Collaborator)
                .await?;
        }
    }
    let properties = Properties::new(app.shared(), repo);
    let fs = PasserelleFs::new(app.shared().clone(), app.writes(), properties);
    let router = router(DavService::new(fs, Vec::new(), Some(app.locks())));
    Ok(World { app, router })
}

use passerelle_testing::http::Answer;

impl World {
    async fn send(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> anyhow::Result<Answer> {
        let mut all = vec![("host", "node.example")];
        all.extend_from_slice(headers);
        passerelle_testing::http::send(
            &self.router,
            method,
            path,
            user.map(|u| (u, PASSWORD)),
            &all,
            body,
        )
        .await
    }

    async fn put(&self, path: &str, user: &str, content: &str) -> anyhow::Result<StatusCode> {
        Ok(self
            .send("PUT", path, Some(user), &[], content.to_owned())
            .await?
            .status)
    }

    /// The documents of the space `plans`' root, by name.
    async fn names(&self) -> anyhow::Result<Vec<String>> {
        let boss = self.app.authenticate_basic("boss", PASSWORD, None).await?;
        let s = self.app.space_by_slug(&boss, "plans").await?.space.id;
        let listing = self.app.list_folder(&boss, s, None, Page::all()).await?;
        Ok(listing
            .documents
            .items
            .iter()
            .map(|d| d.name.as_str().to_owned())
            .chain(listing.folders.iter().map(|f| f.name.as_str().to_owned()))
            .collect())
    }
}

#[tokio::test]
async fn basic_is_required_and_a_session_cookie_is_not_enough() -> anyhow::Result<()> {
    let w = world().await?;
    let none = w.send("PROPFIND", "/dav/", None, &[], "").await?;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers["www-authenticate"],
        "Basic realm=\"Passerelle\", charset=\"UTF-8\""
    );
    let cookie = w
        .send(
            "PROPFIND",
            "/dav/",
            None,
            &[("cookie", "passerelle_session=anything")],
            "",
        )
        .await?;
    assert_eq!(cookie.status, StatusCode::UNAUTHORIZED);
    let wrong = w
        .send(
            "PROPFIND",
            "/dav/",
            None,
            &[("authorization", "Basic Ym9zczp3cm9uZw==")],
            "",
        )
        .await?;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = w
        .send("PROPFIND", "/dav/", Some("boss"), &[("depth", "1")], "")
        .await?;
    assert_eq!(ok.status, StatusCode::MULTI_STATUS);
    let text = String::from_utf8_lossy(&ok.body);
    assert!(
        text.contains("/dav/plans/") && text.contains("/dav/other/"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_reader_reads_but_cannot_put_delete_or_move() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "plan A").await?,
        StatusCode::CREATED
    );
    let get = w
        .send("GET", "/dav/plans/a.txt", Some("reader"), &[], "")
        .await?;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(&get.body[..], b"plan A");
    assert_eq!(
        w.put("/dav/plans/a.txt", "reader", "x").await?,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.put("/dav/plans/b.txt", "reader", "x").await?,
        StatusCode::FORBIDDEN
    );
    let del = w
        .send("DELETE", "/dav/plans/a.txt", Some("reader"), &[], "")
        .await?;
    assert_eq!(del.status, StatusCode::FORBIDDEN);
    let mv = w
        .send(
            "MOVE",
            "/dav/plans/a.txt",
            Some("reader"),
            &[("destination", "/dav/plans/c.txt")],
            "",
        )
        .await?;
    assert!(mv.status.is_client_error(), "{}", mv.status);
    let mkcol = w
        .send("MKCOL", "/dav/plans/d", Some("reader"), &[], "")
        .await?;
    assert_eq!(mkcol.status, StatusCode::FORBIDDEN);
    assert_eq!(w.names().await?, vec!["a.txt"]);
    Ok(())
}

#[tokio::test]
async fn a_non_member_gets_exactly_what_an_absent_space_gives() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "plan A").await?,
        StatusCode::CREATED
    );
    for path in ["/dav/plans/", "/dav/plans/a.txt"] {
        let hidden = w
            .send("PROPFIND", path, Some("outsider"), &[("depth", "0")], "")
            .await?;
        let absent = w
            .send(
                "PROPFIND",
                &path.replace("plans", "nowhere"),
                Some("outsider"),
                &[("depth", "0")],
                "",
            )
            .await?;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert_eq!((hidden.status, hidden.body), (absent.status, absent.body));
    }
    let get = w
        .send("GET", "/dav/plans/a.txt", Some("outsider"), &[], "")
        .await?;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    let root = w
        .send("PROPFIND", "/dav/", Some("outsider"), &[("depth", "1")], "")
        .await?;
    assert!(!String::from_utf8_lossy(&root.body).contains("plans"));
    Ok(())
}

#[tokio::test]
async fn a_contributor_cannot_overwrite_anothers_document_but_may_its_own() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/boss.txt", "boss", "v1").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put("/dav/plans/boss.txt", "contrib", "v2").await?,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.put("/dav/plans/mine.txt", "contrib", "v1").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put("/dav/plans/mine.txt", "contrib", "v2").await?,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.put("/dav/plans/boss.txt", "collab", "v2").await?,
        StatusCode::NO_CONTENT
    );
    Ok(())
}

#[tokio::test]
async fn hostile_paths_are_refused_and_store_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    let long = format!("/dav/plans/{}.txt", "a".repeat(300));
    let invisible = "/dav/plans/pla%E2%80%8Bn.txt";
    let control = "/dav/plans/a%01b.txt";
    let reserved = "/dav/plans/CON";
    for path in [long.as_str(), invisible, control, reserved] {
        let put = w.put(path, "boss", "x").await?;
        assert!(put.is_client_error(), "{path}: {put}");
        let mkcol = w.send("MKCOL", path, Some("boss"), &[], "").await?;
        assert!(mkcol.status.is_client_error(), "{path}: {}", mkcol.status);
    }
    for path in [
        "/dav/plans/a%00b",
        "/dav/plans/a%2Fb",
        "/dav/plans/%2e%2e/%2e%2e/etc",
    ] {
        let put = w.put(path, "boss", "x").await?;
        assert!(
            put.is_client_error() || put.is_server_error(),
            "{path}: {put}"
        );
        assert_ne!(put, StatusCode::CREATED);
    }
    // `..` resolves inside /dav only, to a path the actor's rights judge.
    let up = w.put("/dav/plans/../other/x.txt", "reader", "x").await?;
    assert_eq!(up, StatusCode::FORBIDDEN);
    assert!(w.names().await?.is_empty(), "{:?}", w.names().await?);
    Ok(())
}

#[tokio::test]
async fn destinations_elsewhere_or_unwritable_are_refused() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "A").await?,
        StatusCode::CREATED
    );
    let foreign = w
        .send(
            "COPY",
            "/dav/plans/a.txt",
            Some("boss"),
            &[("destination", "http://evil.example/dav/plans/b.txt")],
            "",
        )
        .await?;
    assert_eq!(foreign.status, StatusCode::BAD_GATEWAY);
    // `reader` reads both spaces and may write in neither.
    for method in ["COPY", "MOVE"] {
        let into_other = w
            .send(
                method,
                "/dav/plans/a.txt",
                Some("reader"),
                &[("destination", "http://node.example/dav/other/a.txt")],
                "",
            )
            .await?;
        assert!(
            into_other.status.is_client_error() || into_other.status == StatusCode::MULTI_STATUS
        );
    }
    // `contrib` does not see `other`.
    let hidden = w
        .send(
            "COPY",
            "/dav/plans/a.txt",
            Some("contrib"),
            &[("destination", "/dav/other/a.txt")],
            "",
        )
        .await?;
    assert!(hidden.status.is_client_error(), "{}", hidden.status);
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let other = w.app.space_by_slug(&boss, "other").await?.space.id;
    let listing = w.app.list_folder(&boss, other, None, Page::all()).await?;
    assert_eq!(listing.documents.total, 0);
    Ok(())
}

#[tokio::test]
async fn copy_and_move_across_spaces_go_through_core() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.put("/dav/plans/a.txt", "boss", "A").await?,
        StatusCode::CREATED
    );
    let copy = w
        .send(
            "COPY",
            "/dav/plans/a.txt",
            Some("boss"),
            &[("destination", "/dav/other/a.txt")],
            "",
        )
        .await?;
    assert_eq!(copy.status, StatusCode::CREATED);
    let mv = w
        .send(
            "MOVE",
            "/dav/plans/a.txt",
            Some("boss"),
            &[("destination", "/dav/other/b.txt")],
            "",
        )
        .await?;
    assert_eq!(mv.status, StatusCode::CREATED);
    assert!(w.names().await?.is_empty());
    let b = w
        .send("GET", "/dav/other/b.txt", Some("boss"), &[], "")
        .await?;
    assert_eq!(&b.body[..], b"A");
    // The source went to the trash, not away.
    let boss = w.app.authenticate_basic("boss", PASSWORD, None).await?;
    let plans = w.app.space_by_slug(&boss, "plans").await?.space.id;
    assert_eq!(w.app.list_trash(&boss, plans).await?.documents.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_unchanged_put_adds_no_version_and_ranges_are_served() -> anyhow::Result<()> {
    let w = world().await?;
    let path = "/dav/plans/plan.txt";
    assert_eq!(
        w.put(path, "boss", "0123456789").await?,
        StatusCode::CREATED
    );
    assert_eq!(
        w.put(path, "boss", "0123456789").await?,
        StatusCode::NO_CONTENT
    );
    let props = w
        .send(
            "PROPFIND",
            path,
            Some("boss"),
            &[("depth", "0")],
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:P="urn:passerelle:dav"><D:prop><P:version/><D:getetag/></D:prop></D:propfind>"#,
        )
        .await?;
    let text = String::from_utf8_lossy(&props.body).into_owned();
    assert!(text.contains(">1</P:version>"), "{text}");
    let hash = ContentHash::of(b"0123456789").to_hex();
    assert!(
        text.contains(&format!(">\"{}\"<", &hash[..32])),
        "the ETag is the content hash's first 128 bits, quoted as an entity tag: {text}"
    );
    assert_eq!(
        w.put(path, "boss", "0123456789!").await?,
        StatusCode::NO_CONTENT
    );
    let ranged = w
        .send("GET", path, Some("boss"), &[("range", "bytes=3-5")], "")
        .await?;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&ranged.body[..], b"345");
    let tail = w
        .send("GET", path, Some("boss"), &[("range", "bytes=-2")], "")
        .await?;
    assert_eq!(&tail.body[..], b"9!");
    let get = w.send("GET", path, Some("boss"), &[], "").await?;
    assert_eq!(
        get.headers["etag"],
        format!("\"{}\"", &ContentHash::of(b"0123456789!").to_hex()[..32]).as_str()
    );
    assert_eq!(get.headers["x-content-type-options"], "nosniff");
    Ok(())
}

/// The directory down: its agents' WebDAV clients are told to come back
/// (503 with Retry-After), never that their password is wrong; a local
/// account still works.
#[tokio::test]
async fn a_directory_that_does_not_answer_is_a_503_not_a_wrong_password() -> anyhow::Result<()> {
    let directory = std::sync::Arc::new(passerelle_core::fakes::MemDirectory::new());
    directory.add("c.durand", PASSWORD, "Claire Durand", "");
    directory.set_down(true);
    let (app, repo) = mem_internal(CoreSettings::default());
    let app = app.with_directory(directory);
    agent(&app, "boss").await?;
    let properties = Properties::new(app.shared(), repo);
    let fs = PasserelleFs::new(app.shared().clone(), app.writes(), properties);
    let w = World {
        router: router(DavService::new(fs, Vec::new(), Some(app.locks()))),
        app,
    };
    let down = w
        .send("PROPFIND", "/dav/", Some("c.durand"), &[("depth", "0")], "")
        .await?;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.headers.get("retry-after").is_some());
    let local = w
        .send("PROPFIND", "/dav/", Some("boss"), &[("depth", "0")], "")
        .await?;
    assert_eq!(local.status, StatusCode::MULTI_STATUS);
    Ok(())
}

mod locks;
mod propfind;
mod put;
mod trees;

#[tokio::test]
async fn options_without_credentials_tells_the_same_for_any_path_and_nothing_else()
-> anyhow::Result<()> {
    let w = world().await?;
    let existing = w.send("OPTIONS", "/dav/plans/", None, &[], "").await?;
    let absent = w
        .send("OPTIONS", "/dav/nulle-part/x.odt", None, &[], "")
        .await?;
    for a in [&existing, &absent] {
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.headers["dav"], "1,2,3");
        assert!(a.headers["allow"].to_str()?.contains("LOCK"));
        assert!(a.body.is_empty());
    }
    // What exists is not told apart before authentication.
    assert_eq!(existing.headers["allow"], absent.headers["allow"]);
    // Authenticated, dav-server answers for the path; the class is the
    // node's (no partial PUT offered).
    let known = w
        .send("OPTIONS", "/dav/plans/", Some("boss"), &[], "")
        .await?;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.headers["dav"], "1,2,3");
    // Anything else still needs credentials.
    let get = w.send("GET", "/dav/plans/", None, &[], "").await?;
    assert_eq!(get.status, StatusCode::UNAUTHORIZED);
    Ok(())
}
