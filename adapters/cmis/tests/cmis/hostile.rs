//! Bad input and bad transports: each refused with the CMIS exception a
//! client branches on (or HTTP's challenge), and nothing stored.

use serde_json::Value;

use super::*;

async fn children(w: &World, id: &str) -> anyhow::Result<u64> {
    let v = w
        .get("boss", &format!("objectId={id}&cmisselector=children"))
        .await?
        .expect(200);
    Ok(v["numItems"].as_u64().unwrap_or(u64::MAX))
}

#[tokio::test]
async fn credentials_travel_safely_or_not_at_all() -> anyhow::Result<()> {
    let w = world().await?;
    let none = w.send("GET", REPO, None, &[], Body::empty()).await?;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(
        none.headers["www-authenticate"]
            .to_str()?
            .starts_with("Basic")
    );
    let wrong_password = passerelle_testing::http::basic("boss", "wrong");
    let wrong = w
        .send(
            "GET",
            REPO,
            None,
            &[("authorization", &wrong_password)],
            Body::empty(),
        )
        .await?;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // A password over plain HTTP from the network: refused before it is checked.
    let remote = w
        .send(
            "GET",
            REPO,
            Some("boss"),
            &[("x-test-peer", "192.0.2.7")],
            Body::empty(),
        )
        .await?;
    assert_eq!(remote.status, StatusCode::FORBIDDEN);
    // A business application's API token (a service account's way in).
    let boss = Actor::Principal(w.app.principal_by_login(&Actor::System, "boss").await?);
    let token = w.app.create_token(&boss, "boss", "ERP", None).await?.secret;
    let bearer = format!("Bearer {token}");
    let ok = w
        .send(
            "GET",
            REPO,
            None,
            &[("authorization", &bearer)],
            Body::empty(),
        )
        .await?;
    assert_eq!(ok.status, StatusCode::OK);
    let bad = w
        .send(
            "GET",
            REPO,
            None,
            &[("authorization", "Bearer psr_nope")],
            Body::empty(),
        )
        .await?;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // Never a session cookie.
    let cookie = w
        .send(
            "GET",
            REPO,
            None,
            &[("cookie", "passerelle_session=x")],
            Body::empty(),
        )
        .await?;
    assert_eq!(cookie.status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn hostile_names_are_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    for name in [
        "..",
        "a/b",
        "nul\u{0}.txt",
        "\u{200b}",
        "   ",
        &"x".repeat(300),
    ] {
        let r = w.create("boss", &space, name, b"x", &[]).await?;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{name:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.exception(), "invalidArgument");
        let f = w
            .act(
                "boss",
                &space,
                "createFolder",
                &[
                    Part::Field("propertyId[0]", "cmis:name"),
                    Part::Field("propertyValue[0]", name),
                ],
            )
            .await?;
        assert_eq!(f.exception(), "invalidArgument", "{name:?}");
    }
    assert_eq!(children(&w, &space).await?, 0);
    // A name taken, whatever its case.
    w.create("boss", &space, "Plan.txt", b"1", &[])
        .await?
        .expect(201);
    let twice = w.create("boss", &space, "PLAN.txt", b"2", &[]).await?;
    assert_eq!(
        (twice.status.as_u16(), twice.exception().as_str()),
        (409, "nameConstraintViolation")
    );
    assert_eq!(children(&w, &space).await?, 1);
    Ok(())
}

#[tokio::test]
async fn oversized_and_malformed_forms_are_refused() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let big = "x".repeat(70 * 1024);
    let r = w
        .act(
            "boss",
            &space,
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", &big),
            ],
        )
        .await?;
    assert_eq!(r.exception(), "invalidArgument");
    let names: Vec<String> = (0..600).map(|i| format!("f{i}")).collect();
    let many: Vec<Part<'_>> = names.iter().map(|n| Part::Field(n, "v")).collect();
    let r = w.act("boss", &space, "createFolder", &many).await?;
    assert_eq!(r.exception(), "invalidArgument");
    let r = w
        .send(
            "POST",
            ROOT,
            Some("boss"),
            &[("content-type", "application/json")],
            "{}",
        )
        .await?;
    assert_eq!(r.exception(), "invalidArgument");
    // Content beyond the node's upload limit (1 MiB here).
    let huge = vec![b'a'; 1024 * 1024 + 1];
    let r = w.create("boss", &space, "Gros.bin", &huge, &[]).await?;
    assert_eq!(
        (r.status.as_u16(), r.exception().as_str()),
        (413, "constraint")
    );
    assert_eq!(children(&w, &space).await?, 0);
    // Urlencoded forms are taken too.
    let r = w
        .send("POST", ROOT, Some("boss"), &[("content-type", "application/x-www-form-urlencoded")],
            format!("cmisaction=createFolder&objectId={space}&propertyId%5B0%5D=cmis%3Aname&propertyValue%5B0%5D=Lot%202"))
        .await?;
    assert_eq!(prop(&r.expect(201), "cmis:path"), "/plans/Lot 2");
    Ok(())
}

#[tokio::test]
async fn unknown_ids_selectors_actions_and_properties_say_so() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    for id in [
        "nope",
        "d-123",
        "f-../../etc",
        "s-%00",
        "d-0190a0a0-0000-7000-8000-000000000000;0",
    ] {
        let r = w
            .get("boss", &format!("objectId={id}&cmisselector=object"))
            .await?;
        assert_eq!(
            (r.status.as_u16(), r.exception().as_str()),
            (404, "objectNotFound"),
            "{id}"
        );
    }
    let r = w
        .get("boss", "objectId=root&cmisselector=renditions")
        .await?;
    assert_eq!(
        (r.status.as_u16(), r.exception().as_str()),
        (405, "notSupported")
    );
    let r = w.act("boss", &space, "applyACL", &[]).await?;
    assert_eq!(r.exception(), "notSupported");
    let r = w
        .send(
            "GET",
            "/cmis/browser/autre",
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for (k, v) in [
        ("cmis:objectId", "d-x"),
        ("passerelle:fournisseur", "X"),
        ("cmis:creationDate", "1"),
    ] {
        let r = w.create("boss", &space, "Doc.txt", b"x", &[(k, v)]).await?;
        assert_eq!(r.exception(), "constraint", "{k}");
    }
    let r = w
        .create(
            "boss",
            &space,
            "Facture.txt",
            b"x",
            &[("cmis:objectTypeId", "passerelle:facture")],
        )
        .await?;
    // Core's own check: the type's required fields.
    assert_eq!(
        r.exception(),
        "invalidArgument",
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(children(&w, &space).await?, 0);
    let r = w
        .act(
            "boss",
            "root",
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "X"),
            ],
        )
        .await?;
    assert_eq!(r.exception(), "constraint");
    let r = w
        .post(
            "boss",
            REPO,
            &[
                Part::Field("cmisaction", "query"),
                Part::Field("q", "SELECT * FRM cmis:document"),
            ],
        )
        .await?;
    assert_eq!(r.exception(), "invalidArgument");
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("character")),
        "{}",
        r.json()
    );
    let _: Value = r.json();
    Ok(())
}
