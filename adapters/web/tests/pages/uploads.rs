//! The upload forms without JavaScript (`multipart/form-data`).

use axum::http::StatusCode;
use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::model::{Document, Page};
use passerelle_core::{Actor, CoreSettings};
use passerelle_http_common::HttpConfig;

use crate::support::{Browser, Part, TestApp};

async fn actor(t: &TestApp, login: &str) -> Actor {
    Actor::Principal(
        t.app
            .principal_by_login(&Actor::System, login)
            .await
            .expect("principal"),
    )
}

async fn documents(t: &TestApp, space: &str, folder: Option<FolderId>) -> Vec<Document> {
    let space = SpaceId::from_uuid(space.parse().expect("uuid"));
    let mut docs = t
        .app
        .list_folder(&actor(t, "marie").await, space, folder, Page::new(0, 100))
        .await
        .expect("listing")
        .documents
        .items;
    docs.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    docs
}

async fn csrf_of(b: &mut Browser, page: &str) -> String {
    b.get(page).await.csrf()
}

#[tokio::test]
async fn several_files_are_uploaded_into_a_folder_by_the_plain_form() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let root = format!("/spaces/{id}");
    let r = b
        .submit(
            &root,
            &format!("{root}/folders"),
            &[("name", "Lot 1"), ("parent", "")],
        )
        .await;
    let folder = r
        .location()
        .split("folder=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("folder id")
        .to_owned();
    let page = format!("{root}?folder={folder}");
    // The form works without the script: it posts to the pages.
    b.get(&page)
        .await
        .assert_contains(&format!(
            r#"method="post" enctype="multipart/form-data" action="/spaces/{id}/upload""#
        ))
        .assert_contains(&format!(
            r#"<input type="hidden" name="folder" value="{folder}">"#
        ))
        .assert_contains(r#"name="file" type="file" multiple"#);
    let csrf = csrf_of(&mut b, &page).await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::Text("folder", &folder),
            Part::File("file", "Cahier des charges.pdf", "application/pdf", &big),
            // Some browsers send the whole path: only its last part is a name.
            Part::File("file", r"C:\Users\marie\Note.txt", "text/plain", b"note"),
            // An empty picker still sends a part: it is no file.
            Part::File("file", "", "application/octet-stream", b""),
        ],
    )
    .await
    .assert_redirect_to(&format!("{page}&ok=uploaded"));
    let folder_id = FolderId::from_uuid(folder.parse().expect("uuid"));
    let docs = documents(&t, &id, Some(folder_id)).await;
    let names: Vec<_> = docs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Cahier des charges.pdf", "Note.txt"]);
    let versions = t
        .app
        .list_versions(&actor(&t, "marie").await, docs[0].id)
        .await
        .expect("versions");
    assert_eq!(versions[0].size, big.len() as u64);
    assert_eq!(versions[0].hash, ContentHash::of(&big));
    assert_eq!(versions[0].media_type, "application/pdf");
    b.get(&format!("{page}&ok=uploaded"))
        .await
        .assert_contains("Les fichiers ont été déposés.");
}

#[tokio::test]
async fn a_refused_file_is_named_and_the_others_are_kept() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let root = format!("/spaces/{id}");
    let csrf = csrf_of(&mut b, &root).await;
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "..", "text/plain", b"dot dot"),
            Part::File("file", "ok.txt", "text/plain", b"ok"),
            Part::File("file", "a\u{202e}txt.exe", "text/plain", b"bidi"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{root}?err=invalid_name"));
    // A NUL in a part's headers: the form cannot be read past it (a clear
    // error page), and that file is not stored.
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "nul\0.txt", "text/plain", b"nul"),
        ],
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST)
    .assert_contains("Le formulaire n&#39;a pas pu être lu");
    let names: Vec<_> = documents(&t, &id, None)
        .await
        .iter()
        .map(|d| d.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["ok.txt"]);
    b.get(&format!("{root}?err=invalid_name"))
        .await
        .assert_contains("Ce nom n&#39;est pas accepté");
    // The same name again: taken, not overwritten.
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "ok.txt", "text/plain", b"other"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{root}?err=name_taken"));
    // Nothing chosen.
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "", "application/octet-stream", b""),
        ],
    )
    .await
    .assert_redirect_to(&format!("{root}?err=no_file"));
    let docs = documents(&t, &id, None).await;
    assert_eq!(docs.len(), 1);
    let v = t
        .app
        .list_versions(&actor(&t, "marie").await, docs[0].id)
        .await
        .expect("versions");
    assert_eq!((v.len(), v[0].hash), (1, ContentHash::of(b"ok")));
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_nothing_is_stored() {
    let t = TestApp::with(
        CoreSettings {
            max_upload_bytes: 1000,
            ..CoreSettings::default()
        },
        HttpConfig {
            secure_cookies: false,
            ..HttpConfig::default()
        },
    )
    .await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let root = format!("/spaces/{id}");
    let csrf = csrf_of(&mut b, &root).await;
    b.post_multipart(
        &format!("/spaces/{id}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "gros.bin", "application/octet-stream", &[7u8; 5000]),
        ],
    )
    .await
    .assert_redirect_to(&format!("{root}?err=too_large"));
    assert!(documents(&t, &id, None).await.is_empty());
}

#[tokio::test]
async fn the_form_needs_its_token_first_and_a_space_the_user_may_write() {
    let t = TestApp::internal().await;
    let mut marie = t.user("marie").await;
    let id = marie.space("xx", "X").await;
    let root = format!("/spaces/{id}");
    let upload = format!("/spaces/{id}/upload");
    let csrf = csrf_of(&mut marie, &root).await;
    let file = Part::File("file", "a.txt", "text/plain", b"a");
    // No token, a wrong one, the token after the file: refused, nothing read.
    for parts in [
        vec![Part::File("file", "a.txt", "text/plain", b"a")],
        vec![
            Part::Text("_csrf", "0000"),
            Part::File("file", "a.txt", "text/plain", b"a"),
        ],
        vec![file, Part::Text("_csrf", &csrf)],
    ] {
        marie
            .post_multipart(&upload, &parts)
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    // A body that is not a multipart form.
    let r = marie.post(&upload, &[("_csrf", &csrf)]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(documents(&t, &id, None).await.is_empty());

    // Another agent: the space does not exist for them.
    let mut paul = t.user("paul").await;
    let paul_csrf = csrf_of(&mut paul, "/spaces").await;
    paul.post_multipart(
        &upload,
        &[
            Part::Text("_csrf", &paul_csrf),
            Part::File("file", "intrus.txt", "text/plain", b"x"),
        ],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert!(documents(&t, &id, None).await.is_empty());
}

#[tokio::test]
async fn a_new_version_is_uploaded_by_the_plain_form() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let doc = b.upload(&id, "plan.txt", b"v1", "text/plain").await;
    let page = format!("/documents/{doc}");
    b.get(&page).await.assert_contains(&format!(
        r#"enctype="multipart/form-data" action="/documents/{doc}/versions/upload""#
    ));
    let csrf = csrf_of(&mut b, &page).await;
    let action = format!("/documents/{doc}/versions/upload");
    b.post_multipart(
        &action,
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "plan-v2.txt", "text/plain", b"v2"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=version_added"));
    b.post_multipart(&action, &[Part::Text("_csrf", &csrf)])
        .await
        .assert_redirect_to(&format!("{page}?err=no_file"));
    let docs = documents(&t, &id, None).await;
    let v = t
        .app
        .list_versions(&actor(&t, "marie").await, docs[0].id)
        .await
        .expect("versions");
    let hashes: Vec<_> = v.iter().map(|v| (v.number, v.hash)).collect();
    assert!(hashes.contains(&(2, ContentHash::of(b"v2"))), "{hashes:?}");
    assert_eq!(v.len(), 2);
}

#[tokio::test]
async fn the_scripted_upload_has_the_full_disk_message_in_french() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("plein", "Plein").await;
    b.get(&format!("/spaces/{id}"))
        .await
        .assert_contains("data-msg-storage=\"Le serveur n'a plus d'espace de stockage");
}
