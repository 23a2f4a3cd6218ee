//! Rights through the binding, over sequences of legal steps: what a
//! reader, a contributor, the manager and an outsider may do, that a
//! check-out holds against everyone else, and that what one may not see
//! answers exactly as what does not exist.

use super::*;

#[tokio::test]
async fn readers_read_and_nothing_more() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let doc = w
        .create("boss", &space, "Plan.txt", b"plan", &[])
        .await?
        .expect(201);
    let doc_id = id_of(&doc);
    let seen = w
        .get("reader", &format!("objectId={doc_id}&cmisselector=object"))
        .await?
        .expect(200);
    let actions = &seen["allowableActions"];
    assert_eq!(actions["canGetContentStream"], true);
    for a in [
        "canUpdateProperties",
        "canSetContentStream",
        "canDeleteObject",
        "canCheckOut",
        "canMoveObject",
    ] {
        assert_eq!(actions[a], false, "{a}");
    }
    let refused = [
        w.create("reader", &space, "Mien.txt", b"x", &[]).await?,
        w.act(
            "reader",
            &doc_id,
            "update",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "Autre.txt"),
            ],
        )
        .await?,
        w.act("reader", &doc_id, "checkOut", &[]).await?,
        w.act("reader", &doc_id, "delete", &[]).await?,
        w.act(
            "reader",
            &space,
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "X"),
            ],
        )
        .await?,
        w.act(
            "reader",
            &doc_id,
            "setContent",
            &[Part::Content {
                name: "Plan.txt",
                media_type: "text/plain",
                bytes: b"y",
            }],
        )
        .await?,
    ];
    for r in refused {
        assert_eq!(
            (r.status.as_u16(), r.exception().as_str()),
            (403, "permissionDenied"),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // Nothing changed.
    let after = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=object"))
        .await?
        .expect(200);
    assert_eq!(prop(&after, "cmis:name"), "Plan.txt");
    assert_eq!(prop(&after, "cmis:versionLabel"), "1");
    Ok(())
}

#[tokio::test]
async fn what_an_outsider_cannot_see_answers_as_what_does_not_exist() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let doc = w
        .create("boss", &space, "Secret.txt", b"s", &[])
        .await?
        .expect(201);
    let doc_id = id_of(&doc);
    let absent = format!("d-{}", uuid_like());
    let roots = w
        .get("outsider", "objectId=root&cmisselector=children")
        .await?
        .expect(200);
    assert_eq!(roots["numItems"], 0);
    for query in [
        "cmisselector=object",
        "cmisselector=content",
        "cmisselector=parents",
        "cmisselector=versions",
    ] {
        let hidden = w
            .get("outsider", &format!("objectId={doc_id}&{query}"))
            .await?;
        let none = w
            .get("outsider", &format!("objectId={absent}&{query}"))
            .await?;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{query}");
        assert_eq!(
            (hidden.status, &hidden.body),
            (none.status, &none.body),
            "{query}"
        );
    }
    for (id, action) in [
        (&doc_id, "delete"),
        (&doc_id, "checkOut"),
        (&space, "createFolder"),
    ] {
        let hidden = w
            .act(
                "outsider",
                id,
                action,
                &[
                    Part::Field("propertyId[0]", "cmis:name"),
                    Part::Field("propertyValue[0]", "X"),
                ],
            )
            .await?;
        assert_eq!(hidden.exception(), "objectNotFound", "{action}");
    }
    let by_path = w
        .send(
            "GET",
            &format!("{ROOT}/plans/Secret.txt?cmisselector=object"),
            Some("outsider"),
            &[],
            Body::empty(),
        )
        .await?;
    assert_eq!(by_path.status, StatusCode::NOT_FOUND);
    Ok(())
}

fn uuid_like() -> String {
    "0190a0a0-0000-7000-8000-000000000000".into()
}

#[tokio::test]
async fn a_check_out_holds_against_everyone_else_until_its_holder_ends_it() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let doc = w
        .create("contrib", &space, "Devis.txt", b"v1", &[])
        .await?
        .expect(201);
    let doc_id = id_of(&doc);
    let pwc = w
        .act("contrib", &doc_id, "checkOut", &[])
        .await?
        .expect(201);
    let pwc_id = id_of(&pwc);
    // The manager may edit anything, but not what someone holds.
    let blocked = w
        .act(
            "boss",
            &doc_id,
            "setContent",
            &[Part::Content {
                name: "Devis.txt",
                media_type: "text/plain",
                bytes: b"boss",
            }],
        )
        .await?;
    assert_eq!(
        (blocked.status.as_u16(), blocked.exception().as_str()),
        (409, "updateConflict")
    );
    let again = w.act("boss", &doc_id, "checkOut", &[]).await?;
    assert_eq!(again.exception(), "versioning");
    // Only the holder sees, checks in or cancels the working copy.
    let theirs = w
        .get("boss", &format!("objectId={pwc_id}&cmisselector=object"))
        .await?;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let seen = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=object"))
        .await?
        .expect(200);
    assert_eq!(prop(&seen, "cmis:isVersionSeriesCheckedOut"), true);
    assert_eq!(prop(&seen, "cmis:versionSeriesCheckedOutBy"), "contrib");
    assert!(prop(&seen, "cmis:versionSeriesCheckedOutId").is_null());
    for action in ["checkIn", "cancelCheckOut"] {
        let r = w.act("boss", &doc_id, action, &[]).await?;
        assert_eq!(r.exception(), "versioning", "{action}");
    }
    // An older version never changes.
    w.act(
        "contrib",
        &pwc_id,
        "checkIn",
        &[Part::Content {
            name: "Devis.txt",
            media_type: "text/plain",
            bytes: b"v2",
        }],
    )
    .await?
    .expect(201);
    let old = w
        .act(
            "contrib",
            &format!("{doc_id};1"),
            "update",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "X.txt"),
            ],
        )
        .await?;
    assert_eq!(old.exception(), "versioning");
    // The check-out ended: the manager writes again.
    w.act(
        "boss",
        &doc_id,
        "setContent",
        &[Part::Content {
            name: "Devis.txt",
            media_type: "text/plain",
            bytes: b"v3",
        }],
    )
    .await?
    .expect(201);
    let content = w
        .get("reader", &format!("objectId={doc_id}&cmisselector=content"))
        .await?;
    assert_eq!(&content.body[..], b"v3");
    Ok(())
}

#[tokio::test]
async fn a_contributor_edits_its_own_documents_only() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let mine = id_of(
        &w.create("contrib", &space, "Mien.txt", b"m", &[])
            .await?
            .expect(201),
    );
    let boss = id_of(
        &w.create("boss", &space, "Chef.txt", b"c", &[])
            .await?
            .expect(201),
    );
    let rename = |to: &'static str| {
        [
            Part::Field("propertyId[0]", "cmis:name"),
            Part::Field("propertyValue[0]", to),
        ]
    };
    w.act("contrib", &mine, "update", &rename("Mien2.txt"))
        .await?
        .expect(200);
    let r = w
        .act("contrib", &boss, "update", &rename("Pris.txt"))
        .await?;
    assert_eq!(r.exception(), "permissionDenied");
    // Moving someone else's document into one's own folder is an edit too.
    let folder = w
        .act("contrib", &space, "createFolder", &rename("A moi"))
        .await?
        .expect(201);
    let r = w
        .act(
            "contrib",
            &boss,
            "move",
            &[Part::Field("targetFolderId", &id_of(&folder))],
        )
        .await?;
    assert_eq!(r.exception(), "permissionDenied");
    Ok(())
}
