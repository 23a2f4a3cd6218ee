//! Every write a contractor makes on the edge becomes a pending operation
//! the internal node decides; refused writes (a reader's, outside the
//! space, a hostile name) are refused before anything is stored.

use super::*;

#[tokio::test]
async fn an_upload_is_accepted_as_a_pending_operation_until_decided() {
    let (t, seeded, writer, _) = with_contractors().await;
    let before = t.blobs.len();
    let r = t
        .upload(&writer, &seeded.space, "Relevé été.txt", b"mesures")
        .await;
    let op = assert_pending(&r, "new_document");
    assert_eq!(op["name"], "Relevé été.txt");
    assert_eq!(t.blobs.len(), before + 1);

    let ops = operations(&t, &writer, &seeded.space).await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["op_id"], op["op_id"]);
    assert_eq!(ops[0]["status"], "pending");
    assert_eq!(ops[0]["outcome"], Value::Null);

    let id: Uuid = op["op_id"].as_str().expect("id").parse().expect("uuid");
    t.app
        .acknowledge_operations(&[(id, OpOutcome::Rejected, "rights revoked".into())])
        .await
        .expect("acknowledged");
    let ops = operations(&t, &writer, &seeded.space).await;
    assert_eq!(ops[0]["status"], "decided");
    assert_eq!(ops[0]["outcome"], "rejected");
    assert_eq!(ops[0]["detail"], "rights revoked");

    let cross_site = with_cookie_only(
        Request::builder()
            .method(Method::POST)
            .uri(format!(
                "/api/v1/spaces/{}/documents?name=x.txt",
                seeded.space
            ))
            .body(Body::from("x"))
            .expect("request"),
        &writer,
    );
    t.send(cross_site)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "csrf");
}

#[tokio::test]
async fn a_reader_cannot_upload_and_a_space_without_membership_is_not_found() {
    let (t, seeded, writer, reader) = with_contractors().await;
    let before = t.blobs.len();
    t.upload(&reader, &seeded.space, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    t.upload(&writer, &seeded.other, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    t.send(get(
        &format!("/api/v1/spaces/{}/operations", seeded.other),
        &writer,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let delete = empty(
        Method::DELETE,
        &format!("/api/v1/documents/{}", seeded.document),
    );
    t.send(with_session(delete, &reader))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(t.blobs.len(), before);
    assert!(operations(&t, &reader, &seeded.space).await.is_empty());
}

#[tokio::test]
async fn hostile_names_are_refused_before_anything_is_stored() {
    let (t, seeded, writer, _) = with_contractors().await;
    let before = t.blobs.len();
    for name in [
        "../../etc/passwd",
        "a/b.txt",
        "a\\b.txt",
        "CON.txt",
        "..",
        "x\u{0}y",
    ] {
        t.upload(&writer, &seeded.space, name, b"evil")
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    }
    let folder = json(
        Method::POST,
        &format!("/api/v1/spaces/{}/folders", seeded.space),
        &json!({ "name": "../up", "parent": null }),
    );
    t.send(with_session(folder, &writer))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    let rename = json(
        Method::PATCH,
        &format!("/api/v1/documents/{}", seeded.document),
        &json!({ "name": "..\\boot.ini" }),
    );
    t.send(with_session(rename, &writer))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    assert_eq!(t.blobs.len(), before);
    assert!(operations(&t, &writer, &seeded.space).await.is_empty());
}

#[tokio::test]
async fn every_write_becomes_a_pending_operation() {
    let (t, seeded, writer, _) = with_contractors().await;
    let (space, doc) = (&seeded.space, &seeded.document);
    let send = |req: Request<Body>| t.send(with_session(req, &writer));
    let doc_uri = format!("/api/v1/documents/{doc}");

    let folder = send(json(
        Method::POST,
        &format!("/api/v1/spaces/{space}/folders"),
        &json!({ "name": "Relevés", "parent": null }),
    ))
    .await;
    let folder = assert_pending(&folder, "new_folder");
    assert!(
        folder["folder"]
            .as_str()
            .is_some_and(|f| f.parse::<Uuid>().is_ok())
    );

    let rename = send(json(
        Method::PATCH,
        &doc_uri,
        &json!({ "name": "Plan v2.pdf" }),
    ))
    .await;
    assert_eq!(assert_pending(&rename, "rename")["document"], doc.as_str());
    let moved = send(json(Method::PATCH, &doc_uri, &json!({ "folder": null }))).await;
    assert_pending(&moved, "move");
    // Both at once: two operations, the rename first; the answer is the move.
    let both = send(json(
        Method::PATCH,
        &doc_uri,
        &json!({ "name": "a.pdf", "folder": null }),
    ))
    .await;
    assert_pending(&both, "move");

    let meta = send(json(
        Method::PUT,
        &format!("{doc_uri}/metadata"),
        &json!({ "type": null, "metadata": {} }),
    ))
    .await;
    assert_pending(&meta, "set_metadata");

    let version = Request::builder()
        .method(Method::POST)
        .uri(format!("{doc_uri}/versions?comment=relu"))
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(Body::from("plan v2"))
        .expect("request");
    assert_pending(&send(version).await, "new_version");

    let deleted = send(empty(Method::DELETE, &doc_uri)).await;
    assert_pending(&deleted, "delete");

    let kinds: Vec<Value> = operations(&t, &writer, space)
        .await
        .into_iter()
        .map(|o| o["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        json!([
            "delete",
            "new_version",
            "set_metadata",
            "move",
            "rename",
            "move",
            "rename",
            "new_folder"
        ])
        .as_array()
        .cloned()
        .expect("array"),
        "newest first"
    );
    let children = t
        .send(get(&format!("/api/v1/spaces/{space}/children"), &writer))
        .await
        .json();
    assert_eq!(
        children["documents"]["items"][0]["name"], "Plan.pdf",
        "nothing changes here before the internal node decides"
    );
}
